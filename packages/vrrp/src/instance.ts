// The VRRP state machine of RFC 5798 §6.4 (Initialize, Backup, Master) plus Fault and Stopped as
// keepalived has them. Sans-I/O: inputs and `nowMs` (monotonic ms) in, actions out; the caller asks
// nextDeadline() when to call back with { type: 'timeout' }.
//
// Every state change goes through transition(); the table ALLOWED_TRANSITIONS is the whole graph.

import {
  type AddressFamily,
  addressFamilyOf,
  canonicalAddress,
  compareAddressBytes,
  parseAddress,
} from './address.js';
import {
  type AuthType,
  type DecodeFailure,
  type VrrpAdvert,
  type VrrpVersion,
  simpleAuthData,
} from './codec.js';
import { masterDownIntervalMs, skewTimeMs } from './timers.js';

export type VrrpState = 'initialize' | 'backup' | 'master' | 'fault' | 'stopped';

export const ALLOWED_TRANSITIONS: Readonly<Record<VrrpState, readonly VrrpState[]>> = {
  initialize: ['backup', 'master', 'fault', 'stopped'],
  backup: ['master', 'fault', 'stopped'],
  master: ['backup', 'fault', 'stopped'],
  fault: ['backup', 'master', 'stopped'],
  stopped: ['backup', 'master', 'fault'],
};

export type TransitionReason =
  | 'startup'
  | 'address-owner'
  | 'master-down-timer'
  | 'higher-priority-advert'
  | 'equal-priority-higher-address'
  | 'interface-down'
  | 'track-failed'
  | 'fault-cleared'
  | 'resigned'
  /** Not in the RFC: the master that designated us sent priority 0; no Skew_Time (see 'designated'). */
  | 'designated'
  | 'unheard'
  | 'shutdown';

/**
 * A track's weight follows keepalived: weight < 0 is added to the priority while the track
 * fails, weight > 0 is added while it succeeds, and a failing weight-0 track means Fault.
 */
export interface TrackSpec {
  readonly name: string;
  readonly weight: number;
  /** Status before the first report; keepalived assumes a track is up until told otherwise. */
  readonly initiallyOk?: boolean;
}

export interface GarpSpec {
  /** Gratuitous ARPs / unsolicited NAs in each burst (keepalived garp_master_repeat, default 5). */
  readonly repeat: number;
  /** Delay before the second burst after becoming master; 0 = none (garp_master_delay, 5 s). */
  readonly delayMs: number;
  /** Period of refresh bursts while master; 0 = off (garp_master_refresh, default 0). */
  readonly refreshMs: number;
  /** Packets in each refresh burst (garp_master_refresh_repeat, default 1). */
  readonly refreshRepeat: number;
  /** Burst sent when a lower-priority router claims master (garp_lower_prio_repeat, 5). */
  readonly lowerPriorityRepeat: number;
}

export const KEEPALIVED_GARP_DEFAULTS: GarpSpec = {
  repeat: 5,
  delayMs: 5000,
  refreshMs: 0,
  refreshRepeat: 1,
  lowerPriorityRepeat: 5,
};

export interface InstanceConfig {
  readonly name: string;
  /** Virtual Router Identifier, 1..255. */
  readonly vrid: number;
  readonly version: VrrpVersion;
  readonly family: AddressFamily;
  /** Configured (base) priority: 1..254, or 255 for the address owner. */
  readonly priority: number;
  /** Advertisement_Interval in centiseconds (v2: whole seconds only). */
  readonly advertIntervalCs: number;
  readonly preempt: boolean;
  readonly preemptDelayMs: number;
  /** The address this router sends from; used for the equal-priority tie-break. */
  readonly primaryAddress: string;
  /** Addresses as carried in adverts (no prefix). */
  readonly virtualAddresses: readonly string[];
  /** VRRPv2 simple-text authentication ("PASS"). Secret: never logged. */
  readonly authPassword?: string;
  readonly garp: GarpSpec;
  readonly tracks: readonly TrackSpec[];
  /** Unicast mode: adverts are accepted only from these sources. */
  readonly unicastPeers?: readonly string[];
  /**
   * Multicast mode: when given, adverts are accepted only from these sources (the configured
   * members; trust comes from configuration, never from a packet). Others: 'not-a-member'.
   */
  readonly members?: readonly string[];
  /**
   * keepalived answers a lower-priority advert while Master with an advert of its own at once
   * ("forcing new election"); RFC 5798 discards it. Default true (keepalived).
   */
  readonly answerLowerPriority?: boolean;
}

export type DropReason =
  | DecodeFailure
  | 'version-mismatch'
  | 'family-mismatch'
  | 'vrid-mismatch'
  | 'auth-mismatch'
  | 'interval-mismatch'
  | 'address-mismatch'
  | 'from-self'
  | 'not-a-peer'
  | 'not-a-member'
  | 'not-running';

