import { createConnection } from 'node:net';
import type { Output } from '../output.js';
import type { ControlRequest, ControlResponse } from './protocol.js';

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
      reject(new Error(`cannot reach redkeep at ${path}: ${e.code ?? e.message}${e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? ' (is the agent running?)' : ''}`));
    });
  });
}

/**
 * A CLI command's request to the agent: its result, or undefined after printing why not
 * ("redkeep NAME: ...") to stderr.
 */
export async function askAgent(name: string, path: string, req: ControlRequest, out: Output, timeoutMs?: number): Promise<unknown> {
  let res: ControlResponse;
  try {
    res = await controlRequest(path, req, timeoutMs);
  } catch (e) {
    out.error(`redkeep ${name}: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
  if (!res.ok) {
    out.error(`redkeep ${name}: ${res.error}`);
    return undefined;
  }
  return res.result;
}
