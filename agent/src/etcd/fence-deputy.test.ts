import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { type Server, type Socket, createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import type { RedisEndpoint } from '@redkeep/redis';
import { type DeputyMessage, FenceDeputy } from './fence-deputy.js';

// A Redis stand-in on the loopback that records each command (RESP arrays of bulk strings) and
// answers +OK: enough for AUTH, CLIENT SETNAME and CONFIG SET, all the deputy sends.
class Recorder {
  readonly commands: { readonly atMs: number; readonly argv: string[] }[] = [];
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      let buf = Buffer.alloc(0);
      s.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        for (;;) {
          const parsed = parseArray(buf);
          if (parsed === undefined) break;
          buf = buf.subarray(parsed.used);
          this.commands.push({ atMs: performance.now(), argv: parsed.argv });
          s.write('+OK\r\n');
        }
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const a = this.server.address();
    this.port = typeof a === 'object' && a !== null ? a.port : 0;
  }

  fences(): { readonly atMs: number; readonly argv: string[] }[] {
    return this.commands.filter((c) => c.argv[0] === 'CONFIG');
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

function parseArray(b: Buffer): { argv: string[]; used: number } | undefined {
  const text = b.toString('latin1');
  let at = 0;
  const line = (): string | undefined => {
    const i = text.indexOf('\r\n', at);
    if (i < 0) return undefined;
    const l = text.slice(at, i);
    at = i + 2;
    return l;
  };
  const head = line();
  if (head === undefined) return undefined;
  assert.match(head, /^\*\d+$/);
  const argv: string[] = [];
  for (let n = Number(head.slice(1)); n > 0; n--) {
    const len = line();
    if (len === undefined) return undefined;
    const size = Number(len.slice(1));
    if (text.length < at + size + 2) return undefined;
    argv.push(text.slice(at, at + size));
    at += size + 2;
  }
  return { argv, used: at };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => boolean, ms = 3000): Promise<void> {
  const end = performance.now() + ms;
  while (!check()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const endpoint = (port: number, password?: string): RedisEndpoint => ({ host: '127.0.0.1', port, username: 'redkeep', db: 0, ...(password !== undefined ? { password } : {}) });

describe("strict mode's fence deputy (a second process that closes the write gate at the lease's deadline)", () => {
  const redis = new Recorder();
  before(() => redis.start());
  after(() => redis.stop());

  const deputy = async (password = 's3cret pass'): Promise<{ d: FenceDeputy; messages: DeputyMessage[]; exits: number[] }> => {
    const messages: DeputyMessage[] = [];
    const exits: number[] = [];
    const d = new FenceDeputy(endpoint(redis.port, password), { onMessage: (m) => messages.push(m), onExit: (code) => exits.push(code ?? -1) });
    d.start();
    await until('the deputy to connect', () => messages.some((m) => m.type === 'connected'));
    return { d, messages, exits };
  };

  it('authenticates as the agent does, with the password over IPC only, and closes the gate at the deadline it was given', async () => {
    const before = redis.commands.length;
    const { d, messages } = await deputy();
    const mine = redis.commands.slice(before);
    assert.deepEqual(mine[0]?.argv, ['AUTH', 'redkeep', 's3cret pass']);
    assert.deepEqual(mine[1]?.argv, ['CLIENT', 'SETNAME', 'redkeep-fence-deputy']);
    // Neither its command line nor its environment carries the password.
    const pid = d.pid ?? 0;
    assert.doesNotMatch(readFileSync(`/proc/${pid}/cmdline`, 'latin1'), /s3cret/);
    assert.doesNotMatch(readFileSync(`/proc/${pid}/environ`, 'latin1'), /s3cret/);
    const fencesBefore = redis.fences().length;
    const t0 = performance.now();
    d.arm(t0 + 300, t0);
    await until('the fence', () => redis.fences().length > fencesBefore);
    const f = redis.fences().at(-1);
    assert.deepEqual(f?.argv, ['CONFIG', 'SET', 'min-replicas-to-write', '10000']);
    const at = (f?.atMs ?? 0) - t0;
    assert.ok(at >= 250 && at < 300 + 200, `fenced ${Math.round(at)} ms after arming for 300 ms`);
    await until('the report', () => messages.some((m) => m.type === 'fenced' && m.ok && m.why === 'deadline'));
    await d.stop();
  });

  it('does not fence while the deadline keeps moving on (renews), nor once disarmed', async () => {
    const { d } = await deputy();
    const fencesBefore = redis.fences().length;
    for (let i = 0; i < 8; i++) {
      const now = performance.now();
      d.arm(now + 200, now);
      await sleep(80);
    }
    assert.equal(redis.fences().length, fencesBefore, 'fenced although every deadline was moved on in time');
    d.arm(undefined, performance.now());
    await sleep(400);
    assert.equal(redis.fences().length, fencesBefore, 'fenced although disarmed');
    await d.stop();
  });

  it('closes the gate at once when the agent goes away while a deadline runs, then exits', async () => {
    const { d, exits } = await deputy();
    const fencesBefore = redis.fences().length;
    const now = performance.now();
    d.arm(now + 60_000, now);
    await sleep(50);
    // The agent's end as the child sees it: the IPC channel closes.
    const child = (d as unknown as { child: ChildProcess }).child;
    const t0 = performance.now();
    child.disconnect();
    await until('the fence', () => redis.fences().length > fencesBefore);
    assert.ok((redis.fences().at(-1)?.atMs ?? 0) - t0 < 500);
    await until('the exit', () => exits.length === 1);
    assert.deepEqual(exits, [0]);
  });

  it('leaves the gate alone on the shutdown path (stop), armed or not', async () => {
    const { d, exits } = await deputy();
    const fencesBefore = redis.fences().length;
    const now = performance.now();
    d.arm(now + 60_000, now);
    await sleep(50);
    await d.stop();
    assert.deepEqual(exits, [0]);
    await sleep(200);
    assert.equal(redis.fences().length, fencesBefore);
  });

  it('still fences a Redis it reaches only at the deadline (reconnects first)', async () => {
    const messages: DeputyMessage[] = [];
    const d = new FenceDeputy(endpoint(redis.port), { onMessage: (m) => messages.push(m), onExit: () => undefined });
    d.start();
    const fencesBefore = redis.fences().length;
    const now = performance.now();
    d.arm(now + 20, now);
    await until('the fence', () => redis.fences().length > fencesBefore);
    await until('the report', () => messages.some((m) => m.type === 'fenced' && m.ok));
    await d.stop();
  });
});
