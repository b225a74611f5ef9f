// Processes in the lab: redkeep agents and keepalived daemons, with their configs written to a
// per-run directory, their logs kept, and helpers to wait for what a test expects.

import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type StatusJson, controlRequest } from 'redkeep';
import type { Lab } from './lab.js';

export const REDKEEP_BIN = fileURLToPath(new URL('../../../agent/bin/redkeep.js', import.meta.url));

export async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` every `everyMs` until it returns a value other than undefined/false. */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => T | undefined | false | Promise<T | undefined | false>, everyMs = 10): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    }
    await sleep(everyMs);
  }
}

export interface InstanceOptions {
  readonly priority: number;
  readonly vrid?: number;
  readonly version?: 2 | 3;
  readonly advertInterval?: string;
  readonly vips?: readonly string[];
  readonly preempt?: boolean;
  readonly authPass?: string;
  /** Unicast: peers by host name (the lab resolves addresses). */
  readonly unicastPeers?: readonly string[];
  readonly extra?: string;
  /** TOML placed before [agent], e.g. [[track]] tables. */
  readonly top?: string;
  /** More [agent] keys (TOML lines). */
  readonly agentExtra?: string;
  /**
   * Multicast members by host name. Default: every lab host when the instance has an
   * [instance.redis] section (role control needs them), none otherwise.
   */
  readonly members?: readonly string[];
  /** Multicast members by address, as written (e.g. IPv6 link-local advert sources); instead of `members`. */
  readonly memberAddresses?: readonly string[];
}

/** A scratch directory for one test run's configs, sockets and logs. */
export class RunDir {
  readonly path: string;
  /** `base`: where the directory goes (default the system's temporary directory). */
  constructor(base = tmpdir()) {
    this.path = mkdtempSync(join(base, 'redkeep-lab-'));
  }
  file(name: string, text?: string): string {
    const p = join(this.path, name);
    if (text !== undefined) writeFileSync(p, text, { mode: 0o600 });
    return p;
  }
  dir(name: string): string {
    const p = join(this.path, name);
    mkdirSync(p, { recursive: true });
    return p;
  }
  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

export class LogBuffer {
  text = '';
  attach(child: ChildProcess, prefix: string): void {
    child.stdout?.on('data', (d: Buffer) => (this.text += `${prefix}${d.toString()}`));
    child.stderr?.on('data', (d: Buffer) => (this.text += `${prefix}${d.toString()}`));
  }
}

export class AgentProc {
  child: ChildProcess | undefined;
  readonly logs = new LogBuffer();
  readonly socket: string;
  readonly config: string;

  constructor(
    private readonly lab: Lab,
    readonly host: string,
    dir: RunDir,
    opts: InstanceOptions,
  ) {
    this.socket = join(dir.path, `${host}.sock`);
    const h = lab.host(host);
    const vips = opts.vips ?? ['192.0.2.50/24'];
    const peers = (opts.unicastPeers ?? []).map((p) => `"${lab.host(p).address}"`);
    const memberNames = opts.members ?? (peers.length === 0 && /\[instance\.redis\]/.test(opts.extra ?? '') ? lab.hosts.map((x) => x.name) : undefined);
    const members = opts.memberAddresses !== undefined ? opts.memberAddresses.map((m) => `"${m}"`) : memberNames?.map((m) => `"${lab.host(m).address}"`);
    const text = [
      opts.top ?? '',
      '[agent]',
      `name = "${host}"`,
      `control_socket = "${this.socket}"`,
      `state_dir = "${join(dir.path, `${host}-state`)}"`,
      'log_level = "debug"',
      opts.agentExtra ?? '',
      '',
      '[[instance]]',
      'name = "redis-write"',
      'interface = "eth0"',
      `vrid = ${opts.vrid ?? 51}`,
      `priority = ${opts.priority}`,
      `version = ${opts.version ?? 3}`,
      `advert_interval = "${opts.advertInterval ?? '100ms'}"`,
      `preempt = ${opts.preempt ?? true}`,
      `virtual_addresses = [${vips.map((v) => `"${v}"`).join(', ')}]`,
      ...(opts.authPass !== undefined ? [`auth_pass = "${opts.authPass}"`] : []),
      ...(peers.length > 0 ? [`unicast_source = "${h.address}"`, `unicast_peers = [${peers.join(', ')}]`] : []),
      ...(members !== undefined ? [`members = [${members.join(', ')}]`] : []),
      opts.extra ?? '',
    ].join('\n');
    this.config = dir.file(`${host}.toml`, `${text}\n`);
  }

  /** `env`: more environment variables; `prefix`: argv put in front (e.g. setpriv ... --). */
  start(opts: { env?: Readonly<Record<string, string>>; prefix?: readonly string[] } = {}): this {
    this.child = this.lab.spawn(this.host, [...(opts.prefix ?? []), process.execPath, REDKEEP_BIN, 'run', '--config', this.config], {
      ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}),
    });
    this.logs.attach(this.child, `[${this.host}] `);
    return this;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  signal(sig: NodeJS.Signals): void {
    this.child?.kill(sig);
  }

  async exited(timeoutMs = 5000): Promise<number | null> {
    const c = this.child;
    if (!c) return null;
    if (c.exitCode !== null || c.signalCode !== null) return c.exitCode;
    return await Promise.race([
      new Promise<number | null>((resolve) => c.once('exit', (code) => resolve(code))),
      sleep(timeoutMs).then(() => {
        throw new Error(`${this.host}: agent did not exit within ${timeoutMs} ms`);
      }),
    ]);
  }

  async status(): Promise<StatusJson> {
    const r = await controlRequest(this.socket, { cmd: 'status' }, 2000);
    if (!r.ok) throw new Error(r.error);
    return r.result as StatusJson;
  }

  async state(): Promise<string | undefined> {
    return (await this.status()).instances[0]?.state;
  }
}

export interface KeepalivedOptions extends InstanceOptions {
  readonly routerId?: string;
  /** Config placed before the vrrp_instance (vrrp_script blocks); turns script security off. */
  readonly scriptBlocks?: readonly string[];
  /** More lines inside the vrrp_instance (track_script, notify). */
  readonly instanceLines?: readonly string[];
}

/** keepalived 2.2.7 from Debian, in the foreground, logging to the console, files in RunDir. */
export class KeepalivedProc {
  child: ChildProcess | undefined;
  readonly logs = new LogBuffer();
  private readonly conf: string;
  private readonly pidDir: string;

  constructor(
    private readonly lab: Lab,
    readonly host: string,
    dir: RunDir,
    opts: KeepalivedOptions,
  ) {
    const h = lab.host(host);
    const version = opts.version ?? 3;
    const intervalMs = parseIntervalMs(opts.advertInterval ?? '100ms');
    const vips = opts.vips ?? ['192.0.2.50/24'];
    const lines = [
      'global_defs {',
      `  router_id ${opts.routerId ?? host}`,
      `  vrrp_version ${version}`,
      '  script_user root',
      // Scripts live in the run directory under /tmp, which script security refuses.
      ...(opts.scriptBlocks ? [] : ['  enable_script_security']),
      '}',
      ...(opts.scriptBlocks ?? []),
      'vrrp_instance VI {',
      '  state BACKUP',
      '  interface eth0',
      `  virtual_router_id ${opts.vrid ?? 51}`,
      `  priority ${opts.priority}`,
      `  advert_int ${intervalMs / 1000}`,
      ...(opts.preempt === false ? ['  nopreempt'] : []),
      ...(opts.authPass !== undefined ? ['  authentication {', '    auth_type PASS', `    auth_pass ${opts.authPass}`, '  }'] : []),
      ...((opts.unicastPeers ?? []).length > 0
        ? [`  unicast_src_ip ${h.address}`, '  unicast_peer {', ...(opts.unicastPeers ?? []).map((p) => `    ${lab.host(p).address}`), '  }']
        : []),
      '  virtual_ipaddress {',
      ...vips.map((v) => `    ${v}`),
      '  }',
      ...(opts.instanceLines ?? []).map((l) => `  ${l}`),
      '}',
    ];
    this.conf = dir.file(`${host}-keepalived.conf`, `${lines.join('\n')}\n`);
    this.pidDir = dir.dir(`${host}-keepalived-run`);
  }

  start(): this {
    this.child = this.lab.spawn(this.host, [
      'keepalived',
      '--dont-fork',
      '--log-console',
      '--log-detail',
      '--no-syslog',
      '--vrrp',
      `--use-file=${this.conf}`,
      `--pid=${join(this.pidDir, 'keepalived.pid')}`,
      `--vrrp_pid=${join(this.pidDir, 'vrrp.pid')}`,
    ]);
    this.logs.attach(this.child, `[${this.host} keepalived] `);
    return this;
  }

  /** Graceful stop (priority 0 from a master), waiting for both keepalived processes to end. */
  async stop(): Promise<void> {
    this.child?.kill('SIGTERM');
    await waitFor(`keepalived on ${this.host} to stop`, 10_000, () => this.lab.signalAll(this.host, 'keepalived', 0) === 0);
  }

  /**
   * kill -9 of every keepalived process of this host. They are stopped first: killed in turn, the
   * VRRP child would see its parent die and leave gracefully (priority 0), which is no crash.
   */
  kill(): void {
    this.lab.signalAll(this.host, 'keepalived', 'SIGSTOP');
    this.lab.signalAll(this.host, 'keepalived', 'SIGKILL');
  }

  /** A signal to every keepalived process of this host (SIGSTOP / SIGCONT: a frozen agent). */
  signal(sig: NodeJS.Signals): void {
    this.lab.signalAll(this.host, 'keepalived', sig);
  }

  get running(): boolean {
    return this.lab.signalAll(this.host, 'keepalived', 0) > 0;
  }
}

function parseIntervalMs(text: string): number {
  const m = /^(\d+)(ms|s)$/.exec(text);
  if (!m) throw new Error(`interval ${text}`);
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
}

/** Hosts that have `address` on eth0 right now. */
export function holders(lab: Lab, address: string): string[] {
  const family = address.includes(':') ? 'inet6' : 'inet';
  return lab.hosts.filter((h) => lab.addresses(h.name, family).some((a) => a.startsWith(`${address}/`))).map((h) => h.name);
}

/** A redis-server in a host's namespace, listening on all its addresses (so on the VIP too). */
export class RedisProc {
  child: ChildProcess | undefined;
  readonly logs = new LogBuffer();
  readonly dir: string;

  constructor(
    private readonly lab: Lab,
    readonly host: string,
    run: RunDir,
    readonly port = 6379,
    private readonly extra: readonly string[] = [],
  ) {
    this.dir = run.dir(`${host}-redis`);
  }

  start(): this {
    this.child = this.lab.spawn(this.host, [
      'redis-server',
      '--port', String(this.port),
      // Every address, the VIP included (it comes and goes).
      '--bind', '0.0.0.0',
      '--protected-mode', 'no',
      '--save', '',
      '--appendonly', 'no',
      '--dir', this.dir,
      '--repl-diskless-sync', 'yes',
      '--repl-diskless-sync-delay', '0',
      // As examples/redis.conf recommends: a Redis that (re)starts waits, fenced, for redkeep
      // to tell it its role, and never takes a write before.
      ...(this.extra.includes('--replicaof') ? [] : ['--replicaof', '127.0.0.1', '1']),
      ...this.extra,
    ]);
    this.logs.attach(this.child, `[${this.host} redis] `);
    return this;
  }

  /** Runs redis-cli in the host's namespace against this server (or another address). */
  cli(args: readonly string[], address = '127.0.0.1'): string {
    return this.lab.run(this.host, ['redis-cli', '-h', address, '-p', String(this.port), ...args]).trim();
  }

  info(section: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const line of this.cli(['info', section]).split(/\r?\n/)) {
      const i = line.indexOf(':');
      if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
    }
    return out;
  }

  kill(): void {
    this.child?.kill('SIGKILL');
  }

  /** SIGSTOP / SIGCONT: a frozen Redis (a fork stall, swap). */
  signal(sig: NodeJS.Signals): void {
    this.child?.kill(sig);
  }
}

/** An [instance.redis] section and a redis-ping track (weight 0) for AgentProc's `extra`. */
export function redisInstanceToml(port = 6379, pingInterval = '100ms', moreTracks: readonly string[] = []): { top: string; instance: string } {
  return {
    top: ['[[track]]', 'name = "redis-alive"', 'type = "redis-ping"', `interval = "${pingInterval}"`, 'timeout = "80ms"', ''].join('\n'),
    instance: [`tracks = [${['redis-alive', ...moreTracks].map((t) => `"${t}"`).join(', ')}]`, '', '[instance.redis]', `address = "127.0.0.1:${port}"`].join('\n'),
  };
}
