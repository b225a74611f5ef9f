// The agent's logger: lines to stdout (info, debug) and stderr (warn, error), as text or as JSON.
// Secrets never reach it: callers log names and addresses, never passwords.
//
// Written here rather than taken from a logging library: one line per call is all the agent
// needs, and the library it replaced (winston) cost about 11 MB of resident memory, a quarter
// of the agent's whole budget. Pipes and terminals are written synchronously by Node on Linux,
// so a line is out before the call returns and nothing needs flushing at exit.

import type { LogFormat, LogLevel } from './config/config.js';

const RANK: Readonly<Record<LogLevel, number>> = { error: 0, warn: 1, info: 2, debug: 3 };

export type LogMeta = Readonly<Record<string, unknown>>;

/** Where lines go; the process' stdout and stderr unless a test gives its own. */
export interface LogSink {
  out(line: string): void;
  err(line: string): void;
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

  constructor(
    level: LogLevel,
    /** text or json; a reload may change it. */
    public format: LogFormat,
    private readonly defaultMeta: LogMeta = {},
    private readonly sink: LogSink = processSink,
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
    let line: string;
    if (this.format === 'json') {
      line = `${JSON.stringify({ ...all, level, message, timestamp }, jsonSafe)}\n`;
    } else {
      let extra = '';
      for (const [k, v] of Object.entries(all)) extra += ` ${k}=${typeof v === 'string' ? v : JSON.stringify(v, jsonSafe)}`;
      line = `${timestamp} ${level} ${message}${extra}\n`;
    }
    if (level === 'error' || level === 'warn') this.sink.err(line);
    else this.sink.out(line);
  }
}

/** Errors and bigints in metadata print as text rather than `{}` or a throw. */
function jsonSafe(_key: string, value: unknown): unknown {
  if (value instanceof Error) return value.message;
  if (typeof value === 'bigint') return value.toString();
  return value;
}

export function createLogger(level: LogLevel, format: LogFormat, defaultMeta: LogMeta = {}, sink?: LogSink): Logger {
  return new Logger(level, format, defaultMeta, sink);
}

/** Resolves once everything logged so far has been written (lines are written synchronously). */
export async function flushLogger(_logger: Logger): Promise<void> {
  // stdout and stderr to a file, pipe or terminal are synchronous on Linux: nothing is pending.
  await new Promise<void>((resolve) => setImmediate(resolve));
}