export type VrrpInput =
  | { readonly type: 'start' }
  | { readonly type: 'shutdown' }
  /**
   * A planned switchover (not in the RFC): the master steps down to Backup with one priority-0
   * advert, sent only to `to` when given (so that router alone starts its Skew_Time), keeps its
   * VIPs until it hears the new master, and then behaves as nopreempt until it is master again,
   * so the switchover sticks. It still takes over
   * when Master_Down_Timer runs out: a switchover nobody answers leaves no router without master.
   * `designated`: the router the shell told, outside VRRP, that it is the one to take over (see
   * the 'designated' input). Our VIPs then stay until that router says it holds them
   * ('taken-over'), or one Master_Adver_Interval after its first advert, so that clients never
   * find the addresses on neither host.
   */
  | {
      readonly type: 'resign';
      readonly to?: string;
      /** false: preempt stays as configured (a takeover abandoned); default true. */
      readonly sticky?: boolean;
      readonly designated?: string;
    }
  /**
   * Not in the RFC: the master `by` told this router, through a channel of its own (never a
   * packet of VRRP's), that it hands over to `to`. A Backup named `to`, told so by the router it
   * follows as master, becomes Master at once when that router's priority-0 advert arrives (or
   * has arrived), instead of after Skew_Time, provided both come within one
   * Master_Down_Interval of each other. Anything else is counted and ignored; a designation
   * alone never changes anything.
   */
  | { readonly type: 'designated'; readonly by: string; readonly to: string }
  /** Not in the RFC: the router `by`, which took over from us, holds the addresses now: a resigned master releases its own. */
  | { readonly type: 'taken-over'; readonly by: string }
  | { readonly type: 'timeout' }
  | { readonly type: 'advert'; readonly advert: VrrpAdvert; readonly source: string }
  /** A packet for this instance that failed decoding: counted here, nothing else. */
  | { readonly type: 'advert-dropped'; readonly reason: DecodeFailure }
  /**
   * A track's state. `value`: a number track (keepalived's track_file): value × weight is added
   * to the priority, a result of -254 or less means Fault, and with weight 0 any value but 0
   * means Fault; `ok` is then ignored.
   */
  | { readonly type: 'track'; readonly name: string; readonly ok: boolean; readonly value?: number }
  | { readonly type: 'interface'; readonly up: boolean }
  /**
   * Announce the addresses again now (not in the RFC: no packet of VRRP's own): hosts that were
   * cut off with another holder (a partition that healed) still have its MAC for them. A Master
   * holding its addresses sends one burst of `garp.repeat`; anyone else ignores it.
   */
  | { readonly type: 'announce' };

export type GarpBurst =
  | 'become-master'
  | 'delayed'
  | 'refresh'
  | 'lower-priority'
  | 'lower-priority-delayed'
  | 'announce';

export type VrrpAction =
  /** `to`: one router instead of the usual destinations (the multicast group or unicast peers). */
  | { readonly type: 'send-advert'; readonly advert: VrrpAdvert; readonly to?: string }
  /** `handedOver`: the previous master left with priority 0 (a stop or a switchover). */
  | { readonly type: 'add-vips'; readonly addresses: readonly string[]; readonly handedOver: boolean }
  /** `handedOver`: the router we designated says it holds the addresses now (a 'taken-over' input). */
  | { readonly type: 'remove-vips'; readonly addresses: readonly string[]; readonly handedOver: boolean }
  | {
      readonly type: 'send-garps';
      readonly addresses: readonly string[];
      readonly count: number;
      readonly burst: GarpBurst;
    }
  | {
      readonly type: 'state-changed';
      readonly from: VrrpState;
      readonly to: VrrpState;
      readonly reason: TransitionReason;
      readonly detail?: string;
      readonly priority: number;
    }
  | { readonly type: 'priority-changed'; readonly from: number; readonly to: number }
  /** An input that makes no sense in this state: a bug in the caller, reported, never ignored. */
  | {
      readonly type: 'unexpected-input';
      readonly input: VrrpInput['type'];
      readonly state: VrrpState;
      readonly message: string;
    };

export interface InstanceCounters {
  /** Adverts that passed every check and reached the state machine. */
  advertsRx: number;
  advertsTx: number;
  priorityZeroRx: number;
  priorityZeroTx: number;
  drops: Partial<Record<DropReason, number>>;
  transitions: number;
  becameMaster: number;
  garpsRequested: number;
  unexpectedInputs: number;
  /** Times this master stepped down because a lower-priority master kept advertising (it does not hear us). */
  unheardStepDowns: number;
  /** Designations from the master we follow, naming us, taken into account (see the 'designated' input). */
  designationsRx: number;
  /** Designations ignored: not a Backup, not naming us, not from the master we follow, or not a member. */
  designationsIgnored: number;
  /** Times this Backup became Master at once on a designation and its designator's priority 0, without Skew_Time. */
  designatedTakeovers: number;
  /** Resigns after designating a successor (the master's side). */
  designationsTx: number;
}

export interface LastTransition {
  readonly atMs: number;
  readonly from: VrrpState;
  readonly to: VrrpState;
  readonly reason: TransitionReason;
  readonly detail?: string;
}

export interface InstanceStatus {
  readonly name: string;
  readonly vrid: number;
  readonly version: VrrpVersion;
  readonly state: VrrpState;
  readonly basePriority: number;
  readonly effectivePriority: number;
  /** The master as seen: ourselves when master, else the source of the last accepted advert. */
  readonly masterAddress: string | undefined;
  readonly masterPriority: number | undefined;
  readonly advertIntervalCs: number;
  readonly masterAdverIntervalCs: number;
  readonly vipsHeld: readonly string[];
  readonly interfaceUp: boolean;
  /** `value`: a number track's number. */
  readonly tracks: readonly { name: string; weight: number; ok: boolean; value?: number }[];
  readonly lastTransition: LastTransition | undefined;
  readonly counters: InstanceCounters;
}

export class VrrpConfigError extends Error {
  override readonly name = 'VrrpConfigError';
  readonly code = 'ERR_VRRP_CONFIG';
}

