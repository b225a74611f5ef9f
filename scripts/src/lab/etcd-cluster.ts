// A real etcd cluster in the namespace lab (Debian's etcd-server): one member per lab host, on the
// hosts' second network (eth1, 198.51.100.N; peer URLs on :2380, client URLs on :2379). Members
// can be cut off (nftables drops everything but loopback in the member's namespace), stopped and
// started again with their data; the leader is found with etcdctl. The lab removes the processes
// with its namespaces; destroy() also removes the data.

import { type ChildProcess, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { LogBuffer, RunDir, sleep, waitFor } from './procs.js';
import type { Lab } from './lab.js';

export interface EtcdClusterOptions {
  /** Lab hosts (with the second network) that run a member each, e.g. ["h3", "h4", "h5"]. */
  readonly members: readonly string[];
  /** Raft timing: etcd's defaults are 100 ms and 1000 ms; a lease TTL must outlast a leader election. */
  readonly heartbeatMs?: number;
  readonly electionTimeoutMs?: number;
  /** Client URLs over TLS with client certificates (etcd's --client-cert-auth): makeEtcdCerts' files. */
  readonly tls?: EtcdCerts;
}

/** A lab CA, a server certificate for the members' addresses, and a client certificate (PEM files). */
export interface EtcdCerts {
  readonly caFile: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
}

/** Makes a throw-away CA and certificates with openssl (P-256 keys, valid two days) in `dir`. */
export function makeEtcdCerts(dir: RunDir, serverAddresses: readonly string[]): EtcdCerts {
  const f = (name: string): string => dir.file(name);
  const ssl = (args: readonly string[]): void => {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl(['req', '-x509', ...key, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=redkeep lab CA']);
  const leaf = (name: string, cn: string, ext: string): void => {
    ssl(['req', ...key, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${cn}`]);
    dir.file(`${name}.ext`, ext);
    ssl(['x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${name}.pem`), '-days', '2', '-extfile', f(`${name}.ext`)]);
  };
  const sans = [...serverAddresses, '127.0.0.1'].map((a) => `IP:${a}`).join(',');
  leaf('server', 'etcd', `subjectAltName=${sans}\nextendedKeyUsage=serverAuth,clientAuth\n`);
  leaf('client', 'redkeep', 'extendedKeyUsage=clientAuth\n');
  return { caFile: f('ca.pem'), serverCertFile: f('server.pem'), serverKeyFile: f('server.key'), clientCertFile: f('client.pem'), clientKeyFile: f('client.key') };
}

const CUT_TABLE = 'redkeep_etcd';

export class EtcdCluster {
  /** On tmpfs where there is one: etcd syncs its log to disk on every commit, which a loaded test machine makes slow. */
  readonly dir = new RunDir(existsSync('/dev/shm') ? '/dev/shm' : undefined);
  readonly logs = new LogBuffer();
  private readonly procs = new Map<string, ChildProcess>();
  /** etcdctl's --user once auth is enabled (enableAuth). */
  private rootUser: string | undefined;

  constructor(
    readonly lab: Lab,
    readonly opts: EtcdClusterOptions,
  ) {
    if (!lab.replicationNetwork) throw new Error('the etcd cluster lives on the second network: Lab.create({ replicationNetwork: true })');
  }

  /** A member's client URL. */
  clientUrl(member: string): string {
    return `${this.opts.tls ? 'https' : 'http'}://${this.lab.host(member).address2}:2379`;
  }

  get endpoints(): string[] {
    return this.opts.members.map((m) => this.clientUrl(m));
  }

  private peerUrl(member: string): string {
    return `http://${this.lab.host(member).address2}:2380`;
  }

  /** Starts every member and waits until the cluster answers as healthy. */
  async start(timeoutMs = 20_000): Promise<void> {
    for (const m of this.opts.members) this.startMember(m, 'new');
    await this.healthy(timeoutMs);
  }

  /** (Re)starts a member; a member started again finds its data and rejoins. */
  startMember(member: string, state: 'new' | 'existing' = 'existing'): void {
    const initial = this.opts.members.map((m) => `${m}=${this.peerUrl(m)}`).join(',');
    const child = this.lab.spawn(member, [
      'etcd',
      '--name', member,
      '--data-dir', this.dir.dir(`${member}.etcd`),
      '--listen-peer-urls', this.peerUrl(member),
      '--initial-advertise-peer-urls', this.peerUrl(member),
      '--listen-client-urls', `${this.clientUrl(member)},${this.opts.tls ? 'https' : 'http'}://127.0.0.1:2379`,
      ...(this.opts.tls ? ['--cert-file', this.opts.tls.serverCertFile, '--key-file', this.opts.tls.serverKeyFile, '--trusted-ca-file', this.opts.tls.caFile, '--client-cert-auth'] : []),
      '--advertise-client-urls', this.clientUrl(member),
      '--initial-cluster', initial,
      '--initial-cluster-token', this.lab.id,
      '--initial-cluster-state', state,
      '--heartbeat-interval', String(this.opts.heartbeatMs ?? 100),
      '--election-timeout', String(this.opts.electionTimeoutMs ?? 1000),
      '--logger', 'zap',
      '--log-level', 'warn',
    ]);
    this.logs.attach(child, `[etcd ${member}] `);
    this.procs.set(member, child);
  }

  /** Stops a member (SIGKILL: a crash); its data stays for startMember. */
  async stopMember(member: string): Promise<void> {
    const c = this.procs.get(member);
    this.procs.delete(member);
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await gone;
  }

  /** etcdctl from inside a member's namespace (it reaches every member on eth1). */
  etcdctl(from: string, args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
    return this.lab.exec(from, this.ctl(this.endpoints, '2s', args));
  }

  /** etcdctl's argv: the endpoints, TLS files and root user when set. */
  private ctl(endpoints: readonly string[], timeout: string, args: readonly string[]): string[] {
    const t = this.opts.tls;
    return [
      'env', 'ETCDCTL_API=3', 'etcdctl', '--endpoints', endpoints.join(','), `--command-timeout=${timeout}`,
      ...(t ? ['--cacert', t.caFile, '--cert', t.clientCertFile, '--key', t.clientKeyFile] : []),
      ...(this.rootUser !== undefined ? ['--user', this.rootUser] : []),
      ...args,
    ];
  }

  /**
   * Turns etcd's authentication on: a root user (for the lab's etcdctl), and `user` with read and
   * write on the keys under `prefix` only, as an operator would give redkeep.
   */
  enableAuth(user: string, password: string, prefix: string): void {
    const from = this.opts.members[0] ?? '';
    const rootPassword = `root-${this.lab.id}`;
    const run = (args: readonly string[]): void => {
      const r = this.etcdctl(from, args);
      if (r.status !== 0) throw new Error(`etcdctl ${args.join(' ')}: ${r.stderr}`);
    };
    run(['user', 'add', `root:${rootPassword}`]);
    run(['user', 'add', `${user}:${password}`]);
    run(['role', 'add', `${user}-role`]);
    run(['role', 'grant-permission', `${user}-role`, 'readwrite', prefix, '--prefix=true']);
    run(['user', 'grant-role', user, `${user}-role`]);
    run(['auth', 'enable']);
    this.rootUser = `root:${rootPassword}`;
  }

  /** Waits until every running member answers healthy. */
  async healthy(timeoutMs = 20_000): Promise<void> {
    const running = [...this.procs.keys()];
    const from = running[0];
    if (from === undefined) throw new Error('no etcd member is running');
    await waitFor(`etcd members ${running.join(', ')} healthy`, timeoutMs, () => {
      const r = this.lab.exec(from, this.ctl(running.map((m) => this.clientUrl(m)), '1s', ['endpoint', 'health']));
      return r.status === 0;
    }, 200);
  }

  /** The member that is the raft leader now, as the running members report it. */
  leader(): string | undefined {
    for (const m of this.procs.keys()) {
      const r = this.lab.exec(m, this.ctl([this.clientUrl(m)], '1s', ['endpoint', 'status', '-w', 'json']));
      if (r.status !== 0) continue;
      const st = JSON.parse(r.stdout) as { Status?: { header?: { member_id?: number | string }; leader?: number | string } }[];
      const s = st[0]?.Status;
      if (s?.leader === undefined || s.header?.member_id === undefined) continue;
      if (String(s.leader) === String(s.header.member_id)) return m;
    }
    return undefined;
  }

  async waitLeader(timeoutMs = 10_000, not?: string): Promise<string> {
    return waitFor(`an etcd leader${not ? ` other than ${not}` : ''}`, timeoutMs, () => {
      const l = this.leader();
      return l !== undefined && l !== not ? l : undefined;
    }, 100);
  }

  /** Cuts a member (or any lab host) off: nftables drops everything it sends or receives but loopback. */
  cut(host: string): void {
    const rules = `table inet ${CUT_TABLE} {\n  chain in {\n    type filter hook input priority 0; policy drop;\n    iifname "lo" accept\n  }\n  chain out {\n    type filter hook output priority 0; policy drop;\n    oifname "lo" accept\n  }\n}\n`;
    const r = this.lab.exec(host, ['nft', '-f', '-'], rules);
    if (r.status !== 0) throw new Error(`nft on ${host}: ${r.stderr}`);
  }

  /** Cuts a lab host off the etcd members alone (its other traffic flows): drops to and from their addresses. */
  cutFromEtcd(host: string): void {
    const set = this.opts.members.map((m) => this.lab.host(m).address2).join(', ');
    const rules = `table inet ${CUT_TABLE} {\n  chain in {\n    type filter hook input priority 0; policy accept;\n    ip saddr { ${set} } drop\n  }\n  chain out {\n    type filter hook output priority 0; policy accept;\n    ip daddr { ${set} } drop\n  }\n}\n`;
    const r = this.lab.exec(host, ['nft', '-f', '-'], rules);
    if (r.status !== 0) throw new Error(`nft on ${host}: ${r.stderr}`);
  }

  heal(host: string): void {
    this.lab.exec(host, ['nft', 'delete', 'table', 'inet', CUT_TABLE]);
  }

  /** Stops every member and removes the data (the lab removes the namespaces). */
  async destroy(): Promise<void> {
    await Promise.all([...this.procs.keys()].map((m) => this.stopMember(m)));
    await sleep(0);
    this.dir.remove();
  }
}
