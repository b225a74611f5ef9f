import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import toml from 'toml';
import { loadConfig, validateConfig } from '../config/config.js';
import { captureOutput } from '../output.js';
import { importSentinelCommand, sentinelImportOptions } from './import-sentinel.js';

const VECTOR = fileURLToPath(new URL('../../../test/vectors/redis-sentinel-7.0/sentinel-192.0.2.13.conf', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'redkeep-import-sentinel-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const capture = captureOutput;

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

describe('redkeep import-sentinel', () => {
  it('reads the options into what the converter takes', () => {
    const r = sentinelImportOptions({ file: 'x', interface: 'ens3', vip: ['192.0.2.50/24', '2001:db8::50/64'], vrid: '60', priority: '150' });
    assert.ok(r.ok);
    assert.deepEqual(r.options, {
      interface: 'ens3',
      vips: [
        { family: 'ipv4', address: '192.0.2.50', prefixLength: 24 },
        { family: 'ipv6', address: '2001:db8::50', prefixLength: 64 },
      ],
      vrid: 60,
      priority: 150,
    });
  });

  it('refuses an option value that is not valid, saying what would be', () => {
    const refused = (args: Parameters<typeof sentinelImportOptions>[0], message: RegExp): void => {
      const r = sentinelImportOptions(args);
      assert.ok(!r.ok, JSON.stringify(args));
      assert.match(r.error, message);
    };
    refused({ file: 'x', interface: 'a/b' }, /^--interface "a\/b": must be an interface name/);
    refused({ file: 'x', interface: 'a-very-long-interface' }, /^--interface .*1\.\.15 bytes/);
    refused({ file: 'x', vip: ['192.0.2.300/24'] }, /^--vip "192\.0\.2\.300\/24": must be an address with a prefix/);
    refused({ file: 'x', vip: ['127.0.0.5/8'] }, /must be a unicast address that is not loopback/);
    refused({ file: 'x', vip: ['224.0.0.18/32'] }, /must be a unicast address/);
    refused({ file: 'x', vip: ['192.0.2.50/24', '192.0.2.50/32'] }, /^--vip 192\.0\.2\.50 is given twice/);
    refused({ file: 'x', vrid: '0' }, /^--vrid "0": must be an integer 1\.\.255$/);
    refused({ file: 'x', vrid: 'x1' }, /^--vrid "x1": must be an integer 1\.\.255$/);
    refused({ file: 'x', priority: '255' }, /^--priority "255": must be an integer 1\.\.254 \(255, the address owner/);
  });

  it('prints the TOML to stdout and each warning to stderr as FILE:LINE: warning: message', async () => {
    const out = capture();
    assert.equal(await importSentinelCommand({ file: VECTOR, interface: 'ens3', vip: ['192.0.2.50/24'], vrid: '60', priority: '50' }, out), 0);
    const text = out.stdout.join('\n');
    const config = validateConfig(toml.parse(text), 'stdout', text);
    assert.deepEqual(config.instances.map((i) => [i.name, i.priority, i.redis?.manageRole]), [['mymaster', 50, true]]);
    assert.ok(out.stderr.length > 10);
    for (const l of out.stderr) assert.match(l, new RegExp(`^${escape(VECTOR)}:\\d+: warning: `));
    assert.ok(out.stderr.includes(`${VECTOR}:346: warning: sentinel myid is not supported by redkeep: Sentinel's own failover state; redkeep keeps none (the VRRP election decides who is master)`), out.stderr.join('\n'));
  });

  it('writes --out with mode 0600, and redkeep loads it', async () => {
    const out = capture();
    const dest = join(tmp, 'redkeep.toml');
    assert.equal(await importSentinelCommand({ file: VECTOR, out: dest }, out), 0);
    assert.deepEqual(out.stdout, []);
    assert.equal(statSync(dest).mode & 0o777, 0o600);
    assert.equal(loadConfig(dest).instances[0]?.name, 'mymaster');
    const warnings = out.stderr.filter((l) => l.includes(': warning: ')).length;
    assert.equal(out.stderr[out.stderr.length - 1], `redkeep import-sentinel: wrote ${dest} (${warnings} warnings: see the "# CHECK" comments)`);
    assert.equal(readFileSync(dest, 'utf8').match(/^# CHECK line \d+: /gm)?.length, warnings);
  });

  it('fails with status 2 on a bad option, 1 on an unreadable file or nothing to convert', async () => {
    const bad = capture();
    assert.equal(await importSentinelCommand({ file: VECTOR, vrid: '256' }, bad), 2);
    assert.deepEqual(bad.stderr, ['redkeep import-sentinel: --vrid "256": must be an integer 1..255']);
    const missing = capture();
    assert.equal(await importSentinelCommand({ file: join(tmp, 'missing.conf') }, missing), 1);
    assert.match(missing.stderr.join('\n'), /^redkeep import-sentinel: cannot read .*missing\.conf/);
    const empty = join(tmp, 'empty.conf');
    writeFileSync(empty, 'port 26379\ndaemonize yes\n');
    const none = capture();
    assert.equal(await importSentinelCommand({ file: empty }, none), 1);
    assert.deepEqual(none.stdout, []);
    assert.deepEqual(none.stderr, [
      `${empty}:2: warning: daemonize is not supported by redkeep: redkeep runs in the foreground under systemd (examples/redkeep.service)`,
      `${empty}:1: error: there is no sentinel monitor line to convert: redkeep needs at least one master`,
    ]);
  });
});
