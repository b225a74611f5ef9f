import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../log.js';
import { SystemdNotifier } from './systemd.js';

const log = createLogger('error', 'json');

function notifier(env: NodeJS.ProcessEnv, pid = 4242): { n: SystemdNotifier; sent: string[]; env: NodeJS.ProcessEnv } {
  const sent: string[] = [];
  const n = new SystemdNotifier(log, env, (path, data) => sent.push(`${path} ${Buffer.from(data).toString()}`), pid);
  return { n, sent, env };
}

describe('sd_notify', () => {
  it('is a no-op without NOTIFY_SOCKET', () => {
    const { n, sent } = notifier({});
    n.ready('MASTER on w');
    n.status('BACKUP on w');
    n.stopping();
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
    assert.deepEqual(sent, [
      `/run/systemd/notify READY=1\nSTATUS=BACKUP on w\nMAINPID=${process.pid}`,
      '/run/systemd/notify STATUS=MASTER on w',
      '/run/systemd/notify STOPPING=1\nSTATUS=stopping',
    ]);
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
