// The hand-over channel: what redkeep agents tell each other through the members' Redis (pub/sub,
// with the Redis credentials only members have), beside VRRP and never instead of it. Adverts
// stay what keepalived sends; a keepalived peer hears nothing of this and behaves per the RFC.
//
// - designate FROM TO: published by a resigning master on its successor's Redis, once its own
//   Redis is fenced with the successor caught up. The successor's agent (subscribed on its own
//   Redis) feeds it to its VRRP core, which then takes over at once on FROM's priority 0 instead
//   of after Skew_Time. PUBLISH answers how many subscribers got it: none means nobody listens
//   (another version, manage_role off), and the hand-over goes on by the RFC alone.
// - holds BY: published by a new master on its own Redis once its Redis is master and its VIPs
//   are up and announced. The resigned master, subscribed there during its hand-over, releases
//   its VIPs then (not at the first advert, which comes before the promotion): clients never
//   find the addresses on neither host.
// - each agent subscribes, on its own Redis, to a channel named for its VRRP state and effective
//   priority (redkeep:<vrid>:vrrp:<state>:<priority>:<address>). A master choosing a successor
//   without --to lists them on every member (PUBSUB CHANNELS) to tell which Backup VRRP would
//   elect. A subscription lives as long as its agent's connection, so a dead agent shows none.

import type { VrrpState } from '@redkeep/vrrp';

export type HandoverMessage = { readonly type: 'designate'; readonly from: string; readonly to: string } | { readonly type: 'holds'; readonly by: string };

const PREFIX = '__redkeep__';

export function handoverChannel(vrid: number): string {
  return `${PREFIX}:${vrid}:handover`;
}

export function formatHandoverMessage(m: HandoverMessage): string {
  return m.type === 'designate' ? `designate ${m.from} ${m.to}` : `holds ${m.by}`;
}

/** Undefined for anything that is not one of ours (the channel is open to anyone with the password). */
export function parseHandoverMessage(text: string): HandoverMessage | undefined {
  const w = text.split(' ');
  if (w[0] === 'designate' && w.length === 3 && w[1] && w[2]) return { type: 'designate', from: w[1], to: w[2] };
  if (w[0] === 'holds' && w.length === 2 && w[1]) return { type: 'holds', by: w[1] };
  return undefined;
}

/** The channel an agent subscribes to on its own Redis, naming its VRRP state and effective priority. */
export function stateChannel(vrid: number, address: string, state: VrrpState, priority: number): string {
  return `${PREFIX}:${vrid}:vrrp:${state}:${priority}:${address}`;
}

export function stateChannelPattern(vrid: number): string {
  return `${PREFIX}:${vrid}:vrrp:*`;
}

export interface MemberVrrpState {
  readonly address: string;
  readonly state: VrrpState;
  readonly priority: number;
}

export function parseStateChannel(vrid: number, channel: string): MemberVrrpState | undefined {
  const head = `${PREFIX}:${vrid}:vrrp:`;
  if (!channel.startsWith(head)) return undefined;
  const rest = channel.slice(head.length);
  const a = rest.indexOf(':');
  const b = a < 0 ? -1 : rest.indexOf(':', a + 1);
  if (b < 0) return undefined;
  const state = rest.slice(0, a);
  const priority = Number(rest.slice(a + 1, b));
  const address = rest.slice(b + 1);
  const states: readonly string[] = ['initialize', 'backup', 'master', 'fault', 'stopped'];
  if (!states.includes(state) || !Number.isInteger(priority) || priority < 0 || priority > 255 || address === '') return undefined;
  return { address, state: state as VrrpState, priority };
}

/** A configured member as read for a successor choice: whether its Redis answered, and the state channels listed there. */
export interface MemberChannels {
  readonly address: string;
  /** Undefined: its Redis did not answer. */
  readonly channels: readonly string[] | undefined;
}

export type SuccessorChoice = { readonly ok: true; readonly candidates: readonly { address: string; priority: number }[] } | { readonly ok: false; readonly why: string };

/**
 * The Backups an election after our priority 0 chooses from, with their effective priorities, or
 * why that cannot be told: a member whose Redis did not answer, or whose agent shows no state of
 * its own there (stopped, another version, keepalived), could be a Backup of any priority. Each
 * member counts only for its own address, as read on its own Redis (trust from configuration).
 * The caller picks the winner (electedBackup) and checks it is a replica that caught up.
 */
export function successorCandidates(vrid: number, members: readonly MemberChannels[]): SuccessorChoice {
  const candidates: { address: string; priority: number }[] = [];
  for (const m of members) {
    if (m.channels === undefined) return { ok: false, why: `${m.address}'s Redis did not answer` };
    const own = m.channels.map((c) => parseStateChannel(vrid, c)).filter((x): x is MemberVrrpState => x !== undefined && x.address === m.address);
    if (own.length !== 1) return { ok: false, why: own.length === 0 ? `${m.address} shows no VRRP state (its agent does not run there, or cannot say)` : `${m.address} shows ${own.length} VRRP states` };
    const s = own[0] as MemberVrrpState;
    if (s.state === 'backup') candidates.push({ address: s.address, priority: s.priority });
  }
  return candidates.length > 0 ? { ok: true, candidates } : { ok: false, why: 'no member is a backup' };
}
