import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type LogSink, createLogger } from './log.js';

function sink(): LogSink & { out: (l: string) => void; err: (l: string) => void; outs: string[]; errs: string[] } {
  const outs: string[] = [];
  const errs: string[] = [];
  return { outs, errs, out: (l) => outs.push(l), err: (l) => errs.push(l) };
}

describe('logger', () => {
  it('writes info and debug to stdout, warn and error to stderr, one line each', () => {
    const s = sink();
    const log = createLogger('debug', 'text', { agent: 'h1' }, s);
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    assert.equal(s.outs.length, 2);
    assert.equal(s.errs.length, 2);
    for (const l of [...s.outs, ...s.errs]) assert.match(l, /^\d{4}-\d\d-\d\dT[\d:.]+Z (debug|info|warn|error) [diwe] agent=h1\n$/);
  });

  it('hands lines with an event key to onEvent whatever the level, without the key', () => {
    const s = sink();
    const log = createLogger('error', 'text', { agent: 'h1' }, s);
    const seen: unknown[] = [];
    log.info('no tap yet', { event: 'x' });
    log.onEvent = (e) => seen.push(e);
    log.info('backup -> master', { event: 'transition', instance: 'redis-write', reason: 'master-down-timer' });
    log.info('not an event', { instance: 'redis-write' });
    log.error('cannot fence', { event: 'fence' });
    assert.equal(seen.length, 2);
    assert.deepEqual({ ...(seen[0] as object), at: '' }, { at: '', kind: 'transition', level: 'info', message: 'backup -> master', meta: { agent: 'h1', instance: 'redis-write', reason: 'master-down-timer' } });
    assert.equal((seen[1] as { kind: string }).kind, 'fence');
    assert.equal(s.outs.length, 0, 'info stays below the log level');
    assert.match(s.errs[0] ?? '', / error cannot fence agent=h1 event=fence\n$/);
  });

  it('drops lines below its level, and follows a level changed at run time', () => {
    const s = sink();
    const log = createLogger('warn', 'text', {}, s);
    log.info('not written');
    assert.equal(s.outs.length, 0);
    assert.equal(log.enabled('info'), false);
    log.level = 'info';
    log.info('written');
    assert.equal(s.outs.length, 1);
  });

  it('writes JSON lines with the default and the call metadata, level, message and timestamp', () => {
    const s = sink();
    const log = createLogger('info', 'json', { agent: 'h1' }, s);
    log.warn('cannot send advert', { interface: 'eth0', error: new Error('EPERM'), n: 1n });
    const j = JSON.parse(s.errs[0] ?? '') as Record<string, unknown>;
    assert.deepEqual({ ...j, timestamp: undefined }, { agent: 'h1', interface: 'eth0', error: 'EPERM', n: '1', level: 'warn', message: 'cannot send advert', timestamp: undefined });
    assert.ok(!Number.isNaN(Date.parse(String(j.timestamp))));
  });

  it('prints non-string text metadata as JSON', () => {
    const s = sink();
    createLogger('info', 'text', {}, s).info('state', { priority: 120, peers: ['a', 'b'] });
    assert.match(s.outs[0] ?? '', / state priority=120 peers=\["a","b"\]\n$/);
  });
});
