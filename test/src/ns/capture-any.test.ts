// Captures as an operator takes them on Debian 12: `tcpdump -i any` writes LINUX_SLL2. keepalived
// and redkeep send real adverts in namespaces; `redkeep decode` reads the file tcpdump wrote, and
// `redkeep watch --read -` a live `tcpdump -i any -U -w -` pipe.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { afterEach, beforeEach, describe } from 'node:test';
import { LINKTYPE_LINUX_SLL2, parsePcap } from '@redkeep/pcap';
import { AgentProc, KeepalivedProc, Lab, REDKEEP_BIN, RunDir, scenarioWithLogs, sleep, waitFor } from '@redkeep/scripts/lab';

interface FrameLine {
  kind: string;
  src: string | null;
  vrid: number | null;
  priority: number | null;
  version: number | null;
  checksumOk: boolean | null;
  ok: boolean;
  arp?: { senderIp: string; gratuitous: boolean };
}

const KEEPALIVED = { vrid: 61, priority: 150, vip: '192.0.2.61' };
const REDKEEP = { vrid: 62, priority: 120, vip: '192.0.2.62' };

let lab: Lab;
let dir: RunDir;
let logs: (() => string)[] = [];

/** keepalived on h1 and redkeep on h2, each the master of its own VRID (VRRPv3, every 100 ms). */
function startSenders(): void {
  const k = new KeepalivedProc(lab, 'h1', dir, { vrid: KEEPALIVED.vrid, priority: KEEPALIVED.priority, vips: [`${KEEPALIVED.vip}/24`] }).start();
  const a = new AgentProc(lab, 'h2', dir, { vrid: REDKEEP.vrid, priority: REDKEEP.priority, vips: [`${REDKEEP.vip}/24`] }).start();
  logs.push(() => k.logs.text, () => a.logs.text);
}

/** Resolves once tcpdump says it listens (its stderr), so no advert is missed after. */
async function listening(child: ChildProcess, what: string): Promise<void> {
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  logs.push(() => `[${what}] ${err}`);
  await waitFor(`${what} to listen`, 5000, () => /listening on any, link-type LINUX_SLL2/.test(err));
}

function jsonLines(text: string): FrameLine[] {
  return text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as FrameLine);
}

function scenario(name: string, fn: () => Promise<void>): void {
  scenarioWithLogs(name, () => logs.map((l) => l()).join('\n'), fn);
}

describe('captures of tcpdump -i any (LINUX_SLL2)', () => {
  beforeEach(() => {
    lab = Lab.create({ hosts: 2, ipv6: false });
    dir = new RunDir();
    logs = [];
  });
  afterEach(() => {
    lab.destroy();
    dir.remove();
  });

  scenario('decode shows the adverts of keepalived and redkeep in a tcpdump -i any file, with their VRID and priority', async () => {
    const file = dir.file('any.pcap');
    const dump = lab.spawn('client', ['tcpdump', '-i', 'any', '-U', '-w', file, 'vrrp or arp']);
    await listening(dump, 'tcpdump');
    startSenders();
    const adverts = (vrid: number): number => {
      const p = parsePcap(new Uint8Array(readFileSync(file)));
      return p.ok ? p.file.records.filter((r) => r.data[20 + 9] === 112 && r.data[20 + 21] === vrid).length : 0;
    };
    await waitFor('5 adverts of each VRID in the capture', 10_000, () => statSync(file).size > 0 && adverts(KEEPALIVED.vrid) >= 5 && adverts(REDKEEP.vrid) >= 5, 100);
    dump.kill('SIGINT');
    await waitFor('tcpdump to finish its file', 5000, () => dump.exitCode !== null || dump.signalCode !== null);

    const parsed = parsePcap(new Uint8Array(readFileSync(file)));
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.file.interfaces.map((i) => i.linkType), [LINKTYPE_LINUX_SLL2], 'tcpdump -i any writes LINUX_SLL2');

    const r = lab.exec('client', [process.execPath, REDKEEP_BIN, 'decode', '--json', file]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    const frames = jsonLines(r.stdout);
    assert.equal(frames.length, parsed.file.records.length);
    const vrrp = frames.filter((f) => f.kind === 'vrrp');
    for (const f of vrrp) assert.ok(f.ok && f.checksumOk === true && f.version === 3, JSON.stringify(f));
    // Each VRID is sent by its master alone, at its priority (the backup of neither sends).
    const sent = (vrid: number): string[] => [...new Set(vrrp.filter((f) => f.vrid === vrid).map((f) => `${f.src} prio ${f.priority}`))];
    assert.deepEqual(sent(KEEPALIVED.vrid), [`${lab.host('h1').address} prio ${KEEPALIVED.priority}`]);
    assert.deepEqual(sent(REDKEEP.vrid), [`${lab.host('h2').address} prio ${REDKEEP.priority}`]);
    assert.equal(vrrp.length, frames.filter((f) => f.vrid === KEEPALIVED.vrid || f.vrid === REDKEEP.vrid).length);
    // Both sent gratuitous ARPs for their VIP on becoming master.
    for (const vip of [KEEPALIVED.vip, REDKEEP.vip]) {
      assert.ok(frames.some((f) => f.kind === 'arp' && f.ok && f.arp?.senderIp === vip && f.arp.gratuitous), `a GARP for ${vip}`);
    }
    // The text form names the same adverts.
    const text = lab.exec('client', [process.execPath, REDKEEP_BIN, 'decode', file]).stdout;
    assert.match(text, new RegExp(`${lab.host('h1').address.replaceAll('.', '\\.')} > 224\\.0\\.0\\.18 ttl 255 VRRPv3 vrid 61 prio 150 intvl 10cs addrs 192\\.0\\.2\\.61 cksum ok -> ok`));
  });

  scenario('watch --read - decodes a live tcpdump -i any -U -w - pipe as the adverts arrive', async () => {
    startSenders();
    await sleep(500);
    const pipe = `tcpdump -i any -U -w - vrrp | ${process.execPath} ${REDKEEP_BIN} watch --read - --json --count 20`;
    const child = lab.spawn('client', ['sh', '-c', pipe]);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    logs.push(() => `[pipe] ${err}`);
    // watch stops at 20 frames; tcpdump then ends on its next write to the closed pipe.
    await waitFor('watch to print 20 frames and the pipe to end', 15_000, () => child.exitCode !== null || child.signalCode !== null, 50);
    const frames = jsonLines(out);
    assert.equal(frames.length, 20, out);
    for (const f of frames) {
      assert.equal(f.kind, 'vrrp');
      assert.ok(f.ok && f.checksumOk === true, JSON.stringify(f));
      const want = f.vrid === KEEPALIVED.vrid ? KEEPALIVED : REDKEEP;
      assert.equal(f.vrid, want.vrid);
      assert.equal(f.priority, want.priority);
      assert.equal(f.src, lab.host(want === KEEPALIVED ? 'h1' : 'h2').address);
    }
    assert.ok(frames.some((f) => f.vrid === KEEPALIVED.vrid) && frames.some((f) => f.vrid === REDKEEP.vrid), 'adverts of both');
  });
});
