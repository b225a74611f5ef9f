import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import toml from 'toml';
import { masterDownIntervalMs, parseCidr } from '@redkeep/vrrp';
import { type RedkeepConfig, validateConfig } from '../config/config.js';
import { fuzzConverter } from '../import/fuzz.js';
import type { Conversion } from '../import/toml-writer.js';
import { SentinelImportError, type SentinelImportOptions, advertIntervalCsFor, convertSentinel } from './convert.js';
import { parseSentinelConf } from './parse.js';

const VECTORS = fileURLToPath(new URL('../../../test/vectors/redis-sentinel-7.0', import.meta.url));
const vector = (host: string): string => readFileSync(join(VECTORS, `sentinel-${host}.conf`), 'utf8');
/** The test passwords of the vectors, and the SHA-256 of the Sentinel one that CONFIG REWRITE adds. */
const VECTOR_SECRETS = ['Fake-Redis-Pw-1', 'Fake-Sentinel-Pw-2', '40dfd6bef59e8c98cfeca557d491f71d429118c5e9eb8a6ad7f61bf64c3dffc7'];

const lines = (...l: string[]): string => `${l.join('\n')}\n`;

/** Converts and validates with the real validator, as `redkeep check-config` would. */
function convertAndLoad(text: string, options: SentinelImportOptions = {}): { result: Conversion; config: RedkeepConfig } {
  const result = convertSentinel(text, 'sentinel.conf', options);
  return { result, config: validateConfig(toml.parse(result.toml), 'converted.toml', result.toml) };
}

function warningAt(r: Conversion, line: number, pattern: RegExp): void {
  const hit = r.warnings.find((w) => w.line === line && pattern.test(w.message));
  assert.ok(hit, `no warning on line ${line} matching ${pattern}; got:\n${r.warnings.map((w) => `${w.line}: ${w.message}`).join('\n')}`);
}

/** No secret in any of the texts, in any case. */
function noSecret(texts: readonly string[], secrets: readonly string[]): void {
  for (const t of texts) for (const s of secrets) assert.ok(!t.toLowerCase().includes(s.toLowerCase()), `a secret leaked into: ${t}`);
}

const vip = (text: string): NonNullable<ReturnType<typeof parseCidr>> => {
  const c = parseCidr(text);
  assert.ok(c);
  return c;
};

