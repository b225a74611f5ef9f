import { ConfigError, loadConfig } from '../config/config.js';
import { EXIT } from '../exit-status.js';
import type { Output } from '../output.js';

/** `redkeep check-config [FILE]`: 0 and a summary, or every error and 78 (EX_CONFIG). */
export function checkConfigCommand(file: string, out: Output): number {
  try {
    const c = loadConfig(file);
    out.print(`${file}: OK, ${c.instances.length} instance${c.instances.length === 1 ? '' : 's'}`);
    const etcd = c.agent.etcd;
    if (etcd !== undefined) {
      out.print(
        `  strict mode: an etcd lease (${etcd.endpoints.join(', ')}, prefix ${etcd.prefix}) decides who may acknowledge writes; ` +
          `TTL ${etcd.leaseTtlMs !== undefined ? `${etcd.leaseTtlMs / 1000} s` : "each instance's Master_Down_Interval, at least 2 s"}, on_loss ${etcd.onLoss}`,
      );
    }
    for (const i of c.instances) {
      const mode = i.unicastPeers.length > 0 ? `unicast to ${i.unicastPeers.join(', ')}` : 'multicast';
      out.print(
        `  ${i.name}: ${i.interface} vrid ${i.vrid} VRRPv${i.version} priority ${i.priority} every ${i.advertIntervalCs * 10} ms, ${mode}, ` +
          `${i.preempt ? 'preempt' : 'nopreempt'}${i.preemptDelayMs ? ` after ${i.preemptDelayMs} ms` : ''}, ` +
          `VIPs ${i.virtualAddresses.map((v) => `${v.address}/${v.prefixLength}`).join(', ')}` +
          `${i.authPass !== undefined ? ', PASS auth' : ''}` +
          `${i.serve === 'read' ? ', serves reads (the best in-sync replica)' : i.redis?.manageRole ? ', steers its Redis role' : ''}`,
      );
      const map = i.redis?.peerAddresses;
      if (map !== undefined) out.print(`    members' Redis (peer_addresses): ${Object.entries(map).map(([m, at]) => `${m} at ${at}`).join(', ')}`);
    }
    return 0;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    for (const line of e.message.split('\n')) out.error(line);
    return EXIT.config;
  }
}
