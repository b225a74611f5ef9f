// Strict mode's fence deputy: a small child process that closes the local Redis' write gate at the
// lease's fence deadline when the agent cannot (frozen by SIGSTOP or a stalled event loop, killed).
//
// Why: the lease guard fences at fenceAtMs, before etcd can expire the lease, but only while the
// agent runs. A frozen agent's Redis keeps acknowledging writes; its own backstop
// (min-replicas-max-lag) comes seconds later and only with a quorum of replicas configured, while
// another host takes the lease after the TTL and starts writing. The deputy is a second process,
// so the freeze of the agent's process does not stop it:
// - the agent sends it the time left before the fence deadline (relative: the two processes share
//   no clock origin) after every change, that is after each renew; 'disarm' when no deadline runs;
// - at the deadline, unless a later one came, it sends CONFIG SET min-replicas-to-write REFUSE_ALL
//   to the local Redis over a connection it keeps open (authenticated as the agent is), exactly what
//   the agent's write gate does; the agent, when it runs again, finds the gate closed, which is what
//   its own lease guard wants by then;
// - when the agent dies (the IPC channel closes) while a deadline runs, it closes the gate at once
//   and exits; disarmed, it just exits.
// A renew that comes back after the deadline reopens the gate through the agent's own write gate
// (the data guard's next look), as after the agent's own fence.
// The password goes over the IPC channel, never in argv or the environment. The child is plain
// Node (node:net, node:tls) run with `-e`, so it needs no file of its own in the package.

import { type ChildProcess, spawn } from 'node:child_process';
import { REFUSE_ALL } from '@redkeep/failover';
import { type RedisEndpoint, tlsConnectOptions } from '@redkeep/redis';

/** Sent ahead of the deadline: the IPC hop and a CONFIG SET on the loopback. */
export const DEPUTY_LEAD_MS = 20;

export type DeputyMessage =
  | { readonly type: 'fenced'; readonly ok: boolean; readonly error?: string; readonly why: string }
  | { readonly type: 'connected' }
  /** The child could not be started (sent by the agent's side, not the child). */
  | { readonly type: 'spawn-failed'; readonly error: string };

interface InitMessage {
  readonly type: 'init';
  readonly host: string;
  readonly port: number;
  readonly username?: string;
  readonly password?: string;
  readonly tls?: ReturnType<typeof tlsConnectOptions>;
  readonly refuseAll: number;
}

// The child. CommonJS, no dependencies. Messages: init, arm { inMs }, disarm.
const CHILD = String.raw`
'use strict';
const net = require('net'), tls = require('tls');
let cfg, sock, up = false, timer, armed = false, buf = '', pending = [], waiting = [], closing = false, onDone;
const bulk = (s) => '$' + Buffer.byteLength(s) + '\r\n' + s + '\r\n';
const cmd = (...a) => '*' + a.length + '\r\n' + a.map(String).map(bulk).join('');
function send(m) { try { if (process.connected) process.send(m); } catch {} }
function connect() {
  if (!cfg || closing || sock) return;
  const o = { host: cfg.host, port: cfg.port };
  const s = cfg.tls ? tls.connect({ ...o, ...cfg.tls, servername: cfg.tls.servername || (net.isIP(cfg.host) ? undefined : cfg.host) }) : net.connect(o);
  sock = s; up = false; buf = ''; pending = [];
  s.setNoDelay(true);
  s.setKeepAlive(true, 1000);
  s.on(cfg.tls ? 'secureConnect' : 'connect', () => {
    const auth = cfg.password === undefined ? [] : cfg.username === undefined ? ['AUTH', cfg.password] : ['AUTH', cfg.username, cfg.password];
    if (auth.length) { pending.push('auth'); s.write(cmd(...auth)); }
    pending.push('name'); s.write(cmd('CLIENT', 'SETNAME', 'redkeep-fence-deputy'));
  });
  s.on('data', (d) => {
    buf += d.toString('latin1');
    let i;
    while ((i = buf.indexOf('\r\n')) >= 0) {
      const line = buf.slice(0, i); buf = buf.slice(i + 2);
      const what = pending.shift();
      if (what === 'auth' && line[0] === '-') send({ type: 'fenced', ok: false, error: 'AUTH: ' + line.slice(1), why: 'connect' });
      else if (what === 'name' && line[0] === '+') { up = true; send({ type: 'connected' }); for (const w of waiting.splice(0)) write(w); }
      else if (what !== undefined && what.startsWith('fence:')) done(line[0] === '+', line, what.slice(6));
    }
  });
  s.on('error', () => {});
  s.on('close', () => {
    if (sock !== s) return;
    sock = undefined; up = false;
    for (const p of pending.splice(0)) if (p.startsWith('fence:')) done(false, 'connection closed', p.slice(6));
    if (!closing) setTimeout(connect, 200).unref();
  });
}
function done(ok, line, why) { send({ type: 'fenced', ok, ...(ok ? {} : { error: line }), why }); if (onDone) onDone(); }
function write(why) { pending.push('fence:' + why); sock.write(cmd('CONFIG', 'SET', 'min-replicas-to-write', cfg.refuseAll)); }
function fence(why) {
  armed = false; clearTimeout(timer);
  if (sock && up) write(why); else { waiting.push(why); connect(); }
}
process.on('message', (m) => {
  if (m.type === 'init') { cfg = m; connect(); }
  else if (m.type === 'arm') { clearTimeout(timer); armed = true; timer = setTimeout(() => fence('deadline'), Math.max(0, m.inMs)); }
  else if (m.type === 'disarm') { clearTimeout(timer); armed = false; }
});
process.on('disconnect', () => {
  const bye = () => { closing = true; if (sock) sock.destroy(); process.exit(0); };
  if (!armed || !cfg) return bye();
  onDone = bye;
  setTimeout(bye, 2000).unref();
  fence('agent gone');
});
`;

