/** Where commands write: injected so tests can capture it; the entry point binds the process. */
export interface Output {
  print(line: string): void;
  error(line: string): void;
}

export const processOutput: Output = {
  print: (line) => process.stdout.write(`${line}\n`),
  error: (line) => process.stderr.write(`${line}\n`),
};

/** An Output that keeps the lines, for tests. */
export function captureOutput(): Output & { readonly stdout: string[]; readonly stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, print: (l) => stdout.push(l), error: (l) => stderr.push(l) };
}
