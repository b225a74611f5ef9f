// Which Backup an election after the master's priority 0 ends with, for a caller that knows the
// Backups' effective priorities (a resigning redkeep master that reads them from its members).

import { type AddressFamily, canonicalAddress, compareAddressBytes, parseAddress } from './address.js';

export interface BackupCandidate {
  readonly address: string;
  /** Effective priority, 1..255. */
  readonly priority: number;
}

/**
 * RFC 5798 §6.4.2: after a priority-0 advert every Backup waits its Skew_Time, shortest for the
 * highest priority, so that one becomes Master first. Equal priorities time out together and
 * §6.4.3 keeps the higher primary address as Master. Undefined when there is no candidate.
 */
export function electedBackup(family: AddressFamily, candidates: readonly BackupCandidate[]): string | undefined {
  let best: { address: string; priority: number; bytes: Uint8Array } | undefined;
  for (const c of candidates) {
    const address = canonicalAddress(c.address);
    const bytes = address === undefined ? undefined : parseAddress(family, address);
    if (address === undefined || bytes === undefined) continue;
    if (!best || c.priority > best.priority || (c.priority === best.priority && compareAddressBytes(bytes, best.bytes) > 0)) best = { address, priority: c.priority, bytes };
  }
  return best?.address;
}
