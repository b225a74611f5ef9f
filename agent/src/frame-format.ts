// One line (or one JSON object) per captured frame: shared by `redkeep decode` and `watch`.

import { linkTypeName } from '@redkeep/pcap';
import { type FrameSummary, SUPPORTED_LINK_TYPES } from '@redkeep/wire';

/** Why frames of a capture's interface are not decoded, naming its link type and those that are. */
export function unsupportedLinkTypeText(linkType: number): string {
  return `link type ${linkTypeName(linkType)} is not supported (${SUPPORTED_LINK_TYPES.map(linkTypeName).join(', ')} are)`;
}

/** The stable JSON shape of a frame; keys are part of the CLI's contract. */
export interface FrameJson {
  frame: number;
  /** Capture time, seconds since the epoch (microsecond precision). */
  timestamp: number | null;
  time: string | null;
  kind: FrameSummary['kind'];
  srcMac: string | null;
  dstMac: string | null;
  src: string | null;
  dst: string | null;
  ttl: number | null;
  /** IPv4 TOS / IPv6 traffic class. */
  tos: number | null;
  version: number | null;
  vrid: number | null;
  priority: number | null;
  advertIntervalCs: number | null;
  addresses: string[] | null;
  /** v2 only ('none', 'simple', 'ah'); null for v3. The password itself is never shown. */
  authType: string | null;
  checksumOk: boolean | null;
  ok: boolean;
  reason: string | null;
  arp?: { op: string; senderIp: string; senderMac: string; targetIp: string; gratuitous: boolean };
}

export function frameToJson(index: number, timestamp: number | undefined, f: FrameSummary): FrameJson {
  const base: FrameJson = {
    frame: index,
    timestamp: timestamp ?? null,
    time: isoTime(timestamp),
    kind: f.kind,
    srcMac: f.link?.srcMac ?? null,
    dstMac: f.link?.dstMac ?? null,
    src: null,
    dst: null,
    ttl: null,
    tos: null,
    version: null,
    vrid: null,
    priority: null,
    advertIntervalCs: null,
    addresses: null,
    authType: null,
    checksumOk: null,
    ok: false,
    reason: null,
  };
  switch (f.kind) {
    case 'vrrp': {
      const r = f.result;
      const a = r.advert;
      return {
        ...base,
        src: r.ip?.src ?? null,
        dst: r.ip?.dst ?? null,
        ttl: r.ip?.ttl ?? null,
        tos: r.ip?.tos ?? null,
        version: a?.version ?? null,
        vrid: a?.vrid ?? null,
        priority: a?.priority ?? null,
        advertIntervalCs: a?.advertIntervalCs ?? null,
        addresses: a ? [...a.addresses] : null,
        authType: a && a.version === 2 ? a.authType : null,
        checksumOk: r.checksumOk ?? null,
        ok: r.ok,
        reason: r.ok ? null : r.reason,
      };
    }
    case 'arp': {
      const r = f.result;
      if (!r.ok) return { ...base, reason: r.reason };
      return {
        ...base,
        src: r.arp.senderIp,
        dst: r.arp.targetIp,
        ok: true,
        arp: {
          op: r.arp.op,
          senderIp: r.arp.senderIp,
          senderMac: r.arp.senderMac,
          targetIp: r.arp.targetIp,
          gratuitous: r.gratuitous,
        },
      };
    }
    case 'other':
      return { ...base, src: f.src ?? null, dst: f.dst ?? null, reason: 'not-vrrp' };
    case 'malformed':
      return { ...base, reason: f.reason };
  }
}

/** The most a Date can hold: a capture may claim any 64-bit time. */
const MAX_DATE_SECONDS = 8.64e12;

function representable(timestamp: number | null | undefined): timestamp is number {
  return typeof timestamp === 'number' && Number.isFinite(timestamp) && Math.abs(timestamp) <= MAX_DATE_SECONDS;
}

/** ISO time of a capture timestamp, or null when there is none or no date can hold it. */
function isoTime(timestamp: number | undefined): string | null {
  return representable(timestamp) ? new Date(timestamp * 1000).toISOString() : null;
}

/** HH:MM:SS.ffffff in UTC, as tcpdump prints it (tcpdump uses local time). */
function timeOfDay(timestamp: number | null): string {
  if (!representable(timestamp)) return '-';
  const whole = Math.floor(timestamp);
  const micros = Math.round((timestamp - whole) * 1e6);
  const hms = new Date(whole * 1000).toISOString().slice(11, 19);
  return `${hms}.${String(Math.min(micros, 999_999)).padStart(6, '0')}`;
}

export function frameToText(j: FrameJson): string {
  const head = `#${j.frame} ${timeOfDay(j.timestamp)}`;
  const verdict = j.ok ? 'ok' : `DROP ${j.reason ?? ''}`.trim();
  if (j.kind === 'arp' && j.arp) {
    const g = j.arp.gratuitous ? ' gratuitous' : '';
    return `${head} ARP ${j.arp.op} sender ${j.arp.senderIp} (${j.arp.senderMac}) target ${j.arp.targetIp}${g} -> ${verdict}`;
  }
  if (j.kind === 'vrrp') {
    const parts = [
      `${j.src ?? '?'} > ${j.dst ?? '?'}`,
      `ttl ${j.ttl ?? '?'}`,
      j.version !== null ? `VRRPv${j.version}` : 'VRRP',
    ];
    if (j.vrid !== null) {
      parts.push(`vrid ${j.vrid}`, `prio ${j.priority}`, `intvl ${j.advertIntervalCs}cs`);
      parts.push(`addrs ${(j.addresses ?? []).join(',')}`);
      if (j.authType !== null) parts.push(`auth ${j.authType}`);
    }
    if (j.checksumOk !== null) parts.push(`cksum ${j.checksumOk ? 'ok' : 'BAD'}`);
    return `${head} ${parts.join(' ')} -> ${verdict}`;
  }
  const addr = j.src !== null ? ` ${j.src} > ${j.dst}` : '';
  return `${head} ${j.kind}${addr} -> ${verdict}`;
}