function validate(c: InstanceConfig): void {
  const bad = (msg: string): never => {
    throw new VrrpConfigError(`instance ${c.name}: ${msg}`);
  };
  const int = (v: number, lo: number, hi: number): boolean =>
    Number.isInteger(v) && v >= lo && v <= hi;
  if (!int(c.vrid, 1, 255)) bad(`vrid must be 1..255, got ${c.vrid}`);
  if (!int(c.priority, 1, 255)) bad(`priority must be 1..255, got ${c.priority}`);
  if (c.version === 2) {
    if (c.family !== 'ipv4') bad('VRRPv2 is IPv4 only');
    if (c.advertIntervalCs % 100 !== 0 || !int(c.advertIntervalCs / 100, 1, 255)) {
      bad(`VRRPv2 advert interval must be 1..255 whole seconds, got ${c.advertIntervalCs} cs`);
    }
  } else if (!int(c.advertIntervalCs, 1, 4095)) {
    bad(`VRRPv3 advert interval must be 1..4095 cs, got ${c.advertIntervalCs}`);
  }
  if (c.authPassword !== undefined && c.version !== 2) bad('authentication is VRRPv2 only');
  if (c.authPassword !== undefined && new TextEncoder().encode(c.authPassword).length > 8) {
    bad('a VRRPv2 PASS password is at most 8 octets');
  }
  if (!(c.preemptDelayMs >= 0)) bad('preempt delay must be >= 0');
  if (addressFamilyOf(c.primaryAddress) !== c.family) {
    bad(`primary address ${c.primaryAddress} is not ${c.family}`);
  }
  if (c.virtualAddresses.length < 1 || c.virtualAddresses.length > 255) {
    bad('needs 1..255 virtual addresses');
  }
  const seen = new Set<string>();
  for (const a of c.virtualAddresses) {
    if (addressFamilyOf(a) !== c.family) bad(`virtual address ${a} is not ${c.family}`);
    const canon = canonicalAddress(a) ?? a;
    // A duplicate would make our adverts disagree with our own address check.
    if (seen.has(canon)) bad(`virtual address ${a} is listed twice`);
    seen.add(canon);
  }
  // An advert must fit one 1500-octet frame: 40 + 8 + 16n for IPv6 (IPv4 fits all 255).
  if (c.family === 'ipv6' && c.virtualAddresses.length > MAX_IPV6_ADDRESSES) {
    bad(`at most ${MAX_IPV6_ADDRESSES} IPv6 virtual addresses fit in one advert`);
  }
  for (const p of c.unicastPeers ?? []) {
    if (addressFamilyOf(p) !== c.family) bad(`unicast peer ${p} is not ${c.family}`);
  }
  const names = new Set<string>();
  for (const t of c.tracks) {
    if (names.has(t.name)) bad(`track ${t.name} listed twice`);
    names.add(t.name);
    if (!int(t.weight, -253, 253)) bad(`track ${t.name} weight must be -253..253`);
  }
  const g = c.garp;
  for (const r of [g.repeat, g.refreshRepeat, g.lowerPriorityRepeat]) {
    if (!int(r, 0, 1000)) bad('garp repeat counts must be 0..1000');
  }
  if (!(g.delayMs >= 0) || !(g.refreshMs >= 0)) bad('garp delays must be >= 0');
}

const PRIORITY_OWNER = 255;
const MAX_IPV6_ADDRESSES = 90;
const PRIORITY_STOP = 0;
/** Intervals of a lower-priority master's adverts, despite our answers, before we step down as unheard. */
export const UNHEARD_INTERVALS = 4;

export class VrrpInstance {
  readonly config: InstanceConfig;
  private stateValue: VrrpState = 'initialize';
  private readonly trackOk = new Map<string, boolean>();
  /** Number tracks' values (see the 'track' input). */
  private readonly trackValue = new Map<string, number>();
  private interfaceUp = true;
  private effective: number;
  private masterAdverIntervalCs: number;
  private masterAddress: string | undefined;
  private masterPriority: number | undefined;
  private vipsHeld = false;
  private last: LastTransition | undefined;
  // Deadlines (monotonic ms), undefined when not armed.
  private masterDownAtMs: number | undefined;
  private adverAtMs: number | undefined;
  private garpDelayedAtMs: number | undefined;
  private garpRefreshAtMs: number | undefined;
  private garpLowerDelayedAtMs: number | undefined;
  /** keepalived's preempt_time: until then a lower-priority master is tolerated. */
  private preemptAtMs: number | undefined;
  /** Set by a switchover: do not preempt until master again. */
  private resigned = false;
  /**
   * Backup side: the master we follow designated us (at `atMs`). Cleared by any transition, by
   * a new master, and when it is older than Master_Down_Interval at the priority 0.
   */
  private designation: { by: string; atMs: number } | undefined;
  /** Backup side: who sent the priority-0 advert whose Skew_Time runs (cleared by a new master's advert and by any transition). */
  private zeroFrom: string | undefined;
  /**
   * Resigned master side: the router it designated. Its VIPs stay until that router says it
   * holds them, or until `releaseAtMs` (one Master_Adver_Interval after its first advert).
   * Cleared by any transition and when the VIPs go.
   */
  private handingOver: { to: string; releaseAtMs: number | undefined } | undefined;
  private readonly primaryBytes: Uint8Array;
  private readonly primaryCanonical: string;
  private readonly peers: ReadonlySet<string> | undefined;
  private readonly members: ReadonlySet<string> | undefined;
  /**
   * Master side: a lower-priority router that keeps advertising as master although we answer it
   * (it does not hear us): since when, from whom. See masterRx.
   */
  private unheard: { src: string; sinceMs: number; lastMs: number } | undefined;
  private readonly authData: Uint8Array | undefined;
  private readonly vipSet: ReadonlySet<string>;
  private readonly canonicalMemo = new Map<string, string>();
  /** The input being handled, so that an impossible transition names its cause. */
  private currentInput: VrrpInput['type'] = 'start';
  readonly counters: InstanceCounters = {
    advertsRx: 0,
    advertsTx: 0,
    priorityZeroRx: 0,
    priorityZeroTx: 0,
    drops: {},
    transitions: 0,
    becameMaster: 0,
    garpsRequested: 0,
    unexpectedInputs: 0,
    unheardStepDowns: 0,
    designationsRx: 0,
    designationsIgnored: 0,
    designatedTakeovers: 0,
    designationsTx: 0,
  };

