// Three redkeep agents in network namespaces, real packets: election, kill -9, SIGTERM handover,
// gratuitous ARP, restart after a crash, link cut, unicast.

import assert from 'node:assert/strict';
import { type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe } from 'node:test';
import { AgentProc, Lab, REDKEEP_BIN, RunDir, holders, scenarioWithLogs, sleep, waitFor } from '@redkeep/scripts/lab';
import { skewTimeMs } from '@redkeep/vrrp';

const VIP = '192.0.2.50';
const PRIORITIES: Record<string, number> = { h1: 110, h2: 120, h3: 130 };

let lab: Lab;
let dir: RunDir;
let agents: AgentProc[];

function agent(host: string): AgentProc {
  const a = agents.find((x) => x.host === host);
  assert.ok(a);
  return a;
}

function startAll(extra: (host: string) => Partial<ConstructorParameters<typeof AgentProc>[3]> = () => ({})): void {
  agents = lab.hosts.map((h) => new AgentProc(lab, h.name, dir, { priority: PRIORITIES[h.name] ?? 100, ...extra(h.name) }).start());
}

async function settledOn(host: string): Promise<void> {
  await waitFor(`${host} to be the only VIP holder`, 8000, () => {
    const hs = holders(lab, VIP);
    return hs.length === 1 && hs[0] === host;
  });
  await waitFor(`${host} to report master`, 3000, async () => (await agent(host).state()) === 'master');
}

/** Frames seen by `redkeep watch --json` on the client, as they arrive. */
function watchClient(): { frames: Record<string, unknown>[]; child: ChildProcess } {
  const child = lab.spawn('client', [process.execPath, REDKEEP_BIN, 'watch', '--interface', 'eth0', '--json']);
  const frames: Record<string, unknown>[] = [];
  let buf = '';
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      frames.push(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
      buf = buf.slice(nl + 1);
    }
  });
  return { frames, child };
}

function dumpLogs(): string {
  return agents.map((a) => a.logs.text).join('\n');
}

/** A test that prints every agent's log when it fails. */
function scenario(name: string, fn: () => Promise<void>): void {
  scenarioWithLogs(name, dumpLogs, fn, 'agent logs');
}

