import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatHandoverMessage, handoverChannel, parseHandoverMessage, parseStateChannel, stateChannel, stateChannelPattern, successorCandidates } from './handover.js';

describe('the hand-over channel', () => {
  it('formats and parses its messages, and nothing else', () => {
    for (const m of [{ type: 'designate', from: '192.0.2.13', to: '192.0.2.12' }, { type: 'holds', by: 'fe80::1' }] as const) {
      assert.deepEqual(parseHandoverMessage(formatHandoverMessage(m)), m);
    }
    for (const junk of ['', 'designate', 'designate a', 'designate a b c', 'holds', 'hello world', 'holds  ']) assert.equal(parseHandoverMessage(junk), undefined, junk);
    assert.equal(handoverChannel(51), '__redkeep__:51:handover');
  });

  it('names an agent\'s VRRP state in a channel, IPv6 included', () => {
    for (const address of ['192.0.2.12', 'fe80::1:2']) {
      const c = stateChannel(51, address, 'backup', 120);
      assert.ok(c.startsWith(stateChannelPattern(51).slice(0, -1)));
      assert.deepEqual(parseStateChannel(51, c), { address, state: 'backup', priority: 120 });
      assert.equal(parseStateChannel(52, c), undefined, 'another VRID');
    }
    for (const junk of ['__redkeep__:51:vrrp:backup:120', '__redkeep__:51:vrrp:dancing:120:192.0.2.1', '__redkeep__:51:vrrp:backup:999:192.0.2.1', '__redkeep__:51:vrrp:backup:x:192.0.2.1']) assert.equal(parseStateChannel(51, junk), undefined, junk);
  });

  it('lists the backups an election chooses from, when every member says where it stands', () => {
    const ch = (a: string, state: 'backup' | 'fault', p: number): string => stateChannel(51, a, state, p);
    const r = successorCandidates(51, [
      { address: '192.0.2.11', channels: [ch('192.0.2.11', 'backup', 110)] },
      { address: '192.0.2.12', channels: [ch('192.0.2.12', 'backup', 120), '__redkeep__:51:handover'] },
      { address: '192.0.2.14', channels: [ch('192.0.2.14', 'fault', 1)] },
    ]);
    assert.deepEqual(r, { ok: true, candidates: [{ address: '192.0.2.11', priority: 110 }, { address: '192.0.2.12', priority: 120 }] });
  });

  it('cannot tell when a member did not answer, shows no state of its own, or claims another\'s', () => {
    const mine = { address: '192.0.2.11', channels: [stateChannel(51, '192.0.2.11', 'backup', 110)] };
    assert.equal(successorCandidates(51, [mine, { address: '192.0.2.12', channels: undefined }]).ok, false);
    assert.equal(successorCandidates(51, [mine, { address: '192.0.2.12', channels: [] }]).ok, false);
    const r = successorCandidates(51, [mine, { address: '192.0.2.12', channels: [stateChannel(51, '192.0.2.11', 'backup', 250)] }]);
    assert.ok(!r.ok && r.why.includes('192.0.2.12 shows no VRRP state'));
    assert.equal(successorCandidates(51, [{ address: '192.0.2.12', channels: [stateChannel(51, '192.0.2.12', 'fault', 1)] }]).ok, false, 'no backup');
  });
});
