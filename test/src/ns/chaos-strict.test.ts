// The chaos lab against strict mode (redkeep with `[agent] etcd`, a 3-member etcd cluster): the
// etcd faults on the master, a cut from etcd alone and a crash of the etcd leader, and a frozen
// agent (the fence deputy or the takeover's fence closes its Redis before the lease can pass), and
// a master host crash whose Redis reboots with its data (appendonly). No acknowledged
// write may be lost, no two Redis may take writes at once, and the cluster ends with one master
// every host follows.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STRICT_FAULT_KINDS, describeSchedule, namedSchedules, runChaos } from '@redkeep/scripts/chaos';

describe('chaos lab: strict mode (three Redis hosts, three etcd members, 100 ms adverts)', () => {
  for (const s of namedSchedules([...STRICT_FAULT_KINDS, 'crash-aof']).filter((x) => x.name.startsWith('etcd-') || x.name === 'pause-agent' || x.name === 'crash-aof')) {
    it(`${s.name}: ${describeSchedule(s)}`, async () => {
      const r = await runChaos(s, { impl: 'redkeep-strict', hosts: 3, advertInterval: '100ms' });
      process.stdout.write(`# ${s.name}: ${r.acked} acknowledged, ${r.lost} lost (${r.unexplained} unexplained), longest gap ${r.longestGapMs} ms, two masters ${r.twoMastersMs} ms, end ${r.end}\n`);
      assert.equal(r.end, 'ok');
      assert.equal(r.lost, 0, `${r.lost} acknowledged writes lost`);
      assert.equal(r.twoMastersMs, 0, 'two Redis took writes at once');
      assert.ok(r.acked > 300, `the client kept writing (${r.acked})`);
    });
  }
});
