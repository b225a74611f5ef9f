// Demo: three Redis hosts in a namespace lab, each with real redis-server and a redkeep agent
// (VRRPv3 every 100 ms). A client writes through the VIP every 5 ms. We show `redkeep status`,
// crash the master host (link cut, agent and Redis killed), show who took over, the longest gap
// between two acknowledged writes, and that no acknowledged write is missing; then a planned
// `redkeep switchover` back and forth; then everything is removed.

import { CLUSTER_VIP, REDKEEP_BIN, RedisCluster, Writer, sleep, waitFor } from '../lab/index.js';

function status(c: RedisCluster, host: string): void {
  const r = c.lab.exec(host, [process.execPath, REDKEEP_BIN, 'status', '--socket', c.a(host).socket]);
  console.log(`  $ redkeep status   (on ${host})`);
  console.log(r.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => `    ${l}`).join('\n'));
}

function gapMs(acks: readonly { atMs: number }[], fromMs: number): number {
  let longest = 0;
  for (let i = 1; i < acks.length; i++) {
    const a = acks[i - 1];
    const b = acks[i];
    if (a && b && b.atMs >= fromMs) longest = Math.max(longest, b.atMs - a.atMs);
  }
  return longest;
}

const c = new RedisCluster({ advertInterval: '100ms' });
try {
  const addr = (h: string): string => c.lab.host(h).address;
  console.log(`lab ${c.lab.id}: h1 ${addr('h1')} (priority 110), h2 ${addr('h2')} (120), h3 ${addr('h3')} (130); client ${c.lab.client.address}; VIP ${CLUSTER_VIP}`);
  await c.start('h3');
  await c.settled('h3', ['h1', 'h2'], 15_000);
  console.log('\n== h3 is master: its Redis is writable, h1 and h2 replicate from it');
  status(c, 'h3');

  const writer = new Writer(c.lab, 5);
  await waitFor('writes through the VIP', 5000, () => writer.acks().length > 200);
  console.log(`\n== a client writes SET w:N through ${CLUSTER_VIP} every 5 ms (${writer.acks().length} acknowledged so far)`);
  console.log('== now h3 crashes: its link is cut, its agent and its Redis are killed');
  const crashAt = Date.now();
  c.lab.cutLink('h3');
  c.a('h3').signal('SIGKILL');
  c.r('h3').kill();
  await c.settled('h2', ['h1'], 10_000, ['h3']);
  await writer.flowing(Date.now(), 500, 10_000);
  console.log(`\n== h2 took over; its Redis was promoted before its VIP came up; h1 follows it`);
  status(c, 'h2');
  const beforeSwitch = writer.acks();
  const lost = c.lostOn('h2', beforeSwitch).filter((x) => x.atMs < crashAt - 250);
  const crashWindow = c.lostOn('h2', beforeSwitch).length - lost.length;
  console.log(`\n   acknowledged writes: ${beforeSwitch.length}; longest gap between two of them: ${gapMs(beforeSwitch, crashAt - 1000)} ms`);
  console.log(`   missing on the new master: ${lost.length}${crashWindow ? ` (plus ${crashWindow} acknowledged by h3 in the last 250 ms before it crashed, Redis' asynchronous replication window)` : ''}`);

  console.log('\n== a planned switchover from h2 to h1: writes pause until h1 has every one, then the VIP moves');
  const switchAt = Date.now();
  const r = c.switchover('h2', ['--to', addr('h1')]);
  console.log(`  $ redkeep switchover --to ${addr('h1')}   (on h2)\n    ${r.stdout.trim() || r.stderr.trim()}`);
  await c.settled('h1', ['h2'], 10_000, ['h3']);
  await writer.flowing(Date.now(), 500, 10_000);
  await sleep(100);
  const acks = await writer.stop();
  await sleep(300);
  const lostAfter = c.lostOn('h1', acks).filter((x) => x.atMs < crashAt - 250);
  console.log(`   longest write gap during the switchover: ${gapMs(acks, switchAt)} ms; acknowledged writes missing on h1: ${lostAfter.length} of ${acks.length}`);
  status(c, 'h1');
  if (lost.length > 0 || lostAfter.length > 0) process.exitCode = 1;
} finally {
  c.destroy();
  console.log('\nlab removed');
}
