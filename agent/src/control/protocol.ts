// The control socket speaks JSON lines: one request object per line, one response per line.

export type ControlRequest = { readonly cmd: 'status' } | { readonly cmd: 'ping' };

export type ControlResponse =
  | { readonly ok: true; readonly result: unknown }
  | { readonly ok: false; readonly error: string };

export const CONTROL_COMMANDS = ['status', 'ping'] as const;

export function parseRequest(line: string): ControlRequest | { error: string } {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return { error: 'request is not JSON' };
  }
  const cmd = typeof v === 'object' && v !== null ? (v as { cmd?: unknown }).cmd : undefined;
  if (cmd === 'status' || cmd === 'ping') return { cmd };
  return { error: `unknown command ${JSON.stringify(cmd)}; known: ${CONTROL_COMMANDS.join(', ')}` };
}
