// Virtual addresses are reconciled, not fired once: the wanted set (from the instances' cores)
// is compared with what netlink shows, and the difference is applied. It runs when an instance
// changes its wish, and with every look the agent takes at links and addresses (when the kernel
// announces a change, and periodically), so an address removed by someone else while master is
// put back. Only configured VIPs are touched.

import type { HostAddress, HostLink, HostNetlink } from '@redkeep/host';
import type { AddressFamily } from '@redkeep/vrrp';
import type { Logger } from '../log.js';
import { ReconcileLoop } from './reconcile-loop.js';

export interface VipSpec {
  readonly instance: string;
  readonly interface: string;
  readonly family: AddressFamily;
  readonly address: string;
  readonly prefixLength: number;
  readonly label: string | undefined;
}

function keyOf(v: VipSpec): string {
  return `${v.interface}/${v.address}`;
}

export class VipReconciler {
  private specs: readonly VipSpec[];
  private readonly wanted = new Set<string>();
  private readonly present = new Set<string>();
  /** Interface indexes as last read (for want()'s immediate change). */
  private readonly ifindex = new Map<string, number>();
  /** Last failure per VIP, so a failure is logged once per change of condition. */
  private readonly failing = new Map<string, string>();
  private readonly loop = new ReconcileLoop(() => this.reconcileOnce());
  /**
   * Counts the starts and ends of passes (odd while one runs): a look is stale for the next pass
   * if it began while a pass was running or before the latest one.
   */
  private passes = 0;
  /** Links and addresses someone else just read (the agent's refresh), used by the next pass instead of reading again. */
  private observed: { links: readonly HostLink[]; addrs: readonly HostAddress[]; passes: number } | undefined;

  constructor(
    private readonly nl: HostNetlink,
    specs: readonly VipSpec[],
    private readonly log: Logger,
  ) {
    this.specs = specs;
  }

  /** The number to give `observe` with a look that starts now. */
  get lookStamp(): number {
    return this.passes;
  }

  /**
   * A reload's new list. Its instance has stopped (and released its VIPs) before this is called;
   * a VIP no longer listed that is still on the interface (its removal failed) stays known, not
   * wanted, until a reconciliation has removed it. Wants of kept instances stay.
   */
  setSpecs(specs: readonly VipSpec[]): void {
    const keys = new Set(specs.map(keyOf));
    const leftover = this.specs.filter((v) => !keys.has(keyOf(v)) && this.present.has(keyOf(v)));
    for (const k of [...this.wanted]) if (!keys.has(k)) this.wanted.delete(k);
    for (const k of [...this.present]) if (!keys.has(k) && !leftover.some((v) => keyOf(v) === k)) this.present.delete(k);
    this.specs = [...specs, ...leftover];
  }

  /**
   * Sets whether an instance wants its VIPs and applies that at once (on the interface as last
   * read: a failover must not wait for a pass that re-reads every link and address); resolves
   * when applied. A full reconciliation follows, which corrects whatever this got wrong.
   */
  async want(instance: string, held: boolean): Promise<void> {
    const mine = this.specs.filter((v) => v.instance === instance);
    for (const v of mine) {
      if (held) this.wanted.add(keyOf(v));
      else this.wanted.delete(keyOf(v));
    }
    let direct = true;
    for (const v of mine) {
      const key = keyOf(v);
      const ifindex = this.ifindex.get(v.interface);
      if (ifindex === undefined) {
        direct = false;
        continue;
      }
      try {
        if (held && !this.present.has(key)) {
          await this.nl.addAddress(ifindex, v.family, v.address, v.prefixLength, v.label);
          this.present.add(key);
          this.log.info('virtual address added', { instance: v.instance, address: `${v.address}/${v.prefixLength}`, interface: v.interface });
        } else if (!held && this.present.has(key)) {
          await this.nl.delAddress(ifindex, v.family, v.address, v.prefixLength);
          this.present.delete(key);
          this.log.info('virtual address removed', { instance: v.instance, address: `${v.address}/${v.prefixLength}`, interface: v.interface });
        }
      } catch {
        direct = false; // the pass below retries and says why
      }
    }
    if (!direct) return this.kick();
    void this.kick();
  }

