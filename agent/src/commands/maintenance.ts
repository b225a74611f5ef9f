import { askAgent } from '../control/client.js';
import type { MaintenanceResult } from '../daemon/agent.js';
import type { Output } from '../output.js';

export interface MaintenanceArgs {
  readonly socket: string;
  readonly on: boolean;
  readonly instance: string | undefined;
  readonly json: boolean;
}

/** `redkeep maintenance on|off [--instance NAME]`: on a master, a zero-loss switchover first. */
export async function maintenanceCommand(args: MaintenanceArgs, out: Output): Promise<number> {
  const answer = await askAgent(
    'maintenance',
    args.socket,
    { cmd: 'maintenance', on: args.on, ...(args.instance !== undefined ? { instance: args.instance } : {}) },
    out,
    // A master hands over first: as long as a switchover may take.
    30_000,
  );
  if (!answer.ok) return answer.status;
  const rs = answer.result as MaintenanceResult[];
  if (args.json) {
    out.print(JSON.stringify(rs, null, 2));
    return 0;
  }
  for (const r of rs) {
    const moved = r.handedOverTo !== undefined ? `; handed over to ${r.handedOverTo} in ${r.ms ?? '?'} ms` : '';
    out.print(`${r.instance}: maintenance ${r.maintenance ? 'on: priority 1 until off' : 'off: the configured priority again'}${moved}`);
  }
  return 0;
}