  constructor(config: InstanceConfig) {
    validate(config);
    this.config = Object.freeze({ ...config });
    for (const t of config.tracks) this.trackOk.set(t.name, t.initiallyOk ?? true);
    this.masterAdverIntervalCs = config.advertIntervalCs;
    this.primaryBytes = parseAddress(config.family, config.primaryAddress) ?? new Uint8Array(0);
    this.primaryCanonical = canonicalAddress(config.primaryAddress) ?? config.primaryAddress;
    this.peers = config.unicastPeers
      ? new Set(config.unicastPeers.map((p) => canonicalAddress(p) ?? p))
      : undefined;
    this.members = config.members
      ? new Set(config.members.map((p) => canonicalAddress(p) ?? p))
      : undefined;
    this.authData =
      config.authPassword !== undefined ? simpleAuthData(config.authPassword) : undefined;
    this.vipSet = new Set(config.virtualAddresses.map((a) => canonicalAddress(a) ?? a));
    this.effective = this.computePriority();
  }

  get state(): VrrpState {
    return this.stateValue;
  }

  get effectivePriority(): number {
    return this.effective;
  }

  /** The master as seen: our own address when master, else the source of the last advert. */
  get masterAddressSeen(): string | undefined {
    return this.stateValue === 'master' ? this.config.primaryAddress : this.masterAddress;
  }

  /** When the caller must deliver { type: 'timeout' } next, or undefined if nothing is armed. */
  nextDeadline(): number | undefined {
    let min: number | undefined;
    const armed = [
      this.masterDownAtMs,
      this.adverAtMs,
      this.garpDelayedAtMs,
      this.garpRefreshAtMs,
      this.garpLowerDelayedAtMs,
      this.handingOver?.releaseAtMs,
    ];
    for (const t of armed) {
      if (t !== undefined && (min === undefined || t < min)) min = t;
    }
    return min;
  }

  /** Skew_Time for our current effective priority (RFC 5798 §6.1). */
  skewTimeMs(): number {
    return skewTimeMs(this.config.version, this.effective, this.masterAdverIntervalCs);
  }

  /** Master_Down_Interval for our current effective priority (RFC 5798 §6.1). */
  masterDownIntervalMs(): number {
    return masterDownIntervalMs(this.config.version, this.effective, this.masterAdverIntervalCs);
  }

  handle(input: VrrpInput, nowMs: number): VrrpAction[] {
    const out: VrrpAction[] = [];
    this.currentInput = input.type;
    switch (input.type) {
      case 'start':
        this.onStart(nowMs, out);
        break;
      case 'shutdown':
        this.onShutdown(nowMs, out);
        break;
      case 'resign':
        this.onResign(input.to, input.sticky !== false, input.designated, nowMs, out);
        break;
      case 'designated':
        this.onDesignated(input.by, input.to, nowMs, out);
        break;
      case 'taken-over':
        if (this.stateValue === 'backup' && this.handingOver !== undefined && this.canonical(input.by) === this.handingOver.to) this.releaseHandedOver(out, true);
        break;
      case 'timeout':
        this.onTimeout(nowMs, out);
        break;
      case 'advert':
        this.onAdvert(input.advert, input.source, nowMs, out);
        break;
      case 'advert-dropped':
        this.drop(input.reason);
        break;
      case 'track':
        this.onTrack(input.name, input.ok, input.value, nowMs, out);
        break;
      case 'interface':
        this.interfaceUp = input.up;
        this.reevaluate(nowMs, out);
        break;
      case 'announce':
        if (this.state === 'master' && this.vipsHeld) this.sendGarps(this.config.garp.repeat, 'announce', out);
        break;
    }
    return out;
  }

  status(): InstanceStatus {
    const held = this.vipsHeld ? [...this.config.virtualAddresses] : [];
    return {
      name: this.config.name,
      vrid: this.config.vrid,
      version: this.config.version,
      state: this.stateValue,
      basePriority: this.config.priority,
      effectivePriority: this.effective,
      masterAddress:
        this.stateValue === 'master' ? this.config.primaryAddress : this.masterAddress,
      masterPriority: this.stateValue === 'master' ? this.effective : this.masterPriority,
      advertIntervalCs: this.config.advertIntervalCs,
      masterAdverIntervalCs: this.masterAdverIntervalCs,
      vipsHeld: held,
      interfaceUp: this.interfaceUp,
      tracks: this.config.tracks.map((t) => {
        const value = this.trackValue.get(t.name);
        return { name: t.name, weight: t.weight, ok: this.trackOk.get(t.name) ?? true, ...(value !== undefined ? { value } : {}) };
      }),
      lastTransition: this.last,
      counters: { ...this.counters, drops: { ...this.counters.drops } },
    };
  }

  // ---- inputs -------------------------------------------------------------------------------

  private onStart(nowMs: number, out: VrrpAction[]): void {
    if (this.stateValue !== 'initialize' && this.stateValue !== 'stopped') {
      this.unexpected('start', `already running in ${this.stateValue}`, out);
      return;
    }
    this.resigned = false;
    const fault = this.faultCause();
    if (fault) {
      this.transition('fault', fault.reason, nowMs, out, fault.detail);
      return;
    }
    // RFC 5798 §6.4.1: the address owner goes straight to Master, everyone else to Backup.
    if (this.config.priority === PRIORITY_OWNER) this.transition('master', 'address-owner', nowMs, out);
    else this.transition('backup', 'startup', nowMs, out);
  }

