// Links and addresses through rtnetlink: list, add, remove (requests on our own netlink socket,
// see rtnetlink.ts), and change events.

import { RawSocket, RouteEvents, errnoName } from '@redkeep/afpacket';
import { type AddressFamily, formatAddress, parseAddress } from '@redkeep/vrrp';
import {
  AF_INET,
  AF_INET6,
  NLMSG_DONE,
  NLMSG_ERROR,
  type NlMessage,
  addAddressRequest,
  decodeAddress,
  decodeLink,
  decodeMessages,
  delAddressRequest,
  errorCode,
  getAddressesRequest,
  getLinksRequest,
} from './rtnetlink.js';

/** A request the kernel does not answer within this long fails (it never should). */
const REQUEST_TIMEOUT_MS = 2000;

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

function macText(b: Uint8Array | undefined): string | undefined {
  if (!b || b.length !== 6) return undefined;
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
}

interface Pending {
  readonly seq: number;
  readonly messages: NlMessage[];
  /** Ends the request: an error code (an errno name; its text is made by `request`), or the messages. */
  readonly done: (error: { code: string; text: string } | undefined, messages: NlMessage[]) => void;
}

export class HostNetlink {
  private readonly sock: RawSocket;
  private events: RouteEvents | undefined;
  /** One request at a time: answers are matched by sequence number, dumps span datagrams. */
  private lock: Promise<unknown> = Promise.resolve();
  private seq = 0;
  private pending: Pending | undefined;

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  private constructor(sock: RawSocket) {
    this.sock = sock;
    sock.read((data) => this.receive(data));
  }

  static open(): HostNetlink {
    return new HostNetlink(RawSocket.openNetlinkRoute());
  }

  private receive(data: Uint8Array): void {
    const p = this.pending;
    if (!p) return;
    for (const m of decodeMessages(data)) {
      // An answer to an earlier request that timed out: not ours.
      if (m.seq !== p.seq) continue;
      if (m.type === NLMSG_ERROR) {
        const err = errorCode(m) ?? -1;
        const name = errnoName(err) ?? `errno ${err}`;
        p.done(err === 0 ? undefined : { code: name, text: name }, p.messages);
        return;
      }
      if (m.type === NLMSG_DONE) {
        p.done(undefined, p.messages);
        return;
      }
      p.messages.push(m);
    }
  }

  /** Sends one request and resolves with its answer's messages (a dump's, or none for an acknowledgement). */
  private request(what: string, build: (seq: number) => Uint8Array): Promise<NlMessage[]> {
    return this.serial(
      () =>
        new Promise<NlMessage[]>((resolve, reject) => {
          this.seq = (this.seq + 1) >>> 0 || 1;
          const seq = this.seq;
          const timer = setTimeout(() => finish({ code: 'ETIMEDOUT', text: `no answer from the kernel within ${REQUEST_TIMEOUT_MS} ms` }, []), REQUEST_TIMEOUT_MS);
          const finish = (error: { code: string; text: string } | undefined, messages: NlMessage[]): void => {
            clearTimeout(timer);
            if (this.pending?.seq === seq) this.pending = undefined;
            if (error) reject(new NetlinkError(`${what}: ${error.text}`, error.code));
            else resolve(messages);
          };
          this.pending = { seq, messages: [], done: finish };
          try {
            this.sock.send(build(seq));
          } catch (e) {
            const err = e as Error & { code?: string };
            finish({ code: err.code ?? 'ENETLINK', text: err.message }, []);
          }
        }),
    );
  }

  async links(): Promise<HostLink[]> {
    const out: HostLink[] = [];
    for (const m of await this.request('list links', getLinksRequest)) {
      const l = decodeLink(m);
      if (l) out.push({ index: l.index, name: l.name, mac: macText(l.mac), adminUp: l.adminUp, carrier: l.carrier });
    }
    return out;
  }

  async link(name: string): Promise<HostLink | undefined> {
    return (await this.links()).find((l) => l.name === name);
  }

  async addresses(index?: number): Promise<HostAddress[]> {
    const out: HostAddress[] = [];
    for (const m of await this.request('list addresses', getAddressesRequest)) {
      const a = decodeAddress(m);
      if (!a || (index !== undefined && a.index !== index) || !a.address) continue;
      const family: AddressFamily | undefined = a.family === AF_INET && a.address.length === 4 ? 'ipv4' : a.family === AF_INET6 && a.address.length === 16 ? 'ipv6' : undefined;
      if (!family) continue;
      out.push({ index: a.index, family, address: formatAddress(family, a.address), prefixLength: a.prefixLength, label: a.label });
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
    try {
      await this.request(`add ${address}/${prefixLength}`, (seq) =>
        addAddressRequest(seq, {
          family: family === 'ipv4' ? AF_INET : AF_INET6,
          prefixLength,
          index,
          address: bytes,
          ...(family === 'ipv4' && label ? { label } : {}),
          // No duplicate address detection for a virtual IPv6 address (keepalived does the same).
          nodad: family === 'ipv6',
        }),
      );
      return true;
    } catch (e) {
      if (e instanceof NetlinkError && e.code === 'EEXIST') return false;
      throw e;
    }
  }

  /** Removes an address; resolves false if it was not there. */
  async delAddress(index: number, family: AddressFamily, address: string, prefixLength: number): Promise<boolean> {
    const bytes = parseAddress(family, address);
    if (!bytes) throw new NetlinkError(`not an ${family} address: ${address}`, 'EINVAL');
    try {
      await this.request(`remove ${address}/${prefixLength}`, (seq) => delAddressRequest(seq, { family: family === 'ipv4' ? AF_INET : AF_INET6, prefixLength, index, address: bytes }));
      return true;
    } catch (e) {
      if (e instanceof NetlinkError && (e.code === 'EADDRNOTAVAIL' || e.code === 'ENODEV')) return false;
      throw e;
    }
  }

  /**
   * Calls `cb` when the kernel announces link or address changes, or had to drop some such
   * announcements (then everything must be re-read).
   */
  subscribe(cb: (e: NetlinkEvent) => void): void {
    if (this.events) throw new NetlinkError('already subscribed', 'EBUSY');
    this.events = new RouteEvents((overflow) => cb({ kind: 'change', overflow }));
  }

  close(): void {
    this.sock.close();
    this.pending?.done({ code: 'ECLOSED', text: 'closed' }, []);
    this.events?.close();
    this.events = undefined;
  }
}
