// What each agent says about an instance of its own to the others, for `status --cluster`: a
// channel its agent stays subscribed to on its own Redis, named with a small JSON record (agent
// name, advert address, state, priorities, maintenance, VIPs held, data guard). Another agent
// lists it (PUBSUB CHANNELS) with the members' Redis credentials; when the agent dies, Redis
// drops the subscription and the record with it. Informational only: nothing decides on it.
// Pure: records in, channel names out, and back, validated.

const PREFIX = '__redkeep__';
/** A record longer than this is not one of ours. */
const MAX_CHANNEL_BYTES = 2048;

export interface Beacon {
  readonly agent: string;
  /** The member's advert source, as configured in members / unicast_peers. */
  readonly address: string;
  readonly instance: string;
  readonly state: string;
  readonly priority: number;
  readonly basePriority: number;
  readonly maintenance: boolean;
  readonly vipsHeld: readonly string[];
  /** The data guard's verdict, and whether its Redis refuses writes (undefined: no guard). */
  readonly guardOk: boolean | undefined;
  readonly writesRefused: boolean | undefined;
}

export function beaconPattern(vrid: number): string {
  return `${PREFIX}:${vrid}:member:*`;
}

export function beaconChannel(vrid: number, b: Beacon): string {
  return `${PREFIX}:${vrid}:member:${JSON.stringify({ v: 1, ...b })}`;
}

const isStr = (x: unknown): x is string => typeof x === 'string' && x.length > 0 && x.length <= 255;
const isInt = (x: unknown, lo: number, hi: number): x is number => typeof x === 'number' && Number.isInteger(x) && x >= lo && x <= hi;
const optBool = (x: unknown): x is boolean | undefined => x === undefined || typeof x === 'boolean';

/** The record of a channel, or undefined for anything that is not a well-formed one of ours. */
export function parseBeacon(vrid: number, channel: string): Beacon | undefined {
  const head = `${PREFIX}:${vrid}:member:`;
  if (!channel.startsWith(head) || Buffer.byteLength(channel) > MAX_CHANNEL_BYTES) return undefined;
  let v: Record<string, unknown>;
  try {
    const x: unknown = JSON.parse(channel.slice(head.length));
    if (typeof x !== 'object' || x === null || Array.isArray(x)) return undefined;
    v = x as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const vips = v.vipsHeld;
  if (
    v.v !== 1 ||
    !isStr(v.agent) ||
    !isStr(v.address) ||
    !isStr(v.instance) ||
    !isStr(v.state) ||
    !isInt(v.priority, 0, 255) ||
    !isInt(v.basePriority, 1, 255) ||
    typeof v.maintenance !== 'boolean' ||
    !Array.isArray(vips) ||
    vips.length > 64 ||
    !vips.every(isStr) ||
    !optBool(v.guardOk) ||
    !optBool(v.writesRefused)
  ) {
    return undefined;
  }
  return {
    agent: v.agent,
    address: v.address,
    instance: v.instance,
    state: v.state,
    priority: v.priority,
    basePriority: v.basePriority,
    maintenance: v.maintenance,
    vipsHeld: vips as string[],
    guardOk: v.guardOk as boolean | undefined,
    writesRefused: v.writesRefused as boolean | undefined,
  };
}
