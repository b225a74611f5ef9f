// The agent's logger: lines to stdout (info, debug) and stderr (warn, error), as text or as JSON.
// Secrets never reach it: callers log names and addresses, never passwords.
//
// Under journald (see journal.ts) each line is a journal entry of its own, sent through the
// native protocol: MESSAGE, PRIORITY (error 3, warn 4, info 6, debug 7), SYSLOG_IDENTIFIER=redkeep
// and one field per metadata key (instance → INSTANCE...), whatever log_format says; the journal
// keeps its own timestamp, and `journalctl -o json` gives the fields as JSON. A line the socket
// does not take (journald away, a line too large for a datagram) goes to the stream instead,
// prefixed with its syslog priority (`<4>`) and without a timestamp, as text or JSON.
//
// Written here rather than taken from a logging library: one line per call is all the agent
// needs, and the library it replaced (winston) cost about 11 MB of resident memory, a quarter
// of the agent's whole budget. Pipes and terminals are written synchronously by Node on Linux,
// so a line is out before the call returns and nothing needs flushing at exit.

import type { LogFormat, LogLevel } from './config/config.js';
import { journalEntry, journalFieldName } from './journal.js';

const RANK: Readonly<Record<LogLevel, number>> = { error: 0, warn: 1, info: 2, debug: 3 };
/** syslog(3) priorities, as the journal files them (`journalctl -p warning`). */
export const PRIORITY: Readonly<Record<LogLevel, number>> = { error: 3, warn: 4, info: 6, debug: 7 };

export type LogMeta = Readonly<Record<string, unknown>>;

/** Where lines go; the process' stdout and stderr unless a test gives its own. */
export interface LogSink {
  out(line: string): void;
  err(line: string): void;
}

/** The journal's native socket: takes one entry per call, throws if it cannot. */
export interface JournalTarget {
  send(entry: Uint8Array): void;
}

const processSink: LogSink = {
  out: (line) => process.stdout.write(line),
  err: (line) => process.stderr.write(line),
};

/**
 * A line logged with an `event` key in its metadata (a transition, a fence, a hand-over, a hook's
 * result...): besides the log, it goes to `redkeep events`, whatever the log level.
 */
export interface LoggedEvent {
  readonly at: string;
  readonly kind: string;
  readonly level: LogLevel;
  readonly message: string;
  readonly meta: LogMeta;
}

export class Logger {
  /** The most verbose level written; a reload may change it. */
  level: LogLevel;
  /** Told of every line whose metadata has an `event` key (see LoggedEvent). */
  onEvent: ((e: LoggedEvent) => void) | undefined;
  /** Why the journal's socket refused lines (one warning per reason). */
  private readonly journalFailures = new Set<string>();

  constructor(
    level: LogLevel,
    /** text or json; a reload may change it. */
    public format: LogFormat,
    private readonly defaultMeta: LogMeta = {},
    private readonly sink: LogSink = processSink,
    private readonly journal?: JournalTarget,
  ) {
    this.level = level;
  }

  error(message: string, meta?: LogMeta): void {
    this.write('error', message, meta);
  }

  warn(message: string, meta?: LogMeta): void {
    this.write('warn', message, meta);
  }

  info(message: string, meta?: LogMeta): void {
    this.write('info', message, meta);
  }

  debug(message: string, meta?: LogMeta): void {
    this.write('debug', message, meta);
  }

  /** Whether a line of this level would be written (to skip building costly metadata). */
  enabled(level: LogLevel): boolean {
    return RANK[level] <= RANK[this.level];
  }

  private write(level: LogLevel, message: string, meta: LogMeta | undefined): void {
    const kind = meta?.event;
    const tapped = typeof kind === 'string' && this.onEvent !== undefined;
    if (RANK[level] > RANK[this.level] && !tapped) return;
    const timestamp = new Date().toISOString();
    const all = meta === undefined ? this.defaultMeta : { ...this.defaultMeta, ...meta };
    if (tapped) {
      const { event: _kind, ...rest } = all;
      this.onEvent?.({ at: timestamp, kind: kind as string, level, message, meta: rest });
      if (RANK[level] > RANK[this.level]) return;
    }
    if (this.journal && this.sendToJournal(level, message, all)) return;
    this.toStream(level, this.journal ? `<${PRIORITY[level]}>${this.render(level, message, all, undefined)}` : this.render(level, message, all, timestamp));
  }

  /** A line as text or JSON; the journal's stream form has no timestamp (and in text, no level). */
  private render(level: LogLevel, message: string, all: LogMeta, timestamp: string | undefined): string {
    if (this.format === 'json') return `${JSON.stringify({ ...all, level, message, ...(timestamp === undefined ? {} : { timestamp }) }, jsonSafe)}\n`;
    let extra = '';
    for (const [k, v] of Object.entries(all)) extra += ` ${k}=${textOf(v)}`;
    return `${timestamp === undefined ? '' : `${timestamp} ${level} `}${message}${extra}\n`;
  }

  private toStream(level: LogLevel, line: string): void {
    if (level === 'error' || level === 'warn') this.sink.err(line);
    else this.sink.out(line);
  }

  /** One entry through the native protocol; false (and a warning once per reason) if refused. */
  private sendToJournal(level: LogLevel, message: string, all: LogMeta): boolean {
    const fields: [string, string][] = [
      ['MESSAGE', message],
      ['PRIORITY', String(PRIORITY[level])],
      ['SYSLOG_IDENTIFIER', 'redkeep'],
    ];
    for (const [k, v] of Object.entries(all)) fields.push([journalFieldName(k), textOf(v)]);
    try {
      this.journal?.send(journalEntry(fields));
      return true;
    } catch (e) {
      const reason = (e as { code?: unknown }).code;
      const why = typeof reason === 'string' ? reason : e instanceof Error ? e.message : String(e);
      if (!this.journalFailures.has(why)) {
        this.journalFailures.add(why);
        const error = e instanceof Error ? e.message : String(e);
        this.sink.err(`<${PRIORITY.warn}>the journal socket refused a line (${why}); such lines go to the stream instead error=${error}\n`);
      }
      return false;
    }
  }
}

/** A metadata value in text: strings as they are, anything else as JSON. */
function textOf(v: unknown): string {
  return typeof v === 'string' ? v : String(JSON.stringify(v, jsonSafe));
}

/** Errors and bigints in metadata print as text rather than `{}` or a throw. */
function jsonSafe(_key: string, value: unknown): unknown {
  if (value instanceof Error) return value.message;
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** `journal`: where entries go under journald (see underJournald), instead of text or JSON lines. */
export function createLogger(level: LogLevel, format: LogFormat, defaultMeta: LogMeta = {}, sink?: LogSink, journal?: JournalTarget): Logger {
  return new Logger(level, format, defaultMeta, sink, journal);
}

/** Resolves once everything logged so far has been written (lines are written synchronously). */
export async function flushLogger(_logger: Logger): Promise<void> {
  // stdout and stderr to a file, pipe or terminal are synchronous on Linux, and so are datagrams
  // to the journal: nothing is pending.
  await new Promise<void>((resolve) => setImmediate(resolve));
}
