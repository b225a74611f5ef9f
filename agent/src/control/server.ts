// The control socket: a unix stream socket readable only by root, or by root and one group.

import { chmodSync, chownSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { type Server, type Socket, createServer } from 'node:net';
import { dirname } from 'node:path';
import { type ControlRequest, type ControlResponse, parseRequest } from './protocol.js';

export type ControlHandler = (req: ControlRequest) => Promise<unknown> | unknown;

export class ControlError extends Error {
  override readonly name = 'ControlError';
  readonly code = 'ERR_CONTROL_SOCKET';
}

/** The numeric id of a group, from /etc/group. */
export function groupId(name: string): number | undefined {
  let text: string;
  try {
    text = readFileSync('/etc/group', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [g, , gid] = line.split(':');
    if (g === name && gid !== undefined) return Number(gid);
  }
  return undefined;
}

export async function startControlServer(path: string, group: string | undefined, handler: ControlHandler): Promise<Server> {
  let gid: number | undefined;
  if (group !== undefined) {
    gid = groupId(group);
    if (gid === undefined) throw new ControlError(`control_group ${group} does not exist`);
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  rmSync(path, { force: true });
  const server = createServer((sock: Socket) => {
    let buf = '';
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
        const reply = async (): Promise<ControlResponse> => {
          if ('error' in req) return { ok: false, error: req.error };
          try {
            return { ok: true, result: await handler(req) };
          } catch (e) {
            return { ok: false, error: e instanceof Error ? e.message : String(e) };
          }
        };
        void reply().then((r) => {
          if (!sock.destroyed) sock.write(`${JSON.stringify(r)}\n`);
        });
      }
    });
    sock.on('error', () => undefined);
  });
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
    chownSync(path, 0, gid);
    chmodSync(path, 0o660);
  } else chmodSync(path, 0o600);
  return server;
}

export async function stopControlServer(server: Server, path: string): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(path, { force: true });
}