  private onShutdown(nowMs: number, out: VrrpAction[]): void {
    if (this.stateValue === 'stopped') {
      this.unexpected('shutdown', 'already stopped', out);
      return;
    }
    this.transition('stopped', 'shutdown', nowMs, out);
  }

  private onResign(to: string | undefined, sticky: boolean, designated: string | undefined, nowMs: number, out: VrrpAction[]): void {
    if (this.stateValue !== 'master') {
      this.unexpected('resign', `only a master can resign, this one is ${this.stateValue}`, out);
      return;
    }
    const usable = (a: string | undefined): boolean => a !== undefined && addressFamilyOf(a) === this.config.family && a !== this.primaryCanonical;
    const target = to === undefined ? undefined : this.canonical(to);
    if (to !== undefined && !usable(target)) {
      this.unexpected('resign', `cannot hand over to ${to}`, out);
      return;
    }
    const successor = designated === undefined ? undefined : this.canonical(designated);
    if (designated !== undefined && !usable(successor)) {
      this.unexpected('resign', `cannot designate ${designated}`, out);
      return;
    }
    this.sendAdvert(PRIORITY_STOP, out, target);
    // The VIPs stay until the new master's first advert: clients that connect meanwhile reach a
    // host that answers (with an error, as its Redis is fenced) instead of one that drops them.
    this.resigned = sticky;
    const detail = [target !== undefined ? `to ${target}` : '', successor !== undefined ? `designated ${successor}` : ''].filter((x) => x !== '').join(', ');
    this.transition('backup', 'resigned', nowMs, out, detail === '' ? undefined : detail);
    if (successor !== undefined) {
      this.counters.designationsTx++;
      this.handingOver = { to: successor, releaseAtMs: undefined };
    }
  }

  private onDesignated(by: string, to: string, nowMs: number, out: VrrpAction[]): void {
    const src = this.canonical(by);
    const named = this.canonical(to);
    // Trust comes from configuration: only a member's designation counts, and only the one of
    // the master we follow, naming us, while we are a Backup.
    const member = src !== undefined && (!this.peers || this.peers.has(src)) && (!this.members || this.members.has(src));
    if (this.stateValue !== 'backup' || !member || named !== this.primaryCanonical || src !== this.masterAddress) {
      this.counters.designationsIgnored++;
      return;
    }
    this.counters.designationsRx++;
    this.designation = { by: src, atMs: nowMs };
    // Its priority 0 came first: Skew_Time is running; take over now.
    if (this.zeroFrom === src && this.masterDownAtMs !== undefined) this.takeOverDesignated(src, nowMs, out);
  }

  private takeOverDesignated(by: string, nowMs: number, out: VrrpAction[]): void {
    this.counters.designatedTakeovers++;
    this.transition('master', 'designated', nowMs, out, `designated by ${by}, which sent priority 0`);
  }

  /** A resigned master's VIPs go now; `confirmed`: the successor says it holds them. */
  private releaseHandedOver(out: VrrpAction[], confirmed = false): void {
    this.handingOver = undefined;
    this.setVips(false, out, confirmed);
  }

  private onTimeout(nowMs: number, out: VrrpAction[]): void {
    // A spurious or early call finds nothing expired and does nothing.
    if (this.stateValue === 'backup') {
      const release = this.handingOver?.releaseAtMs;
      if (release !== undefined && release <= nowMs) this.releaseHandedOver(out);
      if (this.masterDownAtMs !== undefined && this.masterDownAtMs <= nowMs) {
        // RFC 5798 §6.4.2: Master_Down_Timer fired.
        this.transition('master', 'master-down-timer', nowMs, out);
      }
      return;
    }
    if (this.stateValue !== 'master') return;
    if (this.adverAtMs !== undefined && this.adverAtMs <= nowMs) {
      // RFC 5798 §6.4.3: Adver_Timer fired. The next one is due an interval after this one was due,
      // not after we got round to it: the caller's timer fires a little late each time, and adverts
      // must keep their rate (backups time out on missing ones). Later than a whole interval (a
      // pause), the cadence starts again from now.
      this.sendAdvert(this.effective, out);
      const intervalMs = this.config.advertIntervalCs * 10;
      const next = this.adverAtMs + intervalMs;
      this.adverAtMs = next > nowMs ? next : nowMs + intervalMs;
    }
    const g = this.config.garp;
    if (this.garpDelayedAtMs !== undefined && this.garpDelayedAtMs <= nowMs) {
      this.garpDelayedAtMs = undefined;
      this.sendGarps(g.repeat, 'delayed', out);
    }
    if (this.garpLowerDelayedAtMs !== undefined && this.garpLowerDelayedAtMs <= nowMs) {
      this.garpLowerDelayedAtMs = undefined;
      this.sendGarps(g.lowerPriorityRepeat, 'lower-priority-delayed', out);
    }
    if (this.garpRefreshAtMs !== undefined && this.garpRefreshAtMs <= nowMs) {
      this.garpRefreshAtMs = nowMs + g.refreshMs;
      this.sendGarps(g.refreshRepeat, 'refresh', out);
    }
  }

  private onTrack(name: string, ok: boolean, value: number | undefined, nowMs: number, out: VrrpAction[]): void {
    if (!this.trackOk.has(name)) {
      this.unexpected('track', `no track named ${name} on instance ${this.config.name}`, out);
      return;
    }
    if (value !== undefined) {
      const t = this.config.tracks.find((x) => x.name === name);
      const v = Math.trunc(value);
      if (this.trackValue.get(name) === v) return;
      this.trackValue.set(name, v);
      this.trackOk.set(name, t !== undefined && (t.weight === 0 ? v === 0 : v * t.weight > -254));
      this.reevaluate(nowMs, out);
      return;
    }
    if (this.trackOk.get(name) === ok) return;
    this.trackOk.set(name, ok);
    this.reevaluate(nowMs, out);
  }

