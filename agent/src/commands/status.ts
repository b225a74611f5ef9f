import { type ClusterView, formatClusterView } from '../cluster/view.js';
import { askAgent } from '../control/client.js';
import type { Output } from '../output.js';
import type { StatusJson } from '../status-json.js';

export interface StatusArgs {
  readonly socket: string;
  readonly json: boolean;
  /** Every member, as this host sees them (`--cluster`). */
  readonly cluster?: boolean;
}

function ago(iso: string): string {
  if (!iso) return '';
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (s < 120) return `${s.toFixed(1)} s ago`;
  if (s < 7200) return `${(s / 60).toFixed(0)} min ago`;
  return `${(s / 3600).toFixed(1)} h ago`;
}

/** The human form of the control socket's status answer (absent values are null there). */
export function formatStatus(st: StatusJson): string[] {
  const lines = [`redkeep ${st.agent.version} "${st.agent.name}" pid ${st.agent.pid}, up ${(st.agent.uptimeMs / 1000).toFixed(0)} s, config ${st.agent.config}`];
  for (const i of st.instances) {
    const master = i.state === 'master' ? 'this host' : i.masterAddress ? `${i.masterAddress} (priority ${i.masterPriority ?? '?'})` : 'unknown';
    lines.push('');
    lines.push(`${i.name}: ${i.state.toUpperCase()}  ${i.interface} vrid ${i.vrid} VRRPv${i.version}${i.unicastPeers.length ? ' unicast' : ''}${i.serve === 'read' ? ', serves reads' : ''}`);
    if (i.waitingFor) lines.push(`  waiting for ${i.waitingFor}`);
    if (i.readServe) lines.push(`  read VIP: ${i.readServe.serving === 'none' ? 'not served here' : i.readServe.serving === 'master' ? 'the master, only while no replica qualifies' : 'this replica serves reads'}: ${i.readServe.why}`);
    if (i.maintenance) lines.push('  MAINTENANCE: priority 1, never master while another member qualifies (redkeep maintenance off ends it)');
    lines.push(`  priority ${i.effectivePriority ?? '-'} (base ${i.basePriority}), master ${master}, adverts every ${i.advertIntervalCs * 10} ms`);
    lines.push(`  VIPs ${i.virtualAddresses.join(', ')}; held here: ${i.vipsHeld.length ? i.vipsHeld.join(', ') : 'none'}`);
    if (i.lastTransition) {
      const t = i.lastTransition;
      lines.push(`  last transition ${t.from} -> ${t.to} (${t.reason}${t.detail ? `: ${t.detail}` : ''}) ${ago(t.at)}`);
    }
    const earlier = i.recentTransitions.slice(0, -1).reverse();
    if (earlier.length) lines.push(`  before: ${earlier.map((t) => `${t.from} -> ${t.to} (${t.reason}${t.detail ? `: ${t.detail}` : ''}) ${ago(t.at)}`).join('; ')}`);
    if (i.counters) {
      const c = i.counters;
      const drops = Object.entries(c.drops).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
      lines.push(`  adverts in ${c.advertsRx} out ${c.advertsTx}, transitions ${c.transitions}, GARPs sent ${c.garpsSent}, drops: ${drops}`);
      if (c.designationsRx + c.designationsIgnored + c.designationsTx > 0) {
        lines.push(`  hand-overs: designated here ${c.designationsRx} (took over at once ${c.designatedTakeovers}, ignored ${c.designationsIgnored}), designated a successor ${c.designationsTx}`);
      }
    }
    if (i.tracks.length) lines.push(`  tracks: ${i.tracks.map((t) => `${t.name} ${t.value !== null ? `= ${t.value}` : t.ok ? 'ok' : 'FAILED'}${t.weight !== 0 ? ` (${t.weight > 0 ? '+' : ''}${t.weight})` : ''}`).join(', ')}`);
    if (i.redis) {
      const r = i.redis;
      const role = !r.up ? 'NOT REACHABLE' : r.role === 'replica' ? `replica of ${r.masterHost ?? '?'} (link ${r.masterLinkUp ? 'up' : 'DOWN'})` : (r.role ?? '?');
      lines.push(`  redis ${r.address}: ${role}, offset ${r.offset ?? '-'}; wanted: ${r.desired}${r.lastError ? `; last error: ${r.lastError}` : ''}`);
      if (r.replicas.length) {
        lines.push(`  replicas: ${r.replicas.map((x) => `${x.address} lag ${Math.max(0, (r.offset ?? 0) - x.offset)} B / ${x.lagS} s`).join(', ')}`);
      }
    }
    if (i.guard) {
      const g = i.guard;
      lines.push(`  data guard ${g.ok ? 'ok' : 'FAILING'}: ${g.why}${g.writesRefused ? ' (writes refused)' : ''}; members: ${g.peers.join(', ') || 'none'}`);
      const l = g.lease;
      if (l) {
        const held = l.held ? `held (term ${l.term ?? '?'}, writes refused in ${l.fenceInMs ?? 0} ms without a renew)` : `not held${l.holder !== undefined ? `; holder ${l.holder}` : ''}`;
        lines.push(`  etcd lease ${held}, TTL ${l.ttlMs} ms: writes ${l.writes === 'allow' ? 'allowed' : 'refused'}${l.stepDown ? ', priority lowered' : ''}: ${l.why}`);
      }
      if (g.quorum) lines.push(`  quorum ${g.quorum.ok ? 'ok' : 'LOST'}: ${g.quorum.reachable} of ${g.quorum.needed} needed reachable`);
    }
  }
  for (const f of st.interfaces) {
    const drops = Object.entries(f.drops).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
    lines.push('');
    lines.push(`interface ${f.name}: packets ${f.packetsRx}, unattributed drops: ${drops}, send errors ${f.sendErrors}`);
  }
  return lines;
}

/** `redkeep status [--cluster] [--json] [--socket PATH]` */
export async function statusCommand(args: StatusArgs, out: Output): Promise<number> {
  if (args.cluster) {
    // The members' Redis are read within a second each, in parallel.
    const answer = await askAgent('status', args.socket, { cmd: 'cluster' }, out, 5000);
    if (!answer.ok) return answer.status;
    if (args.json) out.print(JSON.stringify(answer.result, null, 2));
    else for (const l of formatClusterView(answer.result as ClusterView)) out.print(l);
    return 0;
  }
  const answer = await askAgent('status', args.socket, { cmd: 'status' }, out);
  if (!answer.ok) return answer.status;
  const st = answer.result as StatusJson;
  if (args.json) out.print(JSON.stringify(st, null, 2));
  else for (const l of formatStatus(st)) out.print(l);
  return 0;
}
