// Links and addresses through rtnetlink (the `netlink` package): list, add, remove, and events.

import { createRequire } from 'node:module';
import type { RtNetlinkSocket } from 'netlink';
import { RouteEvents } from '@redkeep/afpacket';
import { type AddressFamily, formatAddress, parseAddress } from '@redkeep/vrrp';

// netlink is CommonJS; load it through require so its named exports resolve at run time.
const netlink = createRequire(import.meta.url)('netlink') as typeof import('netlink');

const AF_INET = 2;
const AF_INET6 = 10;

export interface HostLink {
  readonly index: number;
  readonly name: string;
  readonly mac: string | undefined;
  /** Administratively up (IFF_UP). */
  readonly adminUp: boolean;
  /** Carrier present and operationally up (IFF_LOWER_UP and IFF_RUNNING). */
  readonly carrier: boolean;
}

export interface HostAddress {
  readonly index: number;
  readonly family: AddressFamily;
  readonly address: string;
  readonly prefixLength: number;
  readonly label: string | undefined;
}

export type NetlinkEvent = { readonly kind: 'change'; readonly overflow: boolean };

export class NetlinkError extends Error {
  override readonly name = 'NetlinkError';
  /** The kernel's errno name when known (EEXIST, EADDRNOTAVAIL, EPERM, ...). */
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}

function wrapError(what: string, e: unknown): NetlinkError {
  const msg = e instanceof Error ? e.message : String(e);
  const code = /\b(E[A-Z]+)\b/.exec(msg)?.[1] ?? 'ENETLINK';
  return new NetlinkError(`${what}: ${msg}`, code);
}

function macText(b: Buffer | undefined): string | undefined {
  if (!b || b.length !== 6) return undefined;
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
}

export class HostNetlink {
  private readonly sock: RtNetlinkSocket;
  private events: RouteEvents | undefined;
  /** One request at a time: concurrent dumps on one socket interleave and fail. */
  private lock: Promise<unknown> = Promise.resolve();

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  private constructor(sock: RtNetlinkSocket) {
    this.sock = sock;
  }

  static open(): HostNetlink {
    return new HostNetlink(netlink.createRtNetlink());
  }

  async links(): Promise<HostLink[]> {
    let msgs;
    try {
      msgs = await this.serial(() => this.sock.getLinks());
    } catch (e) {
      throw wrapError('list links', e);
    }
    return msgs.map((m) => {
      const f = m.data.flags ?? {};
      return {
        index: m.data.index ?? 0,
        name: m.attrs.ifname ?? '',
        mac: macText(m.attrs.address),
        adminUp: f.up === true,
        carrier: f.lowerUp === true && f.running === true,
      };
    });
  }

  async link(name: string): Promise<HostLink | undefined> {
    return (await this.links()).find((l) => l.name === name);
  }

  async addresses(index?: number): Promise<HostAddress[]> {
    let msgs;
    try {
      msgs = await this.serial(() => this.sock.getAddresses());
    } catch (e) {
      throw wrapError('list addresses', e);
    }
    const out: HostAddress[] = [];
    for (const m of msgs) {
      if (index !== undefined && m.data.index !== index) continue;
      const family: AddressFamily | undefined =
        m.data.family === AF_INET ? 'ipv4' : m.data.family === AF_INET6 ? 'ipv6' : undefined;
      const raw = m.attrs.local ?? m.attrs.address;
      if (!family || !raw) continue;
      out.push({
        index: m.data.index ?? 0,
        family,
        address: formatAddress(family, new Uint8Array(raw)),
        prefixLength: m.data.prefixlen ?? 0,
        label: m.attrs.label,
      });
    }
    return out;
  }

  /** Adds an address; resolves false if it was already there. */
  async addAddress(
    index: number,
    family: AddressFamily,
    address: string,
    prefixLength: number,
    label?: string,
  ): Promise<boolean> {
    const bytes = parseAddress(family, address);
    if (!bytes) throw new NetlinkError(`not an ${family} address: ${address}`, 'EINVAL');
    const buf = Buffer.from(bytes);
    const attrs = family === 'ipv4' ? { local: buf, address: buf, ...(label ? { label } : {}) } : { local: buf, address: buf };
    try {
      await this.serial(() =>
        this.sock.newAddress(
        {
          family: family === 'ipv4' ? AF_INET : AF_INET6,
          prefixlen: prefixLength,
          index,
          // No duplicate address detection for a virtual IPv6 address (keepalived does the same).
          ...(family === 'ipv6' ? { flags: { nodad: true } } : {}),
        },
        attrs,
        { flags: netlink.FlagsNew.CREATE | netlink.FlagsNew.EXCL },
        ),
      );
      return true;
    } catch (e) {
      const err = wrapError(`add ${address}/${prefixLength}`, e);
      if (err.code === 'EEXIST') return false;
      throw err;
    }
  }

  /** Removes an address; resolves false if it was not there. */
  async delAddress(index: number, family: AddressFamily, address: string, prefixLength: number): Promise<boolean> {
    const bytes = parseAddress(family, address);
    if (!bytes) throw new NetlinkError(`not an ${family} address: ${address}`, 'EINVAL');
    try {
      await this.serial(() =>
        this.sock.delAddress(
          { family: family === 'ipv4' ? AF_INET : AF_INET6, prefixlen: prefixLength, index },
          { local: Buffer.from(bytes) },
        ),
      );
      return true;
    } catch (e) {
      const err = wrapError(`remove ${address}/${prefixLength}`, e);
      if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENODEV') return false;
      throw err;
    }
  }

  /**
   * Calls `cb` when the kernel announces link or address changes, or had to drop some such
   * announcements (then everything must be re-read). Our own socket (the AF_PACKET addon) rather
   * than the netlink package's: that one aborts the process when its buffer overflows.
   */
  subscribe(cb: (e: NetlinkEvent) => void): void {
    if (this.events) throw new NetlinkError('already subscribed', 'EBUSY');
    this.events = new RouteEvents((overflow) => cb({ kind: 'change', overflow }));
  }

  close(): void {
    this.sock.socket.close();
    this.events?.close();
    this.events = undefined;
  }
}