  /** Recomputes priority and fault condition after a track or interface change. */
  private reevaluate(nowMs: number, out: VrrpAction[]): void {
    const before = this.effective;
    this.effective = this.computePriority();
    if (before !== this.effective) {
      out.push({ type: 'priority-changed', from: before, to: this.effective });
    }
    const fault = this.faultCause();
    const s = this.stateValue;
    if (s === 'initialize' || s === 'stopped') return; // remembered for start
    if (fault && s !== 'fault') {
      this.transition('fault', fault.reason, nowMs, out, fault.detail);
    } else if (!fault && s === 'fault') {
      // keepalived leaves Fault for Backup, even the address owner, and waits the full interval.
      this.transition('backup', 'fault-cleared', nowMs, out);
    } else if (s === 'backup' && before !== this.effective && this.masterDownAtMs !== undefined) {
      // keepalived shifts a running Master_Down_Timer by the change in Skew_Time.
      const v = this.config.version;
      const m = this.masterAdverIntervalCs;
      this.masterDownAtMs += skewTimeMs(v, this.effective, m) - skewTimeMs(v, before, m);
    }
  }

  private onAdvert(advert: VrrpAdvert, source: string, nowMs: number, out: VrrpAction[]): void {
    const reason = this.check(advert, source);
    if (reason) {
      this.drop(reason);
      return;
    }
    this.counters.advertsRx++;
    if (advert.priority === PRIORITY_STOP) this.counters.priorityZeroRx++;
    const src = this.canonical(source) ?? source;
    switch (this.stateValue) {
      case 'backup':
        this.backupRx(advert, src, nowMs, out);
        return;
      case 'master':
        this.masterRx(advert, src, nowMs, out);
        return;
      case 'fault':
        // Not participating; remember who is master for status.
        this.noteMaster(advert, src);
        return;
      case 'initialize':
      case 'stopped':
        this.counters.advertsRx--;
        if (advert.priority === PRIORITY_STOP) this.counters.priorityZeroRx--;
        this.drop('not-running');
        return;
    }
  }

  /** RFC 5798 §6.4.2, keepalived's vrrp_state_backup(). */
  private backupRx(advert: VrrpAdvert, src: string, nowMs: number, out: VrrpAction[]): void {
    if (advert.priority !== PRIORITY_STOP) {
      // A new master after our switchover: now the VIPs go, unless it is the router we
      // designated: it says when it holds them (a takeover promotes its Redis before the VIPs
      // come up), or one Master_Adver_Interval passes.
      const h = this.handingOver;
      if (h !== undefined && h.to === src && (h.releaseAtMs === undefined || h.releaseAtMs > nowMs)) h.releaseAtMs ??= nowMs + this.masterAdverIntervalCs * 10;
      else this.releaseHandedOver(out);
      this.zeroFrom = undefined;
      if (this.designation !== undefined && this.designation.by !== src) this.designation = undefined;
    }
    if (advert.priority === PRIORITY_STOP) {
      // The master is leaving: wait only Skew_Time (RFC 5798 §6.4.2).
      this.masterPriority = 0;
      this.zeroFrom = src;
      // Not in the RFC: the router that designated us (redkeep's hand-over) is leaving: at once.
      const d = this.designation;
      if (d !== undefined && d.by === src && nowMs - d.atMs <= this.masterDownIntervalMs()) {
        this.takeOverDesignated(src, nowMs, out);
        return;
      }
      this.masterDownAtMs = nowMs + this.skewTimeMs();
      return;
    }
    const lower = advert.priority < this.effective;
    // RFC 5798 §6.1: the owner always preempts (keepalived clears nopreempt for priority 255).
    const owner = this.config.priority === PRIORITY_OWNER;
    const preempt = (this.config.preempt && !this.resigned) || owner;
    const delaying =
      !owner &&
      this.config.preemptDelayMs > 0 &&
      (this.preemptAtMs === undefined || this.preemptAtMs > nowMs);
    if (!preempt || !lower || delaying) {
      if (this.config.preemptDelayMs > 0) {
        if (advert.priority >= this.effective) this.preemptAtMs = undefined;
        else if (this.preemptAtMs === undefined) this.preemptAtMs = nowMs + this.config.preemptDelayMs;
      }
      this.noteMaster(advert, src);
      if (this.config.version === 3) this.masterAdverIntervalCs = advert.advertIntervalCs;
      this.masterDownAtMs = nowMs + this.masterDownIntervalMs();
      return;
    }
    // Preempting a lower-priority master: discard, and let Master_Down_Timer run out.
  }

