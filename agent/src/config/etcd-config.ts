// `[agent] etcd`: strict mode (an etcd lease decides who may acknowledge writes; see
// packages/failover/src/lease-guard.ts). Off unless the key is set. Validated like the rest:
// file, line and key, and what would be accepted. Secrets come from files, never from the config.

import type { OnLoss } from '@redkeep/failover';
import { type FieldReader, isTable } from './redis-config.js';

export const ETCD_KEYS = ['endpoints', 'prefix', 'tls', 'username', 'password_file', 'lease_ttl', 'on_loss'] as const;
export const ETCD_TLS_KEYS = ['ca_file', 'cert_file', 'key_file'] as const;
export const DEFAULT_ETCD_PREFIX = '/redkeep/';
/** etcd leases have whole-second TTLs; below its minimum (1.5 election timeouts) etcd raises them. */
const MIN_TTL_S = 2;
const MAX_TTL_S = 60;

export interface EtcdTlsSettings {
  readonly caFile: string | undefined;
  readonly certFile: string | undefined;
  readonly keyFile: string | undefined;
}

export interface EtcdSettings {
  /** Client URLs, e.g. "https://198.51.100.21:2379". */
  readonly endpoints: readonly string[];
  /** Key prefix, starting and ending with "/". */
  readonly prefix: string;
  readonly tls: EtcdTlsSettings | undefined;
  readonly username: string | undefined;
  /** Read at start; never in argv, logs or status. */
  readonly passwordFile: string | undefined;
  /** undefined: each instance's Master_Down_Interval in whole seconds, at least 2 s. */
  readonly leaseTtlMs: number | undefined;
  readonly onLoss: OnLoss;
}

type Table = Record<string, unknown>;

function absolute(r: FieldReader, t: Table, path: string, key: string): string | undefined {
  const v = r.str(t, path, key);
  if (v !== undefined && !v.startsWith('/')) r.issue(`${path}.${key}`, `must be an absolute path, got "${v}"`);
  return v;
}

/** An etcd client URL: http:// or https://, a host (IP in brackets for IPv6, or a name) and a port. */
function endpointProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `must be a URL such as "https://198.51.100.21:2379", got "${url}"`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `must start with http:// or https://, got "${url}"`;
  if (u.port === '') return `must name the port (etcd's client port is 2379), got "${url}"`;
  if ((u.pathname !== '/' && u.pathname !== '') || u.search !== '' || u.hash !== '' || u.username !== '' || u.password !== '') {
    return `must be scheme://host:port only (no path, query or credentials: use username and password_file), got "${url}"`;
  }
  return undefined;
}

export function readEtcd(r: FieldReader, v: unknown, path: string): EtcdSettings | undefined {
  if (v === undefined) return undefined;
  if (!isTable(v)) {
    r.issue(path, 'must be a table, e.g. etcd = { endpoints = ["https://198.51.100.21:2379"] }');
    return undefined;
  }
  r.keys(v, path, ETCD_KEYS);
  const endpoints: string[] = [];
  const raw = v.endpoints;
  if (raw === undefined) r.issue(`${path}.endpoints`, 'is required: the etcd cluster\'s client URLs, e.g. ["https://198.51.100.21:2379", "https://198.51.100.22:2379", "https://198.51.100.23:2379"]');
  else if (!Array.isArray(raw) || raw.length === 0) r.issue(`${path}.endpoints`, 'must be a non-empty array of client URLs such as "https://198.51.100.21:2379"');
  else
    raw.forEach((e: unknown, i: number) => {
      const p = `${path}.endpoints[${i}]`;
      const problem = typeof e === 'string' ? endpointProblem(e) : `must be a string URL, got ${JSON.stringify(e)}`;
      if (problem !== undefined) r.issue(p, problem);
      else if (endpoints.includes(e as string)) r.issue(p, `${String(e)} is listed twice`);
      else endpoints.push(e as string);
    });
  const schemes = new Set(endpoints.map((e) => new URL(e).protocol));
  if (schemes.size > 1) r.issue(`${path}.endpoints`, 'must all be http:// or all https:// (one connection setting serves them all)');
  const prefix = r.str(v, path, 'prefix') ?? DEFAULT_ETCD_PREFIX;
  if (!prefix.startsWith('/') || !prefix.endsWith('/')) r.issue(`${path}.prefix`, `must start and end with "/", e.g. "${DEFAULT_ETCD_PREFIX}", got "${prefix}"`);
  let tls: EtcdTlsSettings | undefined;
  if (v.tls !== undefined) {
    const tp = `${path}.tls`;
    if (!isTable(v.tls)) r.issue(tp, 'must be a table, e.g. tls = { ca_file = "/etc/redkeep/etcd-ca.pem" }');
    else {
      r.keys(v.tls, tp, ETCD_TLS_KEYS);
      tls = { caFile: absolute(r, v.tls, tp, 'ca_file'), certFile: absolute(r, v.tls, tp, 'cert_file'), keyFile: absolute(r, v.tls, tp, 'key_file') };
      if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) r.issue(tp, 'cert_file and key_file go together');
      if (schemes.has('http:')) r.issue(tp, 'needs https:// endpoints');
    }
  }
  const username = r.str(v, path, 'username');
  const passwordFile = absolute(r, v, path, 'password_file');
  if ((username === undefined) !== (passwordFile === undefined)) r.issue(`${path}.${username === undefined ? 'password_file' : 'username'}`, 'username and password_file go together');
  let leaseTtlMs: number | undefined;
  if (v.lease_ttl !== undefined) {
    const ms = r.duration(v, path, 'lease_ttl', 0);
    if (ms > 0 && (ms % 1000 !== 0 || ms < MIN_TTL_S * 1000 || ms > MAX_TTL_S * 1000)) {
      r.issue(`${path}.lease_ttl`, `must be whole seconds, "${MIN_TTL_S}s".."${MAX_TTL_S}s" (etcd's leases count seconds), got ${ms} ms`);
    } else if (ms > 0) leaseTtlMs = ms;
  }
  const onLoss = r.oneOf(v, path, 'on_loss', ['fence', 'keep', 'embedded'] as const, 'fence');
  return { endpoints, prefix, tls, username, passwordFile, leaseTtlMs, onLoss };
}