describe('three redkeep agents on a namespace LAN', () => {
  beforeEach(() => {
    lab = Lab.create({ hosts: 3 });
    dir = new RunDir();
    agents = [];
  });

  afterEach(async () => {
    for (const a of agents) if (a.running) a.signal('SIGKILL');
    lab.destroy();
    dir.remove();
    await sleep(10);
  });

  scenario('elects exactly one VIP holder, the highest priority, and the others follow it', async () => {
    startAll();
    await settledOn('h3');
    for (const h of ['h1', 'h2']) {
      const st = (await agent(h).status()).instances[0];
      assert.equal(st?.state, 'backup');
      assert.equal(st?.masterAddress, lab.host('h3').address);
      assert.ok((st?.counters?.advertsRx ?? 0) > 0);
    }
    // The CLI, human and JSON forms, over the control socket.
    const human = lab.run('h3', [process.execPath, REDKEEP_BIN, 'status', '--socket', agent('h3').socket]);
    assert.match(human, /redis-write: MASTER {2}eth0 vrid 51 VRRPv3/);
    assert.match(human, /priority 130 \(base 130\), master this host, adverts every 100 ms/);
    assert.match(human, /held here: 192\.0\.2\.50\/24/);
    assert.match(human, /last transition backup -> master \(master-down-timer\)/);
    assert.match(human, /adverts in \d+ out \d+, transitions 2, GARPs sent [1-9]\d*/);
    const json = JSON.parse(lab.run('h1', [process.execPath, REDKEEP_BIN, 'status', '--json', '--socket', agent('h1').socket])) as {
      instances: { state: string; masterAddress: string; vipsHeld: string[]; lastTransition: { to: string; reason: string; at: string }; counters: { advertsRx: number; drops: object } }[];
    };
    const i1 = json.instances[0];
    assert.equal(i1?.state, 'backup');
    assert.equal(i1?.masterAddress, lab.host('h3').address);
    assert.deepEqual(i1?.vipsHeld, []);
    assert.equal(i1?.lastTransition.to, 'backup');
    // h1 may have started first and been master until h3 came: either way it is now backup.
    assert.ok(['startup', 'higher-priority-advert'].includes(i1?.lastTransition.reason ?? ''), i1?.lastTransition.reason);
    assert.ok(!Number.isNaN(Date.parse(i1?.lastTransition.at ?? '')));
    // Stays that way.
    for (let i = 0; i < 10; i++) {
      await sleep(100);
      assert.deepEqual(holders(lab, VIP), ['h3']);
    }
  });

  scenario('a file track drains a host: its number lowers the priority at once, a bad number changes nothing, removing the file undrains', async () => {
    const file = (h: string): string => join(dir.path, `${h}-drain`);
    startAll((h) => ({
      top: ['[[track]]', 'name = "drain"', 'type = "file"', `file = "${file(h)}"`, 'interval = "50ms"', 'weight = -1', ''].join('\n'),
      extra: 'tracks = ["drain"]',
    }));
    await settledOn('h3');
    writeFileSync(file('h3'), '50\n');
    await settledOn('h2');
    const st = (await agent('h3').status()).instances[0];
    assert.equal(st?.effectivePriority, 80);
    assert.deepEqual(st?.tracks.find((t) => t.name === 'track:drain'), { name: 'track:drain', weight: -1, ok: true, value: 50 });
    writeFileSync(file('h3'), 'drain please\n');
    await sleep(300);
    assert.equal((await agent('h3').status()).instances[0]?.effectivePriority, 80, 'a bad number keeps the last one');
    assert.match(agent('h3').logs.text, /track file not read: keeping its last value/);
    rmSync(file('h3'));
    await settledOn('h3');
    assert.equal((await agent('h3').status()).instances[0]?.effectivePriority, 130);
  });

  scenario('takes over after kill -9 of the master agent, and the GARP moves the client to the new MAC', async () => {
    startAll();
    await settledOn('h3');
    lab.run('client', ['ping', '-c', '1', '-W', '1', VIP]);
    assert.equal(lab.neighbour('client', VIP), lab.host('h3').mac);
    agent('h3').signal('SIGKILL');
    await waitFor('h2 to hold the VIP', 3000, () => holders(lab, VIP).includes('h2'));
    await waitFor('the client neighbour entry to point at h2', 500, () => lab.neighbour('client', VIP) === lab.host('h2').mac);
    assert.equal(await agent('h2').state(), 'master');
    assert.equal(await agent('h1').state(), 'backup');
  });

  scenario('removes the stale VIP of a crashed agent before anything else when it restarts', async () => {
    startAll();
    await settledOn('h3');
    agent('h3').signal('SIGKILL');
    await agent('h3').exited();
    await waitFor('h2 to take over', 3000, () => holders(lab, VIP).includes('h2'));
    assert.ok(holders(lab, VIP).includes('h3'), 'a killed agent leaves its VIP behind');
    const restarted = new AgentProc(lab, 'h3', dir, { priority: PRIORITIES.h3 ?? 130 }).start();
    agents = agents.filter((a) => a.host !== 'h3').concat(restarted);
    await settledOn('h3');
    const log = restarted.logs.text;
    const removed = log.indexOf('virtual address removed');
    const starting = log.indexOf('instance starting');
    assert.ok(removed >= 0 && starting > removed, `stale VIP removed before the instance starts:\n${log}`);
  });

  scenario('hands over within the backup\'s Skew_Time when the master gets SIGTERM', async () => {
    startAll();
    await settledOn('h3');
    const watch = watchClient();
    await waitFor('the watcher to see adverts', 2000, () => watch.frames.length > 3);
    agent('h3').signal('SIGTERM');
    assert.equal(await agent('h3').exited(), 0);
    await waitFor('h2 to hold the VIP', 2000, () => holders(lab, VIP).includes('h2'));
    await sleep(200);
    watch.child.kill('SIGINT');
    const zero = watch.frames.find((f) => f.src === lab.host('h3').address && f.priority === 0);
    assert.ok(zero, 'the master sent priority 0');
    const first = watch.frames.find((f) => f.src === lab.host('h2').address && f.kind === 'vrrp' && (f.timestamp as number) >= (zero.timestamp as number));
    assert.ok(first, 'h2 advertises');
    const gapMs = ((first.timestamp as number) - (zero.timestamp as number)) * 1000;
    const skew = skewTimeMs(3, PRIORITIES.h2 ?? 120, 10);
    const marginMs = 40;
    assert.ok(gapMs <= skew + marginMs, `takeover took ${gapMs.toFixed(1)} ms; Skew_Time ${skew} ms + ${marginMs} ms`);
    assert.ok(gapMs >= skew - 5, `takeover after ${gapMs.toFixed(1)} ms cannot beat Skew_Time ${skew} ms`);
    assert.deepEqual(holders(lab, VIP), ['h2']);
    // What we send: TTL 255 and TOS 0xC0 (RFC 5798 §5.1.1.3, as keepalived), checksums valid.
    for (const f of watch.frames.filter((x) => x.kind === 'vrrp')) {
      assert.deepEqual([f.ttl, f.tos, f.checksumOk, f.ok], [255, 0xc0, true, true], JSON.stringify(f));
    }
    // The garp burst follows the new master's advert.
    assert.ok(watch.frames.some((f) => f.kind === 'arp' && (f.arp as { senderIp: string }).senderIp === VIP && f.srcMac === lab.host('h2').mac));
  });

  scenario('sends the master to Fault and releases its VIP when its link is cut', async () => {
    startAll();
    await settledOn('h3');
    lab.cutLink('h3');
    await waitFor('h3 to enter fault', 3000, async () => (await agent('h3').state()) === 'fault');
    await waitFor('h3 to release the VIP', 2000, () => !lab.addresses('h3').some((a) => a.startsWith(`${VIP}/`)));
    await waitFor('h2 to take over', 3000, () => holders(lab, VIP).includes('h2'));
    const st = (await agent('h3').status()).instances[0];
    assert.equal(st?.lastTransition?.reason, 'interface-down');
    lab.healLink('h3');
    await settledOn('h3');
  });

  scenario('opens its sockets again on an interface that was deleted and made again (a new index)', async () => {
    startAll();
    await settledOn('h3');
    lab.replug('h3');
    await waitFor('h3 to notice the new interface', 5000, () => /interface re-created \(index \d+ -> \d+\): VRRP sockets opened again/.test(agent('h3').logs.text));
    await settledOn('h3');
    // Its adverts reach the others again (they follow h3, not a master of their own).
    await waitFor('h2 to follow h3', 5000, async () => (await agent('h2').status()).instances[0]?.masterAddress === lab.host('h3').address);
    const rx = async (): Promise<number> => (await agent('h2').status()).instances[0]?.counters?.advertsRx ?? 0;
    const before = await rx();
    await sleep(500);
    assert.ok((await rx()) > before + 2, 'h2 keeps receiving h3\'s adverts');
  });

  scenario('puts back a VIP that someone else removed while it is master, with its label', async () => {
    startAll(() => ({ extra: 'address_label = "eth0:vip"' }));
    await settledOn('h3');
    assert.match(lab.run('h3', ['ip', '-4', 'addr', 'show', 'dev', 'eth0']), /inet 192\.0\.2\.50\/24 .*eth0:vip/);
    lab.run('h3', ['ip', 'addr', 'del', `${VIP}/24`, 'dev', 'eth0']);
    await waitFor('the VIP to be back on h3', 3000, () => holders(lab, VIP).includes('h3'));
    await waitFor('the repair to be logged', 2000, () => /removed by someone else; put back/.test(agent('h3').logs.text));
    assert.equal((await agent('h3').state()), 'master');
  });

  scenario('goes to Fault when a tracked interface with weight 0 goes down, and comes back', async () => {
    startAll((h) => (h === 'h3' ? { extra: 'track_interfaces = [{ name = "lo", weight = 0 }]' } : {}));
    await settledOn('h3');
    lab.run('h3', ['ip', 'link', 'set', 'lo', 'down']);
    await waitFor('h3 to enter fault', 3000, async () => (await agent('h3').state()) === 'fault');
    await waitFor('h2 to take over', 3000, () => holders(lab, VIP).join() === 'h2');
    const st = (await agent('h3').status()).instances[0];
    assert.equal(st?.lastTransition?.reason, 'track-failed');
    lab.run('h3', ['ip', 'link', 'set', 'lo', 'up']);
    await settledOn('h3');
  });

  scenario('lowers its priority by the weight of a failing tracked interface', async () => {
    startAll((h) => (h === 'h3' ? { extra: 'track_interfaces = [{ name = "lo", weight = -50 }]' } : {}));
    await settledOn('h3');
    lab.run('h3', ['ip', 'link', 'set', 'lo', 'down']);
    await waitFor('h2 to preempt the weakened h3', 3000, () => holders(lab, VIP).join() === 'h2');
    const st = (await agent('h3').status()).instances[0];
    assert.equal(st?.state, 'backup');
    assert.equal(st?.effectivePriority, 80);
  });

  scenario('stops the same way on SIGINT as on SIGTERM', async () => {
    startAll();
    await settledOn('h3');
    agent('h3').signal('SIGINT');
    assert.equal(await agent('h3').exited(), 0);
    assert.ok(!holders(lab, VIP).includes('h3'), 'VIP released');
    await waitFor('h2 to take over', 2000, () => holders(lab, VIP).join() === 'h2');
    assert.ok(((await agent('h2').status()).instances[0]?.counters?.priorityZeroRx ?? 0) >= 1);
  });

  scenario('runs VRRPv3 over IPv6: link-local sources, kernel checksums accepted, one VIP holder, handover', async () => {
    const VIP6 = '2001:db8::50';
    startAll(() => ({ vips: [`${VIP6}/64`] }));
    await waitFor('h3 to hold the IPv6 VIP alone', 8000, () => holders(lab, VIP6).join() === 'h3');
    const st = (await agent('h2').status()).instances[0];
    assert.equal(st?.state, 'backup');
    assert.match(st?.masterAddress ?? '', /^fe80::/);
    assert.ok((st?.counters?.advertsRx ?? 0) > 0);
    assert.deepEqual(st?.counters?.drops, {}, 'no bad checksums: our decoder agrees with the kernel');
    // The unsolicited neighbour advertisements, as tcpdump on the client decodes them.
    const dump = lab.spawn('client', ['tcpdump', '-i', 'eth0', '-n', '-e', '-l', 'icmp6 and ip6[40] == 136']);
    let seen = '';
    dump.stdout?.on('data', (d: Buffer) => (seen += d.toString()));
    await sleep(500);
    agent('h3').signal('SIGTERM');
    await waitFor('h2 to take the IPv6 VIP', 3000, () => holders(lab, VIP6).join() === 'h2');
    const h2mac = lab.host('h2').mac;
    await waitFor('an unsolicited NA for the VIP from h2', 3000, () =>
      seen.split('\n').some((l) => l.includes(`${h2mac} >`) && l.includes('neighbor advertisement') && l.includes(`tgt is ${VIP6}`)),
    );
    dump.kill('SIGINT');
  });

  scenario('sends the GARP bursts keepalived does: on becoming master, after the delay, and on refresh', async () => {
    agents = [new AgentProc(lab, 'h1', dir, { priority: 100, extra: 'garp = { repeat = 3, delay = "400ms", refresh = "700ms", refresh_repeat = 2 }' })];
    const watch = watchClient();
    await sleep(300);
    agents[0]?.start();
    await waitFor('h1 to hold the VIP', 5000, () => holders(lab, VIP).join() === 'h1');
    await sleep(1700);
    watch.child.kill('SIGINT');
    const garps = watch.frames.filter((f) => f.kind === 'arp' && (f.arp as { senderIp: string }).senderIp === VIP);
    const t0 = garps[0]?.timestamp as number;
    const at = garps.map((f) => Math.round(((f.timestamp as number) - t0) * 1000));
    // 3 at once, 3 after 400 ms, then 2 every 700 ms (refresh).
    const near = (ms: number): number => at.filter((x) => Math.abs(x - ms) <= 120).length;
    assert.equal(near(0), 3, `GARPs at ${at.join(', ')} ms`);
    assert.equal(near(400), 3, `GARPs at ${at.join(', ')} ms`);
    assert.equal(near(700), 2, `GARPs at ${at.join(', ')} ms`);
    assert.equal(near(1400), 2, `GARPs at ${at.join(', ')} ms`);
    for (const f of garps) {
      const arp = f.arp as { op: string; targetIp: string; gratuitous: boolean };
      assert.deepEqual([arp.op, arp.targetIp, arp.gratuitous, f.dstMac], ['request', VIP, true, 'ff:ff:ff:ff:ff:ff']);
    }
  });

  scenario('steps down at once even in the middle of a slow GARP burst', async () => {
    // h3 joins later with the higher priority while h2 is in a 5-round burst 1 s apart.
    agents = [new AgentProc(lab, 'h2', dir, { priority: 120, extra: 'garp = { repeat = 5, interval = "1s", delay = "0s" }' }).start()];
    await waitFor('h2 to hold the VIP', 5000, () => holders(lab, VIP).join() === 'h2');
    agents.push(new AgentProc(lab, 'h3', dir, { priority: 130 }).start());
    await waitFor('h3 to take over', 5000, () => holders(lab, VIP).includes('h3'));
    const t0 = Date.now();
    await waitFor('h2 to release the VIP', 2000, () => !holders(lab, VIP).includes('h2'), 5);
    assert.ok(Date.now() - t0 < 500, `both held the VIP for ${Date.now() - t0} ms`);
    assert.equal(await agent('h2').state(), 'backup');
  });

  scenario('refuses to start a second agent on a host, touching nothing', async () => {
    startAll();
    await settledOn('h3');
    const second = lab.exec('h3', [process.execPath, REDKEEP_BIN, 'run', '--config', agent('h3').config]);
    assert.equal(second.status, 1);
    assert.match(second.stdout + second.stderr, /another redkeep agent is running/);
    assert.deepEqual(holders(lab, VIP), ['h3'], 'the VIP was not touched');
    assert.equal(await agent('h3').state(), 'master', 'the first agent still answers on its socket');
  });

  scenario('stops on SIGTERM even with an idle client connected to the control socket', async () => {
    startAll();
    await settledOn('h3');
    const idle = createConnection(agent('h3').socket);
    await new Promise((r) => idle.once('connect', r));
    agent('h3').signal('SIGTERM');
    assert.equal(await agent('h3').exited(3000), 0);
    idle.destroy();
    assert.ok(!holders(lab, VIP).includes('h3'));
  });

  scenario('works in unicast mode, and ignores a stranger outside its peer list', async () => {
    startAll((h) => ({ unicastPeers: lab.hosts.map((x) => x.name).filter((x) => x !== h) }));
    // A multicast agent of higher priority on the same LAN: not a peer, so not obeyed.
    agents.push(new AgentProc(lab, 'client', dir, { priority: 250 }).start());
    await settledOn('h3');
    await sleep(300);
    assert.deepEqual(holders(lab, VIP), ['h3']);
    const drops = (await agent('h1').status()).instances[0]?.counters?.drops ?? {};
    assert.ok((drops['not-a-peer'] ?? 0) > 0, `h1 counted the stranger's adverts: ${JSON.stringify(drops)}`);
    for (const h of ['h1', 'h2']) assert.equal(await agent(h).state(), 'backup');
    agent('h3').signal('SIGKILL');
    await waitFor('h2 to take over over unicast', 3000, () => holders(lab, VIP).includes('h2'));
    assert.equal(await agent('h1').state(), 'backup');
    const st = (await agent('h1').status()).instances[0];
    assert.equal(st?.masterAddress, lab.host('h2').address);
  });
});
