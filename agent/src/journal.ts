// journald: whether systemd connected our stdout or stderr to the journal (JOURNAL_STREAM,
// systemd.exec(5)), and log entries in the journal's native protocol (systemd.io,
// JOURNAL_NATIVE_PROTOCOL): one AF_UNIX datagram per entry to /run/systemd/journal/socket, made
// of fields `NAME=value\n`, or, for a value holding a newline, `NAME\n`, its length as a 64-bit
// little-endian number, the value and `\n`.
//
// Field names (what the journal accepts: A-Z, 0-9 and `_`, not starting with `_` or a digit, at
// most 64 characters): a log line's metadata key upper-cased, a camelCase word boundary made a
// `_` and every other character a `_` (instance → INSTANCE, watchdogMs → WATCHDOG_MS,
// read-serve → READ_SERVE). A key that would start with `_` or a digit, or that names a field
// the journal itself gives a meaning to (MESSAGE, PRIORITY, ERRNO, SYSLOG_*...), is prefixed
// with REDKEEP_ (priority → REDKEEP_PRIORITY).

import { fstatSync } from 'node:fs';

/** Where journald listens for the native protocol. */
export const JOURNAL_SOCKET = '/run/systemd/journal/socket';

/** systemd.journal-fields(7): fields a client may send that the journal reads a meaning into. */
const JOURNAL_OWN_FIELDS = new Set([
  'MESSAGE',
  'MESSAGE_ID',
  'PRIORITY',
  'CODE_FILE',
  'CODE_LINE',
  'CODE_FUNC',
  'ERRNO',
  'INVOCATION_ID',
  'USER_INVOCATION_ID',
  'SYSLOG_FACILITY',
  'SYSLOG_IDENTIFIER',
  'SYSLOG_PID',
  'SYSLOG_TIMESTAMP',
  'SYSLOG_RAW',
  'DOCUMENTATION',
  'TID',
  'UNIT',
  'USER_UNIT',
]);

const MAX_FIELD_NAME = 64;

/** The journal field a metadata key is written as (the rule at the top of this file). */
export function journalFieldName(key: string): string {
  let name = key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toUpperCase()
    .replace(/[^A-Z0-9_]/g, '_');
  if (!/^[A-Z]/.test(name) || JOURNAL_OWN_FIELDS.has(name)) name = `REDKEEP_${name}`;
  return name.slice(0, MAX_FIELD_NAME);
}

/** One journal entry in the native protocol's serialization. */
export function journalEntry(fields: readonly (readonly [name: string, value: string])[]): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of fields) {
    if (!value.includes('\n')) {
      parts.push(Buffer.from(`${name}=${value}\n`));
      continue;
    }
    const bytes = Buffer.from(value);
    const size = Buffer.alloc(8);
    size.writeBigUInt64LE(BigInt(bytes.length));
    parts.push(Buffer.from(`${name}\n`), size, bytes, Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

/** The device and inode of an open file descriptor, or undefined if it is not open. */
export type FdIdentity = (fd: number) => { readonly dev: bigint; readonly ino: bigint } | undefined;

const fstatIdentity: FdIdentity = (fd) => {
  try {
    const s = fstatSync(fd, { bigint: true });
    return { dev: s.dev, ino: s.ino };
  } catch {
    return undefined;
  }
};

/**
 * Whether journald reads this process' stderr or stdout: JOURNAL_STREAM names the stream's
 * "DEVICE:INODE", and counts only while fd 2 (or fd 1) still is that stream; a process whose
 * output was redirected elsewhere inherits the variable but not the stream.
 */
export function underJournald(env: NodeJS.ProcessEnv = process.env, identity: FdIdentity = fstatIdentity): boolean {
  const m = /^(\d+):(\d+)$/.exec(env.JOURNAL_STREAM ?? '');
  if (!m?.[1] || !m[2]) return false;
  const dev = BigInt(m[1]);
  const ino = BigInt(m[2]);
  return [2, 1].some((fd) => {
    const id = identity(fd);
    return id !== undefined && id.dev === dev && id.ino === ino;
  });
}
