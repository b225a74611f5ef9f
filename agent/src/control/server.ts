// The control socket: a unix stream socket readable only by root, or by root and one group.

import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { type Server, type Socket, createConnection, createServer } from 'node:net';
import { dirname } from 'node:path';
import { type ControlRequest, type ControlResponse, parseRequest } from './protocol.js';

export type ControlHandler = (req: ControlRequest) => Promise<unknown> | unknown;

/**
 * A handler's answer that goes on: `result` is the response; then every value `subscribe` is
 * given is written as a line `{"event": ...}` until the client closes.
 */
export class ControlStream {
  constructor(
    readonly result: unknown,
    readonly subscribe: (push: (event: unknown) => void) => () => void,
  ) {}
}

/** Unread bytes a client may leave on the control socket before it is dropped. */
export const MAX_PENDING_BYTES = 1024 * 1024;

export class ControlError extends Error {
  override readonly name = 'ControlError';
  readonly code = 'ERR_CONTROL_SOCKET';
}

/**
 * The numeric id of a group, through NSS (`getent group`: /etc/group, LDAP, sssd... as the host
 * resolves groups), or from /etc/group where getent is missing.
 */
export function groupId(name: string): number | undefined {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/.test(name) || name.length > 64) return undefined;
  const r = spawnSync('getent', ['group', name], { encoding: 'utf8', timeout: 5000 });
  if (r.error === undefined) {
    // 0: found; 2: no such group; anything else: NSS could not answer.
    if (r.status === 2) return undefined;
    if (r.status === 0) return gidOfLine(r.stdout.split('\n')[0] ?? '', name);
  }
  let text: string;
  try {
    text = readFileSync('/etc/group', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const gid = gidOfLine(line, name);
    if (gid !== undefined) return gid;
  }
  return undefined;
}

/** The gid of a group(5) line when it names `name`. */
function gidOfLine(line: string, name: string): number | undefined {
  const [g, , gid] = line.split(':');
  return g === name && gid !== undefined && /^\d+$/.test(gid) ? Number(gid) : undefined;
}

/** The longest path a unix socket address holds (sun_path is 108 bytes with its NUL). */
export const MAX_SOCKET_PATH = 107;
const IDLE_TIMEOUT_MS = 10_000;
const clients = new WeakMap<Server, Set<Socket>>();

/** Whether an agent answers on this socket path (then a second one must not start). */
export async function agentListening(path: string): Promise<boolean> {
  return await new Promise((resolve) => {
    const sock = createConnection(path);
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

export async function startControlServer(path: string, group: string | undefined, handler: ControlHandler): Promise<Server> {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) throw new ControlError(`control_socket ${path} is longer than ${MAX_SOCKET_PATH} bytes`);
  if (await agentListening(path)) throw new ControlError(`another redkeep agent is running (it answers on ${path})`);
  let gid: number | undefined;
  if (group !== undefined) {
    gid = groupId(group);
    if (gid === undefined) throw new ControlError(`control_group ${group} does not exist`);
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  // unlink, not rmSync: rmSync lstat()s the old socket first, and Node 20's realpathSync reads the
  // last lstat's file type as that of a cached path component (a socket ends its walk), so the
  // next require() of a package behind a symlink (pnpm's layout) resolves it wrongly.
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const open = new Set<Socket>();
  const server = createServer((sock: Socket) => {
    open.add(sock);
    sock.once('close', () => open.delete(sock));
    // A client that says nothing must not hold the agent (or its shutdown) up.
    sock.setTimeout(IDLE_TIMEOUT_MS, () => sock.destroy());
    let buf = '';
    // A client that does not read what it asked for is dropped, not buffered for.
    const send = (text: string): void => {
      if (sock.destroyed) return;
      if (sock.writableLength + text.length > MAX_PENDING_BYTES) {
        sock.destroy();
        return;
      }
      sock.write(text);
    };
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > 65536) {
        sock.destroy();
        return;
      }
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const req = parseRequest(line);
        let stream: ControlStream | undefined;
        const reply = async (): Promise<ControlResponse> => {
          if ('error' in req) return { ok: false, error: req.error };
          try {
            const result = await handler(req);
            if (result instanceof ControlStream) {
              stream = result;
              return { ok: true, result: result.result };
            }
            return { ok: true, result };
          } catch (e) {
            return { ok: false, error: e instanceof Error ? e.message : String(e) };
          }
        };
        // A request being answered (a reload, a switchover) is not idleness.
        sock.setTimeout(0);
        void reply().then((r) => {
          if (sock.destroyed) return;
          send(`${JSON.stringify(r)}\n`);
          if (stream) {
            // Followed until the client closes; a stream is not idle.
            const stop = stream.subscribe((event) => send(`${JSON.stringify({ event })}\n`));
            sock.once('close', stop);
            return;
          }
          sock.setTimeout(IDLE_TIMEOUT_MS, () => sock.destroy());
        });
      }
    });
    sock.on('error', () => undefined);
  });
  clients.set(server, open);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new ControlError(`cannot listen on ${path}: ${e.message}`)));
    // Created 0600 at once (umask), then opened to the group if one is configured.
    const old = process.umask(0o177);
    server.listen(path, () => {
      process.umask(old);
      resolve();
    });
  });
  if (gid !== undefined) {
    // Owner unchanged (the agent may run as its own user); only the group is set.
    chownSync(path, -1, gid);
    chmodSync(path, 0o660);
  } else chmodSync(path, 0o600);
  return server;
}

export async function stopControlServer(server: Server, path: string): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  for (const c of clients.get(server) ?? []) c.destroy();
  await closed;
  // unlink, not rmSync: rmSync lstat()s the old socket first, and Node 20's realpathSync reads the
  // last lstat's file type as that of a cached path component (a socket ends its walk), so the
  // next require() of a package behind a symlink (pnpm's layout) resolves it wrongly.
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}
