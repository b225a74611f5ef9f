// The agent's logger: winston to stdout (info, debug) and stderr (warn, error), as text lines or
// JSON lines. Secrets never reach it: callers log names and addresses, never passwords.

import winston from 'winston';
import type { LogFormat, LogLevel } from './config/config.js';

export type Logger = winston.Logger;

export function createLogger(level: LogLevel, format: LogFormat, defaultMeta: Record<string, unknown> = {}): Logger {
  const fmt =
    format === 'json'
      ? winston.format.combine(winston.format.timestamp(), winston.format.json())
      : winston.format.combine(
          winston.format.timestamp(),
          winston.format.printf((info) => {
            const { level: lvl, message, timestamp, ...rest } = info;
            const extra = Object.entries(rest)
              .filter(([k]) => typeof k === 'string')
              .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
              .join(' ');
            return `${String(timestamp)} ${lvl} ${String(message)}${extra ? ` ${extra}` : ''}`;
          }),
        );
  return winston.createLogger({
    level,
    defaultMeta,
    format: fmt,
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn'] })],
  });
}

/** Resolves once everything logged so far has been written. */
export function flushLogger(logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => resolve();
    logger.on('finish', done);
    logger.end();
    setTimeout(done, 500).unref();
  });
}
