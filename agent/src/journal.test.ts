import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { UnixDatagramReceiver, sendUnixDatagram } from '@redkeep/afpacket';
import { childEnv } from './child-env.js';
import { journalEntry, journalFieldName, underJournald } from './journal.js';
import { type JournalTarget, type LogSink, createLogger } from './log.js';

/** Reads a native-protocol entry back into its fields, checking the framing as journald would. */
function parseEntry(data: Uint8Array): [string, string][] {
  const buf = Buffer.from(data);
  const fields: [string, string][] = [];
  let at = 0;
  while (at < buf.length) {
    const nl = buf.indexOf(0x0a, at);
    assert.ok(nl >= 0, 'every field ends with a newline');
    const line = buf.subarray(at, nl).toString();
    const eq = line.indexOf('=');
    if (eq >= 0) {
      fields.push([line.slice(0, eq), line.slice(eq + 1)]);
      at = nl + 1;
      continue;
    }
    const size = Number(buf.readBigUInt64LE(nl + 1));
    const start = nl + 9;
    fields.push([line, buf.subarray(start, start + size).toString()]);
    assert.equal(buf[start + size], 0x0a, 'a binary value ends with a newline');
    at = start + size + 1;
  }
  for (const [name] of fields) assert.match(name, /^[A-Z][A-Z0-9_]{0,63}$/, `${name} is a valid journal field name`);
  return fields;
}

function streams(): LogSink & { outs: string[]; errs: string[] } {
  const outs: string[] = [];
  const errs: string[] = [];
  return { outs, errs, out: (l) => outs.push(l), err: (l) => errs.push(l) };
}

function capture(): JournalTarget & { entries: [string, string][][] } {
  const entries: [string, string][][] = [];
  return { entries, send: (e) => entries.push(parseEntry(e)) };
}

describe('journal field names', () => {
  it('upper-cases keys and makes camelCase boundaries and other characters underscores', () => {
    assert.equal(journalFieldName('instance'), 'INSTANCE');
    assert.equal(journalFieldName('state'), 'STATE');
    assert.equal(journalFieldName('reason'), 'REASON');
    assert.equal(journalFieldName('event'), 'EVENT');
    assert.equal(journalFieldName('watchdogMs'), 'WATCHDOG_MS');
    assert.equal(journalFieldName('handedOverTo'), 'HANDED_OVER_TO');
    assert.equal(journalFieldName('read-serve'), 'READ_SERVE');
    assert.equal(journalFieldName('a.b c'), 'A_B_C');
  });

  it("prefixes REDKEEP_ to keys that would start with _ or a digit, or name the journal's own fields", () => {
    assert.equal(journalFieldName('_pid'), 'REDKEEP__PID');
    assert.equal(journalFieldName('2nd'), 'REDKEEP_2ND');
    assert.equal(journalFieldName('message'), 'REDKEEP_MESSAGE');
    assert.equal(journalFieldName('priority'), 'REDKEEP_PRIORITY');
    assert.equal(journalFieldName('errno'), 'REDKEEP_ERRNO');
    assert.equal(journalFieldName(''), 'REDKEEP_');
    assert.equal(journalFieldName('é'), 'REDKEEP__');
  });

  it('keeps names within 64 characters', () => {
    assert.equal(journalFieldName('x'.repeat(100)), 'X'.repeat(64));
    assert.equal(journalFieldName(`9${'y'.repeat(100)}`).length, 64);
  });
});

describe('journal entries', () => {
  it('writes NAME=value lines, and values with newlines in the length-prefixed binary form', () => {
    const e = journalEntry([
      ['MESSAGE', 'hook failed'],
      ['STDERR', 'line 1\nline 2'],
    ]);
    const size = Buffer.alloc(8);
    size.writeBigUInt64LE(13n);
    assert.deepEqual(e, Buffer.concat([Buffer.from('MESSAGE=hook failed\nSTDERR\n'), size, Buffer.from('line 1\nline 2\n')]));
  });

  it('counts the binary length in bytes, not characters', () => {
    assert.deepEqual(parseEntry(journalEntry([['X', 'é\n€']])), [['X', 'é\n€']]);
    assert.equal(journalEntry([['X', 'é\n€']]).readBigUInt64LE(2), 6n);
  });
});

