import { askAgent } from '../control/client.js';
import type { SwitchoverResult } from '../daemon/instance-runner.js';
import type { Output } from '../output.js';

export interface SwitchoverArgs {
  readonly socket: string;
  readonly instance: string | undefined;
  readonly to: string | undefined;
}

/** `redkeep switchover [--to HOST] [--instance NAME]`, run on the master's host. */
export async function switchoverCommand(args: SwitchoverArgs, out: Output): Promise<number> {
  const answer = await askAgent(
    'switchover',
    args.socket,
    { cmd: 'switchover', ...(args.instance !== undefined ? { instance: args.instance } : {}), ...(args.to !== undefined ? { to: args.to } : {}) },
    out,
    // The hand-over waits up to 2 s for the replicas, then up to Master_Down_Interval for the new master.
    30_000,
  );
  if (!answer.ok) return answer.status;
  const r = answer.result as SwitchoverResult;
  if (r.newMaster === undefined) {
    out.error(`redkeep switchover: ${r.instance}: this host resigned, but ${r.note ?? 'no new master was seen'}; redis: ${r.redis}`);
    return 1;
  }
  out.print(`${r.instance}: ${r.newMaster} is master after ${r.ms} ms; redis: ${r.redis}`);
  if (r.note !== undefined) out.print(`note: ${r.note}`);
  return 0;
}
