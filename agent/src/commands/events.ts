import { createConnection } from 'node:net';
import { agentNotRunning, unreachable } from '../control/client.js';
import type { ControlResponse, ControlStreamLine } from '../control/protocol.js';
import { type AgentEvent, formatEvent } from '../daemon/events.js';
import { EXIT } from '../exit-status.js';
import type { Output } from '../output.js';

export interface EventsArgs {
  readonly socket: string;
  readonly json: boolean;
  /** Keep printing new events until interrupted (default), or print the recent ones and exit. */
  readonly follow: boolean;
  readonly limit: number | undefined;
}

/**
 * `redkeep events [--json] [--no-follow] [--limit N]`: the agent's recent events, then each new
 * one as it happens (transitions, fences, isolation, hand-overs, hooks...). One line per event,
 * text or JSON. Ends with 0 when the agent closes the stream (it stopped) or at --no-follow.
 */
export function eventsCommand(args: EventsArgs, out: Output): Promise<number> {
  const print = (e: AgentEvent): void => out.print(args.json ? JSON.stringify(e) : formatEvent(e));
  return new Promise((resolve) => {
    const sock = createConnection(args.socket);
    let buf = '';
    let first = true;
    const fail = (why: string, status: number = EXIT.failed): void => {
      out.error(`redkeep events: ${why}`);
      sock.destroy();
      resolve(status);
    };
    const timer = setTimeout(() => fail(`no answer from ${args.socket} within 3000 ms`), 3000);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${JSON.stringify({ cmd: 'events', follow: args.follow, ...(args.limit !== undefined ? { limit: args.limit } : {}) })}\n`));
    sock.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let v: unknown;
        try {
          v = JSON.parse(line);
        } catch {
          fail('the agent answered something that is not JSON');
          return;
        }
        if (first) {
          first = false;
          clearTimeout(timer);
          const r = v as ControlResponse;
          if (!r.ok) {
            fail(r.error);
            return;
          }
          for (const e of r.result as AgentEvent[]) print(e);
          if (!args.follow) {
            sock.end();
            resolve(0);
            return;
          }
        } else print((v as ControlStreamLine).event as AgentEvent);
      }
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (first) fail(unreachable(args.socket, e), agentNotRunning(e) ? EXIT.notRunning : EXIT.failed);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(0);
    });
  });
}
