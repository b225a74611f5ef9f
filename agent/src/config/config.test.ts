import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, type ConfigIssue, formatIssue, loadConfig, parseDurationMs } from './config.js';

const tmp = mkdtempSync(join(tmpdir(), 'redkeep-config-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;

function write(text: string): string {
  const p = join(tmp, `c${n++}.toml`);
  writeFileSync(p, text);
  return p;
}

function issues(text: string): { file: string; issues: readonly ConfigIssue[] } {
  const file = write(text);
  try {
    loadConfig(file);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return { file, issues: e.issues };
  }
  assert.fail('the config was accepted');
}

const GOOD = `# three nodes, this one preferred
[agent]
name = "redis-a"
log_format = "json"

[[instance]]
name = "redis-write"
interface = "eth0"
vrid = 51
priority = 150
advert_interval = "100ms"
preempt_delay = "2s"
virtual_addresses = ["192.0.2.50/24", "192.0.2.51/24"]
garp = { repeat = 3, delay = "1s" }
track_interfaces = [{ name = "eth1", weight = -20 }]

[[instance]]
name = "legacy"
interface = "eth0"
vrid = 52
version = 2
advert_interval = "1s"
auth_pass = "s3cret99"
unicast_source = "192.0.2.11"
unicast_peers = ["192.0.2.12", "192.0.2.13"]
virtual_addresses = ["192.0.2.60/24"]
`;

describe('configuration', () => {
  it('turns a good file into a typed, frozen config with defaults filled in', () => {
    const c = loadConfig(write(GOOD));
    assert.equal(c.agent.name, 'redis-a');
    assert.equal(c.agent.logFormat, 'json');
    assert.equal(c.agent.logLevel, 'info');
    const [a, b] = c.instances;
    assert.ok(a && b);
    assert.equal(a.advertIntervalCs, 10);
    assert.equal(a.version, 3);
    assert.equal(a.preempt, true);
    assert.equal(a.preemptDelayMs, 2000);
    assert.deepEqual(a.garp, { repeat: 3, delayMs: 1000, refreshMs: 0, refreshRepeat: 1, lowerPriorityRepeat: 5, intervalMs: 0 });
    assert.deepEqual(a.trackInterfaces, [{ name: 'eth1', weight: -20 }]);
    assert.deepEqual(a.virtualAddresses.map((v) => `${v.address}/${v.prefixLength}`), ['192.0.2.50/24', '192.0.2.51/24']);
    assert.equal(b.priority, 100);
    assert.equal(b.advertIntervalCs, 100);
    assert.deepEqual(b.unicastPeers, ['192.0.2.12', '192.0.2.13']);
    assert.ok(Object.isFrozen(c) && Object.isFrozen(a) && Object.isFrozen(a.garp));
  });

  it('reads the metrics address (off by default, localhost when only a port is given)', () => {
    assert.equal(loadConfig(write(GOOD)).agent.metrics, undefined);
    const withMetrics = (v: string): string => GOOD.replace('[agent]\n', `[agent]\nmetrics_address = "${v}"\n`);
    assert.deepEqual(loadConfig(write(withMetrics(':9064'))).agent.metrics, { host: '127.0.0.1', port: 9064 });
    assert.deepEqual(loadConfig(write(withMetrics('[::1]:9064'))).agent.metrics, { host: '::1', port: 9064 });
    assert.deepEqual(loadConfig(write(withMetrics('192.0.2.11:80'))).agent.metrics, { host: '192.0.2.11', port: 80 });
    for (const bad of ['localhost:9064', '9064', '127.0.0.1:99999']) {
      const r = issues(withMetrics(bad));
      assert.ok(r.issues.some((x) => x.key === 'agent.metrics_address' && x.line === 3), `${bad}: ${JSON.stringify(r.issues)}`);
    }
  });

  it('reads the Sentinel endpoint: off by default, only for instances whose Redis roles redkeep manages', () => {
    assert.equal(loadConfig(write(GOOD)).agent.sentinel, undefined);
    const redis = '\n[instance.redis]\naddress = "127.0.0.1:6379"\n';
    const members = GOOD.replace('[[instance]]\n', '[[instance]]\nmembers = ["192.0.2.11", "192.0.2.12"]\n');
    const on = (text: string, extra: string): string => text.replace('[agent]\n', `[agent]\nsentinel_address = "0.0.0.0:26379"\n${extra}`);
    assert.deepEqual(loadConfig(write(on(members + redis, ''))).agent.sentinel, { host: '0.0.0.0', port: 26379, passwordFile: undefined });
    assert.deepEqual(loadConfig(write(on(members + redis, 'sentinel_password_file = "/etc/redkeep/sentinel.pass"\n'))).agent.sentinel?.passwordFile, '/etc/redkeep/sentinel.pass');
    const noRole = issues(on(GOOD, ''));
    assert.ok(noRole.issues.some((x) => x.key === 'agent.sentinel_address' && x.line === 3 && /manage_role/.test(x.message)), JSON.stringify(noRole.issues));
    const noAddress = issues(GOOD.replace('[agent]\n', '[agent]\nsentinel_password_file = "/etc/p"\n') + redis);
    assert.ok(noAddress.issues.some((x) => x.key === 'agent.sentinel_password_file' && /needs sentinel_address/.test(x.message)), JSON.stringify(noAddress.issues));
    const relative = issues(on(members + redis, 'sentinel_password_file = "p"\n'));
    assert.ok(relative.issues.some((x) => x.key === 'agent.sentinel_password_file' && /absolute/.test(x.message)));
  });

  it('reads [agent] etcd (strict mode): off by default, refused with file, line and key when bad', () => {
    const redis = '\n[instance.redis]\naddress = "127.0.0.1:6379"\n';
    assert.equal(loadConfig(write(GOOD + redis)).agent.etcd, undefined);
    const on = (etcd: string, text = GOOD + redis): string => text.replace('[agent]\n', `[agent]\netcd = ${etcd}\n`);
    const three = 'endpoints = ["http://198.51.100.21:2379", "http://198.51.100.22:2379", "http://198.51.100.23:2379"]';
    assert.deepEqual(loadConfig(write(on(`{ ${three} }`))).agent.etcd, {
      endpoints: ['http://198.51.100.21:2379', 'http://198.51.100.22:2379', 'http://198.51.100.23:2379'],
      prefix: '/redkeep/', tls: undefined, username: undefined, passwordFile: undefined, leaseTtlMs: undefined, onLoss: 'fence',
    });
    const full = loadConfig(write(on('{ endpoints = ["https://[2001:db8::21]:2379"], prefix = "/dc1/redkeep/", tls = { ca_file = "/etc/redkeep/etcd-ca.pem", cert_file = "/etc/redkeep/etcd.pem", key_file = "/etc/redkeep/etcd.key" }, username = "redkeep", password_file = "/etc/redkeep/etcd.pass", lease_ttl = "3s", on_loss = "keep" }'))).agent.etcd;
    assert.equal(full?.leaseTtlMs, 3000);
    assert.equal(full?.onLoss, 'keep');
    assert.equal(full?.tls?.keyFile, '/etc/redkeep/etcd.key');
    // As a table of its own too.
    assert.equal(loadConfig(write(`${GOOD + redis}\n[agent.etcd]\n${three}\non_loss = "embedded"\n`)).agent.etcd?.onLoss, 'embedded');
    const bad: [string, string, RegExp][] = [
      ['{ prefix = "/x/" }', 'agent.etcd.endpoints', /is required/],
      ['{ endpoints = [] }', 'agent.etcd.endpoints', /non-empty/],
      ['{ endpoints = ["198.51.100.21:2379"] }', 'agent.etcd.endpoints[0]', /must be a URL/],
      ['{ endpoints = ["unix:///run/etcd.sock"] }', 'agent.etcd.endpoints[0]', /http:\/\/ or https:\/\//],
      ['{ endpoints = ["http://198.51.100.21"] }', 'agent.etcd.endpoints[0]', /port/],
      ['{ endpoints = ["http://u:p@198.51.100.21:2379"] }', 'agent.etcd.endpoints[0]', /password_file/],
      ['{ endpoints = ["http://198.51.100.21:2379", "https://198.51.100.22:2379"] }', 'agent.etcd.endpoints', /all http/],
      [`{ ${three}, prefix = "redkeep" }`, 'agent.etcd.prefix', /start and end with "\/"/],
      [`{ ${three}, lease_ttl = "1500ms" }`, 'agent.etcd.lease_ttl', /whole seconds/],
      [`{ ${three}, lease_ttl = "1s" }`, 'agent.etcd.lease_ttl', /"2s"/],
      [`{ ${three}, on_loss = "ignore" }`, 'agent.etcd.on_loss', /"fence", "keep", "embedded"/],
      [`{ ${three}, username = "redkeep" }`, 'agent.etcd.username', /go together/],
      [`{ ${three}, username = "redkeep", password_file = "etcd.pass" }`, 'agent.etcd.password_file', /absolute/],
      [`{ ${three}, tls = { ca_file = "/etc/ca.pem" } }`, 'agent.etcd.tls', /https/],
      [`{ ${three}, timeout = "1s" }`, 'agent.etcd.timeout', /unknown key/],
    ];
    for (const [etcd, key, message] of bad) {
      const r = issues(on(etcd));
      assert.ok(r.issues.some((x) => x.key === key && x.line === 3 && message.test(x.message)), `${etcd}: ${JSON.stringify(r.issues)}`);
    }
    const noWriter = issues(on(`{ ${three} }`, GOOD));
    assert.ok(noWriter.issues.some((x) => x.key === 'agent.etcd' && x.line === 3 && /manage_role/.test(x.message)), JSON.stringify(noWriter.issues));
  });

  it('reads a file track (keepalived track_file): a file, weight 1 by default, no rise or fall', () => {
    const withTrack = (lines: string): string => `[[track]]\nname = "drain"\ntype = "file"\n${lines}\n${GOOD.replace('[[instance]]\n', '[[instance]]\ntracks = ["drain"]\n')}`;
    const t = loadConfig(write(withTrack('file = "/run/redkeep/drain"'))).tracks[0];
    assert.equal(t?.file, '/run/redkeep/drain');
    assert.equal(t?.weight, 1);
    assert.ok(issues(withTrack('')).issues.some((x) => x.key === 'track[0].file' && /required/.test(x.message)));
    assert.ok(issues(withTrack('file = "drain"')).issues.some((x) => x.key === 'track[0].file' && /absolute/.test(x.message)));
    assert.ok(issues(withTrack('file = "/d"\nfall = 2')).issues.some((x) => x.key === 'track[0].fall' && x.line === 5));
    const exec = `[[track]]\nname = "x"\ntype = "exec"\ncommand = ["/bin/true"]\nfile = "/d"\n${GOOD}`;
    assert.ok(issues(exec).issues.some((x) => x.key === 'track[0].file' && /only a file track/.test(x.message)));
  });

  it('reads a read instance (serve = "read"): it needs the write instance of its Redis, never steers a role, and one Redis has one write instance', () => {
    const w = `[[instance]]\nname = "w"\ninterface = "eth0"\nvrid = 51\nvirtual_addresses = ["192.0.2.50/24"]\nmembers = ["192.0.2.11", "192.0.2.12"]\n\n[instance.redis]\naddress = "127.0.0.1:6379"\n`;
    const read = (extra = ''): string => `\n[[instance]]\nname = "r"\nserve = "read"\ninterface = "eth0"\nvrid = 52\nvirtual_addresses = ["192.0.2.60/24"]\n\n[instance.redis]\naddress = "127.0.0.1:6379"\nmax_lag = 5000\n${extra}`;
    const c = loadConfig(write(w + read()));
    const r = c.instances[1];
    assert.equal(r?.serve, 'read');
    assert.equal(c.instances[0]?.serve, 'write');
    assert.equal(r?.redis?.manageRole, false);
    assert.equal(r?.redis?.guard.maxLagBytes, 5000);
    assert.equal(r?.redis?.guard.memberTimeoutMs, 0);
    const alone = issues(read().replace(/^\n/, ''));
    assert.ok(alone.issues.some((x) => x.key === 'instance[0].serve' && /needs the write instance of its Redis/.test(x.message)), JSON.stringify(alone.issues));
    const role = issues(w + read('manage_role = true\n'));
    assert.ok(role.issues.some((x) => x.key === 'instance[1].redis.manage_role' && /never changes a Redis role/.test(x.message)));
    const guard = issues(w + read('isolation_timeout = "1s"\n'));
    assert.ok(guard.issues.some((x) => x.key === 'instance[1].redis.isolation_timeout'));
    const two = issues(w + w.replace('name = "w"', 'name = "w2"').replace('vrid = 51', 'vrid = 53').replace('192.0.2.50', '192.0.2.70'));
    assert.ok(two.issues.some((x) => x.key === 'instance[1].redis.address' && /one write instance per Redis/.test(x.message)), JSON.stringify(two.issues));
    const noRedis = issues(w + read().replace('\n[instance.redis]\naddress = "127.0.0.1:6379"\nmax_lag = 5000\n', ''));
    assert.ok(noRedis.issues.some((x) => x.key === 'instance[1].serve' && /needs \[instance\.redis\]/.test(x.message)), JSON.stringify(noRedis.issues));
    assert.ok(issues(w.replace('[[instance]]\n', '[[instance]]\nserve = "both"\n')).issues.some((x) => x.key === 'instance[0].serve'));
  });

  it('names file, line and key for a bad value, and says what would be accepted', () => {
    const r = issues(GOOD.replace('priority = 150', 'priority = 300'));
    assert.equal(r.issues.length, 1);
    assert.deepEqual(r.issues[0], {
      file: r.file,
      line: 10,
      key: 'instance[0].priority',
      message: 'must be an integer 1..255, got 300',
    });
  });

  it('refuses an unknown key with a suggestion', () => {
    const r = issues(GOOD.replace('preempt_delay = "2s"', 'preempt_dealy = "2s"'));
    const i = r.issues[0];
    assert.equal(i?.key, 'instance[0].preempt_dealy');
    assert.equal(i?.line, 12);
    assert.match(i?.message ?? '', /unknown key \(did you mean preempt_delay\?\)/);
  });

  it('finds the line of keys inside inline tables and later array entries', () => {
    const r = issues(GOOD.replace('delay = "1s" }', 'delay = "soon" }').replace('vrid = 52', 'vrid = 0'));
    const byKey = new Map(r.issues.map((i) => [i.key, i]));
    assert.equal(byKey.get('instance[0].garp.delay')?.line, 14);
    assert.match(byKey.get('instance[0].garp.delay')?.message ?? '', /duration string such as "100ms"/);
    assert.equal(byKey.get('instance[1].vrid')?.line, 20);
  });

  describe('the line of every way TOML writes a key', () => {
    const instance = (name: string, vrid: number, more = ''): string => `[[instance]]\nname = "${name}"\ninterface = "eth0"\nvrid = ${vrid}\nvirtual_addresses = ["192.0.2.${vrid}/24"]\nmembers = []\n${more}`;
    const one = (text: string): string => {
      const r = issues(text);
      assert.equal(r.issues.length, 1, JSON.stringify(r.issues));
      return (r.issues[0] ? formatIssue(r.issues[0]) : '').replace(`${r.file}:`, 'FILE:');
    };

    it('a dotted key, at the top level and in an instance', () => {
      assert.equal(one(`agent.log_level = "loud"\n\n${instance('w', 51)}`), 'FILE:1: agent.log_level: must be one of "error", "warn", "info", "debug", got "loud"');
      assert.match(one(instance('w', 51, 'redis.address = "127.0.0.1:6379"\nredis.max_lag = -1\n')), /^FILE:8: instance\[0\]\.redis\.max_lag: must be an integer/);
    });

    it('a quoted key', () => {
      assert.match(one(instance('w', 51, '\n[instance.redis]\naddress = "127.0.0.1:6379"\n"max_lag" = -1\n')), /^FILE:10: instance\[0\]\.redis\.max_lag: must be an integer/);
      const table = instance('w', 51, '\n[instance.redis]\n\n[instance.redis.peer_addresses]\n"192.0.2.11" = "198.51.100.11"\n"192.0.2.12" = 12\n').replace('members = []', 'members = ["192.0.2.11", "192.0.2.12"]');
      assert.equal(one(table), 'FILE:12: instance[0].redis.peer_addresses["192.0.2.12"]: must be an address string, got 12');
    });

    it('an inline table in an array, also one spread over lines', () => {
      const track = '[[track]]\nname = "a"\ntype = "exec"\ncommand = ["/bin/true"]\n\n[[track]]\nname = "b"\ntype = "exec"\ncommand = ["/bin/true"]\n\n';
      assert.match(one(track + instance('w', 51, 'tracks = ["a", { name = "b", weight = 500 }]\n')), /^FILE:17: instance\[0\]\.tracks\[1\]\.weight: must be an integer -253\.\.253, got 500$/);
      assert.match(one(track + instance('w', 51, 'tracks = [\n  "a",\n  { name = "b",\n    weight = 500 },\n]\n')), /^FILE:20: instance\[0\]\.tracks\[1\]\.weight: /);
      assert.match(one(track + instance('w', 51, 'tracks = [\n  "a",\n  { name = "b", weight = 5, wieght = 1 },\n]\n')), /^FILE:19: instance\[0\]\.tracks\[1\]\.wieght: unknown key \(did you mean weight\?\)$/);
    });

    it('a key of the third [[instance]]', () => {
      const text = `${instance('a', 51)}\n${instance('b', 52)}\n${instance('c', 53, 'priority = 0\n')}`;
      assert.match(one(text), /^FILE:21: instance\[2\]\.priority: must be an integer 1\.\.255, got 0$/);
    });

    it('a key set twice in a table, a table written twice, an inline table with a key twice', () => {
      assert.match(one(`${instance('a', 51)}\n${instance('b', 52, 'vrid = 53\n')}`), /^FILE:14: instance\[1\]\.vrid: is defined twice \(first on line 11\)/);
      assert.match(one(`[agent]\nname = "a"\n\n[agent]\nlog_level = "debug"\n\n${instance('w', 51)}`), /^FILE:4: agent: is defined twice \(first on line 1\)/);
      assert.match(one(instance('w', 51, '[instance.redis]\naddress = "127.0.0.1:6379"\n[instance.redis]\nmax_lag = 1\n')), /^FILE:9: instance\[0\]\.redis: is defined twice \(first on line 7\)/);
      assert.match(one(instance('w', 51, 'garp = { repeat = 3, repeat = 4 }\n')), /^FILE:7: instance\[0\]\.garp\.repeat: is defined twice/);
    });
  });

  it('reports every problem at once', () => {
    const bad = GOOD.replace('advert_interval = "1s"', 'advert_interval = "1500ms"')
      .replace('unicast_peers = ["192.0.2.12", "192.0.2.13"]', 'unicast_peers = ["2001:db8::1"]')
      .replace('log_format = "json"', 'log_format = "yaml"');
    const keys = issues(bad).issues.map((i) => i.key).sort();
    assert.deepEqual(keys, ['agent.log_format', 'instance[1].advert_interval', 'instance[1].unicast_peers[0]']);
  });

  it('refuses cross-field mistakes: PASS on v3, v2 with IPv6, a VRID used twice on an interface, duplicate names', () => {
    const v3pass = issues(GOOD.replace('version = 2\n', ''));
    assert.ok(v3pass.issues.some((i) => i.key === 'instance[1].auth_pass' && /VRRPv2 only/.test(i.message)));
    const dupVrid = issues(GOOD.replace('vrid = 52', 'vrid = 51'));
    assert.ok(dupVrid.issues.some((i) => i.key === 'instance[1].vrid' && /already used on eth0/.test(i.message)));
    const dupName = issues(GOOD.replace('name = "legacy"', 'name = "redis-write"'));
    assert.ok(dupName.issues.some((i) => /used twice/.test(i.message)));
    const v2v6 = issues(`[[instance]]\nname = "x"\ninterface = "eth0"\nvrid = 1\nversion = 2\nadvert_interval = "1s"\nvirtual_addresses = ["2001:db8::50/64"]\n`);
    assert.ok(v2v6.issues.some((i) => i.key === 'instance[0].version'));
  });

  it('refuses what would only break at run time: duplicate VIPs, a VIP in two instances, too many IPv6 VIPs, bad peers, a missing group', () => {
    const dupVip = issues(GOOD.replace('["192.0.2.50/24", "192.0.2.51/24"]', '["192.0.2.50/24", "192.0.2.050/24", "192.0.2.50/25"]'));
    assert.ok(dupVip.issues.some((i) => i.key === 'instance[0].virtual_addresses[2]' && /192\.0\.2\.50 is listed twice/.test(i.message)), JSON.stringify(dupVip.issues));
    const shared = issues(GOOD.replace('virtual_addresses = ["192.0.2.60/24"]', 'virtual_addresses = ["192.0.2.51/24"]'));
    assert.ok(shared.issues.some((i) => i.key === 'instance[1].virtual_addresses' && /belongs to instance "redis-write"/.test(i.message)));
    const many = Array.from({ length: 91 }, (_, k) => `"2001:db8::${(k + 1).toString(16)}/64"`).join(', ');
    const v6 = issues(`[[instance]]\nname = "x"\ninterface = "eth0"\nvrid = 1\nvirtual_addresses = [${many}]\n`);
    assert.ok(v6.issues.some((i) => /at most 90 ipv6 addresses/.test(i.message)));
    const peers = issues(GOOD.replace('["192.0.2.12", "192.0.2.13"]', '["224.0.0.18", "255.255.255.255", "192.0.2.12", "192.0.2.12"]'));
    assert.deepEqual(peers.issues.map((i) => i.key), ['instance[1].unicast_peers[0]', 'instance[1].unicast_peers[1]', 'instance[1].unicast_peers[3]']);
    const group = issues(GOOD.replace('log_format = "json"', 'control_group = "no-such-group-here"'));
    assert.ok(group.issues.some((i) => i.key === 'agent.control_group' && /does not exist/.test(i.message)));
    const longSock = issues(GOOD.replace('log_format = "json"', `control_socket = "/run/${'x'.repeat(120)}.sock"`));
    assert.ok(longSock.issues.some((i) => i.key === 'agent.control_socket'));
    const slowGarp = issues(GOOD.replace('garp = { repeat = 3, delay = "1s" }', 'garp = { repeat = 3, interval = "2s" }'));
    assert.ok(slowGarp.issues.some((i) => i.key === 'instance[0].garp.interval'));
  });

  it('never repeats a secret it refuses, even one of the wrong type', () => {
    const r = issues(GOOD.replace('auth_pass = "s3cret99"', 'auth_pass = 12345678'));
    const i = r.issues.find((x) => x.key === 'instance[1].auth_pass');
    assert.ok(i);
    assert.ok(!i.message.includes('12345678'), i.message);
  });

  it('reads tracks, an instance\'s Redis and its hooks', () => {
    const text = `[[track]]
name = "redis-alive"
type = "redis-ping"
interval = "100ms"
timeout = "50ms"
fall = 2

[[track]]
name = "disk"
type = "exec"
command = ["/usr/local/bin/check-disk", "/var/lib/redis"]
weight = -30

[[instance]]
name = "w"
interface = "eth0"
vrid = 51
virtual_addresses = ["192.0.2.50/24"]
members = []
tracks = ["redis-alive", { name = "disk", weight = -60 }]

[instance.redis]
address = "127.0.0.1:6380"
password_file = "/etc/redkeep/redis.pass"

[instance.hooks]
notify = ["/etc/keepalived/notify.sh"]
timeout = "5s"
`;
    const c = loadConfig(write(text));
    assert.deepEqual(c.tracks.map((t) => [t.name, t.type, t.intervalMs, t.timeoutMs, t.rise, t.fall, t.weight]), [
      ['redis-alive', 'redis-ping', 100, 50, 1, 2, 0],
      ['disk', 'exec', 1000, 1000, 1, 1, -30],
    ]);
    const i = c.instances[0];
    assert.deepEqual(i?.tracks, [
      { name: 'redis-alive', weight: 0 },
      { name: 'disk', weight: -60 },
    ]);
    assert.equal(i?.redis?.port, 6380);
    assert.equal(i?.redis?.peerPort, 6380);
    assert.equal(i?.redis?.manageRole, true);
    assert.deepEqual(i?.hooks?.notify, ['/etc/keepalived/notify.sh']);
    assert.equal(i?.hooks?.timeoutMs, 5000);

    const noRedis = issues(text.replace(/\[instance\.redis\][^[]*/, ''));
    assert.ok(noRedis.issues.some((x) => x.key === 'instance[0].tracks' && /needs this instance's \[instance\.redis\]/.test(x.message)));
    const unknown = issues(text.replace('tracks = ["redis-alive"', 'tracks = ["redis-alvie"'));
    assert.ok(unknown.issues.some((x) => x.key === 'instance[0].tracks[0]' && /no \[\[track\]\] is named "redis-alvie"/.test(x.message) && x.line === 20));
    const shell = issues(text.replace('notify = ["/etc/keepalived/notify.sh"]', 'notify = "/etc/keepalived/notify.sh MASTER"'));
    assert.ok(shell.issues.some((x) => x.key === 'instance[0].hooks.notify' && x.line === 27));
  });

  describe('peer_addresses: the members\' Redis on another network', () => {
    const multicast = (map: string, more = '', vip = '192.0.2.50/24', members = '"192.0.2.11", "192.0.2.12", "192.0.2.13"'): string => `[[instance]]
name = "w"
interface = "eth0"
vrid = 51
virtual_addresses = ["${vip}"]
members = [${members}]
${more}
[instance.redis]
peer_addresses = ${map}
`;
    const ALL = '{ "192.0.2.11" = "198.51.100.11", "192.0.2.12" = "198.51.100.12", "192.0.2.13" = "198.51.100.13" }';
    const problems = (text: string): { key: string; line: number | undefined; message: string }[] => issues(text).issues.map((i) => ({ key: i.key, line: i.line, message: i.message }));

    it('maps every member to the address its Redis is reached at, canonically; either family, a link-local one with its zone', () => {
      const c = loadConfig(write(multicast('{ "192.0.2.11" = "198.51.100.11", "192.0.2.12" = "2001:DB8:1::C", "192.0.2.13" = "fe80::13%eth1" }')));
      assert.deepEqual(c.instances[0]?.redis?.peerAddresses, { '192.0.2.11': '198.51.100.11', '192.0.2.12': '2001:db8:1::c', '192.0.2.13': 'fe80::13%eth1' });
      assert.equal(loadConfig(write(multicast(ALL).replace(/peer_addresses.*\n/, ''))).instances[0]?.redis?.peerAddresses, undefined, 'not given: each at its advert address');
      // A table of its own, one line per member.
      const table = multicast(ALL).replace(/peer_addresses = .*\n/, '\n[instance.redis.peer_addresses]\n"192.0.2.11" = "198.51.100.11"\n"192.0.2.12" = "198.51.100.12"\n"192.0.2.13" = "198.51.100.13"\n');
      assert.equal(loadConfig(write(table)).instances[0]?.redis?.peerAddresses?.['192.0.2.12'], '198.51.100.12');
    });

    it('takes, besides the members, this host\'s own advert address: unicast_source, or one more key in multicast', () => {
      const unicast = multicast(ALL).replace('members = ["192.0.2.11", "192.0.2.12", "192.0.2.13"]', 'unicast_source = "192.0.2.11"\nunicast_peers = ["192.0.2.12", "192.0.2.13"]');
      assert.equal(loadConfig(write(unicast)).instances[0]?.redis?.peerAddresses?.['192.0.2.11'], '198.51.100.11');
      const others = multicast(ALL).replace('members = ["192.0.2.11", "192.0.2.12", "192.0.2.13"]', 'members = ["192.0.2.12", "192.0.2.13"]');
      assert.equal(loadConfig(write(others)).instances[0]?.redis?.peerAddresses?.['192.0.2.11'], '198.51.100.11', 'members lists the others; the one more key is this host');
      const twoMore = problems(others.replace('"192.0.2.13" = "198.51.100.13" }', '"192.0.2.13" = "198.51.100.13", "192.0.2.14" = "198.51.100.14" }'));
      assert.deepEqual(twoMore.map((x) => x.key), ['instance[0].redis.peer_addresses["192.0.2.14"]']);
      assert.match(twoMore[0]?.message ?? '', /is not a member \(192\.0\.2\.12, 192\.0\.2\.13\); besides the members only this host's own advert address may be listed, and 192\.0\.2\.11 is already taken for it/);
      const notSource = problems(unicast.replace('"192.0.2.11" = "198.51.100.11"', '"192.0.2.99" = "198.51.100.11"'));
      assert.ok(notSource.some((x) => x.key === 'instance[0].redis.peer_addresses["192.0.2.99"]' && /neither a member .* nor this host's unicast_source \(192\.0\.2\.11\)/.test(x.message)));
      assert.ok(notSource.some((x) => x.key === 'instance[0].redis.peer_addresses' && /has no entry for 192\.0\.2\.11: when peer_addresses is given, every member \(this host's own included\) must be mapped/.test(x.message)));
    });

    it('refuses a map that leaves a member out, names one twice, or uses an address no member could be reached at, with file, line and key', () => {
      const missing = problems(multicast('{ "192.0.2.11" = "198.51.100.11", "192.0.2.12" = "198.51.100.12" }'));
      assert.deepEqual(missing, [{ key: 'instance[0].redis.peer_addresses', line: 9, message: 'has no entry for 192.0.2.13: when peer_addresses is given, every member (this host\'s own included) must be mapped' }]);
      const cases: [string, RegExp][] = [
        ['"198.51.100.12"', /198\.51\.100\.12 is already where 192\.0\.2\.12's Redis is/],
        ['"127.0.0.1"', /must be the unicast address \(IPv4 or IPv6\) its Redis is reached at by the other members/],
        ['"::1"', /must be the unicast address/],
        ['"224.0.0.18"', /must be the unicast address/],
        ['"redis-13.example"', /must be the unicast address/],
        ['"2001:db8::13%eth1"', /only a link-local IPv6 address takes a %zone/],
        ['"192.0.2.50"', /is a virtual address of this instance/],
        ['13', /must be an address string, got 13/],
      ];
      for (const [value, message] of cases) {
        const p = problems(multicast(ALL.replace('"198.51.100.13"', value)));
        assert.equal(p.length, 1, `${value}: ${JSON.stringify(p)}`);
        assert.equal(p[0]?.key, 'instance[0].redis.peer_addresses["192.0.2.13"]');
        assert.equal(p[0]?.line, 9);
        assert.match(p[0]?.message ?? '', message, value);
      }
      const v6 = problems(multicast(ALL.replace('"192.0.2.13" =', '"2001:db8::13" =')));
      assert.ok(v6.some((x) => x.key === 'instance[0].redis.peer_addresses["2001:db8::13"]' && /must be a member's advert address \(ipv4, no zone\)/.test(x.message)));
      const unquoted = problems(multicast('{ 192.0.2.11 = "198.51.100.11" }'));
      assert.ok(unquoted.some((x) => /an address as a key goes in quotes, e\.g\. "192\.0\.2\.11" = "198\.51\.100\.11"/.test(x.message)), JSON.stringify(unquoted));
      const witness = problems(multicast(ALL, 'witnesses = ["192.0.2.14"]').replace('"192.0.2.13" = "198.51.100.13"', '"192.0.2.13" = "198.51.100.13", "192.0.2.14" = "198.51.100.14"'));
      assert.ok(witness.some((x) => /192\.0\.2\.14 is a witness/.test(x.message)));
      const notTable = problems(multicast('"198.51.100.11"'));
      assert.ok(notTable.some((x) => x.key === 'instance[0].redis.peer_addresses' && /must be a table such as/.test(x.message)));
      const noMembers = problems(multicast(ALL).replace('members = ["192.0.2.11", "192.0.2.12", "192.0.2.13"]\n', '').replace('[instance.redis]', '[instance.redis]\nmanage_role = false'));
      assert.ok(noMembers.some((x) => x.key === 'instance[0].redis.peer_addresses' && /needs members \(multicast\) or unicast_peers/.test(x.message)));
    });

    it('maps an IPv6 instance\'s link-local advert sources', () => {
      const text = multicast('{ "fe80::b" = "2001:db8:1::b", "FE80::C" = "198.51.100.12" }', '', '2001:db8::50/64', '"fe80::b", "fe80::c"');
      assert.deepEqual(loadConfig(write(text)).instances[0]?.redis?.peerAddresses, { 'fe80::b': '2001:db8:1::b', 'fe80::c': '198.51.100.12' });
      const twice = problems(text.replace('"FE80::C" = "198.51.100.12"', '"FE80::B" = "198.51.100.12", "fe80::c" = "198.51.100.13"'));
      assert.deepEqual(twice.map((x) => [x.key, x.message]), [['instance[0].redis.peer_addresses["FE80::B"]', 'fe80::b is listed twice']]);
      const zoned = problems(text.replace('"fe80::b" =', '"fe80::b%eth0" ='));
      assert.ok(zoned.some((x) => /must be a member's advert address \(ipv6, no zone\)/.test(x.message)));
    });
  });

  it('reads the data guard\'s bounds with their defaults, and refuses a guard weight that would raise the priority', () => {
    const text = `[[instance]]
name = "w"
interface = "eth0"
vrid = 51
virtual_addresses = ["192.0.2.50/24"]
members = ["192.0.2.11", "192.0.2.12"]

[instance.redis]
address = "127.0.0.1:6379"
`;
    const dflt = loadConfig(write(text)).instances[0]?.redis;
    assert.deepEqual(dflt?.guard, { memberTimeoutMs: 2000, quorum: undefined, maxLinkDownMs: 5000, maxLagBytes: 1024 * 1024 });
    assert.equal(dflt?.guardWeight, -253);
    const set = loadConfig(write(`${text}isolation_timeout = "0s"\nmax_link_down = "30s"\nmax_lag = 0\nguard_weight = -50\n`)).instances[0]?.redis;
    assert.deepEqual(set?.guard, { memberTimeoutMs: 0, quorum: undefined, maxLinkDownMs: 30_000, maxLagBytes: 0 });
    assert.equal(set?.guardWeight, -50);
    const bad = issues(`${text}guard_weight = 20\nmax_lag = -1\n`);
    assert.ok(bad.issues.some((x) => x.key === 'instance[0].redis.guard_weight' && x.line === 10), JSON.stringify(bad.issues));
    assert.ok(bad.issues.some((x) => x.key === 'instance[0].redis.max_lag' && x.line === 11), JSON.stringify(bad.issues));
    const short = issues(text.replace('vrid = 51', 'vrid = 51\nadvert_interval = "2s"').replace('address = "127.0.0.1:6379"', 'address = "127.0.0.1:6379"\nmax_link_down = "5s"'));
    assert.ok(short.issues.some((x) => x.key === 'instance[0].redis.max_link_down' && /at least 7500 ms with 2000 ms adverts/.test(x.message)), JSON.stringify(short.issues));
    assert.equal(loadConfig(write(text.replace('vrid = 51', 'vrid = 51\nadvert_interval = "2s"'))).instances[0]?.redis?.guard.maxLinkDownMs, 7500, 'the default grows with the advert interval');
    const owner = issues(text.replace('vrid = 51', 'vrid = 51\npriority = 255'));
    assert.ok(owner.issues.some((x) => x.key === 'instance[0].priority' && /could not lower it/.test(x.message)), JSON.stringify(owner.issues));
    const fast = text.replace('vrid = 51', 'vrid = 51\nadvert_interval = "100ms"');
    assert.equal(loadConfig(write(fast)).instances[0]?.redis?.guard.memberTimeoutMs, 200, 'two advert intervals by default');
    const slow = issues(fast.replace('address = "127.0.0.1:6379"', 'address = "127.0.0.1:6379"\nisolation_timeout = "1s"'));
    assert.ok(slow.issues.some((x) => x.key === 'instance[0].redis.isolation_timeout' && /before the others elect a successor/.test(x.message) && x.line === 11), JSON.stringify(slow.issues));
    const tooMany = issues(text.replace('address = "127.0.0.1:6379"', 'address = "127.0.0.1:6379"\nquorum = 4'));
    assert.ok(tooMany.issues.some((x) => x.key === 'instance[0].redis.quorum' && /more than the 3 members/.test(x.message)), JSON.stringify(tooMany.issues));
    assert.equal(loadConfig(write(text.replace('address = "127.0.0.1:6379"', 'address = "127.0.0.1:6379"\nquorum = 1'))).instances[0]?.redis?.guard.quorum, 1);
    const noMembers = issues(text.replace('members = ["192.0.2.11", "192.0.2.12"]\n', ''));
    assert.ok(noMembers.issues.some((x) => x.key === 'instance[0].members' && /required with Redis role control in multicast mode/.test(x.message)), JSON.stringify(noMembers.issues));
    const both = issues(text.replace('members = [', 'unicast_peers = ["192.0.2.12"]\nmembers = ['));
    assert.ok(both.issues.some((x) => x.key === 'instance[0].members' && /unicast_peers already are the members/.test(x.message)), JSON.stringify(both.issues));
    const reserved = issues(`[[track]]\nname = "redis-data"\ntype = "redis-ping"\n\n${text}`);
    assert.ok(reserved.issues.some((x) => x.key === 'track[0].name' && /redkeep's own tracks/.test(x.message)), JSON.stringify(reserved.issues));
  });

  it('names the line of a TOML syntax error', () => {
    const r = issues('[agent]\nname = "a"\nlog_level = = "debug"\n');
    assert.equal(r.issues[0]?.line, 3);
    assert.match(r.issues[0]?.message ?? '', /not valid TOML/);
  });

  it('refuses a missing file with its path', () => {
    assert.throws(() => loadConfig(join(tmp, 'nope.toml')), (e: unknown) => e instanceof ConfigError && /nope\.toml: cannot read/.test(e.message));
  });

  it('never puts the PASS password in an error message', () => {
    const r = issues(GOOD.replace('auth_pass = "s3cret99"', 'auth_pass = "s3cret99-too-long"'));
    assert.ok(r.issues.length > 0);
    assert.ok(!r.issues.some((i) => i.message.includes('s3cret99')));
  });

  it('parses durations', () => {
    assert.equal(parseDurationMs('100ms'), 100);
    assert.equal(parseDurationMs('1.5s'), 1500);
    assert.equal(parseDurationMs('2m'), 120_000);
    for (const bad of ['100', '1 s', 'ms', '-1s', '1d']) assert.equal(parseDurationMs(bad), undefined, bad);
  });
});