export interface FenceDeputyOptions {
  readonly onMessage: (m: DeputyMessage) => void;
  readonly onExit: (code: number | null, signal: NodeJS.Signals | null) => void;
}

/** The agent's side: spawns the deputy, passes the deadline on. */
export class FenceDeputy {
  private child: ChildProcess | undefined;
  private armedAt: number | undefined;
  /** Set by stop(): its exit is expected. */
  stopping = false;
  private readonly init: InitMessage;

  /** `endpoint`: the local Redis as the agent's own link reaches it (address, user, password, TLS files read). */
  constructor(endpoint: RedisEndpoint, private readonly opts: FenceDeputyOptions) {
    this.init = {
      type: 'init',
      host: endpoint.host,
      port: endpoint.port,
      ...(endpoint.username !== undefined ? { username: endpoint.username } : {}),
      ...(endpoint.password !== undefined ? { password: endpoint.password } : {}),
      ...(endpoint.tls ? { tls: tlsConnectOptions(endpoint.tls) } : {}),
      refuseAll: REFUSE_ALL,
    };
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    this.armedAt = undefined;
    // Small heap limits: it holds one connection and a timer.
    const c = spawn(process.execPath, ['--max-old-space-size=8', '--max-semi-space-size=1', '-e', CHILD], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    this.child = c;
    c.on('message', (m: DeputyMessage) => this.opts.onMessage(m));
    c.on('error', (e) => {
      if (c.pid === undefined) this.opts.onMessage({ type: 'spawn-failed', error: e.message });
    });
    c.on('exit', (code, signal) => {
      if (this.child === c) this.child = undefined;
      this.opts.onExit(code, signal);
    });
    c.send(this.init);
  }

  /**
   * The fence deadline, in ms from now (undefined: none runs). Sent on every change; the deputy
   * fences DEPUTY_LEAD_MS early.
   */
  arm(fenceAtMs: number | undefined, nowMs: number): void {
    if (fenceAtMs === this.armedAt) return;
    this.armedAt = fenceAtMs;
    const c = this.child;
    if (!c?.connected) return;
    if (fenceAtMs === undefined) c.send({ type: 'disarm' });
    else c.send({ type: 'arm', inMs: Math.max(0, Math.floor(fenceAtMs - nowMs - DEPUTY_LEAD_MS)) });
  }

  /**
   * Part of the shutdown path, before the write gate's original values come back: disarmed first
   * (so it does not fence on the way out), then the channel closed; waits for its exit (bounded).
   */
  async stop(): Promise<void> {
    this.stopping = true;
    const c = this.child;
    this.child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    if (c.connected) {
      await new Promise<void>((resolve) => c.send({ type: 'disarm' }, () => resolve()));
      if (c.connected) c.disconnect();
    } else c.kill();
    const timer = setTimeout(() => c.kill('SIGKILL'), 1000);
    await exited;
    clearTimeout(timer);
  }
}
