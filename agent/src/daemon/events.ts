// What `redkeep events` streams: the lines logged with an `event` key (transitions, fences,
// isolation and quorum, the write gate, hand-overs, takeovers, hooks, maintenance, reloads), in
// order, numbered, whatever the log level. The last EVENTS_KEPT are kept for a client that
// connects later; a client that does not read is dropped by the control socket, never buffered
// without bound here.

import type { LoggedEvent } from '../log.js';

export const EVENTS_KEPT = 256;

export interface AgentEvent {
  /** 1, 2, 3... since the agent started: a gap means events a client missed. */
  readonly seq: number;
  readonly at: string;
  readonly kind: string;
  readonly level: string;
  readonly message: string;
  readonly instance?: string;
  readonly [key: string]: unknown;
}

export class EventLog {
  private readonly kept: AgentEvent[] = [];
  private readonly listeners = new Set<(e: AgentEvent) => void>();
  private seq = 0;

  push(e: LoggedEvent): void {
    // The record's own fields win over metadata of the same name.
    const ev: AgentEvent = { ...e.meta, seq: ++this.seq, at: e.at, kind: e.kind, level: e.level, message: e.message };
    this.kept.push(ev);
    if (this.kept.length > EVENTS_KEPT) this.kept.shift();
    for (const l of this.listeners) l(ev);
  }

  /** The last `limit` events kept, oldest first. */
  recent(limit = EVENTS_KEPT): AgentEvent[] {
    return limit <= 0 ? [] : this.kept.slice(-limit);
  }

  /** Calls `fn` with every new event until the returned function is called. */
  subscribe(fn: (e: AgentEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}

/** One event as a line of text: time, instance, kind, message, the rest as key=value. */
export function formatEvent(e: AgentEvent): string {
  const { seq: _s, at, kind, level, message, instance, agent: _a, ...rest } = e;
  const extra = Object.entries(rest)
    .map(([k, v]) => ` ${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join('');
  return `${at} ${instance !== undefined ? `${String(instance)} ` : ''}${kind}${level === 'warn' || level === 'error' ? ` ${level.toUpperCase()}` : ''}: ${message}${extra}`;
}
