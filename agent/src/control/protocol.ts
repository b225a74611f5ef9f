// The control socket speaks JSON lines: one request object per line, one response per line.

export type ControlRequest =
  | { readonly cmd: 'status' }
  /** Every member of this host's instances: their agents' states and their Redis. */
  | { readonly cmd: 'cluster' }
  | { readonly cmd: 'ping' }
  /** Reads the config file again: validated first, unchanged instances untouched. */
  | { readonly cmd: 'reload' }
  /** Planned switchover of a master instance here (the only one when `instance` is not given). */
  | { readonly cmd: 'switchover'; readonly instance?: string; readonly to?: string }
  /** Maintenance on or off for one instance, or every instance of this host when `instance` is not given. */
  | { readonly cmd: 'maintenance'; readonly on: boolean; readonly instance?: string }
  /** The last `limit` events; with `follow`, then every new one as it happens, one line each, until the client closes. */
  | { readonly cmd: 'events'; readonly follow: boolean; readonly limit?: number };

export type ControlResponse =
  | { readonly ok: true; readonly result: unknown }
  | { readonly ok: false; readonly error: string };

/** After the response to a following `events` request: one line per event. */
export interface ControlStreamLine {
  readonly event: unknown;
}

export const CONTROL_COMMANDS = ['status', 'cluster', 'ping', 'switchover', 'reload', 'maintenance', 'events'] as const;

function optionalString(v: Record<string, unknown>, key: string): string | undefined | { error: string } {
  const x = v[key];
  if (x === undefined) return undefined;
  if (typeof x !== 'string' || x.length === 0 || x.length > 255) return { error: `${key} must be a non-empty string` };
  return x;
}

export function parseRequest(line: string): ControlRequest | { error: string } {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return { error: 'request is not JSON' };
  }
  if (typeof v !== 'object' || v === null) return { error: 'request is not an object' };
  const o = v as Record<string, unknown>;
  const cmd = o.cmd;
  if (cmd === 'status' || cmd === 'cluster' || cmd === 'ping' || cmd === 'reload') return { cmd };
  if (cmd === 'switchover') {
    const instance = optionalString(o, 'instance');
    const to = optionalString(o, 'to');
    if (typeof instance === 'object') return instance;
    if (typeof to === 'object') return to;
    return { cmd, ...(instance !== undefined ? { instance } : {}), ...(to !== undefined ? { to } : {}) };
  }
  if (cmd === 'maintenance') {
    const instance = optionalString(o, 'instance');
    if (typeof instance === 'object') return instance;
    if (typeof o.on !== 'boolean') return { error: 'on must be true or false' };
    return { cmd, on: o.on, ...(instance !== undefined ? { instance } : {}) };
  }
  if (cmd === 'events') {
    if (o.follow !== undefined && typeof o.follow !== 'boolean') return { error: 'follow must be true or false' };
    const limit = o.limit;
    if (limit !== undefined && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0 || limit > 100_000)) return { error: 'limit must be an integer 0..100000' };
    return { cmd, follow: o.follow === true, ...(limit !== undefined ? { limit } : {}) };
  }
  return { error: `unknown command ${JSON.stringify(cmd)}; known: ${CONTROL_COMMANDS.join(', ')}` };
}
