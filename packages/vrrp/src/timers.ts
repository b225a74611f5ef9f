// RFC timer arithmetic, in milliseconds. Pure functions, so the simulation and the tests can state
// their bounds with the same numbers the state machine uses.

import type { VrrpVersion } from './codec.js';

/**
 * Skew_Time in ms.
 * RFC 5798 §6.1 (v3): ((256 - Priority) * Master_Adver_Interval) / 256, in centiseconds.
 * RFC 3768 §6.1 (v2): (256 - Priority) / 256 seconds.
 * keepalived truncates to whole microseconds: so do we (integer µs, returned as ms).
 */
export function skewTimeMs(
  version: VrrpVersion,
  priority: number,
  masterAdverIntervalCs: number,
): number {
  const us =
    version === 3
      ? Math.floor(((256 - priority) * masterAdverIntervalCs * 10_000) / 256)
      : Math.floor(((256 - priority) * 1_000_000) / 256);
  return us / 1000;
}

/** Master_Down_Interval in ms: (3 * Master_Adver_Interval) + Skew_Time (RFC 5798 §6.1). */
export function masterDownIntervalMs(
  version: VrrpVersion,
  priority: number,
  masterAdverIntervalCs: number,
): number {
  return 3 * masterAdverIntervalCs * 10 + skewTimeMs(version, priority, masterAdverIntervalCs);
}