describe('journald detection', () => {
  const ids = { 1: { dev: 25n, ino: 1001n }, 2: { dev: 25n, ino: 1002n } } as Record<number, { dev: bigint; ino: bigint }>;
  const identity = (fd: number): { dev: bigint; ino: bigint } | undefined => ids[fd];

  it('applies when stderr or stdout is the stream JOURNAL_STREAM names', () => {
    assert.equal(underJournald({ JOURNAL_STREAM: '25:1002' }, identity), true);
    assert.equal(underJournald({ JOURNAL_STREAM: '25:1001' }, identity), true);
  });

  it('does not apply without the variable, with a malformed one, or when the streams were redirected', () => {
    assert.equal(underJournald({}, identity), false);
    assert.equal(underJournald({ JOURNAL_STREAM: 'x:1' }, identity), false);
    assert.equal(underJournald({ JOURNAL_STREAM: '25:9' }, identity), false);
    assert.equal(underJournald({ JOURNAL_STREAM: '26:1002' }, identity), false);
    assert.equal(underJournald({ JOURNAL_STREAM: '25:1002' }, () => undefined), false);
  });

  it('reads the real descriptors when none are injected', () => {
    assert.equal(underJournald({ JOURNAL_STREAM: '0:0' }), false);
  });

  it('keeps JOURNAL_STREAM from hooks and checks', () => {
    process.env.JOURNAL_STREAM = '25:1002';
    try {
      assert.equal(childEnv({ REDKEEP_STATE: 'master' }).JOURNAL_STREAM, undefined);
      assert.equal(childEnv().PATH, process.env.PATH);
    } finally {
      delete process.env.JOURNAL_STREAM;
    }
  });
});

describe('logger under journald', () => {
  it('sends each line as an entry with MESSAGE, PRIORITY, SYSLOG_IDENTIFIER and a field per metadata key', () => {
    const j = capture();
    const s = streams();
    const log = createLogger('debug', 'text', { agent: 'h1' }, s, j);
    log.warn('track failed', { event: 'track', instance: 'redis-write', track: 'redis-ping', reason: 'timeout', ms: 250 });
    log.error('e');
    log.info('i');
    log.debug('d');
    assert.deepEqual(j.entries[0], [
      ['MESSAGE', 'track failed'],
      ['PRIORITY', '4'],
      ['SYSLOG_IDENTIFIER', 'redkeep'],
      ['AGENT', 'h1'],
      ['EVENT', 'track'],
      ['INSTANCE', 'redis-write'],
      ['TRACK', 'redis-ping'],
      ['REASON', 'timeout'],
      ['MS', '250'],
    ]);
    assert.deepEqual(
      j.entries.map((e) => e.find(([k]) => k === 'PRIORITY')?.[1]),
      ['4', '3', '6', '7'],
    );
    assert.deepEqual([s.outs, s.errs], [[], []], 'nothing on the streams');
  });

  it('sends the same fields whatever log_format says', () => {
    const text = capture();
    const json = capture();
    createLogger('info', 'text', {}, streams(), text).info('m', { peers: ['a', 'b'], error: new Error('EPERM') });
    createLogger('info', 'json', {}, streams(), json).info('m', { peers: ['a', 'b'], error: new Error('EPERM') });
    assert.deepEqual(json.entries, text.entries);
    assert.deepEqual(text.entries[0]?.slice(3), [
      ['PEERS', '["a","b"]'],
      ['ERROR', '"EPERM"'],
    ]);
  });

  it('sends a multi-line value (a hook stderr) in the binary form', () => {
    const sent: Buffer[] = [];
    createLogger('info', 'text', {}, streams(), { send: (e) => sent.push(Buffer.from(e)) }).warn('hook failed', { stderr: 'no route\nexit 2' });
    assert.ok(sent[0]?.includes(Buffer.from('STDERR\n')));
    assert.deepEqual(parseEntry(sent[0] ?? Buffer.alloc(0)).at(-1), ['STDERR', 'no route\nexit 2']);
  });

  it('still hands events to onEvent and drops lines below its level', () => {
    const j = capture();
    const log = createLogger('warn', 'text', {}, streams(), j);
    const seen: string[] = [];
    log.onEvent = (e) => seen.push(e.kind);
    log.info('backup -> master', { event: 'transition' });
    log.debug('not written');
    assert.deepEqual(seen, ['transition']);
    assert.equal(j.entries.length, 0);
  });

  it('falls back to the stream with a priority prefix and no timestamp, and warns once per reason', () => {
    const s = streams();
    let failWith: string | undefined = 'EMSGSIZE';
    const log = createLogger('info', 'text', { agent: 'h1' }, s, {
      send: () => {
        if (failWith) throw Object.assign(new Error(`sendto(AF_UNIX): ${failWith}`), { code: failWith });
      },
    });
    log.warn('big', { instance: 'w' });
    log.info('big again');
    failWith = undefined;
    log.info('fits');
    failWith = 'ENOENT';
    log.error('journald away');
    log.error('still away');
    assert.deepEqual(s.outs, ['<6>big again agent=h1\n']);
    assert.deepEqual(s.errs, [
      '<4>the journal socket refused a line (EMSGSIZE); such lines go to the stream instead error=sendto(AF_UNIX): EMSGSIZE\n',
      '<4>big agent=h1 instance=w\n',
      '<4>the journal socket refused a line (ENOENT); such lines go to the stream instead error=sendto(AF_UNIX): ENOENT\n',
      '<3>journald away agent=h1\n',
      '<3>still away agent=h1\n',
    ]);
  });

  it('falls back to JSON without a timestamp when log_format is json', () => {
    const s = streams();
    createLogger('info', 'json', { agent: 'h1' }, s, {
      send: () => {
        throw new Error('ENOENT');
      },
    }).info('m', { instance: 'w' });
    assert.deepEqual(s.outs, ['<6>{"agent":"h1","instance":"w","level":"info","message":"m"}\n']);
  });
});

