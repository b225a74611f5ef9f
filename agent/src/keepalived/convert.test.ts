import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import toml from 'toml';
import { importKeepalivedCommand } from '../commands/import-keepalived.js';
import { fuzzConverter } from '../import/fuzz.js';
import { type RedkeepConfig, loadConfig, validateConfig } from '../config/config.js';
import { captureOutput } from '../output.js';
import { type KeepalivedConversion, KeepalivedImportError, convertKeepalived, redisPingTarget, tomlString } from './convert.js';

const VECTORS = fileURLToPath(new URL('../../../test/vectors/keepalived-2.2.7', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'redkeep-import-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;

/** Converts, writes the TOML to a file and loads it as redkeep would. */
function convertAndLoad(text: string, options: { configId?: string } = {}): { result: KeepalivedConversion; config: RedkeepConfig } {
  const result = convertKeepalived(text, 'keepalived.conf', options);
  const file = join(tmp, `c${n++}.toml`);
  writeFileSync(file, result.toml);
  return { result, config: loadConfig(file) };
}

const lines = (...l: string[]): string => `${l.join('\n')}\n`;

/** The warnings' lines and a pattern for each. */
function warningAt(r: KeepalivedConversion, line: number, pattern: RegExp): void {
  const hit = r.warnings.find((w) => w.line === line && pattern.test(w.message));
  assert.ok(hit, `no warning on line ${line} matching ${pattern}; got:\n${r.warnings.map((w) => `${w.line}: ${w.message}`).join('\n')}`);
}

const capture = captureOutput;

const REDIS_SETUP = lines(
  '! keepalived for redis-a', // 1
  'global_defs {', // 2
  '   router_id redis-a', // 3
  '   vrrp_version 3', // 4
  '}', // 5
  'vrrp_script chk_redis {', // 6
  '    script "/usr/bin/redis-cli -h 127.0.0.1 -p 6380 ping"', // 7
  '    interval 1', // 8
  '    timeout 2', // 9
  '    fall 2', // 10
  '    rise 2', // 11
  '    weight -60', // 12
  '}', // 13
  'vrrp_script chk_disk {', // 14
  `    script "/usr/local/bin/check-disk --min-free '10 GB'"`, // 15
  '    interval 5', // 16
  '}', // 17
  'vrrp_instance redis_vip {', // 18
  '    interface eth0', // 19
  '    virtual_router_id 51', // 20
  '    priority 150', // 21
  '    advert_int 0.1', // 22
  '    unicast_src_ip 10.0.0.11', // 23
  '    unicast_peer {', // 24
  '        10.0.0.12', // 25
  '        10.0.0.13', // 26
  '    }', // 27
  '    virtual_ipaddress {', // 28
  '        10.0.0.50/24 dev eth0 label eth0:redis', // 29
  '    }', // 30
  '    track_script {', // 31
  '        chk_redis', // 32
  '        chk_disk weight -10', // 33
  '    }', // 34
  `    notify_master "/etc/keepalived/redis-notify.sh master 'redis a'"`, // 35
  '    notify_backup "/etc/keepalived/redis-notify.sh backup"', // 36
  '    notify_fault /etc/keepalived/redis-notify.sh', // 37
  '    notify_stop "/etc/keepalived/redis-notify.sh stop"', // 38
  '    notify /etc/keepalived/notify-all.sh', // 39
  '}', // 40
);

describe('keepalived.conf conversion', () => {
  it('converts every keepalived 2.2.7 vector config into a config redkeep loads', () => {
    const files = readdirSync(VECTORS).filter((f) => f.endsWith('.conf'));
    assert.ok(files.length >= 4);
    for (const f of files) {
      const { config } = convertAndLoad(readFileSync(join(VECTORS, f), 'utf8'));
      assert.equal(config.instances.length, 1, f);
      assert.equal(config.agent.name, 'vec', f);
    }
  });

  it('keeps what the vectors put on the wire: version, VRID, priority, interval, PASS, unicast', () => {
    const load = (f: string): RedkeepConfig['instances'][number] => {
      const i = convertAndLoad(readFileSync(join(VECTORS, f), 'utf8')).config.instances[0];
      assert.ok(i);
      return i;
    };
    const pass = load('v2-pass-mcast.conf');
    assert.deepEqual([pass.version, pass.vrid, pass.priority, pass.advertIntervalCs, pass.authPass], [2, 51, 150, 100, 's3cret99']);
    assert.deepEqual(pass.virtualAddresses.map((v) => `${v.address}/${v.prefixLength}`), ['192.0.2.50/24', '192.0.2.51/24']);
    const v3 = load('v3-mcast.conf');
    assert.deepEqual([v3.version, v3.vrid, v3.priority, v3.advertIntervalCs], [3, 52, 120, 50]);
    const uni = load('v3-unicast.conf');
    assert.deepEqual([uni.version, uni.vrid, uni.priority, uni.unicastSource, uni.unicastPeers], [3, 53, 200, '192.0.2.11', ['192.0.2.12']]);
    const none = load('v2-none-mcast-with-garp-and-shutdown.conf');
    assert.deepEqual([none.version, none.vrid, none.authPass, none.garp.repeat, none.garp.delayMs], [2, 54, undefined, 5, 5000]);
  });

  it('turns a typical Redis setup into a redis-ping track, [instance.redis] and hooks', () => {
    const { result, config } = convertAndLoad(REDIS_SETUP);
    const ping = config.tracks.find((t) => t.name === 'chk_redis');
    assert.deepEqual(ping && [ping.type, ping.intervalMs, ping.timeoutMs, ping.rise, ping.fall, ping.weight], ['redis-ping', 1000, 2000, 2, 2, -60]);
    const disk = config.tracks.find((t) => t.name === 'chk_disk');
    assert.deepEqual(disk && [disk.type, disk.command, disk.intervalMs, disk.timeoutMs], ['exec', ['/usr/local/bin/check-disk', '--min-free', '10 GB'], 5000, 5000]);
    const i = config.instances[0];
    assert.ok(i);
    assert.deepEqual([i.name, i.interface, i.vrid, i.priority, i.version, i.advertIntervalCs], ['redis_vip', 'eth0', 51, 150, 3, 10]);
    assert.deepEqual([i.unicastSource, i.unicastPeers, i.addressLabel], ['10.0.0.11', ['10.0.0.12', '10.0.0.13'], 'eth0:redis']);
    assert.deepEqual(i.tracks, [
      { name: 'chk_redis', weight: -60 },
      { name: 'chk_disk', weight: -10 },
    ]);
    assert.deepEqual(i.redis && [i.redis.host, i.redis.port, i.redis.manageRole], ['127.0.0.1', 6380, false]);
    assert.deepEqual(i.hooks && [i.hooks.master, i.hooks.backup, i.hooks.fault, i.hooks.stop, i.hooks.notify], [
      ['/etc/keepalived/redis-notify.sh', 'master', 'redis a'],
      ['/etc/keepalived/redis-notify.sh', 'backup'],
      ['/etc/keepalived/redis-notify.sh'],
      ['/etc/keepalived/redis-notify.sh', 'stop'],
      ['/etc/keepalived/notify-all.sh'],
    ]);
    assert.equal(config.agent.name, 'redis-a');
    // Nothing is left out; the advice is what changes for the operator.
    assert.deepEqual(result.warnings.map((w) => w.line), [6, 14, 35]);
    warningAt(result, 6, /^turn manage_role on to get redkeep's data guards \(it is written false because keepalived never changed Redis roles\)$/);
    warningAt(result, 14, /^vrrp_script "chk_disk": keepalived ran this script as root .*; redkeep runs hooks and exec tracks as the unprivileged user redkeep \(systemd unit, no sudo\): a script that needs root must change$/);
    warningAt(result, 35, /^notify_master, notify_backup, notify_fault, notify_stop and notify: keepalived ran these scripts as root/);
    assert.match(result.toml, /^# redkeep configuration generated by `redkeep import-keepalived` from keepalived\.conf\./);
    assert.match(result.toml, /advert_interval = "100ms"/);
  });

  it('maps VRRPv2 PASS authentication to auth_pass, and never repeats the password in a warning', () => {
    const secret = 'Xy7-secretpart';
    const { result, config } = convertAndLoad(
      lines(
        'vrrp_instance A {', // 1
        '  interface eth0', // 2
        '  virtual_router_id 9', // 3
        '  authentication {', // 4
        '    auth_type PASS', // 5
        `    auth_pass ${secret}`, // 6
        `    ${secret}`, // 7: a misplaced password line
        `    auth_pass ${secret} extra`, // 8
        '  }', // 9
        '  virtual_ipaddress {', // 10
        '    192.0.2.9/24', // 11
        '  }', // 12
        '}', // 13
        'vrrp_instance B {', // 14
        '  interface eth0', // 15
        '  version 3', // 16
        '  virtual_router_id 10', // 17
        `  authentication { auth_type AH\n auth_pass ${secret} }`, // 18, 19
        '  virtual_ipaddress { 192.0.2.10/24 }', // 20
        '}', // 21
      ),
    );
    // keepalived uses the first 8 bytes of the password, and so does the conversion.
    assert.equal(config.instances[0]?.authPass, secret.slice(0, 8));
    assert.equal(config.instances[1]?.authPass, undefined);
    warningAt(result, 8, /auth_pass is longer than 8 bytes/);
    warningAt(result, 7, /a line in authentication is not supported/);
    warningAt(result, 18, /auth_type AH is not supported/);
    for (const w of result.warnings) {
      assert.ok(!w.message.includes(secret.slice(0, 4)), `the password leaked into: ${w.message}`);
    }
    // In the TOML, the password is on the auth_pass line and nowhere else.
    const leaking = result.toml.split('\n').filter((l) => l.includes(secret.slice(0, 4)));
    assert.deepEqual(leaking, [`auth_pass = "${secret.slice(0, 8)}"`]);
  });

  it('warns that authentication is ignored with VRRPv3, as keepalived does', () => {
    const { result, config } = convertAndLoad(
      lines('global_defs { vrrp_version 3 }', 'vrrp_instance A {', '  interface eth0', '  virtual_router_id 9', '  authentication {', '    auth_type PASS', '    auth_pass abc', '  }', '  virtual_ipaddress { 192.0.2.9 }', '}'),
    );
    assert.equal(config.instances[0]?.authPass, undefined);
    assert.equal(config.instances[0]?.version, 3);
    warningAt(result, 5, /VRRPv3 has none/);
  });

  it('warns about unmapped sections and keywords at their keepalived lines', () => {
    const { result } = convertAndLoad(
      lines(
        'global_defs {', // 1
        '  router_id lb', // 2
        '  notification_email { ops@example.org }', // 3
        '  vrrp_strict', // 4
        '}', // 5
        'vrrp_sync_group G {', // 6
        '  group { A }', // 7
        '}', // 8
        'static_routes {', // 9
        '  10.1.0.0/16 via 192.0.2.1', // 10
        '}', // 11
        'vrrp_instance A {', // 12
        '  interface eth0', // 13
        '  virtual_router_id 9', // 14
        '  use_vmac', // 15
        '  frobnicate 3', // 16
        '  virtual_ipaddress { 192.0.2.9/24 }', // 17
        '}', // 18
        'virtual_server 192.0.2.9 80 {', // 19
        '  real_server 10.0.0.1 80 { weight 1 }', // 20
        '}', // 21
      ),
    );
    warningAt(result, 3, /^notification_email is not supported by redkeep: /);
    warningAt(result, 4, /^vrrp_strict is not supported by redkeep: /);
    warningAt(result, 6, /^vrrp_sync_group is not supported by redkeep: /);
    warningAt(result, 9, /^static_routes is not supported by redkeep: /);
    warningAt(result, 15, /^use_vmac is not supported by redkeep: /);
    warningAt(result, 16, /^frobnicate is not supported by redkeep: /);
    warningAt(result, 19, /^virtual_server is not supported by redkeep: /);
    // Each also stands as a comment in the TOML.
    assert.match(result.toml, /# CHECK line 16: frobnicate is not supported by redkeep/);
    assert.match(result.toml, /# CHECK line 6: vrrp_sync_group is not supported by redkeep/);
  });

  it('puts a CHECK comment before the key a warning is about', () => {
    const { result } = convertAndLoad(lines('vrrp_instance A {', '  interface eth0', '  virtual_router_id 9', '  advert_int 1.4', '  virtual_ipaddress { 192.0.2.9/24 }', '}'));
    const toml = result.toml.split('\n');
    const at = toml.indexOf('advert_interval = "1s"');
    assert.ok(at > 0);
    assert.match(toml[at - 1] ?? '', /^# CHECK line 4: advert_int 1\.4 s: VRRPv2 adverts are whole seconds/);
  });

  it('reads VRRP version and advert interval as keepalived does: v2 by default, v3 for IPv6, v2 rounded', () => {
    const { result, config } = convertAndLoad(
      lines(
        'vrrp_instance A { interface eth0', //
        '  virtual_router_id 1', //
        '  advert_int 2.6', // 3
        '  virtual_ipaddress { 192.0.2.1 } }',
        'vrrp_instance B { interface eth0', //
        '  virtual_router_id 2', //
        '  advert_int 0.25', //
        '  virtual_ipaddress { 2001:db8::5 } }',
        'vrrp_instance C { interface eth0', //
        '  virtual_router_id 3', //
        '  version 3', //
        '  advert_int 0.005', // 12
        '  virtual_ipaddress { 192.0.2.3/24 } }',
      ),
    );
    const [a, b, c] = config.instances;
    assert.deepEqual(a && [a.version, a.advertIntervalCs, a.virtualAddresses[0]?.prefixLength], [2, 300, 32]);
    assert.deepEqual(b && [b.version, b.advertIntervalCs, b.family, b.virtualAddresses[0]?.prefixLength], [3, 25, 'ipv6', 128]);
    assert.deepEqual(c && [c.version, c.advertIntervalCs], [3, 1]);
    warningAt(result, 3, /keepalived rounds it to 3 s/);
    warningAt(result, 12, /using 10ms/);
  });

  it('gives state MASTER without a priority the address-owner priority 255, as keepalived does', () => {
    const { result, config } = convertAndLoad(
      lines(
        'vrrp_script chk { script "redis-cli ping" }',
        'vrrp_instance A {', // 2
        '  state MASTER', // 3
        '  nopreempt', // 4
        '  interface eth0',
        '  virtual_router_id 1',
        '  track_script { chk }',
        '  virtual_ipaddress { 192.0.2.1/24 }',
        '}',
      ),
    );
    const i = config.instances[0];
    assert.deepEqual(i && [i.priority, i.preempt], [255, true]);
    warningAt(result, 3, /state MASTER without a priority: keepalived gives the instance priority 255/);
    warningAt(result, 4, /nopreempt is ignored with priority 255/);
    // An address owner cannot use the data guard: it is turned off so that the config loads.
    assert.deepEqual(i?.redis?.guard, { memberTimeoutMs: 0, quorum: undefined, maxLinkDownMs: 0, maxLagBytes: 0 });
  });

  it('warns that state is ignored, and keeps nopreempt and preempt_delay of a BACKUP instance', () => {
    const { result, config } = convertAndLoad(
      lines(
        'vrrp_instance A {',
        '  state BACKUP', // 2
        '  nopreempt',
        '  preempt_delay 2.5',
        '  interface eth0',
        '  virtual_router_id 1',
        '  priority 90',
        '  virtual_ipaddress { 192.0.2.1/24 }',
        '}',
        'vrrp_instance B {',
        '  state MASTER', // 11
        '  nopreempt', // 12
        '  interface eth0',
        '  virtual_router_id 2',
        '  priority 110',
        '  virtual_ipaddress { 192.0.2.2/24 }',
        '}',
      ),
    );
    const [a, b] = config.instances;
    assert.deepEqual(a && [a.priority, a.preempt, a.preemptDelayMs], [90, false, 2500]);
    assert.deepEqual(b && [b.priority, b.preempt], [110, true]);
    warningAt(result, 2, /state BACKUP is ignored: redkeep has no initial state/);
    warningAt(result, 11, /state MASTER is ignored: redkeep has no initial state, the election/);
    warningAt(result, 12, /nopreempt with state MASTER: keepalived clears nopreempt/);
  });

  it('maps virtual addresses: default prefixes, one shared label, and warns about the rest', () => {
    const { result, config } = convertAndLoad(
      lines(
        'vrrp_instance A {',
        '  interface eth0',
        '  virtual_router_id 1',
        '  virtual_ipaddress {',
        '    192.0.2.1 label eth0:vip', // 5
        '    192.0.2.2/24 dev eth0 label eth0:vip brd 192.0.2.255', // 6
        '    192.0.2.3/24 dev eth1', // 7
        '    2001:db8::1', // 8
        '    192.0.2.1/32', // 9
        '    not-an-address', // 10
        '  }',
        '}',
        'vrrp_instance B {',
        '  interface eth0',
        '  virtual_router_id 2',
        '  virtual_ipaddress {', // 16
        '    192.0.2.11 label eth0:a',
        '    192.0.2.12 label eth0:b',
        '  }',
        '}',
      ),
    );
    const [a, b] = config.instances;
    assert.deepEqual(a?.virtualAddresses.map((v) => `${v.address}/${v.prefixLength}`), ['192.0.2.1/32', '192.0.2.2/24']);
    assert.equal(a?.addressLabel, 'eth0:vip');
    assert.equal(b?.addressLabel, undefined);
    warningAt(result, 6, /"brd 192\.0\.2\.255" is not supported/);
    warningAt(result, 7, /on dev "eth1", but redkeep puts every address on the instance's interface "eth0"/);
    warningAt(result, 8, /is ipv6, the instance is ipv4/);
    warningAt(result, 9, /listed twice/);
    warningAt(result, 10, /is not an address/);
    warningAt(result, 16, /different labels/);
  });

  it('maps track_interface with weights and leaves out the own interface', () => {
    const { result, config } = convertAndLoad(
      lines('vrrp_instance A {', '  interface eth0', '  virtual_router_id 1', '  track_interface {', '    eth1 weight -20', '    eth2', '    eth0', '    eth3 weight 10 reverse', '  }', '  virtual_ipaddress { 192.0.2.1/24 }', '}'),
    );
    assert.deepEqual(config.instances[0]?.trackInterfaces, [
      { name: 'eth1', weight: -20 },
      { name: 'eth2', weight: 0 },
    ]);
    warningAt(result, 7, /own interface/);
    warningAt(result, 8, /reverse is not supported/);
  });

  it('maps gratuitous ARP settings, global and per instance, with keepalived defaults', () => {
    const { result, config } = convertAndLoad(
      lines(
        'global_defs {',
        '  vrrp_garp_master_repeat 2',
        '  vrrp_garp_interval 0.001',
        '  vrrp_garp_master_refresh 60',
        '}',
        'vrrp_instance A {', // 6
        '  interface eth0',
        '  virtual_router_id 1',
        '  garp_master_delay 3',
        '  garp_master_refresh_repeat 2',
        '  virtual_ipaddress { 192.0.2.1/24 }',
        '}',
        'vrrp_instance B {',
        '  interface eth0',
        '  virtual_router_id 2',
        '  garp_master_repeat 7',
        '  virtual_ipaddress { 192.0.2.2/24 }',
        '}',
      ),
    );
    const [a, b] = config.instances;
    // The lower-priority repeat follows the global master repeat, not the instance's.
    assert.deepEqual(a?.garp, { repeat: 2, delayMs: 3000, refreshMs: 60_000, refreshRepeat: 2, lowerPriorityRepeat: 2, intervalMs: 1 });
    assert.deepEqual(b?.garp, { repeat: 7, delayMs: 5000, refreshMs: 60_000, refreshRepeat: 1, lowerPriorityRepeat: 2, intervalMs: 1 });
    // keepalived's lower-priority delay stays 5 s while A's master delay is 3 s: redkeep has one delay.
    warningAt(result, 6, /lower-priority gratuitous ARP delay \(5s\) differs from garp_master_delay \(3s\)/);
  });

  it('turns vrrp_min_garp into one gratuitous ARP and no second burst', () => {
    const { config } = convertAndLoad(lines('global_defs { vrrp_min_garp }', 'vrrp_instance A { interface eth0', 'virtual_router_id 1', 'virtual_ipaddress { 192.0.2.1 } }'));
    assert.deepEqual(config.instances[0]?.garp, { repeat: 1, delayMs: 0, refreshMs: 0, refreshRepeat: 1, lowerPriorityRepeat: 1, intervalMs: 0 });
  });

  it('runs a script with shell syntax through /bin/sh -c, with a warning', () => {
    const { result, config } = convertAndLoad(
      lines('vrrp_script chk { script "test -f /run/ok && pidof redis-server" }', 'vrrp_instance A { interface eth0', 'virtual_router_id 1', 'track_script { chk }', 'virtual_ipaddress { 192.0.2.1 } }'),
    );
    assert.deepEqual(config.tracks[0]?.command, ['/bin/sh', '-c', 'test -f /run/ok && pidof redis-server']);
    warningAt(result, 1, /uses shell syntax, but keepalived runs scripts without a shell/);
  });

  it('recognises the usual forms of a redis-cli PING check', () => {
    assert.equal(redisPingTarget('redis-cli ping'), '127.0.0.1:6379');
    assert.equal(redisPingTarget('/usr/bin/redis-cli -h 127.0.0.1 -p 6379 PING'), '127.0.0.1:6379');
    assert.equal(redisPingTarget('redis-cli -h localhost -p 7000 ping'), '127.0.0.1:7000');
    assert.equal(redisPingTarget('redis-cli -h ::1 ping'), '[::1]:6379');
    assert.equal(redisPingTarget('redis-cli -p 6380 ping | grep -q PONG'), '127.0.0.1:6380');
    assert.equal(redisPingTarget(`/bin/sh -c 'redis-cli -h 10.0.0.5 ping | grep -q "^PONG$"'`), '10.0.0.5:6379');
    assert.equal(redisPingTarget('bash -c "redis-cli --no-auth-warning ping"'), '127.0.0.1:6379');
    // Not plainly a PING of an address: a password, a socket, a host name, another command.
    assert.equal(redisPingTarget('redis-cli -a secret ping'), undefined);
    assert.equal(redisPingTarget('redis-cli -s /run/redis.sock ping'), undefined);
    assert.equal(redisPingTarget('redis-cli -h redis.example.org ping'), undefined);
    assert.equal(redisPingTarget('redis-cli info replication'), undefined);
    assert.equal(redisPingTarget('redis-cli ping | wc -l'), undefined);
    assert.equal(redisPingTarget('/usr/local/bin/check_redis'), undefined);
  });

  it('takes a redis-cli PING wrapped in sh -c with grep PONG as a redis-ping track', () => {
    const { config, result } = convertAndLoad(
      lines(`vrrp_script chk { script "/bin/sh -c 'redis-cli -p 7001 ping | grep -q PONG'" }`, 'vrrp_instance A { interface eth0', 'virtual_router_id 1', 'track_script { chk }', 'virtual_ipaddress { 192.0.2.1 } }'),
    );
    assert.equal(config.tracks[0]?.type, 'redis-ping');
    assert.equal(config.instances[0]?.redis?.port, 7001);
    assert.deepEqual(result.warnings.map((w) => w.line), [1]);
    warningAt(result, 1, /^turn manage_role on .*; in multicast mode, list the hosts in members too$/);
  });

  it('keeps a PING of a second Redis as an exec track: an instance looks after one Redis', () => {
    const { result, config } = convertAndLoad(
      lines(
        'vrrp_script a { script "redis-cli -p 6379 ping" }',
        'vrrp_script b { script "redis-cli -p 6380 ping" }', // 2
        'vrrp_script unused { script "redis-cli -p 6381 ping" }',
        'vrrp_instance A { interface eth0',
        'virtual_router_id 1',
        'track_script { a', 'b }',
        'virtual_ipaddress { 192.0.2.1 } }',
      ),
    );
    const types = Object.fromEntries(config.tracks.map((t) => [t.name, [t.type, t.command]]));
    assert.deepEqual(types, { a: ['redis-ping', []], b: ['exec', ['redis-cli', '-p', '6380', 'ping']], unused: ['exec', ['redis-cli', '-p', '6381', 'ping']] });
    assert.equal(config.instances[0]?.redis?.port, 6379);
    warningAt(result, 2, /PINGs 127\.0\.0\.1:6380, but instance "A" looks after the Redis at 127\.0\.0\.1:6379/);
    assert.match(result.toml, /no vrrp_instance tracks this script/);
  });

  it('converts a script that is not in quotes as keepalived runs it: the first word only', () => {
    const { result, config } = convertAndLoad(lines('vrrp_script chk {', '  script /usr/bin/redis-cli ping', '}', 'vrrp_instance A { interface eth0', 'virtual_router_id 1', 'track_script { chk }', 'virtual_ipaddress { 192.0.2.1 } }'));
    assert.deepEqual(config.tracks[0] && [config.tracks[0].type, config.tracks[0].command], ['exec', ['/usr/bin/redis-cli']]);
    warningAt(result, 2, /script is not in quotes, so keepalived runs only "\/usr\/bin\/redis-cli" and ignores "ping"/);
  });

  it('warns that a notify script user is not kept', () => {
    const { result, config } = convertAndLoad(lines('vrrp_instance A { interface eth0', 'virtual_router_id 1', 'notify_master /usr/local/bin/up.sh redis', 'virtual_ipaddress { 192.0.2.1 } }'));
    assert.deepEqual(config.instances[0]?.hooks?.master, ['/usr/local/bin/up.sh']);
    warningAt(result, 3, /keepalived reads "redis" as the user \(and group\) to run the script as, because the script is not in quotes/);
  });

  it('leaves out a track_script with no vrrp_script and a reversed script', () => {
    const { result, config } = convertAndLoad(
      lines('vrrp_script rev {', '  script "/bin/true"', '  weight 10 reverse', '}', 'vrrp_instance A { interface eth0', 'virtual_router_id 1', 'track_script {', '  rev', '  missing', '}', 'virtual_ipaddress { 192.0.2.1 } }'),
    );
    assert.deepEqual(config.tracks, []);
    assert.deepEqual(config.instances[0]?.tracks, []);
    warningAt(result, 3, /reverse is not supported/);
    warningAt(result, 8, /track_script "rev": that vrrp_script is not converted/);
    warningAt(result, 9, /no vrrp_script of that name/);
  });

  it('leaves out an instance redkeep cannot take, and keeps the others', () => {
    const { result, config } = convertAndLoad(
      lines(
        'vrrp_instance A { interface eth0', //
        '  virtual_router_id 1', //
        '  virtual_ipaddress { 192.0.2.1 } }',
        'vrrp_instance B { interface eth0', // 4
        '  virtual_router_id 1', //
        '  virtual_ipaddress { 192.0.2.2 } }',
        'vrrp_instance C { interface eth0', // 7
        '  virtual_ipaddress { 192.0.2.3 } }',
        'vrrp_instance D { virtual_router_id 4', // 9
        '  virtual_ipaddress { 192.0.2.4 } }',
        'vrrp_instance E { interface eth0', // 11
        '  virtual_router_id 5 }',
      ),
    );
    assert.deepEqual(config.instances.map((i) => i.name), ['A']);
    warningAt(result, 4, /VRID 1 is already used on "eth0" by instance "A"/);
    warningAt(result, 7, /no usable virtual_router_id: the instance is left out/);
    warningAt(result, 9, /has no interface, which redkeep needs: the instance is left out/);
    warningAt(result, 11, /has no virtual address redkeep can take: the instance is left out/);
  });

  it('refuses a file without a vrrp_instance, with a line', () => {
    assert.throws(
      () => convertKeepalived('virtual_server 192.0.2.1 80 {\n}\n', 'lvs.conf'),
      (e: unknown) => e instanceof KeepalivedImportError && e.code === 'ERR_KEEPALIVED_IMPORT' && e.line === 1 && /no vrrp_instance to convert/.test(e.message) && e.warnings.length === 1,
    );
  });

  it('converts what it can of malformed input, with a warning at the line of each problem', () => {
    const { result, config } = convertAndLoad(
      lines(
        'vrrp_instance A {', // 1
        '  interface eth0',
        '  virtual_router_id 7',
        '  }', // 4: closes A
        '  }', // 5: one too many
        '  priority "150', // 6: unterminated quote, at top level now
        'vrrp_instance B {', // 7: never closed
        '  interface eth0',
        '  virtual_router_id 8',
        '  virtual_ipaddress { 192.0.2.8/24',
      ),
    );
    warningAt(result, 5, /'}' has no matching '{'/);
    warningAt(result, 6, /quote is not closed/);
    warningAt(result, 7, /"vrrp_instance" opened on line 7 is not closed/);
    warningAt(result, 1, /has no virtual address redkeep can take/);
    assert.deepEqual(config.instances.map((i) => [i.name, i.vrid]), [['B', 8]]);
  });

  it('uses the config id to pick the @id lines of one host', () => {
    const text = lines('vrrp_instance A { interface eth0', 'virtual_router_id 1', '@main priority 200', '@backup priority 100', 'virtual_ipaddress { 192.0.2.1 } }');
    assert.equal(convertAndLoad(text, { configId: 'main' }).config.instances[0]?.priority, 200);
    assert.equal(convertAndLoad(text, { configId: 'backup' }).config.instances[0]?.priority, 100);
    const none = convertAndLoad(text);
    assert.equal(none.config.instances[0]?.priority, 100);
    warningAt(none.result, 3, /conditional line \("@main"\) is skipped/);
  });

  it('writes TOML strings that survive quotes, backslashes and control characters', () => {
    for (const s of ['plain', 'a"b', 'c\\d', 'tab\there', 'nl\nx', '\u0001\u007f', 'é ☃ 𝄞']) {
      assert.equal((toml.parse(`k = ${tomlString(s)}`) as { k: string }).k, s);
    }
    const { config } = convertAndLoad(lines('vrrp_instance "odd \\"name\\" \\\\ \\x01" { interface eth0', 'virtual_router_id 1', 'virtual_ipaddress { 192.0.2.1 } }'));
    assert.equal(config.instances[0]?.name, 'odd "name" \\ \u0001');
  });

  it('advises that scripts keepalived ran as root run as the unprivileged redkeep user, and only those', () => {
    const text = (scriptUser: string): string =>
      lines(
        `global_defs { ${scriptUser} }`, // 1
        'vrrp_script own { script "/usr/local/bin/check-a" }', // 2
        'vrrp_script rooted {', // 3
        '  script "/usr/local/bin/check-b"',
        '  user root',
        '}',
        'vrrp_script unused { script "/usr/local/bin/check-c" }', // 7
        'vrrp_instance A { interface eth0',
        'virtual_router_id 1',
        'track_script { own', 'rooted }',
        '  notify_master "/usr/local/bin/up.sh"', // 12
        '  notify_backup "/usr/local/bin/down.sh" redis', // 13
        'virtual_ipaddress { 192.0.2.1 } }',
      );
    const root = /keepalived ran (this script|these scripts) as root.*the unprivileged user redkeep/;
    const asRoot = (r: KeepalivedConversion): number[] => r.warnings.filter((w) => root.test(w.message)).map((w) => w.line);
    // script_user names an ordinary user: only the script that says "user root" ran as root.
    const plain = convertAndLoad(text('script_user keepalived_script')).result;
    assert.deepEqual(asRoot(plain), [3]);
    // Without script_user, keepalived's default is root: every script tracked, and the notify
    // script without a user of its own; not the one run as "redis", not the unused script.
    const dflt = convertAndLoad(text('router_id a')).result;
    assert.deepEqual(asRoot(dflt), [2, 3, 12]);
    warningAt(dflt, 12, /^notify_master: keepalived ran this script as root \(its default without script_user/);
  });

  it('advises turning manage_role on next to manage_role = false, naming members in multicast mode only', () => {
    const multicast = convertAndLoad(lines('vrrp_script chk { script "redis-cli ping" }', 'vrrp_instance A { interface eth0', 'virtual_router_id 1', 'track_script { chk }', 'virtual_ipaddress { 192.0.2.1 } }')).result;
    const toml = multicast.toml.split('\n');
    const at = toml.indexOf('manage_role = false');
    assert.ok(at > 0, multicast.toml);
    assert.match(toml[at - 1] ?? '', /^# CHECK line 1: turn manage_role on to get redkeep's data guards .*; in multicast mode, list the hosts in members too$/);
    const unicast = convertAndLoad(REDIS_SETUP).result;
    warningAt(unicast, 6, /^turn manage_role on to get redkeep's data guards \(it is written false because keepalived never changed Redis roles\)$/);
    // No Redis check, no advice.
    const none = convertAndLoad(lines('vrrp_instance A { interface eth0', 'virtual_router_id 1', 'virtual_ipaddress { 192.0.2.1 } }')).result;
    assert.ok(!none.warnings.some((w) => /manage_role/.test(w.message)));
  });

  it('gives valid TOML or a KeepalivedImportError for any input, never anything else', () => {
    const seeds = [REDIS_SETUP, ...readdirSync(VECTORS).filter((f) => f.endsWith('.conf')).map((f) => readFileSync(join(VECTORS, f), 'utf8'))];
    const pieces = ['{', '}', '"', "'", '#', '\n', '""', ' -300', ' 0.001', ' 255', ' 2001:db8::1', 'state MASTER\n', 'version 2\n', 'nopreempt\n', 'auth_pass 123456789\n', 'label x', ' dev eth9', ' reverse', ' | grep PONG', '@a ', '\u0001'];
    const converted = fuzzConverter({ seeds, pieces, runs: 1500, seed: 11, maxEdits: 5, convert: (t) => convertKeepalived(t, 'fuzz.conf'), refusal: (e) => e instanceof KeepalivedImportError });
    assert.ok(converted > 300, `only ${converted} mutations converted`);
  });
});

describe('redkeep import-keepalived', () => {
  const src = join(tmp, 'keepalived.conf');
  writeFileSync(src, REDIS_SETUP.replace('    notify /etc/keepalived/notify-all.sh', '    notify /etc/keepalived/notify-all.sh root\n    smtp_alert'));

  it('prints the TOML to stdout and each warning to stderr as FILE:LINE: warning: message', async () => {
    const out = capture();
    assert.equal(await importKeepalivedCommand({ file: src }, out), 0);
    const text = out.stdout.join('\n');
    assert.match(text, /type = "redis-ping"/);
    assert.ok(validateConfig(toml.parse(text), 'stdout', text));
    assert.deepEqual(out.stderr, [
      `${src}:6: warning: turn manage_role on to get redkeep's data guards (it is written false because keepalived never changed Redis roles)`,
      `${src}:14: warning: vrrp_script "chk_disk": keepalived ran this script as root (its default without script_user, unless a keepalived_script user exists); redkeep runs hooks and exec tracks as the unprivileged user redkeep (systemd unit, no sudo): a script that needs root must change`,
      `${src}:35: warning: notify_master, notify_backup, notify_fault, notify_stop and notify: keepalived ran these scripts as root (its default without script_user, unless a keepalived_script user exists); redkeep runs hooks and exec tracks as the unprivileged user redkeep (systemd unit, no sudo): scripts that need root must change`,
      `${src}:39: warning: notify: keepalived reads "root" as the user (and group) to run the script as, because the script is not in quotes; redkeep runs hooks as its own user, so it is left out`,
      `${src}:40: warning: smtp_alert is not supported by redkeep: redkeep sends no email: use a hook`,
    ]);
  });

  it('writes --out with mode 0600 (it may hold auth_pass), and redkeep loads it', async () => {
    const out = capture();
    const dest = join(tmp, 'redkeep.toml');
    assert.equal(await importKeepalivedCommand({ file: src, out: dest }, out), 0);
    assert.deepEqual(out.stdout, []);
    assert.equal(statSync(dest).mode & 0o777, 0o600);
    assert.equal(loadConfig(dest).instances[0]?.name, 'redis_vip');
    assert.match(out.stderr[out.stderr.length - 1] ?? '', /wrote .*redkeep\.toml \(5 warnings/);
  });

  it('names the file it cannot read, and fails', async () => {
    const out = capture();
    const missing = join(tmp, 'missing.conf');
    assert.equal(await importKeepalivedCommand({ file: missing }, out), 1);
    assert.deepEqual(out.stdout, []);
    assert.match(out.stderr.join('\n'), new RegExp(`cannot read ${missing.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
  });

  it('fails with FILE:LINE: error when nothing can be converted', async () => {
    const lvs = join(tmp, 'lvs.conf');
    writeFileSync(lvs, 'global_defs {\n  router_id lvs\n}\nvirtual_server 192.0.2.1 80 {\n}\n');
    const out = capture();
    assert.equal(await importKeepalivedCommand({ file: lvs }, out), 1);
    assert.deepEqual(out.stdout, []);
    assert.deepEqual(out.stderr, [
      `${lvs}:4: warning: virtual_server is not supported by redkeep: redkeep does not configure IPVS (LVS) load balancing`,
      `${lvs}:1: error: there is no vrrp_instance to convert: redkeep needs at least one`,
    ]);
  });
});
