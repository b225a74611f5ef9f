import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EVENTS_KEPT, EventLog, formatEvent } from './events.js';

const logged = (n: number) => ({ at: `t${n}`, kind: 'transition', level: 'info' as const, message: `m${n}`, meta: { instance: 'redis-write', seq: -1, reason: 'r' } });

describe('event log', () => {
  it('numbers events in order, keeps the last ones, and tells subscribers until they leave', () => {
    const log = new EventLog();
    const seen: number[] = [];
    const stop = log.subscribe((e) => seen.push(e.seq));
    for (let i = 1; i <= EVENTS_KEPT + 10; i++) log.push(logged(i));
    stop();
    log.push(logged(999));
    assert.equal(seen.length, EVENTS_KEPT + 10);
    assert.deepEqual(seen.slice(0, 3), [1, 2, 3], "the event's own seq wins over metadata named seq");
    const kept = log.recent();
    assert.equal(kept.length, EVENTS_KEPT);
    assert.equal(kept[0]?.seq, 12);
    assert.equal(kept.at(-1)?.seq, EVENTS_KEPT + 11);
    assert.deepEqual(log.recent(2).map((e) => e.message), [`m${EVENTS_KEPT + 10}`, 'm999']);
    assert.deepEqual(log.recent(0), []);
  });

  it('formats an event as one line: time, instance, kind, level when not info, message, the rest', () => {
    assert.equal(formatEvent({ seq: 3, at: 'T', kind: 'fence', level: 'warn', message: 'fenced', instance: 'redis-write', agent: 'h1', peer: '192.0.2.13:6379' }), 'T redis-write fence WARN: fenced peer=192.0.2.13:6379');
    assert.equal(formatEvent({ seq: 4, at: 'T', kind: 'agent', level: 'info', message: 'redkeep started', instances: 1 }), 'T agent: redkeep started instances=1');
  });
});