  /** RFC 5798 §6.4.3, keepalived's vrrp_state_master_rx(). */
  private masterRx(advert: VrrpAdvert, src: string, nowMs: number, out: VrrpAction[]): void {
    if (advert.priority === PRIORITY_STOP) {
      this.sendAdvert(this.effective, out);
      this.adverAtMs = nowMs + this.config.advertIntervalCs * 10;
      return;
    }
    const higher = advert.priority > this.effective;
    const tie =
      advert.priority === this.effective &&
      compareAddressBytes(parseAddress(this.config.family, src) ?? new Uint8Array(0), this.primaryBytes) > 0;
    if (higher || tie) {
      this.transition(
        'backup',
        higher ? 'higher-priority-advert' : 'equal-priority-higher-address',
        nowMs,
        out,
        `from ${src} priority ${advert.priority}`,
      );
      this.noteMaster(advert, src);
      if (this.config.version === 3) this.masterAdverIntervalCs = advert.advertIntervalCs;
      this.masterDownAtMs = nowMs + this.masterDownIntervalMs();
      return;
    }
    // Not in the RFC: a lower-priority router that goes on advertising as master for
    // UNHEARD_INTERVALS intervals although we answer each advert does not hear us (one-way loss):
    // we are the unheard side, and its side serves. Step down, and do not preempt it (as after a
    // resign) until we are master again.
    const u = this.unheard;
    const intervalMs = this.config.advertIntervalCs * 10;
    if (!u || u.src !== src || nowMs - u.lastMs > 2 * intervalMs) this.unheard = { src, sinceMs: nowMs, lastMs: nowMs };
    else {
      u.lastMs = nowMs;
      if (nowMs - u.sinceMs >= UNHEARD_INTERVALS * intervalMs) {
        this.counters.unheardStepDowns++;
        this.transition('backup', 'unheard', nowMs, out, `${src} (priority ${advert.priority}) kept advertising as master for ${Math.round(nowMs - u.sinceMs)} ms: it does not hear us`);
        this.resigned = true;
        this.noteMaster(advert, src);
        if (this.config.version === 3) this.masterAdverIntervalCs = advert.advertIntervalCs;
        this.masterDownAtMs = nowMs + this.masterDownIntervalMs();
        return;
      }
    }
    // A lower-priority (or lower-address) router thinks it is master: keepalived asserts itself
    // with an advert at once so the other side steps down without waiting an interval.
    // It also refreshes the neighbours' ARP caches, which may point at the other router.
    if (this.config.answerLowerPriority ?? true) {
      this.sendAdvert(this.effective, out);
      this.adverAtMs = nowMs + this.config.advertIntervalCs * 10;
    }
    const g = this.config.garp;
    if (g.lowerPriorityRepeat > 0) {
      this.sendGarps(g.lowerPriorityRepeat, 'lower-priority', out);
      // keepalived repeats it after garp_lower_prio_delay; one pending repeat at a time, so a
      // chatty lower-priority router cannot postpone it for ever.
      if (g.delayMs > 0 && this.garpLowerDelayedAtMs === undefined) {
        this.garpLowerDelayedAtMs = nowMs + g.delayMs;
      }
    }
  }

  // ---- checks -------------------------------------------------------------------------------

  /** RFC 5798 §7.1 and RFC 3768 §7.1 receive checks that need this instance's configuration. */
  private check(advert: VrrpAdvert, source: string): DropReason | undefined {
    const c = this.config;
    if (advert.vrid !== c.vrid) return 'vrid-mismatch';
    if (advert.family !== c.family) return 'family-mismatch';
    if (advert.version !== c.version) return 'version-mismatch';
    const src = this.canonical(source);
    if (src === undefined || addressFamilyOf(src) !== c.family) return 'family-mismatch';
    if (src === this.primaryCanonical) return 'from-self';
    if (this.peers && !this.peers.has(src)) return 'not-a-peer';
    if (this.members && !this.members.has(src)) return 'not-a-member';
    if (c.version === 2) {
      const want: AuthType = this.authData ? 'simple' : 'none';
      if (advert.authType !== want) return 'auth-mismatch';
      if (this.authData && !sameBytes(this.authData, advert.authData)) return 'auth-mismatch';
      // RFC 3768 §7.1: the interval must match ours.
      if (advert.advertIntervalCs !== c.advertIntervalCs) return 'interval-mismatch';
    }
    // keepalived drops an advert whose address list differs from ours (RFC 5798 §7.1 only logs).
    if (advert.addresses.length !== this.vipSet.size) return 'address-mismatch';
    for (const a of advert.addresses) {
      if (!this.vipSet.has(a) && !this.vipSet.has(this.canonical(a) ?? a)) return 'address-mismatch';
    }
    return undefined;
  }

  // ---- transitions --------------------------------------------------------------------------

