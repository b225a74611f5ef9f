// `redkeep witness --listen ADDRESS:PORT [--password-file F]`: a third voter for two Redis
// hosts, on a host without Redis. The members read each other's liveness from Redis (INFO on the
// peer port), so the witness answers that much of the Redis protocol on that port: PING, INFO
// (a Redis that is neither master nor replica: it is never followed, never compared), AUTH,
// CLIENT SETNAME, SELECT, QUIT. It holds no data and decides nothing: being answered is its vote.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type Socket, createServer } from 'node:net';
import type { Output } from '../output.js';

/** RESP arrays of bulk strings (what clients send), and inline commands; undefined until complete. */
export function parseCommand(buf: Buffer): { argv: string[]; rest: Buffer } | undefined {
  if (buf.length === 0) return undefined;
  if (buf[0] !== 0x2a) {
    const nl = buf.indexOf('\n');
    if (nl < 0) return undefined;
    return { argv: buf.subarray(0, nl).toString().trim().split(/\s+/).filter(Boolean), rest: buf.subarray(nl + 1) };
  }
  let i = buf.indexOf('\r\n');
  if (i < 0) return undefined;
  const n = Number(buf.subarray(1, i).toString());
  if (!Number.isInteger(n) || n < 0 || n > 64) throw new Error('bad request');
  let at = i + 2;
  const argv: string[] = [];
  for (let k = 0; k < n; k++) {
    if (buf[at] !== 0x24) {
      if (at >= buf.length) return undefined;
      throw new Error('bad request');
    }
    i = buf.indexOf('\r\n', at);
    if (i < 0) return undefined;
    const len = Number(buf.subarray(at + 1, i).toString());
    if (!Number.isInteger(len) || len < 0 || len > 4096) throw new Error('bad request');
    if (buf.length < i + 2 + len + 2) return undefined;
    argv.push(buf.subarray(i + 2, i + 2 + len).toString());
    at = i + 2 + len + 2;
  }
  return { argv, rest: buf.subarray(at) };
}

const bulk = (s: string): string => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;

export function startWitness(listen: string, password: string | undefined, out: Output): Promise<() => Promise<void>> {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(listen);
  if (!m) throw new Error(`--listen must be ADDRESS:PORT, got "${listen}"`);
  const host = m[1] ?? (m[2] || '0.0.0.0');
  const port = Number(m[3]);
  const runId = randomBytes(20).toString('hex');
  const started = Date.now();
  const info = (): string =>
    [
      '# Server',
      'redis_version:7.0.0',
      'redkeep_witness:1',
      `run_id:${runId}`,
      `uptime_in_seconds:${Math.floor((Date.now() - started) / 1000)}`,
      '# Persistence',
      'loading:0',
      '# Replication',
      'role:witness',
      'connected_slaves:0',
      '',
    ].join('\r\n');
  const authOk = (given: string): boolean => {
    if (password === undefined) return true;
    const a = Buffer.from(given);
    const b = Buffer.from(password);
    return a.length === b.length && timingSafeEqual(a, b);
  };
  const serve = (sock: Socket): void => {
    let buf: Buffer = Buffer.alloc(0);
    let authed = password === undefined;
    sock.setNoDelay(true);
    sock.on('error', () => sock.destroy());
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length > 65536) return sock.destroy();
      for (;;) {
        let cmd;
        try {
          cmd = parseCommand(buf);
        } catch {
          sock.end('-ERR Protocol error\r\n');
          return;
        }
        if (!cmd) return;
        buf = cmd.rest;
        const [name = '', ...args] = cmd.argv;
        const c = name.toUpperCase();
        if (c === 'AUTH') {
          authed = authOk(args[args.length - 1] ?? '');
          sock.write(authed ? '+OK\r\n' : '-WRONGPASS invalid username-password pair\r\n');
        } else if (c === 'QUIT') {
          sock.end('+OK\r\n');
          return;
        } else if (!authed) sock.write('-NOAUTH Authentication required.\r\n');
        else if (c === 'PING') sock.write('+PONG\r\n');
        else if (c === 'INFO') sock.write(bulk(info()));
        else if (c === 'CLIENT' || c === 'SELECT') sock.write('+OK\r\n');
        else sock.write(`-ERR this is a redkeep witness: it holds no data (${c})\r\n`);
      }
    });
  };
  const server = createServer(serve);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      out.print(`redkeep witness listening on ${host}:${port}`);
      resolve(() => new Promise((r) => server.close(() => r())));
    });
  });
}

/** The command: runs until SIGTERM or SIGINT. */
export async function witnessCommand(o: { listen: string; passwordFile: string | undefined }, out: Output): Promise<number> {
  let password: string | undefined;
  try {
    password = o.passwordFile !== undefined ? readFileSync(o.passwordFile, 'utf8').replace(/\r?\n$/, '') : undefined;
  } catch (e) {
    out.error(`cannot read the password file: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
  let stop: () => Promise<void>;
  try {
    stop = await startWitness(o.listen, password, out);
  } catch (e) {
    out.error(e instanceof Error ? e.message : String(e));
    return 1;
  }
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  await stop();
  return 0;
}
