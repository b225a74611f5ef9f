// keepalived vrrp_script semantics for one run of an external check: argv (no shell), exit 0 is
// success, anything else (or failing to start) is failure; on timeout the whole process group
// is killed, so a hung script cannot leave children behind.

import { spawn } from 'node:child_process';
import { childEnv } from '../child-env.js';

export interface ExecResult {
  readonly ok: boolean;
  /** exit code, or the reason it has none: 'timeout', 'signal SIGx', 'spawn ENOENT'. */
  readonly outcome: string;
  readonly durationMs: number;
}

export function runCheck(argv: readonly string[], timeoutMs: number, env: NodeJS.ProcessEnv = childEnv()): Promise<ExecResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const [cmd, ...args] = argv;
    if (!cmd) {
      resolve({ ok: false, outcome: 'empty command', durationMs: 0 });
      return;
    }
    let done = false;
    const finish = (ok: boolean, outcome: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ok, outcome, durationMs: Date.now() - started });
    };
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true, env });
    const timer = setTimeout(() => {
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      finish(false, 'timeout');
    }, timeoutMs);
    child.once('error', (e: NodeJS.ErrnoException) => finish(false, `spawn ${e.code ?? e.message}`));
    child.once('exit', (code, signal) => {
      if (code === 0) finish(true, 'exit 0');
      else finish(false, code !== null ? `exit ${code}` : `signal ${signal ?? '?'}`);
    });
  });
}
