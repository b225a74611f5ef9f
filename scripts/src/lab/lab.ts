// A LAN of network namespaces for tests, benchmarks and the demo: N hosts and a client, each
// with eth0 on a bridge that lives in a namespace of its own; optionally a second network for
// the hosts alone (eth1 on a second bridge: a replication network). Documentation addresses only
// (192.0.2.0/24, 198.51.100.0/24, 2001:db8::/64). Namespace names are unique per run and every namespace (and
// every process started through the lab) is removed on destroy(), on exit, and on SIGINT/SIGTERM.

import { type ChildProcess, type SpawnOptions, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

export const LAB_PREFIX = 'rk';
export const LAB_SUBNET_V4 = '192.0.2';
export const LAB_PREFIX_V4 = 24;
export const LAB_SUBNET_V6 = '2001:db8::';
export const LAB_PREFIX_V6 = 64;
/** The second network (replicationNetwork): the hosts' eth1, 198.51.100.N/24. */
export const LAB_SUBNET2_V4 = '198.51.100';

export interface LabHost {
  /** Short name: h1..hN, or "client". */
  readonly name: string;
  /** Network namespace name. */
  readonly ns: string;
  readonly ifname: 'eth0';
  readonly address: string;
  readonly address6: string;
  readonly mac: string;
  /** The bridge port (in the bridge namespace) this host is plugged into. */
  readonly port: string;
  /** Its address on the second network (eth1), when the lab has one: 198.51.100.N, N as on eth0. */
  readonly address2: string;
  /** Its bridge port on the second network. */
  readonly port2: string;
}

export interface LabOptions {
  readonly hosts: number;
  /** Add IPv6 addresses (2001:db8::N/64) as well (default true). */
  readonly ipv6?: boolean;
  /**
   * A second network for the hosts (not the client): eth1 on a bridge of its own, 198.51.100.N/24,
   * e.g. for Redis replication apart from the VIP's network (default false).
   */
  readonly replicationNetwork?: boolean;
}

const live = new Set<Lab>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const lab of live) lab.destroy();
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const lab of live) lab.destroy();
      process.kill(process.pid, sig);
    });
  }
}

