import { accessSync, constants } from 'node:fs';
import { ConfigError, type RedkeepConfig, loadConfig } from '../config/config.js';
import { EXIT } from '../exit-status.js';
import type { Output } from '../output.js';

/** `redkeep check-config [FILE]`: 0 and a summary, or every error and 78 (EX_CONFIG). */
export function checkConfigCommand(file: string, out: Output, opts: { files?: boolean } = {}): number {
  try {
    const c = loadConfig(file);
    // --files: the agent reads these at start; whoever runs check-config must be able to open them
    // (run it as the service's user to know that the service can). Never their content.
    const unreadable = opts.files ? secretFiles(c).filter((f) => !readable(f.path)) : [];
    if (unreadable.length > 0) {
      for (const f of unreadable) out.error(`${file}: ${f.key}: cannot read ${f.path}`);
      return EXIT.config;
    }
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

/** The files a config names that the agent opens at start (passwords, TLS keys and certificates). */
function secretFiles(c: RedkeepConfig): { key: string; path: string }[] {
  const files: { key: string; path: string }[] = [];
  if (c.agent.sentinel?.passwordFile !== undefined) files.push({ key: 'agent.sentinel_password_file', path: c.agent.sentinel.passwordFile });
  const etcd = c.agent.etcd;
  if (etcd?.passwordFile !== undefined) files.push({ key: 'agent.etcd.password_file', path: etcd.passwordFile });
  for (const [k, path] of [['ca_file', etcd?.tls?.caFile], ['cert_file', etcd?.tls?.certFile], ['key_file', etcd?.tls?.keyFile]] as const) {
    if (path !== undefined) files.push({ key: `agent.etcd.tls.${k}`, path });
  }
  c.instances.forEach((i, n) => {
    const r = i.redis;
    if (!r) return;
    const at = `instance[${n}].redis`;
    if (r.passwordFile !== undefined) files.push({ key: `${at}.password_file`, path: r.passwordFile });
    for (const [k, path] of [['ca_file', r.tls?.caFile], ['cert_file', r.tls?.certFile], ['key_file', r.tls?.keyFile]] as const) {
      if (path !== undefined) files.push({ key: `${at}.tls.${k}`, path });
    }
  });
  return files;
}

function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}
