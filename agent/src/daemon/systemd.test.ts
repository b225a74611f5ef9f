import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { createLogger } from '../log.js';
import { STOP_EXTEND_BY_MS, STOP_EXTEND_EVERY_MS, STOP_EXTEND_MAX_MS, SystemdNotifier } from './systemd.js';

const log = createLogger('error', 'json');

function notifier(env: NodeJS.ProcessEnv, pid = 4242): { n: SystemdNotifier; sent: string[]; env: NodeJS.ProcessEnv } {
  const sent: string[] = [];
  const n = new SystemdNotifier(log, env, (path, data) => sent.push(`${path} ${Buffer.from(data).toString()}`), pid, () => 123456789n);
  return { n, sent, env };
}

describe('sd_notify', () => {
  it('is a no-op without NOTIFY_SOCKET', () => {
    const { n, sent } = notifier({});
    n.ready('MASTER on w');
    n.status('BACKUP on w');
    n.reloading();
    n.reloaded('MASTER on w');
    n.stopping();
    n.stopped();
    assert.equal(n.enabled, false);
    assert.deepEqual(sent, []);
  });

  it('sends READY with the status, then each status once, then STOPPING; hides the variables from children', () => {
    const { n, sent, env } = notifier({ NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '10000000', WATCHDOG_PID: '4242', PATH: '/bin' });
    assert.deepEqual(Object.keys(env), ['PATH']);
    assert.equal(n.watchdogIntervalMs, 5000);
    n.ready('BACKUP on w');
    n.status('BACKUP on w');
    n.status('MASTER on w');
    n.status('MASTER on w');
    n.stopping();
    n.stopped();
    assert.deepEqual(sent, [
      `/run/systemd/notify READY=1\nSTATUS=BACKUP on w\nMAINPID=${process.pid}`,
      '/run/systemd/notify STATUS=MASTER on w',
      '/run/systemd/notify STOPPING=1\nSTATUS=stopping\nEXTEND_TIMEOUT_USEC=15000000',
    ]);
  });

  it('says RELOADING with the monotonic clock when a reload begins, and READY with the status when it ends', () => {
    const { n, sent } = notifier({ NOTIFY_SOCKET: '/run/systemd/notify' });
    n.reloading();
    n.reloaded('BACKUP on w');
    assert.deepEqual(sent, [], 'nothing about reloads before the agent is ready');
    n.ready('BACKUP on w');
    sent.length = 0;
    n.reloading();
    n.status('MASTER on w');
    n.reloaded('MASTER on w');
    n.reloading();
    n.reloaded('MASTER on w');
    assert.deepEqual(sent, [
      '/run/systemd/notify RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=123456789',
      '/run/systemd/notify STATUS=MASTER on w',
      '/run/systemd/notify READY=1\nSTATUS=MASTER on w',
      '/run/systemd/notify RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=123456789',
      '/run/systemd/notify READY=1\nSTATUS=MASTER on w',
    ]);
  });

  it('says nothing of a reload that ends after the shutdown began', () => {
    const { n, sent } = notifier({ NOTIFY_SOCKET: '/run/systemd/notify' });
    n.ready('MASTER on w');
    n.reloading();
    n.stopping();
    n.reloaded('MASTER on w');
    n.reloading();
    n.stopped();
    assert.deepEqual(
      sent.map((m) => m.split('\n')[0]),
      ['/run/systemd/notify READY=1', '/run/systemd/notify RELOADING=1', '/run/systemd/notify STOPPING=1'],
    );
  });

  it('reads MONOTONIC_USEC from CLOCK_MONOTONIC by default', () => {
    const sent: string[] = [];
    const n = new SystemdNotifier(log, { NOTIFY_SOCKET: '@x' }, (_path, data) => sent.push(Buffer.from(data).toString()));
    n.ready('x');
    const before = process.hrtime.bigint() / 1000n;
    n.reloading();
    const after = process.hrtime.bigint() / 1000n;
    const usec = BigInt(/MONOTONIC_USEC=(\d+)$/.exec(sent[1] ?? '')?.[1] ?? '-1');
    assert.ok(usec >= before && usec <= after, `${usec} within [${before}, ${after}]`);
  });

  it('asks for more stop time while the shutdown path runs, and stops asking when it ends', () => {
    mock.timers.enable({ apis: ['setInterval'] });
    try {
      const { n, sent } = notifier({ NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '2000000' });
      n.ready('MASTER on w');
      n.stopping();
      n.stopping();
      mock.timers.tick(3 * STOP_EXTEND_EVERY_MS);
      n.stopped();
      mock.timers.tick(10 * STOP_EXTEND_EVERY_MS);
      const extend = `EXTEND_TIMEOUT_USEC=${STOP_EXTEND_BY_MS * 1000}`;
      assert.deepEqual(sent.slice(1), [`/run/systemd/notify STOPPING=1\nSTATUS=stopping\n${extend}`, ...Array<string>(3).fill(`/run/systemd/notify ${extend}`)]);
      assert.ok(STOP_EXTEND_BY_MS > STOP_EXTEND_EVERY_MS, 'each extension outlasts the interval to the next');
    } finally {
      mock.timers.reset();
    }
  });

  it('stops asking for more time once the shutdown has run for the longest it may', () => {
    mock.timers.enable({ apis: ['setInterval'] });
    try {
      const { n, sent } = notifier({ NOTIFY_SOCKET: '/run/systemd/notify' });
      n.stopping();
      mock.timers.tick(2 * STOP_EXTEND_MAX_MS);
      assert.equal(sent.length, 1 + STOP_EXTEND_MAX_MS / STOP_EXTEND_EVERY_MS);
    } finally {
      mock.timers.reset();
    }
  });

  it('leaves the watchdog off when it is meant for another process or not set', () => {
    assert.equal(notifier({ NOTIFY_SOCKET: '@x', WATCHDOG_USEC: '1000000', WATCHDOG_PID: '1' }).n.watchdogIntervalMs, undefined);
    assert.equal(notifier({ NOTIFY_SOCKET: '@x' }).n.watchdogIntervalMs, undefined);
    assert.equal(notifier({ WATCHDOG_USEC: '1000000' }).n.watchdogIntervalMs, undefined);
  });

  it('logs a failing socket and keeps running', () => {
    const n = new SystemdNotifier(log, { NOTIFY_SOCKET: '/nonexistent' }, () => {
      throw new Error('ENOENT');
    });
    assert.doesNotThrow(() => n.ready('x'));
  });
});