  /** VIPs of an instance that are on the interface right now (as last observed). */
  held(instance: string): string[] {
    return this.specs
      .filter((v) => v.instance === instance && this.present.has(keyOf(v)))
      .map((v) => `${v.address}/${v.prefixLength}`);
  }

  /** Runs a reconciliation now (or right after the one in progress). */
  kick(): Promise<void> {
    return this.loop.kick();
  }

  /**
   * Reconciles against links and addresses just read (their read began at `stamp`, from
   * `lookStamp`), rather than reading them again; a pass that began since makes them stale, and
   * the next pass reads for itself.
   */
  observe(links: readonly HostLink[], addrs: readonly HostAddress[], stamp: number): Promise<void> {
    this.observed = { links, addrs, passes: stamp };
    return this.loop.kick();
  }

  /** Stops the periodic run and removes every configured VIP; resolves when done. */
  async releaseAll(): Promise<void> {
    this.loop.stop();
    this.wanted.clear();
    await this.loop.kick();
  }

  private async reconcileOnce(): Promise<void> {
    const seen = this.observed;
    this.observed = undefined;
    const fresh = seen !== undefined && seen.passes === this.passes && seen.passes % 2 === 0;
    this.passes++;
    try {
      await this.pass(fresh ? seen : undefined);
    } finally {
      this.passes++;
    }
  }

  private async pass(seen: { links: readonly HostLink[]; addrs: readonly HostAddress[] } | undefined): Promise<void> {
    let links: readonly HostLink[];
    let addrs: readonly HostAddress[];
    if (seen !== undefined) ({ links, addrs } = seen);
    else {
      try {
        links = await this.nl.links();
        addrs = await this.nl.addresses();
      } catch (e) {
        this.fail('*', `cannot read addresses: ${e instanceof Error ? e.message : String(e)}`);
        return;
      }
    }
    this.clear('*');
    const index = new Map(links.map((l) => [l.name, l.index]));
    this.ifindex.clear();
    for (const [name, i] of index) this.ifindex.set(name, i);
    const on = new Set(addrs.map((a) => `${a.index}/${a.address}`));
    for (const v of this.specs) {
      const key = keyOf(v);
      const ifindex = index.get(v.interface);
      if (ifindex === undefined) {
        this.present.delete(key);
        this.fail(key, `interface ${v.interface} does not exist`);
        continue;
      }
      const isOn = on.has(`${ifindex}/${v.address}`);
      const want = this.wanted.has(key);
      try {
        if (want && !isOn) {
          // Not added: it is there already (want() added it since the read).
          const added = await this.nl.addAddress(ifindex, v.family, v.address, v.prefixLength, v.label);
          if (added && this.present.has(key)) {
            // We held it and it vanished: someone removed it.
            this.log.warn('virtual address was removed by someone else; put back', { instance: v.instance, address: `${v.address}/${v.prefixLength}`, interface: v.interface });
          } else if (added) {
            this.log.info('virtual address added', { instance: v.instance, address: `${v.address}/${v.prefixLength}`, interface: v.interface });
          }
          this.present.add(key);
        } else if (!want && isOn) {
          const removed = await this.nl.delAddress(ifindex, v.family, v.address, v.prefixLength);
          this.present.delete(key);
          if (removed) this.log.info('virtual address removed', { instance: v.instance, address: `${v.address}/${v.prefixLength}`, interface: v.interface });
        } else if (isOn) this.present.add(key);
        else this.present.delete(key);
        this.clear(key);
      } catch (e) {
        this.fail(key, `${want ? 'add' : 'remove'} ${v.address}/${v.prefixLength} on ${v.interface}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  private fail(key: string, message: string): void {
    if (this.failing.get(key) === message) return;
    this.failing.set(key, message);
    this.log.error(message, { will: 'retry' });
  }

  private clear(key: string): void {
    const was = this.failing.get(key);
    if (was === undefined) return;
    this.failing.delete(key);
    this.log.info('recovered', { from: was });
  }
}
