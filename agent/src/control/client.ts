import { createConnection } from 'node:net';
import { EXIT } from '../exit-status.js';
import type { Output } from '../output.js';
import type { ControlRequest, ControlResponse } from './protocol.js';

/** The control socket is missing or refuses connections: no agent runs there. */
export class AgentNotRunningError extends Error {
  override readonly name = 'AgentNotRunningError';
  readonly code = 'ERR_AGENT_NOT_RUNNING';
}

/** Whether a connection error on the control socket means that no agent runs there. */
export function agentNotRunning(e: NodeJS.ErrnoException): boolean {
  return e.code === 'ENOENT' || e.code === 'ECONNREFUSED';
}

/** The sentence for a control socket the CLI cannot connect to. */
export function unreachable(path: string, e: NodeJS.ErrnoException): string {
  return `cannot reach redkeep at ${path}: ${e.code ?? e.message}${agentNotRunning(e) ? ' (is the agent running?)' : ''}`;
}

/** Sends one request to the agent and resolves with its response. */
export function controlRequest(path: string, req: ControlRequest, timeoutMs = 3000): Promise<ControlResponse> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer from ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${JSON.stringify(req)}\n`));
    sock.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      sock.end();
      try {
        resolve(JSON.parse(buf.slice(0, nl)) as ControlResponse);
      } catch {
        reject(new Error('the agent answered something that is not JSON'));
      }
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(agentNotRunning(e) ? new AgentNotRunningError(unreachable(path, e)) : new Error(unreachable(path, e)));
    });
  });
}

/** The agent's answer to a CLI command, or the exit status after saying why not. */
export type AgentAnswer = { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly status: number };

/**
 * A CLI command's request to the agent: its result, or, after printing why not ("redkeep NAME:
 * ...") to stderr, the exit status: 3 when no agent runs there, else 1.
 */
export async function askAgent(name: string, path: string, req: ControlRequest, out: Output, timeoutMs?: number): Promise<AgentAnswer> {
  let res: ControlResponse;
  try {
    res = await controlRequest(path, req, timeoutMs);
  } catch (e) {
    out.error(`redkeep ${name}: ${e instanceof Error ? e.message : String(e)}`);
    return { ok: false, status: e instanceof AgentNotRunningError ? EXIT.notRunning : EXIT.failed };
  }
  if (!res.ok) {
    out.error(`redkeep ${name}: ${res.error}`);
    return { ok: false, status: EXIT.failed };
  }
  return { ok: true, result: res.result };
}