  private transition(
    to: VrrpState,
    reason: TransitionReason,
    nowMs: number,
    out: VrrpAction[],
    detail?: string,
  ): void {
    const from = this.stateValue;
    if (!ALLOWED_TRANSITIONS[from].includes(to)) {
      this.unexpected(this.currentInput, `transition ${from} -> ${to} (${reason}) is not allowed`, out);
      return;
    }
    // Leave the old state.
    if (from === 'master') {
      // keepalived: priority 0 on shutdown (once) and on entering Fault (twice), so a backup
      // waits only Skew_Time.
      if (to === 'stopped') this.sendAdvert(PRIORITY_STOP, out);
      if (to === 'fault') {
        this.sendAdvert(PRIORITY_STOP, out);
        this.sendAdvert(PRIORITY_STOP, out);
      }
      if (!(to === 'backup' && this.resigned)) this.setVips(false, out);
      this.adverAtMs = undefined;
      this.garpDelayedAtMs = undefined;
      this.garpRefreshAtMs = undefined;
      this.garpLowerDelayedAtMs = undefined;
      this.unheard = undefined;
    }
    // A resigned master's VIPs, kept until the new master is heard, go with any other change.
    if (from === 'backup' && to !== 'master') this.setVips(false, out);
    this.masterDownAtMs = undefined;
    this.designation = undefined;
    this.zeroFrom = undefined;
    this.handingOver = undefined;
    this.stateValue = to;
    this.counters.transitions++;
    this.last = detail === undefined ? { atMs: nowMs, from, to, reason } : { atMs: nowMs, from, to, reason, detail };
    out.push(
      detail === undefined
        ? { type: 'state-changed', from, to, reason, priority: this.effective }
        : { type: 'state-changed', from, to, reason, detail, priority: this.effective },
    );
    // Enter the new state.
    switch (to) {
      case 'backup':
        // RFC 5798 §6.4.1: Master_Adver_Interval starts as our own Advertisement_Interval.
        this.masterAdverIntervalCs = this.config.advertIntervalCs;
        this.masterDownAtMs = nowMs + this.masterDownIntervalMs();
        if (from !== 'master') {
          this.masterAddress = undefined;
          this.masterPriority = undefined;
        }
        // keepalived: the preempt delay starts at the first lower-priority advert seen.
        this.preemptAtMs = undefined;
        break;
      case 'master': {
        this.counters.becameMaster++;
        this.resigned = false;
        this.masterAdverIntervalCs = this.config.advertIntervalCs;
        this.masterAddress = undefined;
        const handedOver = this.masterPriority === PRIORITY_STOP;
        this.masterPriority = undefined;
        // RFC 5798 §6.4.1/§6.4.2: advertise, take the addresses, announce them. The advert goes
        // first, as keepalived sends it: the other routers hear at once, before the (slower)
        // address change; the gratuitous ARPs follow the addresses.
        this.sendAdvert(this.effective, out);
        this.vipsHeld = false; // still held after a switchover nobody took: announce them again
        this.setVips(true, out, handedOver);
        this.sendGarps(this.config.garp.repeat, 'become-master', out);
        this.adverAtMs = nowMs + this.config.advertIntervalCs * 10;
        const g = this.config.garp;
        this.garpDelayedAtMs = g.delayMs > 0 && g.repeat > 0 ? nowMs + g.delayMs : undefined;
        this.garpRefreshAtMs = g.refreshMs > 0 ? nowMs + g.refreshMs : undefined;
        break;
      }
      case 'fault':
      case 'stopped':
      case 'initialize':
        break;
    }
  }

  // ---- helpers ------------------------------------------------------------------------------

  private computePriority(): number {
    const base = this.config.priority;
    if (base === PRIORITY_OWNER) return PRIORITY_OWNER;
    let p = base;
    for (const t of this.config.tracks) {
      const v = this.trackValue.get(t.name);
      if (v !== undefined) {
        p += v * t.weight;
        continue;
      }
      const ok = this.trackOk.get(t.name) ?? true;
      if (t.weight < 0 && !ok) p += t.weight;
      if (t.weight > 0 && ok) p += t.weight;
    }
    return Math.min(254, Math.max(1, p));
  }

  private faultCause(): { reason: TransitionReason; detail: string } | undefined {
    if (!this.interfaceUp) return { reason: 'interface-down', detail: 'interface down' };
    for (const t of this.config.tracks) {
      const v = this.trackValue.get(t.name);
      if (v !== undefined && this.trackOk.get(t.name) === false) {
        return { reason: 'track-failed', detail: `track ${t.name} is ${v}${t.weight === 0 ? '' : ` (× weight ${t.weight})`}` };
      }
      if (t.weight === 0 && this.trackOk.get(t.name) === false) {
        return { reason: 'track-failed', detail: `track ${t.name} failed` };
      }
    }
    return undefined;
  }

  private noteMaster(advert: VrrpAdvert, src: string): void {
    this.masterAddress = src;
    this.masterPriority = advert.priority;
  }

  private advert(priority: number): VrrpAdvert {
    const c = this.config;
    const base = {
      version: c.version,
      vrid: c.vrid,
      priority,
      advertIntervalCs: c.advertIntervalCs,
      family: c.family,
      addresses: c.virtualAddresses,
    };
    if (c.version === 3) return { ...base, authType: 'none' };
    return this.authData
      ? { ...base, authType: 'simple', authData: this.authData }
      : { ...base, authType: 'none', authData: new Uint8Array(8) };
  }

  private sendAdvert(priority: number, out: VrrpAction[], to?: string): void {
    this.counters.advertsTx++;
    if (priority === PRIORITY_STOP) this.counters.priorityZeroTx++;
    out.push(to === undefined ? { type: 'send-advert', advert: this.advert(priority) } : { type: 'send-advert', advert: this.advert(priority), to });
  }

  private sendGarps(count: number, burst: GarpBurst, out: VrrpAction[]): void {
    if (count <= 0) return;
    this.counters.garpsRequested += count * this.config.virtualAddresses.length;
    out.push({ type: 'send-garps', addresses: this.config.virtualAddresses, count, burst });
  }

  private setVips(held: boolean, out: VrrpAction[], handedOver = false): void {
    if (this.vipsHeld === held) return;
    this.vipsHeld = held;
    const addresses = this.config.virtualAddresses;
    out.push(held ? { type: 'add-vips', addresses, handedOver } : { type: 'remove-vips', addresses, handedOver });
  }

  /** canonicalAddress() with a small bounded memo: sources repeat, and this is the hot path. */
  private canonical(text: string): string | undefined {
    const hit = this.canonicalMemo.get(text);
    if (hit !== undefined) return hit;
    const c = canonicalAddress(text);
    if (c === undefined) return undefined;
    if (this.canonicalMemo.size >= 64) this.canonicalMemo.clear();
    this.canonicalMemo.set(text, c);
    return c;
  }

  private drop(reason: DropReason): void {
    this.counters.drops[reason] = (this.counters.drops[reason] ?? 0) + 1;
  }

  private unexpected(input: VrrpInput['type'], message: string, out: VrrpAction[]): void {
    this.counters.unexpectedInputs++;
    out.push({ type: 'unexpected-input', input, state: this.stateValue, message });
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array | undefined): boolean {
  if (!b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
