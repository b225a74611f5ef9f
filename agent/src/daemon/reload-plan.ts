// What a reload does to one instance, decided in one place: its settings split into the part that
// needs a new instance (a new VRRP core, new sockets, a new Redis link; a master steps down with
// priority 0) and the part applied in place (the core and its state stay).
//
// Applied in place: [instance.hooks] (every hook and its timeout) and, of each [[track]] the
// instance uses, how it is checked (command, interval, timeout, rise, fall). A file track's
// `file` restarts: another file's number is unknown until read, and the old number must not
// stand for it (a restart starts the track failed, as at start). Everything
// else restarts the instance, a setting added later included: VRID, interface, VIPs, priority,
// advert interval, preempt, unicast peers, members, [instance.redis] and its password, the data
// guard, track_interfaces, and the tracks' set, types and weights (the core's inputs).

import { createHash } from 'node:crypto';
import type { InstanceSettings, TrackSettings } from '../config/config.js';

/** The [[track]] keys a reload applies to the running track (from its next run on). */
export const IN_PLACE_TRACK_KEYS = ['command', 'intervalMs', 'timeoutMs', 'rise', 'fall'] as const;
/** The instance keys a reload applies to the running instance. */
export const IN_PLACE_INSTANCE_KEYS = ['hooks'] as const;

type InPlaceTrackKey = (typeof IN_PLACE_TRACK_KEYS)[number];
type InPlaceInstanceKey = (typeof IN_PLACE_INSTANCE_KEYS)[number];

/** One instance's settings as two comparable keys: equal keys mean that part did not change. */
export interface UnitKeys {
  readonly restart: string;
  readonly inPlace: string;
}

export type UnitChange = 'unchanged' | 'updated' | 'restarted' | 'added';

function pick<T extends object, K extends keyof T & string>(o: T, keys: readonly K[]): Pick<T, K> {
  return Object.fromEntries(keys.map((k) => [k, o[k]])) as Pick<T, K>;
}

function omit<T extends object, K extends keyof T & string>(o: T, keys: readonly K[]): Omit<T, K> {
  const drop: readonly string[] = keys;
  return Object.fromEntries(Object.entries(o).filter(([k]) => !drop.includes(k))) as Omit<T, K>;
}

/**
 * The instance's keys: `tracks` are all [[track]] definitions (those it uses are picked), `password`
 * its Redis password as read now (only a hash of it enters the key), `agentPart` the [agent]
 * settings that belong to it (strict mode's etcd, for a write instance that steers its Redis).
 */
export function unitKeys(inst: InstanceSettings, tracks: readonly TrackSettings[], password: string | undefined, agentPart?: unknown): UnitKeys {
  const defs = inst.tracks.map((ref) => tracks.find((t) => t.name === ref.name));
  const secret = password === undefined ? undefined : createHash('sha256').update(password).digest('hex');
  const restart = {
    inst: omit<InstanceSettings, InPlaceInstanceKey>(inst, IN_PLACE_INSTANCE_KEYS),
    tracks: defs.map((d) => (d ? omit<TrackSettings, InPlaceTrackKey>(d, IN_PLACE_TRACK_KEYS) : undefined)),
    secret,
    // [agent] settings that belong to the instance (strict mode's etcd): a change restarts it.
    agentPart,
  };
  const inPlace = {
    inst: pick<InstanceSettings, InPlaceInstanceKey>(inst, IN_PLACE_INSTANCE_KEYS),
    tracks: defs.map((d) => (d ? pick<TrackSettings, InPlaceTrackKey>(d, IN_PLACE_TRACK_KEYS) : undefined)),
  };
  return { restart: JSON.stringify(restart), inPlace: JSON.stringify(inPlace) };
}

/** What a reload does to an instance that ran with `old` (undefined: it did not run) and now has `next`. */
export function unitChange(old: UnitKeys | undefined, next: UnitKeys): UnitChange {
  if (old === undefined) return 'added';
  if (old.restart !== next.restart) return 'restarted';
  return old.inPlace === next.inPlace ? 'unchanged' : 'updated';
}