function ip(args: readonly string[]): string {
  return execFileSync('ip', [...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function runIn(ns: string, argv: readonly string[]): string {
  return execFileSync('ip', ['netns', 'exec', ns, ...argv], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Namespaces left by lab runs whose process is gone (a crashed test): safe to remove. */
export function staleLabNamespaces(): string[] {
  const out = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  const stale: string[] = [];
  for (const line of out.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = new RegExp(`^${LAB_PREFIX}([0-9a-z]+)p([0-9a-f]+)-`).exec(name);
    if (!m) continue;
    const pid = parseInt(m[1] ?? '', 36);
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (!alive) stale.push(name);
  }
  return stale;
}

export class Lab {
  readonly id: string;
  readonly bridgeNs: string;
  readonly hosts: readonly LabHost[];
  readonly client: LabHost;
  /** Whether the hosts have the second network (eth1, 198.51.100.N). */
  readonly replicationNetwork: boolean;
  private readonly children = new Set<ChildProcess>();
  private destroyed = false;

  private constructor(id: string, hosts: LabHost[], client: LabHost, replicationNetwork: boolean) {
    this.id = id;
    this.bridgeNs = `${id}-br`;
    this.hosts = hosts;
    this.client = client;
    this.replicationNetwork = replicationNetwork;
  }

  /**
   * Re-opens a lab made by another process (the lab CLI's `up`), from its id. The lab is not
   * removed when this process exits.
   */
  static attach(id: string): Lab {
    const out = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
    const names = out.split('\n').map((l) => l.split(' ')[0] ?? '');
    const hosts: LabHost[] = [];
    for (let i = 1; names.includes(`${id}-h${i}`); i++) hosts.push(labHost(id, `h${i}`, 10 + i));
    if (hosts.length === 0) throw new Error(`no lab with id ${id}`);
    const second = spawnSync('ip', ['-n', `${id}-br`, 'link', 'show', 'br1'], { stdio: 'ignore' }).status === 0;
    return new Lab(id, hosts, labHost(id, 'client', 100), second);
  }

  /** Builds the LAN. Throws (after removing what it made) if any step fails. */
  static create(opts: LabOptions): Lab {
    if (opts.hosts < 1 || opts.hosts > 80) throw new RangeError('a lab has 1..80 hosts');
    for (const ns of staleLabNamespaces()) spawnSync('ip', ['netns', 'del', ns]);
    const id = `${LAB_PREFIX}${process.pid.toString(36)}p${randomBytes(3).toString('hex')}`;
    const hosts = Array.from({ length: opts.hosts }, (_, i) => labHost(id, `h${i + 1}`, 11 + i));
    const lab = new Lab(id, hosts, labHost(id, 'client', 100), opts.replicationNetwork ?? false);
    installExitHooks();
    live.add(lab);
    try {
      lab.build(opts.ipv6 ?? true);
    } catch (e) {
      lab.destroy();
      throw e;
    }
    return lab;
  }

  get all(): readonly LabHost[] {
    return [...this.hosts, this.client];
  }

  host(name: string): LabHost {
    const h = this.all.find((x) => x.name === name);
    if (!h) throw new Error(`no lab host ${name}`);
    return h;
  }

  private build(ipv6: boolean): void {
    const br = this.bridgeNs;
    ip(['netns', 'add', br]);
    ip(['-n', br, 'link', 'set', 'lo', 'up']);
    ip(['-n', br, 'link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0']);
    ip(['-n', br, 'link', 'set', 'br0', 'up']);
    if (this.replicationNetwork) {
      ip(['-n', br, 'link', 'add', 'br1', 'type', 'bridge', 'mcast_snooping', '0']);
      ip(['-n', br, 'link', 'set', 'br1', 'up']);
    }
    for (const h of this.all) {
      ip(['netns', 'add', h.ns]);
      ip(['-n', h.ns, 'link', 'set', 'lo', 'up']);
      this.plug(h, ipv6);
      if (this.replicationNetwork && h !== this.client) this.plugSecond(h);
    }
  }

  /** The host's eth1 on the second network: a veth pair to br1, 198.51.100.N/24, no IPv6. */
  private plugSecond(h: LabHost): void {
    const br = this.bridgeNs;
    ip(['-n', br, 'link', 'add', h.port2, 'type', 'veth', 'peer', 'name', 'eth1', 'netns', h.ns]);
    ip(['-n', br, 'link', 'set', h.port2, 'master', 'br1']);
    ip(['-n', br, 'link', 'set', h.port2, 'up']);
    runIn(h.ns, ['sysctl', '-qw', 'net.ipv6.conf.eth1.disable_ipv6=1']);
    ip(['-n', h.ns, 'link', 'set', 'eth1', 'up']);
    ip(['-n', h.ns, 'addr', 'add', `${h.address2}/${LAB_PREFIX_V4}`, 'dev', 'eth1']);
  }

  /** The host's eth0: a veth pair to the bridge, its MAC and addresses. */
  private plug(h: LabHost, ipv6: boolean): void {
    const br = this.bridgeNs;
    ip(['-n', br, 'link', 'add', h.port, 'type', 'veth', 'peer', 'name', h.ifname, 'netns', h.ns]);
    ip(['-n', br, 'link', 'set', h.port, 'master', 'br0']);
    ip(['-n', br, 'link', 'set', h.port, 'up']);
    ip(['-n', h.ns, 'link', 'set', h.ifname, 'address', h.mac]);
    if (ipv6) {
      // No duplicate address detection delay: addresses are usable at once.
      runIn(h.ns, ['sysctl', '-qw', `net.ipv6.conf.${h.ifname}.accept_dad=0`]);
    }
    ip(['-n', h.ns, 'link', 'set', h.ifname, 'up']);
    ip(['-n', h.ns, 'addr', 'add', `${h.address}/${LAB_PREFIX_V4}`, 'dev', h.ifname]);
    if (ipv6) {
      ip(['-n', h.ns, 'addr', 'add', `${h.address6}/${LAB_PREFIX_V6}`, 'dev', h.ifname, 'nodad']);
    }
  }

  /** Runs a command in a host's namespace and waits; returns its result (never throws). */
  exec(host: string, argv: readonly string[], input?: string): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync('ip', ['netns', 'exec', this.host(host).ns, ...argv], {
      encoding: 'utf8',
      input,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  /** Like exec, but throws with the command's stderr when it fails. */
  run(host: string, argv: readonly string[]): string {
    const r = this.exec(host, argv);
    if (r.status !== 0) throw new Error(`${host}: ${argv.join(' ')} failed (${r.status}): ${r.stderr.trim()}`);
    return r.stdout;
  }

  /** Starts a process in a host's namespace; the lab kills it on destroy(). */
  spawn(host: string, argv: readonly string[], opts: SpawnOptions = {}): ChildProcess {
    const [cmd, ...rest] = argv;
    if (!cmd) throw new Error('spawn needs a command');
    const child = spawn('ip', ['netns', 'exec', this.host(host).ns, cmd, ...rest], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...opts,
    });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /**
   * Signals every process in a host's namespace whose command name is `comm` (e.g. keepalived,
   * which runs a parent and a VRRP child). Never touches processes outside the namespace.
   */
  signalAll(host: string, comm: string, signal: NodeJS.Signals | 0): number {
    const r = spawnSync('ip', ['netns', 'pids', this.host(host).ns], { encoding: 'utf8' });
    let n = 0;
    for (const pid of (r.stdout ?? '').split('\n').filter(Boolean)) {
      let name = '';
      try {
        name = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      } catch {
        continue;
      }
      if (name !== comm) continue;
      try {
        process.kill(Number(pid), signal);
        n++;
      } catch {
        // exited meanwhile
      }
    }
    return n;
  }

  /** Carrier down on the host's link (its bridge port goes down). */
  cutLink(host: string): void {
    ip(['-n', this.bridgeNs, 'link', 'set', this.host(host).port, 'down']);
  }

  healLink(host: string): void {
    ip(['-n', this.bridgeNs, 'link', 'set', this.host(host).port, 'up']);
  }

  /**
   * Deletes the host's eth0 and makes it again (a new interface index, as after a driver reload
   * or a hot-plug): sockets bound to the old one are dead.
   */
  replug(host: string): void {
    const h = this.host(host);
    ip(['-n', this.bridgeNs, 'link', 'del', h.port]);
    this.plug(h, false);
  }

  /** The host keeps its carrier, but its bridge port forwards nothing (a silent partition). */
  isolate(host: string): void {
    execFileSync('bridge', ['-n', this.bridgeNs, 'link', 'set', 'dev', this.host(host).port, 'state', '0']);
  }

  rejoin(host: string): void {
    execFileSync('bridge', ['-n', this.bridgeNs, 'link', 'set', 'dev', this.host(host).port, 'state', '3']);
  }

  /** The second network only: the host keeps its carrier on eth1, its bridge port there forwards nothing. */
  isolateSecond(host: string): void {
    if (!this.replicationNetwork) throw new Error('this lab has no second network');
    execFileSync('bridge', ['-n', this.bridgeNs, 'link', 'set', 'dev', this.host(host).port2, 'state', '0']);
  }

  rejoinSecond(host: string): void {
    if (!this.replicationNetwork) throw new Error('this lab has no second network');
    execFileSync('bridge', ['-n', this.bridgeNs, 'link', 'set', 'dev', this.host(host).port2, 'state', '3']);
  }

  /** Addresses on a host's eth0, e.g. ["192.0.2.11/24", "192.0.2.50/24"]. */
  addresses(host: string, family: 'inet' | 'inet6' = 'inet'): string[] {
    const out = runIn(this.host(host).ns, ['ip', '-j', '-f', family, 'addr', 'show', 'dev', 'eth0']);
    const parsed = JSON.parse(out) as { addr_info?: { local: string; prefixlen: number }[] }[];
    return (parsed[0]?.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`);
  }

  /** The host's IPv6 link-local address on eth0 (its IPv6 VRRP advert source), if it has one. */
  linkLocal(host: string): string | undefined {
    const out = runIn(this.host(host).ns, ['ip', '-j', '-6', 'addr', 'show', 'dev', 'eth0', 'scope', 'link']);
    const parsed = JSON.parse(out) as { addr_info?: { local?: string }[] }[];
    return parsed[0]?.addr_info?.find((a) => a.local?.startsWith('fe80:'))?.local;
  }

  /** The MAC the host's neighbour table has for an address, if any (after ARP or GARP). */
  neighbour(host: string, address: string): string | undefined {
    const out = runIn(this.host(host).ns, ['ip', '-j', 'neigh', 'show', 'to', address, 'dev', 'eth0']);
    const parsed = JSON.parse(out) as { lladdr?: string }[];
    return parsed[0]?.lladdr;
  }

  /** Removes every process and namespace of the lab. Safe to call twice. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    live.delete(this);
    for (const c of this.children) {
      try {
        c.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const h of this.all) killAllIn(h.ns);
    for (const ns of [...this.all.map((h) => h.ns), this.bridgeNs]) {
      spawnSync('ip', ['netns', 'del', ns]);
    }
  }
}

function labHost(id: string, name: string, n: number): LabHost {
  return {
    name,
    ns: `${id}-${name}`,
    ifname: 'eth0',
    address: `${LAB_SUBNET_V4}.${n}`,
    address6: `${LAB_SUBNET_V6}${n.toString(16)}`,
    // Locally administered, stable per host number: easy to read in captures.
    mac: `02:00:00:00:00:${n.toString(16).padStart(2, '0')}`,
    port: `p${name}`,
    address2: `${LAB_SUBNET2_V4}.${n}`,
    port2: `q${name}`,
  };
}

/** Kills every process whose network namespace is `ns` (e.g. daemons that detached). */
function killAllIn(ns: string): void {
  const r = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' });
  for (const pid of (r.stdout ?? '').split('\n').filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone
    }
  }
}