describe('sentinel.conf conversion', () => {
  it('turns each host of a running Sentinel cluster into the same redkeep instance', () => {
    const hosts = readdirSync(VECTORS).filter((f) => f.endsWith('.conf'));
    assert.equal(hosts.length, 3);
    for (const f of hosts) {
      const { config } = convertAndLoad(readFileSync(join(VECTORS, f), 'utf8'), { interface: 'ens3', vips: [vip('192.0.2.50/24')], vrid: 60, priority: 150 });
      const i = config.instances[0];
      assert.equal(config.instances.length, 1, f);
      assert.ok(i);
      assert.deepEqual([i.name, i.interface, i.vrid, i.priority, i.version], ['mymaster', 'ens3', 60, 150, 3], f);
      assert.deepEqual(i.virtualAddresses, [{ family: 'ipv4', address: '192.0.2.50', prefixLength: 24 }], f);
      // The hosts of the monitor, known-replica and known-sentinel lines, once each.
      assert.deepEqual([...(i.members ?? [])].sort(), ['192.0.2.11', '192.0.2.12', '192.0.2.13'], f);
      // No down-after-milliseconds line: Sentinel's default 30 s. 7.5 s adverts: 3 x 7.5 s + skew < 30 s.
      assert.equal(i.advertIntervalCs, 750, f);
      assert.ok(i.redis);
      assert.deepEqual(
        [i.redis.host, i.redis.port, i.redis.peerPort, i.redis.manageRole, i.redis.guard.quorum, i.redis.passwordFile, i.redis.username],
        ['127.0.0.1', 6379, 6379, true, 2, '/etc/redkeep/mymaster.pass', undefined],
        f,
      );
      assert.deepEqual(config.agent.sentinel, { host: '0.0.0.0', port: 26379, passwordFile: '/etc/redkeep/sentinel.pass' }, f);
    }
  });

  it('never writes a password or its hash: not in the TOML, not in a warning', () => {
    for (const host of ['192.0.2.11', '192.0.2.12', '192.0.2.13']) {
      const text = vector(host);
      for (const s of VECTOR_SECRETS) assert.ok(text.includes(s), `the vector lacks ${s}: this test would prove nothing`);
      const { result } = convertAndLoad(text);
      noSecret([result.toml, ...result.warnings.map((w) => w.message)], VECTOR_SECRETS);
    }
  });

  it('warns about every line it does not map, at its line, in stderr and as a CHECK comment', () => {
    const text = vector('192.0.2.11');
    const { result } = convertAndLoad(text);
    const directives = parseSentinelConf(text).directives;
    // Mapped without a word to say: port, the monitor line, the hosts Sentinel knew.
    const mapped = directives.filter((d) => d.name === 'port' || (d.name === 'sentinel' && /^(monitor|known-replica|known-sentinel)$/i.test(d.args[0] ?? ''))).map((d) => d.line);
    assert.deepEqual(mapped, [12, 75, 351, 353, 355, 357]);
    const warned = new Set(result.warnings.map((w) => w.line));
    const silent = directives.map((d) => d.line).filter((l) => !warned.has(l));
    assert.deepEqual(silent, mapped.filter((l) => l !== 75), 'a directive was dropped without a warning');
    // The passwords are mapped to files, with a warning that asks for them there.
    warningAt(result, 76, /^sentinel auth-pass "mymaster": write the password into \/etc\/redkeep\/mymaster\.pass /);
    warningAt(result, 155, /^requirepass: write the password into \/etc\/redkeep\/sentinel\.pass /);
    for (const [line, what] of [
      [6, /^protected-mode is not supported by redkeep: /],
      [10, /^bind "192\.0\.2\.11" is not supported by redkeep: /],
      [17, /^daemonize is not supported/],
      [288, /^sentinel deny-scripts-reconfig is not supported/],
      [345, /^user "default" is not supported by redkeep: redkeep's Sentinel endpoint has no ACL users/],
      [346, /^sentinel myid is not supported/],
      [347, /^sentinel config-epoch is not supported/],
      [349, /^sentinel current-epoch is not supported/],
    ] as const) {
      warningAt(result, line, what);
    }
    for (const w of result.warnings) assert.ok(result.toml.includes(`# CHECK line ${w.line}: ${w.message}\n`), `no CHECK comment for ${w.line}: ${w.message}`);
  });

  it('writes clearly marked placeholders without the options, and says what each is', () => {
    const { result, config } = convertAndLoad(vector('192.0.2.12'));
    const i = config.instances[0];
    assert.deepEqual(i && [i.interface, i.vrid, i.priority, i.virtualAddresses[0]?.address], ['eth0', 51, 100, '192.0.2.10']);
    for (const [key, value] of [
      ['interface', '"eth0"'],
      ['vrid', '51'],
      ['priority', '100'],
      ['virtual_addresses', '["192.0.2.10/24"]'],
    ] as const) {
      const toml = result.toml.split('\n');
      const at = toml.indexOf(`${key} = ${value}`);
      assert.ok(at > 0, `${key} = ${value} missing`);
      assert.match(toml[at - 1] ?? '', /^# CHECK line 75: placeholder: /, key);
    }
    assert.equal(result.warnings.filter((w) => w.message.startsWith('placeholder: ')).length, 4);
    // With the options, no placeholder.
    const given = convertAndLoad(vector('192.0.2.12'), { interface: 'ens3', vips: [vip('192.0.2.50/24')], vrid: 60, priority: 150 }).result;
    assert.ok(!given.warnings.some((w) => w.message.startsWith('placeholder')));
  });

  it('maps the settings of a master: down-after-milliseconds, auth-user, client-reconfig-script, before or after its monitor line', () => {
    const secret = 'p@ss word#1';
    const { result, config } = convertAndLoad(
      lines(
        'port 26380', // 1
        'sentinel auth-user cache redkeep-user', // 2: before the monitor line, as Sentinel allows
        'sentinel monitor cache 10.0.0.11 6380 2', // 3
        `sentinel auth-pass cache "${secret}"`, // 4
        'sentinel down-after-milliseconds cache 5000', // 5
        'sentinel client-reconfig-script cache /usr/local/bin/move-vip.sh', // 6
        'sentinel known-replica cache 10.0.0.12 6380', // 7
        'sentinel known-sentinel cache 10.0.0.12 26380 0123456789abcdef0123456789abcdef01234567', // 8
        'sentinel known-sentinel cache 10.0.0.13 26380 89abcdef0123456789abcdef0123456789abcdef', // 9
        'loglevel warning', // 10
      ),
      { interface: 'eth1', vips: [vip('10.0.0.50/24')], vrid: 7, priority: 120 },
    );
    const i = config.instances[0];
    assert.ok(i?.redis);
    assert.deepEqual([i.redis.port, i.redis.peerPort, i.redis.username, i.redis.passwordFile], [6380, 6380, 'redkeep-user', '/etc/redkeep/cache.pass']);
    assert.deepEqual(i.hooks?.clientReconfig, ['/usr/local/bin/move-vip.sh']);
    assert.deepEqual(i.members, ['10.0.0.11', '10.0.0.12', '10.0.0.13']);
    // 5000 ms: 1250 ms adverts, Master_Down_Interval 3 x 1250 + 1245 ms at priority 1.
    assert.equal(i.advertIntervalCs, 125);
    assert.match(result.toml, /# down-after-milliseconds 5000 \(line 5\): Master_Down_Interval = 3 x 1250 ms \+ Skew_Time <= 4995 ms at any priority/);
    assert.deepEqual(config.agent.sentinel, { host: '0.0.0.0', port: 26380, passwordFile: undefined });
    assert.equal(config.agent.logLevel, 'warn');
    warningAt(result, 4, /write the password into \/etc\/redkeep\/cache\.pass/);
    warningAt(result, 6, /^sentinel client-reconfig-script "cache": redkeep runs hooks as the unprivileged user redkeep/);
    // 10.0.0.13 runs a Sentinel but no Redis the file knows: perhaps a witness.
    warningAt(result, 9, /known-sentinel "10\.0\.0\.13" runs a Sentinel but no Redis this Sentinel knew of: .*redkeep witness/);
    noSecret([result.toml, ...result.warnings.map((w) => w.message)], [secret]);
  });

  it('chooses the longest advert interval whose Master_Down_Interval fits down-after-milliseconds, 100 ms at least', () => {
    assert.equal(advertIntervalCsFor(30_000), 750);
    assert.equal(advertIntervalCsFor(1000), 25);
    assert.equal(advertIntervalCsFor(399), undefined);
    assert.equal(advertIntervalCsFor(400), 10);
    assert.equal(advertIntervalCsFor(10_000_000), 4095);
    for (let ms = 400; ms < 170_000; ms += 997) {
      const cs = advertIntervalCsFor(ms);
      assert.ok(cs !== undefined && cs >= 10 && cs <= 4095);
      assert.ok(masterDownIntervalMs(3, 1, cs) <= ms, `${ms}: ${cs} cs is too slow`);
      if (cs < 4095) assert.ok(masterDownIntervalMs(3, 1, cs + 1) > ms, `${ms}: ${cs + 1} cs would fit too`);
    }
    const { result, config } = convertAndLoad(lines('sentinel monitor m 192.0.2.11 6379 1', 'sentinel down-after-milliseconds m 250'));
    assert.equal(config.instances[0]?.advertIntervalCs, 10);
    warningAt(result, 2, /100ms, gives a Master_Down_Interval of up to 399\.6\d* ms, longer than that/);
  });

  it('converts the Debian file as shipped (one host, 127.0.0.1) into a single-host instance, with warnings', () => {
    const { result, config } = convertAndLoad(
      lines(
        'protected-mode no', // 1
        'port 26379',
        'daemonize yes',
        'pidfile /run/sentinel/redis-sentinel.pid',
        'logfile /var/log/redis/redis-sentinel.log',
        'dir /var/lib/redis',
        'sentinel monitor mymaster 127.0.0.1 6379 2', // 7
        'sentinel down-after-milliseconds mymaster 30000',
        'acllog-max-len 128',
        'sentinel parallel-syncs mymaster 1', // 10
        'sentinel failover-timeout mymaster 180000', // 11
        'sentinel deny-scripts-reconfig yes',
        'SENTINEL resolve-hostnames no',
        'SENTINEL announce-hostnames no',
        'SENTINEL master-reboot-down-after-period mymaster 0', // 15
      ),
    );
    const i = config.instances[0];
    assert.deepEqual(i && [i.members, i.redis?.guard.quorum, i.advertIntervalCs], [[], 1, 750]);
    warningAt(result, 7, /^the master "127\.0\.0\.1" is a loopback address, this host itself/);
    warningAt(result, 7, /quorum 2 is more than the 1 hosts there can be .*: using 1/);
    warningAt(result, 10, /^sentinel parallel-syncs is not supported/);
    warningAt(result, 11, /^sentinel failover-timeout is not supported/);
    warningAt(result, 15, /^sentinel master-reboot-down-after-period is not supported/);
  });

  it('gives each master its own instance: VRIDs in a row, VIPs in file order, placeholders for the rest', () => {
    const { result, config } = convertAndLoad(
      lines(
        'sentinel monitor a 192.0.2.11 6379 2', // 1
        'sentinel monitor b 2001:db8::11 6380 2', // 2
        'sentinel monitor c 192.0.2.21 6381 2', // 3
        'sentinel known-replica a 192.0.2.12 6379', // 4: the first free placeholder, taken by a host
        'sentinel known-replica b 2001:db8::12 6380',
        'sentinel known-replica b 192.0.2.12 6380', // 6: not of b's family
        'sentinel known-replica c redis-c2.example.org 6381', // 7: a host name
        'sentinel known-replica c 192.0.2.22 6390', // 8: another port
      ),
      { vips: [vip('192.0.2.50/24'), vip('2001:db8::50/64')], vrid: 100 },
    );
    const [a, b, c] = config.instances;
    assert.deepEqual(a && [a.name, a.vrid, a.virtualAddresses[0]?.address, a.members], ['a', 100, '192.0.2.50', ['192.0.2.11', '192.0.2.12']]);
    assert.deepEqual(b && [b.name, b.vrid, b.family, b.virtualAddresses[0]?.address, b.members], ['b', 101, 'ipv6', '2001:db8::50', ['2001:db8::11', '2001:db8::12']]);
    assert.deepEqual(c && [c.name, c.vrid, c.virtualAddresses[0]?.address, c.members, c.redis?.peerPort], ['c', 102, '192.0.2.13', ['192.0.2.21', '192.0.2.22'], 6381]);
    warningAt(result, 3, /^placeholder: virtual address 192\.0\.2\.13\/24/);
    warningAt(result, 6, /known-replica "192\.0\.2\.12" is ipv4, the instance is ipv6/);
    warningAt(result, 7, /known-replica "redis-c2\.example\.org" is a host name: redkeep's members are IP addresses/);
    warningAt(result, 8, /has Redis on port 6390: redkeep reaches every member's Redis on one port, peer_port = 6381/);
  });

  it('refuses options that do not fit the file, with the line they are about', () => {
    const two = lines('sentinel monitor a 192.0.2.11 6379 2', 'sentinel monitor b 192.0.2.21 6379 2', 'sentinel known-replica b 192.0.2.22 6379');
    const refused = (options: SentinelImportOptions, line: number, message: RegExp): void => {
      assert.throws(
        () => convertSentinel(two, 'sentinel.conf', options),
        (e: unknown) => e instanceof SentinelImportError && e.code === 'ERR_SENTINEL_IMPORT' && e.line === line && message.test(e.message),
      );
    };
    refused({ vips: [vip('192.0.2.50/24'), vip('192.0.2.51/24'), vip('192.0.2.52/24')] }, 1, /^3 --vip given for 2 monitored masters/);
    refused({ vrid: 255 }, 1, /--vrid 255: the 2 masters take VRIDs 255\.\.256, and VRIDs end at 255/);
    refused({ vips: [vip('192.0.2.50/24'), vip('192.0.2.22/24')] }, 3, /--vip 192\.0\.2\.22\/24 is the address of a host of "b"/);
    refused({ vips: [vip('192.0.2.22/24')] }, 3, /--vip 192\.0\.2\.22\/24 is the address of a host of "b"/);
  });

  it('leaves out what Sentinel would refuse, with a warning at its line, and keeps the rest', () => {
    const { result, config } = convertAndLoad(
      lines(
        'sentinel monitor ok 192.0.2.11 6379 2', // 1
        'sentinel monitor ok 192.0.2.99 6379 2', // 2: twice
        'sentinel monitor bad 192.0.2.11 99999 2', // 3: port
        'sentinel monitor short 192.0.2.11 6379', // 4: arity
        'sentinel monitor zero 192.0.2.31 6390 0', // 5: quorum
        'sentinel known-replica nobody 192.0.2.12 6379', // 6: unknown master
        'sentinel down-after-milliseconds ok -5', // 7
        'sentinel frobnicate 1', // 8
        'frobnicate 2', // 9
        'requirepass "unbalanced', // 10
        'sentinel', // 11
        'port 26379', // 12
        'port 26381', // 13: the last one counts
      ),
    );
    assert.deepEqual(config.instances.map((i) => i.name), ['ok', 'zero']);
    assert.equal(config.instances[1]?.redis?.guard.quorum, undefined);
    assert.equal(config.agent.sentinel?.port, 26381);
    warningAt(result, 2, /sentinel monitor "ok" is there twice/);
    warningAt(result, 3, /port "99999" is not 1\.\.65535: the master is left out/);
    warningAt(result, 4, /sentinel monitor needs <master-name> <ip> <port> <quorum>/);
    warningAt(result, 5, /quorum "0" is not an integer of at least 1/);
    warningAt(result, 6, /there is no sentinel monitor "nobody"/);
    warningAt(result, 7, /needs a number of milliseconds above 0/);
    warningAt(result, 8, /^sentinel: this line names no Sentinel setting redkeep knows: left out$/);
    warningAt(result, 9, /^this line is not a Sentinel or Redis setting redkeep knows: left out$/);
    warningAt(result, 10, /quotes of this line do not balance/);
    warningAt(result, 11, /names no Sentinel setting/);
    warningAt(result, 12, /^port is set again on line 13: the last one counts/);
  });

  it('never repeats a secret, wherever it stands in the file', () => {
    const secrets = ['Sentinel-Secret-1', 'Redis-Secret-2', 'Peer-Secret-3', 'Auth-Secret-4', 'Tls-Secret-5', 'Acl-Secret-6', 'Stray-Secret-7'];
    const text = lines(
      `requirepass ${secrets[0]}`,
      'sentinel monitor m 192.0.2.11 6379 2',
      `sentinel auth-pass m ${secrets[1]}`,
      `sentinel sentinel-pass ${secrets[2]}`,
      `masterauth ${secrets[3]}`,
      `tls-key-file-pass ${secrets[4]}`,
      `user admin on >${secrets[5]} ~* +@all`,
      `sentinel auth-pass unknown ${secrets[1]}`,
      `sentinel auth-pass m ${secrets[1]} extra`,
      secrets[6] ?? '', // a password on a line of its own
      `requirepass ${secrets[6]}`, // ... because it belongs here
      `${secrets[0]} more words`,
      `sentinel ${secrets[1]}`,
    );
    const { result } = convertAndLoad(text);
    noSecret([result.toml, ...result.warnings.map((w) => w.message)], secrets);
    assert.ok(result.warnings.length >= 12);
    // Nothing at all to convert: the error and its warnings keep the secrets too.
    const none = `requirepass ${secrets[0]}\nsentinel auth-pass m ${secrets[1]}\n`;
    assert.throws(
      () => convertSentinel(none, 'sentinel.conf'),
      (e: unknown) => {
        assert.ok(e instanceof SentinelImportError);
        noSecret([e.message, ...e.warnings.map((w) => w.message)], secrets);
        return /there is no sentinel monitor line to convert/.test(e.message);
      },
    );
  });

  it('gives valid TOML or a SentinelImportError for any input, never anything else', () => {
    const seeds = [vector('192.0.2.11'), vector('192.0.2.13'), lines('sentinel monitor a 2001:db8::1 6379 2', 'sentinel known-sentinel a 2001:db8::2 26379 x', 'port 0', 'requirepass x')];
    const pieces = ['"', "'", '\\x', '\n', ' ', '#', 'sentinel ', 'monitor ', 'known-replica ', 'mymaster ', ' 0', ' 65536', ' 127.0.0.1', ' ::1', ' 2001:db8::5', 'port 0\n', 'user u >p\n', '\u0001'];
    const converted = fuzzConverter({
      seeds,
      pieces,
      runs: 1500,
      seed: 7,
      maxEdits: 6,
      // Half the runs with options, so that placeholders and given values both meet odd files.
      convert: (t, random) => convertSentinel(t, 'fuzz.conf', random(2) === 0 ? {} : { interface: 'eth1', vips: [vip('192.0.2.200/24')], vrid: 1 + random(255), priority: 1 + random(254) }),
      refusal: (e) => e instanceof SentinelImportError,
    });
    assert.ok(converted > 500, `only ${converted} mutations converted`);
  });
});
