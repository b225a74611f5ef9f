import { askAgent } from '../control/client.js';
import type { ReloadResult } from '../daemon/agent.js';
import type { Output } from '../output.js';

/** How long `redkeep reload` waits for the agent's answer (its stop budget is far less by default). */
export const RELOAD_WAIT_MS = 600_000;

/** `redkeep reload`: the agent reads its config file again; prints what changed, or why not. */
export async function reloadCommand(args: { socket: string }, out: Output): Promise<number> {
  // A reload that restarts a master waits for its hand-over and stop hooks: wait as long.
  const answer = await askAgent('reload', args.socket, { cmd: 'reload' }, out, RELOAD_WAIT_MS);
  if (!answer.ok) return answer.status;
  const r = answer.result as ReloadResult;
  if (!r.ok && r.failed.length === 0) {
    out.error(`redkeep reload: refused, the running configuration stays:`);
    for (const line of (r.error ?? '').split('\n')) out.error(`  ${line}`);
    return 1;
  }
  const list = (xs: readonly string[]): string => (xs.length ? xs.join(', ') : 'none');
  // An agent from before in-place updates has no `updated`: every instance it changed restarted.
  out.print(`reloaded ${r.file}: unchanged ${list(r.unchanged)}; updated in place ${list(r.updated ?? [])}; restarted ${list(r.restarted)}; added ${list(r.added)}; removed ${list(r.removed)}`);
  if (r.needsRestart.length) out.print(`note: [agent] ${r.needsRestart.join(', ')} change only when the agent restarts`);
  for (const f of r.failed) out.error(`redkeep reload: ${f.name} could not start: ${f.error}`);
  return r.failed.length ? 1 : 0;
}
