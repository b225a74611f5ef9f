import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TrackSettings } from '../config/config.js';
import { Logger } from '../log.js';
import { TrackRunner } from './track-runner.js';

const log = new Logger('error', 'text', {}, { out: () => undefined, err: () => undefined });

/** An exec track whose interval is long: checks run only when the test lets them. */
const DEF: TrackSettings = { name: 'app', type: 'exec', intervalMs: 60_000, timeoutMs: 1000, rise: 1, fall: 1, weight: -20, command: ['/old'], file: undefined };

type Result = { ok: boolean; detail: string };

/** A track whose checks are answered by the test, one call at a time. */
function harness(def: TrackSettings = DEF) {
  const calls: { command: readonly string[]; answer: (r: Result) => void }[] = [];
  const changes: boolean[] = [];
  const t = new TrackRunner(
    def,
    'redis-write',
    (d) => new Promise<Result>((resolve) => calls.push({ command: d.command, answer: resolve })),
    (ok) => changes.push(ok),
    log,
  );
  return { t, calls, changes };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('a track updated by a reload', () => {
  it('keeps its state and runs the new check next, at once', async () => {
    const { t, calls, changes } = harness();
    t.start();
    calls[0]?.answer({ ok: true, detail: 'exit 0' });
    await settle();
    assert.deepEqual(changes, [true]);
    t.update({ ...DEF, command: ['/new'] });
    await settle();
    assert.equal(calls.length, 2, 'the new check ran without waiting for the interval');
    assert.deepEqual(calls[1]?.command, ['/new']);
    assert.equal(t.ok, true, 'still ok meanwhile');
    calls[1]?.answer({ ok: true, detail: 'exit 0' });
    await settle();
    assert.deepEqual(changes, [true], 'no change reported');
    t.stop();
  });

  it('drops the result of an old check still running, then runs the new one', async () => {
    const { t, calls, changes } = harness();
    t.start();
    calls[0]?.answer({ ok: true, detail: 'exit 0' });
    await settle();
    t.update({ ...DEF, intervalMs: 30_000 });
    await settle();
    assert.equal(calls.length, 2);
    // A reload while the check (of the previous settings) is out.
    t.update({ ...DEF, intervalMs: 30_000, command: ['/new'] });
    await settle();
    assert.equal(calls.length, 2, 'no second run beside the one out');
    calls[1]?.answer({ ok: false, detail: 'exit 1' });
    await settle();
    assert.deepEqual(changes, [true], 'the old check\'s failure did not count');
    assert.equal(t.ok, true);
    assert.equal(calls.length, 3);
    assert.deepEqual(calls[2]?.command, ['/new']);
    calls[2]?.answer({ ok: false, detail: 'exit 1' });
    await settle();
    assert.deepEqual(changes, [true, false], 'the new check\'s result counts');
    t.stop();
  });

  it('takes new rise and fall from its current state', async () => {
    const { t, calls, changes } = harness();
    t.start();
    calls[0]?.answer({ ok: true, detail: 'exit 0' });
    await settle();
    t.update({ ...DEF, fall: 2 });
    await settle();
    calls[1]?.answer({ ok: false, detail: 'exit 1' });
    await settle();
    assert.equal(t.ok, true, 'one failure of two');
    assert.deepEqual(changes, [true]);
    t.stop();
  });

  it('refuses a change of type, which needs a new instance', () => {
    const { t } = harness();
    assert.throws(() => t.update({ ...DEF, type: 'file', file: '/run/x' }), /name or type/);
    t.stop();
  });

  it('does nothing for the same settings, nor once stopped', async () => {
    const { t, calls } = harness();
    t.start();
    calls[0]?.answer({ ok: true, detail: 'exit 0' });
    await settle();
    t.update({ ...DEF });
    await settle();
    assert.equal(calls.length, 1);
    t.stop();
    t.update({ ...DEF, command: ['/new'] });
    await settle();
    assert.equal(calls.length, 1);
  });
});

describe('a track that fails from the start', () => {
  it('says so once, as a warning, after `fall` failures, without a state change', async () => {
    const lines: string[] = [];
    const warnLog = new Logger('warn', 'text', {}, { out: (l) => lines.push(l), err: (l) => lines.push(l) });
    const calls: ((r: Result) => void)[] = [];
    const changes: boolean[] = [];
    const t = new TrackRunner({ ...DEF, fall: 2, intervalMs: 1 }, 'redis-write', () => new Promise<Result>((resolve) => calls.push(resolve)), (ok) => changes.push(ok), warnLog);
    t.start();
    calls[0]?.({ ok: false, detail: 'exit 1' });
    await waitForCalls(calls, 2);
    assert.deepEqual(lines, [], 'one failure of two: nothing yet');
    calls[1]?.({ ok: false, detail: 'exit 1' });
    await waitForCalls(calls, 3);
    calls[2]?.({ ok: false, detail: 'exit 1' });
    await waitForCalls(calls, 4);
    t.stop();
    assert.equal(lines.filter((l) => / warn track failed /.test(l)).length, 1, lines.join(''));
    assert.match(lines[0] ?? '', /track=app detail=exit 1 since=start/);
    assert.deepEqual(changes, [], 'it was failed from the start: no change');
  });
});

async function waitForCalls(calls: readonly unknown[], n: number): Promise<void> {
  for (let i = 0; i < 200 && calls.length < n; i++) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(calls.length, n);
}
