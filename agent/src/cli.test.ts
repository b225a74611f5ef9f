import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, fstatSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  VRRP_MULTICAST_IPV6,
  encodeIpv4Datagram,
  encodeIpv6Packet,
  encodeVrrp,
} from '@redkeep/vrrp';
import {
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  encodeEthernet,
  encodeGratuitousArp,
  parseMac,
} from '@redkeep/wire';
import {
  LINKTYPE_ETHERNET,
  encodeEnhancedPacket,
  encodeInterfaceDescription,
  encodeSectionHeader,
  parsePcap,
  writePcap,
} from '@redkeep/pcap';
import { runArgs } from './cli.js';

const BIN = fileURLToPath(new URL('../bin/redkeep.js', import.meta.url));
const VECTORS = fileURLToPath(new URL('../../test/vectors/keepalived-2.2.7', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'redkeep-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function redkeep(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return redkeepWith({}, ...args);
}

function redkeepWith(env: NodeJS.ProcessEnv, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** As redkeep(), without blocking this process: a control socket served here can answer meanwhile. */
function redkeepAsync(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const REQUIRED_KEYS = [
  'src',
  'dst',
  'ttl',
  'version',
  'vrid',
  'priority',
  'advertIntervalCs',
  'addresses',
  'authType',
  'checksumOk',
  'ok',
  'reason',
];

const MAC = parseMac('02:00:5e:00:01:33') ?? new Uint8Array(6);
const MCAST_MAC = parseMac('01:00:5e:00:00:12') ?? new Uint8Array(6);
const MCAST6_MAC = parseMac('33:33:00:00:00:12') ?? new Uint8Array(6);

function writeCapture(name: string, frames: Uint8Array[]): string {
  const p = join(tmp, name);
  writeFileSync(p, writePcap(frames.map((data, i) => ({ timestamp: 1_800_000_000 + i / 10, data }))));
  return p;
}

describe('redkeep CLI', () => {
  for (const f of readdirSync(VECTORS).filter((n) => n.endsWith('.pcap'))) {
    it(`prints one JSON object per frame of ${f}, with the documented keys`, () => {
      const parsed = parsePcap(new Uint8Array(readFileSync(join(VECTORS, f))));
      assert.ok(parsed.ok);
      const r = redkeep('decode', join(VECTORS, f), '--json');
      assert.equal(r.status, 0, r.stderr);
      const lines = r.stdout.trim().split('\n');
      assert.equal(lines.length, parsed.file.records.length);
      for (const line of lines) {
        const j = JSON.parse(line) as Record<string, unknown>;
        for (const k of REQUIRED_KEYS) assert.ok(k in j, `${k} missing in ${line}`);
        assert.equal(j.ok, true, line);
        if (j.kind === 'arp') {
          const arp = j.arp as Record<string, unknown>;
          assert.deepEqual(Object.keys(arp).sort(), ['gratuitous', 'op', 'senderIp', 'senderMac', 'targetIp']);
        } else {
          assert.equal(j.kind, 'vrrp');
          assert.equal(j.checksumOk, true);
        }
      }
    });
  }

  it('prints one text line per frame and never shows the PASS password', () => {
    const r = redkeep('decode', join(VECTORS, 'v2-pass-mcast.pcap'));
    assert.equal(r.status, 0);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0] ?? '', /192\.0\.2\.11 > 224\.0\.0\.18 ttl 255 VRRPv2 vrid 51 prio 150 .*auth simple cksum ok -> ok$/);
    assert.ok(!r.stdout.includes('s3cret99'));
    assert.ok(!redkeep('decode', '--json', join(VECTORS, 'v2-pass-mcast.pcap')).stdout.includes('s3cret99'));
  });

  it('shows gratuitous ARPs as ARP lines', () => {
    const r = redkeep('decode', join(VECTORS, 'v2-none-mcast-with-garp-and-shutdown.pcap'));
    const arp = r.stdout.split('\n').filter((l) => l.includes(' ARP '));
    assert.equal(arp.length, 5);
    for (const l of arp) assert.match(l, /ARP request sender 192\.0\.2\.54 \(fa:3c:c1:59:a0:fa\) target 192\.0\.2\.54 gratuitous -> ok/);
  });

  it('decodes IPv6 VRRPv3 and reports bad checksums and TTLs with the fields it could read', () => {
    const adv = {
      version: 3 as const,
      vrid: 60,
      priority: 110,
      advertIntervalCs: 10,
      family: 'ipv6' as const,
      addresses: ['2001:db8::60'],
      authType: 'none' as const,
    };
    const src = 'fe80::1';
    const v6 = encodeIpv6Packet(encodeVrrp(adv, { src, dst: VRRP_MULTICAST_IPV6 }), { src, dst: VRRP_MULTICAST_IPV6 });
    const v4adv = { ...adv, family: 'ipv4' as const, addresses: ['192.0.2.60'] };
    const good4 = encodeVrrp(v4adv, { src: '192.0.2.11', dst: '224.0.0.18' });
    const bad4 = Uint8Array.from(good4);
    bad4[2] = 111; // priority changed, checksum not
    const badSum = encodeIpv4Datagram(bad4, { src: '192.0.2.11', dst: '224.0.0.18' });
    const lowTtl = encodeIpv4Datagram(good4, { src: '192.0.2.11', dst: '224.0.0.18', ttl: 64 });
    const file = writeCapture('mixed.pcap', [
      encodeEthernet(MCAST6_MAC, MAC, ETHERTYPE_IPV6, v6),
      encodeEthernet(MCAST_MAC, MAC, ETHERTYPE_IPV4, badSum),
      encodeEthernet(MCAST_MAC, MAC, ETHERTYPE_IPV4, lowTtl),
      encodeGratuitousArp(MAC, '192.0.2.60'),
    ]);
    const r = redkeep('decode', file, '--json');
    assert.equal(r.status, 0, r.stderr);
    const [j6, jSum, jTtl, jArp] = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      { ok: j6?.ok, src: j6?.src, dst: j6?.dst, version: j6?.version, vrid: j6?.vrid, addresses: j6?.addresses, ttl: j6?.ttl },
      { ok: true, src, dst: 'ff02::12', version: 3, vrid: 60, addresses: ['2001:db8::60'], ttl: 255 },
    );
    assert.deepEqual([jSum?.ok, jSum?.reason, jSum?.checksumOk, jSum?.priority], [false, 'bad-checksum', false, 111]);
    assert.deepEqual([jTtl?.ok, jTtl?.reason, jTtl?.checksumOk, jTtl?.ttl], [false, 'bad-ttl', true, 64]);
    assert.deepEqual(jArp?.arp, {
      op: 'request',
      senderIp: '192.0.2.60',
      senderMac: '02:00:5e:00:01:33',
      targetIp: '192.0.2.60',
      gratuitous: true,
    });
  });

  it('shows the frames of a capture cut short and warns on stderr', () => {
    const whole = readFileSync(join(VECTORS, 'v3-mcast.pcap'));
    const p = join(tmp, 'cut.pcap');
    writeFileSync(p, whole.subarray(0, whole.length - 5));
    const r = redkeep('decode', p);
    assert.equal(r.status, 0);
    assert.equal(r.stdout.trim().split('\n').length, 2);
    assert.match(r.stderr, /ends inside a frame/);
  });

  it('refuses an unreadable file with one line and exit status 2', () => {
    const r = redkeep('decode', join(tmp, 'missing.pcap'));
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /cannot read .*missing\.pcap/);
  });

  it('refuses a file that is not a pcap with one line and exit status 2', () => {
    const p = join(tmp, 'text.pcap');
    writeFileSync(p, 'this is not a capture at all\n');
    const r = redkeep('decode', p);
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /not a pcap or pcapng capture/);
    // A pcapng whose second block's length is not a multiple of 4.
    const ng = join(tmp, 'ng.pcapng');
    writeFileSync(ng, Buffer.from('0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1c00000001000000', 'hex'));
    writeFileSync(ng, Buffer.concat([readFileSync(ng), Buffer.from('0d000000', 'hex')]));
    const r2 = redkeep('decode', ng);
    assert.equal(r2.status, 2);
    assert.equal(r2.stdout, '');
    assert.match(r2.stderr, /ng\.pcapng: at offset 28: corrupt pcapng: an interface description with a total length of 13/);
  });

  it('decodes tcpdump -i any captures (LINUX_SLL2) and pcapng files as their classic pcap', () => {
    const dir = fileURLToPath(new URL('../../test/vectors/linux-sll2-pcapng', import.meta.url));
    const sll2 = redkeep('decode', join(dir, 'keepalived-v3-any.pcap'));
    assert.equal(sll2.status, 0, sll2.stderr);
    const lines = sll2.stdout.trim().split('\n');
    assert.equal(lines.length, 11);
    assert.equal(lines.filter((l) => / 192\.0\.2\.11 > 224\.0\.0\.18 ttl 255 VRRPv3 vrid 55 prio 130 intvl 50cs addrs 192\.0\.2\.55 cksum ok -> ok$/.test(l)).length, 5);
    assert.match(lines[10] ?? '', /VRRPv3 vrid 55 prio 0 /);
    assert.equal(lines.filter((l) => / ARP request sender 192\.0\.2\.55 \(02:00:00:00:00:0b\) target 192\.0\.2\.55 gratuitous -> ok$/.test(l)).length, 5);
    assert.equal(redkeep('decode', join(dir, 'keepalived-v3-any.pcapng')).stdout, sll2.stdout);
    const eth = redkeep('decode', '--json', join(dir, 'v2-none-mcast-with-garp-and-shutdown.pcapng'));
    assert.equal(eth.status, 0, eth.stderr);
    assert.equal(eth.stdout, redkeep('decode', '--json', join(VECTORS, 'v2-none-mcast-with-garp-and-shutdown.pcap')).stdout);
  });

  it('refuses a capture of an unsupported link type naming it, and shows the other frames of a mixed one', () => {
    const frame = encodeGratuitousArp(MAC, '192.0.2.60');
    const wifi = join(tmp, 'wifi.pcap');
    writeFileSync(wifi, writePcap([{ timestamp: 1_800_000_000, data: frame }], 105));
    const r = redkeep('decode', wifi);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim(), `redkeep decode: ${wifi}: link type 105 (IEEE802_11) is not supported (1 (ETHERNET), 113 (LINUX_SLL), 276 (LINUX_SLL2) are)`);
    const mixed = join(tmp, 'mixed.pcapng');
    writeFileSync(
      mixed,
      Buffer.concat([
        encodeSectionHeader(),
        encodeInterfaceDescription(105),
        encodeInterfaceDescription(LINKTYPE_ETHERNET),
        encodeEnhancedPacket(0, 1n, frame),
        encodeEnhancedPacket(1, 2n, frame),
      ]),
    );
    const m = redkeep('decode', mixed);
    assert.equal(m.status, 0, m.stderr);
    assert.deepEqual(m.stdout.trim().split('\n').map((l) => l.replace(/^#\d \S+ /, '')), [
      'malformed -> DROP unsupported link type 105',
      'ARP request sender 192.0.2.60 (02:00:5e:00:01:33) target 192.0.2.60 gratuitous -> ok',
    ]);
    assert.match(m.stderr, /link type 105 \(IEEE802_11\) is not supported .*: its 1 frames are shown as malformed/);
  });

  it('watch --read decodes a pcap or pcapng from stdin or a file, VRRP and ARP only, as decode does, up to --count', () => {
    const ng = readFileSync(fileURLToPath(new URL('../../test/vectors/linux-sll2-pcapng/v2-none-mcast-with-garp-and-shutdown.pcapng', import.meta.url)));
    const decoded = redkeep('decode', join(VECTORS, 'v2-none-mcast-with-garp-and-shutdown.pcap')).stdout;
    const fromStdin = spawnSync(process.execPath, [BIN, 'watch', '--read', '-'], { input: ng, encoding: 'utf8' });
    assert.equal(fromStdin.status, 0, fromStdin.stderr);
    assert.equal(fromStdin.stdout, decoded);
    const counted = spawnSync(process.execPath, [BIN, 'watch', '-r', '-', '--count', '3', '--json'], { input: ng, encoding: 'utf8' });
    assert.equal(counted.status, 0, counted.stderr);
    assert.deepEqual(counted.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { frame: number }).frame), [1, 2, 3]);
    // A frame that is neither VRRP nor ARP (LLDP here) is left out, as the live socket filter does.
    const lldp = encodeEthernet(parseMac('01:80:c2:00:00:0e') ?? MAC, MAC, 0x88cc, new Uint8Array(46));
    const withLldp = writeCapture('lldp.pcap', [lldp, encodeGratuitousArp(MAC, '192.0.2.60')]);
    const w = redkeep('watch', '--read', withLldp);
    assert.equal(w.status, 0, w.stderr);
    assert.match(w.stdout, /^#1 \S+ ARP request sender 192\.0\.2\.60 .* -> ok\n$/);
  });

  it('watch --read prints each frame as soon as its block has arrived, however the stream is cut', async () => {
    const ng = readFileSync(fileURLToPath(new URL('../../test/vectors/linux-sll2-pcapng/keepalived-v3-any.pcapng', import.meta.url)));
    const child = spawn(process.execPath, [BIN, 'watch', '--read', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    // The section header, the interface and the first packet block but 3 bytes, then the rest of it.
    const firstEnd = 0x6c + 0x14 + 0x54;
    child.stdin.write(ng.subarray(0, firstEnd - 3));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(stdout, '');
    child.stdin.write(ng.subarray(firstEnd - 3, firstEnd));
    for (let i = 0; i < 300 && stdout === ''; i++) await new Promise((r) => setTimeout(r, 10));
    assert.match(stdout, /^#1 \S+ 192\.0\.2\.11 > 224\.0\.0\.18 ttl 255 VRRPv3 vrid 55 prio 130 .* -> ok\n$/);
    child.stdin.end(ng.subarray(firstEnd));
    assert.equal(await exited, 0);
    assert.equal(stdout.trim().split('\n').length, 11);
  });

  it('watch refuses --interface with --read, and neither (exit 2); a corrupt stream stops it with the offset (exit 1)', () => {
    const both = redkeep('watch', '--interface', 'eth0', '--read', '-');
    assert.equal(both.status, 2);
    assert.match(both.stderr, /mutually exclusive/);
    const neither = redkeep('watch');
    assert.equal(neither.status, 2);
    assert.match(neither.stderr, /name --interface IF or --read FILE/);
    const bad = Buffer.concat([encodeSectionHeader(), encodeInterfaceDescription(LINKTYPE_ETHERNET), Buffer.from('0600000011000000', 'hex')]);
    const r = spawnSync(process.execPath, [BIN, 'watch', '--read', '-'], { input: bad, encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^redkeep watch: stdin: at offset 48: corrupt pcapng: an enhanced packet block with a total length of 17/);
  });

  it('check-config prints a summary and exits 0, or every error and exits 78', () => {
    const good = join(tmp, 'good.toml');
    writeFileSync(good, '[[instance]]\nname = "w"\ninterface = "eth0"\nvrid = 51\nvirtual_addresses = ["192.0.2.50/24"]\n');
    const ok = redkeep('check-config', good);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /OK, 1 instance\n {2}w: eth0 vrid 51 VRRPv3 priority 100 every 1000 ms, multicast/);
    const bad = join(tmp, 'bad.toml');
    writeFileSync(bad, '[[instance]]\nname = "w"\ninterface = "eth0"\nvrid = 500\nvirtual_addresses = ["192.0.2.50/24"]\nprioirty = 5\n');
    const r = redkeep('check-config', bad);
    assert.equal(r.status, 78);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.ok(lines.includes(`${bad}:4: instance[0].vrid: must be an integer 1..255, got 500`), r.stderr);
    assert.ok(lines.includes(`${bad}:6: instance[0].prioirty: unknown key (did you mean priority?)`), r.stderr);
  });

  it('check-config --files refuses password and TLS files that cannot be read, naming the key, never the content', () => {
    const pass = join(tmp, 'redis.pass');
    writeFileSync(pass, 'very-secret\n');
    const missing = join(tmp, 'missing.crt');
    const file = join(tmp, 'files.toml');
    writeFileSync(
      file,
      `[[instance]]\nname = "w"\ninterface = "eth0"\nvrid = 51\nvirtual_addresses = ["192.0.2.50/24"]\nmembers = []\n[instance.redis]\naddress = "127.0.0.1:6379"\npassword_file = "${pass}"\ntls = { ca_file = "${missing}" }\n`,
    );
    assert.equal(redkeep('check-config', file).status, 0, 'without --files the files are not opened');
    const r = redkeep('check-config', file, '--files');
    assert.equal(r.status, 78);
    assert.equal(r.stderr.trim(), `${file}: instance[0].redis.tls.ca_file: cannot read ${missing}`);
    assert.doesNotMatch(r.stdout + r.stderr, /very-secret/);
    writeFileSync(missing, 'not a certificate, but readable\n');
    assert.equal(redkeep('check-config', file, '--files').status, 0);
  });

  it('check-config shows strict mode (etcd) when set, and names the file, line and key of a bad etcd key', () => {
    const base = '[agent]\netcd = { endpoints = ["http://198.51.100.21:2379"]XX }\n[[instance]]\nname = "w"\ninterface = "eth0"\nvrid = 51\nmembers = []\nvirtual_addresses = ["192.0.2.50/24"]\n[instance.redis]\naddress = "127.0.0.1:6379"\n';
    const good = join(tmp, 'etcd.toml');
    writeFileSync(good, base.replace('XX', ''));
    const ok = redkeep('check-config', good);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /strict mode: an etcd lease \(http:\/\/198\.51\.100\.21:2379, prefix \/redkeep\/\) decides who may acknowledge writes; TTL each instance's Master_Down_Interval, at least 2 s, on_loss fence/);
    const bad = join(tmp, 'etcd-bad.toml');
    writeFileSync(bad, base.replace('XX', ', on_loss = "hope"'));
    const r = redkeep('check-config', bad);
    assert.equal(r.status, 78);
    assert.equal(r.stderr.trim(), `${bad}:2: agent.etcd.on_loss: must be one of "fence", "keep", "embedded", got "hope"`);
  });

  it('accepts every example configuration', () => {
    const dir = fileURLToPath(new URL('../../examples', import.meta.url));
    const files = readdirSync(dir).filter((f) => f.endsWith('.toml'));
    assert.ok(files.length > 0);
    for (const f of files) {
      const r = redkeep('check-config', join(dir, f));
      assert.equal(r.status, 0, `${f}: ${r.stderr}`);
    }
  });

  it('run logs JSON lines when asked, and refuses to start without its interface', () => {
    const cfg = join(tmp, 'json.toml');
    writeFileSync(
      cfg,
      `[agent]\nlog_format = "json"\ncontrol_socket = "${join(tmp, 'json.sock')}"\n[[instance]]\nname = "w"\ninterface = "nope0"\nvrid = 51\nvirtual_addresses = ["192.0.2.50/24"]\n`,
    );
    const r = redkeep('run', '--config', cfg);
    assert.equal(r.status, 1);
    const lines = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as { level: string; message: string; error?: string; timestamp: string });
    const err = lines.find((l) => l.message === 'cannot start');
    assert.ok(err, r.stderr);
    assert.equal(err.level, 'error');
    assert.match(err.error ?? '', /interface nope0 does not exist/);
    assert.ok(!Number.isNaN(Date.parse(err.timestamp)));
  });

  it('import-sentinel converts a sentinel.conf that check-config accepts, with warnings on stderr and no password anywhere', () => {
    const src = fileURLToPath(new URL('../../test/vectors/redis-sentinel-7.0/sentinel-192.0.2.12.conf', import.meta.url));
    const dest = join(tmp, 'from-sentinel.toml');
    const r = redkeep('import-sentinel', src, '--out', dest, '--interface', 'ens3', '--vip', '192.0.2.50/24', '--vrid', '60', '--priority', '150');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trim().split('\n');
    assert.match(lines[lines.length - 1] ?? '', /^redkeep import-sentinel: wrote .*from-sentinel\.toml \(\d+ warnings/);
    for (const l of lines.slice(0, -1)) assert.ok(l.startsWith(`${src}:`) && / warning: /.test(l), l);
    const check = redkeep('check-config', dest);
    assert.equal(check.status, 0, check.stderr);
    assert.match(check.stdout, /mymaster: ens3 vrid 60 VRRPv3 priority 150 every 7500 ms/);
    const printed = redkeep('import-sentinel', src);
    assert.equal(printed.status, 0, printed.stderr);
    assert.match(printed.stdout, /^sentinel_password_file = "\/etc\/redkeep\/sentinel\.pass"$/m);
    for (const secret of ['Fake-Redis-Pw-1', 'Fake-Sentinel-Pw-2']) {
      assert.ok(readFileSync(src, 'utf8').includes(secret));
      for (const t of [r.stderr, readFileSync(dest, 'utf8'), printed.stdout, printed.stderr]) assert.ok(!t.includes(secret), `${secret} leaked`);
    }
    // --vip may come before the file, and more than once (one per master).
    const before = redkeep('import-sentinel', '--vip', '192.0.2.50/24', src);
    assert.equal(before.status, 0, before.stderr);
    assert.match(before.stdout, /^virtual_addresses = \["192\.0\.2\.50\/24"\]$/m);
    const bad = redkeep('import-sentinel', src, '--vip', 'nope');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--vip "nope": must be an address with a prefix/);
  });

  it('run under journald writes lines with their syslog priority and no timestamp when no journal socket takes them', { skip: existsSync('/run/systemd/journal/socket') && 'a journal listens on this host' }, () => {
    const cfg = join(tmp, 'journal.toml');
    writeFileSync(cfg, `[agent]\ncontrol_socket = "${join(tmp, 'journal.sock')}"\n[[instance]]\nname = "w"\ninterface = "nope0"\nvrid = 51\nvirtual_addresses = ["192.0.2.50/24"]\n`);
    // The stream journald would hold: a file here, named by JOURNAL_STREAM as systemd names it.
    const file = join(tmp, 'journal.stream');
    const fd = openSync(file, 'w');
    try {
      const st = fstatSync(fd);
      const r = spawnSync(process.execPath, [BIN, 'run', '--config', cfg], { stdio: ['ignore', fd, fd], env: { ...process.env, JOURNAL_STREAM: `${st.dev}:${st.ino}` } });
      assert.equal(r.status, 1);
    } finally {
      closeSync(fd);
    }
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    assert.match(lines[0] ?? '', /^<4>the journal socket refused a line \(ENOENT\)/);
    assert.ok(lines.some((l) => /^<3>cannot start agent=\S+ error=instance w: interface nope0 does not exist$/.test(l)), lines.join('\n'));
    assert.ok(lines.every((l) => /^<[3-7]>/.test(l)), 'every line with its priority, none with a timestamp');
  });

  it('reload talks to the default control socket when given no option (ExecReload=redkeep reload)', { skip: existsSync('/run/redkeep/redkeep.sock') && 'an agent may run on this host' }, () => {
    const r = redkeep('reload');
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, /^redkeep reload: cannot reach redkeep at \/run\/redkeep\/redkeep\.sock: ENOENT/);
  });

  it('status, events and switchover explain an agent that is not running and exit 3', () => {
    const nobody = join(tmp, 'nobody.sock');
    for (const args of [['status'], ['events', '--no-follow'], ['switchover']]) {
      const r = redkeep(...args, '--socket', nobody);
      assert.equal(r.status, 3, `${args[0]}: ${r.stderr}`);
      assert.match(r.stderr, /ENOENT \(is the agent running\?\)/);
    }
    // A socket file left by an agent that died: nobody listens, connections are refused.
    const stale = join(tmp, 'stale.sock');
    spawnSync(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(stale)}, () => process.exit(0))`]);
    assert.ok(existsSync(stale));
    const r = redkeep('status', '--socket', stale);
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, /ECONNREFUSED \(is the agent running\?\)/);
  });

  it('runs no command after a usage error: error and usage on stderr, exit 2, no request to the agent', async () => {
    const sock = join(tmp, 'usage.sock');
    let connections = 0;
    const server = createServer((c) => {
      connections++;
      c.destroy();
    });
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    try {
      const cases: [string[], RegExp, RegExp][] = [
        [['switchover', '--instnace', 'x'], /Unknown argument: instnace/, /^usage: redkeep switchover \[--to HOST\]/m],
        [['maintenance', 'maybe'], /Invalid values:[^]*Given: "maybe", Choices: "on", "off"/, /^usage: redkeep maintenance on\|off/m],
        [['maintenance'], /Not enough non-option arguments/, /^usage: redkeep maintenance on\|off/m],
        [['events', '--limit', '-1'], /--limit must be a whole number/, /^usage: redkeep events/m],
        [['events', '--no-folow'], /Unknown argument: folow/, /^usage: redkeep events/m],
        [['status', '--jsn'], /Unknown argument: jsn/, /^usage: redkeep status/m],
        [['stauts'], /Unknown arguments?: .*stauts\nredkeep: Did you mean status\?/, /^usage: redkeep <command> \[options\]; commands: run, check-config, status/m],
        [['frobnicate'], /Unknown arguments?: .*frobnicate/, /^usage: redkeep <command>/m],
      ];
      for (const [args, error, usage] of cases) {
        const r = await redkeepAsync(...args, '--socket', sock);
        assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.equal(r.stdout, '', args.join(' '));
        assert.match(r.stderr, error);
        assert.match(r.stderr, usage);
        assert.ok(r.stderr.split('\n').length <= 6, `a short hint, not the whole help: ${r.stderr}`);
      }
      assert.equal(connections, 0, 'no request reached the control socket');
      // The same server does see a valid command: the test would notice a request.
      await redkeepAsync('status', '--socket', sock);
      assert.equal(connections, 1);
    } finally {
      server.close();
    }
    const none = redkeep();
    assert.equal(none.status, 2);
    assert.match(none.stderr, /name a command/);
  });

  it('prints its version from package.json with --version and -V, and help with -h', () => {
    const { version } = JSON.parse(readFileSync(fileURLToPath(new URL('../package.json', import.meta.url)), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) assert.deepEqual(redkeep(flag), { status: 0, stdout: `${version}\n`, stderr: '' });
    const h = redkeep('-h');
    assert.equal(h.status, 0);
    assert.equal(h.stdout, redkeep('--help').stdout);
    assert.match(h.stdout, /^Examples:$/m);
    assert.match(h.stdout, /Exit status: 0 ok; 1 the command failed .*; 2 usage\s+error/);
  });

  it('wraps help at whole words, at $COLUMNS when not on a terminal', () => {
    const words = (t: string): Set<string> => new Set(t.split(/\s+/));
    const wide = redkeepWith({ COLUMNS: '200' }, '--help');
    for (const columns of [60, 80]) {
      const r = redkeepWith({ COLUMNS: String(columns) }, '--help');
      assert.equal(r.status, 0);
      const long = r.stdout.split('\n').filter((l) => l.length > columns);
      assert.deepEqual(long, [], `lines wider than ${columns}`);
      // Wrapping moves words between lines, never cuts one.
      assert.deepEqual(words(r.stdout), words(wide.stdout), `COLUMNS=${columns}`);
      assert.match(r.stdout, /VRRP\s+adverts/);
    }
    assert.ok(wide.stdout.split('\n').every((l) => l.length <= 100), 'at most 100 columns');
  });

  it('run and check-config read $REDKEEP_CONFIG, else /etc/redkeep/redkeep.toml, when no file is given', () => {
    assert.deepEqual(runArgs(['run'], {}), { config: '/etc/redkeep/redkeep.toml' });
    assert.deepEqual(runArgs(['run'], { REDKEEP_CONFIG: '/srv/r.toml' }), { config: '/srv/r.toml' });
    assert.deepEqual(runArgs(['run', '-c', 'x.toml'], { REDKEEP_CONFIG: '/srv/r.toml' }), { config: 'x.toml' });
    assert.deepEqual(runArgs(['run', '--config=x.toml'], {}), { config: 'x.toml' });
    for (const args of [['run', '--help'], ['run', 'x.toml'], ['run', '--config', ''], ['status']]) assert.equal(runArgs(args, {}), undefined, args.join(' '));
    const good = join(tmp, 'env-good.toml');
    writeFileSync(good, '[[instance]]\nname = "w"\ninterface = "eth0"\nvrid = 51\nvirtual_addresses = ["192.0.2.50/24"]\n');
    const ok = redkeepWith({ REDKEEP_CONFIG: good }, 'check-config');
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /env-good\.toml: OK, 1 instance/);
    const missing = join(tmp, 'env-missing.toml');
    for (const args of [['check-config'], ['run']]) {
      const r = redkeepWith({ REDKEEP_CONFIG: missing }, ...args);
      assert.equal(r.status, 78, `${args[0]}: ${r.stderr}`);
      assert.match(r.stderr, /env-missing\.toml: cannot read/);
    }
  });

  it('run exits 78 on a configuration error', () => {
    const bad = join(tmp, 'run-bad.toml');
    writeFileSync(bad, '[[instance]]\nname = "w"\ninterface = "eth0"\nvrid = 500\nvirtual_addresses = ["192.0.2.50/24"]\n');
    for (const args of [['run', '--config', bad], ['run', `--config=${bad}`], ['run', '-c', bad]]) {
      const r = redkeep(...args);
      assert.equal(r.status, 78, r.stderr);
      assert.match(r.stderr, /run-bad\.toml:4: instance\[0\]\.vrid: must be an integer 1\.\.255, got 500/);
    }
    const status = redkeep('status', '--config', bad);
    assert.equal(status.status, 78, 'a command that finds the socket in a bad config');
  });

  it('commands that ask the agent take its control socket from $REDKEEP_CONFIG too', () => {
    const file = join(tmp, 'env-socket.toml');
    const socket = join(tmp, 'env-socket.sock');
    writeFileSync(file, `[agent]\ncontrol_socket = "${socket}"\n[[instance]]\nname = "w"\ninterface = "eth0"\nvrid = 51\nvirtual_addresses = ["192.0.2.50/24"]\n`);
    const r = redkeepWith({ REDKEEP_CONFIG: file }, 'status');
    assert.equal(r.status, 3, r.stderr);
    assert.ok(r.stderr.includes(socket), `names the socket of $REDKEEP_CONFIG: ${r.stderr}`);
    // --socket wins over it.
    const other = join(tmp, 'other.sock');
    const s = redkeepWith({ REDKEEP_CONFIG: file }, 'status', '--socket', other);
    assert.ok(s.stderr.includes(other) && !s.stderr.includes(socket), s.stderr);
  });
});
