import { underJournald } from './journal.js';
import { PRIORITY } from './log.js';

/** Where commands write: injected so tests can capture it; the entry point binds the process. */
export interface Output {
  print(line: string): void;
  error(line: string): void;
}

let errorPrefix: string | undefined;

export const processOutput: Output = {
  print: (line) => process.stdout.write(`${line}\n`),
  // Run by systemd with the output to the journal (ExecReload's `redkeep reload`), an error line
  // carries its syslog priority, as journald reads a `<N>` prefix: `journalctl -p err` shows it.
  error: (line) => process.stderr.write(`${(errorPrefix ??= underJournald() ? `<${PRIORITY.error}>` : '')}${line}\n`),
};

/** An Output that keeps the lines, for tests. */
export function captureOutput(): Output & { readonly stdout: string[]; readonly stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, print: (l) => stdout.push(l), error: (l) => stderr.push(l) };
}