describe('logger to a real journal socket', () => {
  const dir = mkdtempSync(join(tmpdir(), 'redkeep-journal-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('sends datagrams that parse into the fields, and takes the stream for one too large', async () => {
    const path = join(dir, 'socket');
    const got: Buffer[] = [];
    let arrived: () => void = () => undefined;
    const receiver = UnixDatagramReceiver.bind(path, (d) => {
      got.push(Buffer.from(d));
      if (got.length === 2) arrived();
    });
    try {
      const s = streams();
      const log = createLogger('info', 'text', { agent: 'h1' }, s, { send: (e) => sendUnixDatagram(path, e) });
      const both = new Promise<void>((resolve) => {
        arrived = resolve;
      });
      log.warn('track failed', { instance: 'redis-write', state: 'master', reason: 'redis-ping down' });
      log.info('hook done', { stderr: 'a\nb' });
      // Larger than an AF_UNIX datagram the kernel takes (a socket's send buffer, 208 KiB by default).
      const huge = 'x'.repeat(4 * 1024 * 1024);
      log.info(huge);
      await both;
      assert.deepEqual(parseEntry(got[0] ?? Buffer.alloc(0)), [
        ['MESSAGE', 'track failed'],
        ['PRIORITY', '4'],
        ['SYSLOG_IDENTIFIER', 'redkeep'],
        ['AGENT', 'h1'],
        ['INSTANCE', 'redis-write'],
        ['STATE', 'master'],
        ['REASON', 'redis-ping down'],
      ]);
      assert.deepEqual(parseEntry(got[1] ?? Buffer.alloc(0)).at(-1), ['STDERR', 'a\nb']);
      assert.equal(s.outs.length, 1);
      assert.ok(s.outs[0] === `<6>${huge} agent=h1\n`, 'the large line on stdout, with its priority');
      assert.match(s.errs[0] ?? '', /^<4>the journal socket refused a line \(EMSGSIZE\)/);
    } finally {
      receiver.close();
    }
  });

  it('takes the stream when no journal listens', () => {
    const s = streams();
    const log = createLogger('info', 'text', {}, s, { send: (e) => sendUnixDatagram(join(dir, 'absent'), e) });
    log.info('nobody there');
    assert.deepEqual(s.outs, ['<6>nobody there\n']);
    assert.match(s.errs[0] ?? '', /^<4>the journal socket refused a line \(ENOENT\)/);
  });
});
