// TypeScript face of the socket addon (native/afpacket.c): AF_PACKET, raw IP, netlink route.

import { createRequire } from 'node:module';
import { constants } from 'node:os';

interface Native {
  open(ifindex: number, ethertype: number, filter?: Uint8Array): number;
  openRouteEvents(): number;
  send(fd: number, frame: Uint8Array): number;
  attachFilter(fd: number, program: Uint8Array): void;
  startReading(
    fd: number,
    cb: (frame: Buffer | null, pktType: number | null, status: number, timestamp: number | null) => void,
  ): unknown;
  stopReading(handle: unknown): void;
  close(fd: number): void;
  sendUnixDatagram(path: string, data: Uint8Array): void;
  openUnixDatagram(path: string): number;
  openRawIp(family: 4 | 6, protocol: number, ifname: string): number;
  setSockOpt(fd: number, level: number, name: number, value: number | Uint8Array): void;
  sendTo(fd: number, data: Uint8Array, address: Uint8Array, scopeId?: number): number;
  openNetlinkRoute(): number;
}

/** The addon: next to this module, or through the package when this module is bundled (agent/dist/redkeep.cjs). */
function loadNative(): Native {
  const require = createRequire(import.meta.url);
  try {
    return require('../build/Release/afpacket.node') as Native;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw e;
  }
  return require('@redkeep/afpacket/native') as Native;
}

const native = loadNative();

export const ETH_P_ALL = 0x0003;
export const ETH_P_ARP = 0x0806;
export const ETH_P_IP = 0x0800;
export const ETH_P_IPV6 = 0x86dd;

/** linux/if_packet.h PACKET_* packet types. */
export type PacketDirection = 'host' | 'broadcast' | 'multicast' | 'otherhost' | 'outgoing' | 'other';
const PKT_TYPES: readonly PacketDirection[] = ['host', 'broadcast', 'multicast', 'otherhost', 'outgoing'];

/** `timestamp`: when the kernel received the frame, seconds since the epoch (µs precision). */
export type FrameHandler = (frame: Uint8Array, direction: PacketDirection, timestamp: number | undefined) => void;

export class PacketSocketError extends Error {
  override readonly name = 'PacketSocketError';
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}

function wrap<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const err = e as Error & { code?: string; errno?: number };
    throw new PacketSocketError(`${what}: ${err.message}`, errnoName(err.errno) ?? err.code ?? 'EAFPACKET');
  }
}

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([k, v]) => [v, k]));

/** The errno name (EEXIST, EPERM, ...) of a number, if it is one. */
export function errnoName(errno: number | undefined): string | undefined {
  return errno === undefined ? undefined : ERRNO_NAMES.get(Math.abs(errno));
}

/** A packet socket bound to one interface. ethertype 0 sends only. */
export class PacketSocket {
  private fd: number;
  private reader: unknown;

  private constructor(fd: number) {
    this.fd = fd;
  }

  /** Opens a socket; a filter (see bpf.ts) applies from the first frame on. */
  static open(ifindex: number, ethertype = 0, filter?: Uint8Array): PacketSocket {
    return new PacketSocket(wrap('open', () => native.open(ifindex, ethertype, filter)));
  }

  get closed(): boolean {
    return this.fd < 0;
  }

  send(frame: Uint8Array): void {
    wrap('send', () => native.send(this.fd, frame));
  }

  /** Attaches a classic BPF program (see bpf.ts). */
  setFilter(program: Uint8Array): void {
    wrap('attachFilter', () => native.attachFilter(this.fd, program));
  }

  /** Calls `onFrame` for each frame received, and `onError` if polling fails. */
  read(onFrame: FrameHandler, onError: (status: number) => void = () => undefined): void {
    if (this.reader !== undefined) throw new PacketSocketError('already reading', 'EBUSY');
    this.reader = startReader(this.fd, (frame, pktType, timestamp) => onFrame(frame, PKT_TYPES[pktType] ?? 'other', timestamp), onError);
  }

  close(): void {
    if (this.fd < 0) return;
    closeFd(this.fd, this.reader);
    this.reader = undefined;
    this.fd = -1;
  }
}

/** Starts reading a socket through libuv; the handle for closeFd. */
function startReader(fd: number, onData: (data: Uint8Array, pktType: number, timestamp: number | undefined) => void, onError: (status: number) => void): unknown {
  return wrap('startReading', () =>
    native.startReading(fd, (data, pktType, status, timestamp) => {
      try {
        if (status !== 0 || data === null) onError(status);
        else onData(new Uint8Array(data.buffer, data.byteOffset, data.length), pktType ?? -1, timestamp ?? undefined);
      } catch (e) {
        // A handler's exception must not escape into native code (it would resurface later).
        queueMicrotask(() => {
          throw e;
        });
      }
    }),
  );
}

function closeFd(fd: number, reader: unknown): void {
  if (reader !== undefined) native.stopReading(reader);
  wrap('close', () => native.close(fd));
}

/**
 * A socket the addon opened other than AF_PACKET: a raw IP socket bound to an interface
 * (`openRawIp`), or a netlink route socket for requests (`openNetlinkRoute`). Sends are
 * synchronous (one syscall, never waiting: a full buffer throws); reads come through libuv.
 */
export class RawSocket {
  private fd: number;
  private reader: unknown;

  private constructor(fd: number) {
    this.fd = fd;
  }

  /** A raw IP socket for `protocol` bound to `ifname` (SO_BINDTODEVICE). */
  static openRawIp(family: 4 | 6, protocol: number, ifname: string): RawSocket {
    return new RawSocket(wrap(`raw IPv${family} socket on ${ifname}`, () => native.openRawIp(family, protocol, ifname)));
  }

  /** A NETLINK_ROUTE socket for requests to the kernel (no event groups). */
  static openNetlinkRoute(): RawSocket {
    return new RawSocket(wrap('netlink route socket', () => native.openNetlinkRoute()));
  }

  get closed(): boolean {
    return this.fd < 0;
  }

  setOption(level: number, name: number, value: number | Uint8Array): void {
    wrap(`setsockopt(${level}, ${name})`, () => native.setSockOpt(this.fd, level, name, value));
  }

  /** Sends to an IPv4 (4 bytes) or IPv6 (16 bytes) address; `scopeId` for link-local IPv6. */
  sendTo(data: Uint8Array, address: Uint8Array, scopeId = 0): void {
    wrap('sendto', () => native.sendTo(this.fd, data, address, scopeId));
  }

  /** Sends on a socket with a default destination (netlink: the kernel). */
  send(data: Uint8Array): void {
    wrap('send', () => native.send(this.fd, data));
  }

  /** Attaches a classic BPF program (see bpf.ts), e.g. one that drops everything on a send-only socket. */
  setFilter(program: Uint8Array): void {
    wrap('attachFilter', () => native.attachFilter(this.fd, program));
  }

  /** Calls `onData` for each datagram (with the kernel's receive time), `onError` if polling fails. */
  read(onData: (data: Uint8Array, timestamp: number | undefined) => void, onError: (status: number) => void = () => undefined): void {
    if (this.reader !== undefined) throw new PacketSocketError('already reading', 'EBUSY');
    this.reader = startReader(this.fd, (data, _type, timestamp) => onData(data, timestamp), onError);
  }

  close(): void {
    if (this.fd < 0) return;
    closeFd(this.fd, this.reader);
    this.reader = undefined;
    this.fd = -1;
  }
}

const ENOBUFS = 105;

/**
 * Kernel notifications of link and address changes (rtnetlink groups LINK, IPV4_IFADDR,
 * IPV6_IFADDR). Calls `onChange` after each batch of messages, and also when the kernel had to
 * drop some (ENOBUFS): the caller re-reads the state either way, so nothing is lost.
 */
export class RouteEvents {
  private readonly fd: number;
  private reader: unknown;
  private closed = false;

  constructor(onChange: (overflow: boolean) => void) {
    this.fd = wrap('openRouteEvents', () => native.openRouteEvents());
    let pending = false;
    this.reader = wrap('startReading', () =>
      native.startReading(this.fd, (_msg, _t, status) => {
        if (status === -ENOBUFS) {
          onChange(true);
          return;
        }
        // Several messages arrive per wakeup: report once, after the batch.
        if (pending) return;
        pending = true;
        queueMicrotask(() => {
          pending = false;
          if (!this.closed) onChange(false);
        });
      }),
    );
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    native.stopReading(this.reader);
    native.close(this.fd);
  }
}

export * from './bpf.js';

/**
 * Sends one datagram to an AF_UNIX SOCK_DGRAM socket (a path, or "@name" in the abstract
 * namespace); Node's dgram has no unix sockets. Throws PacketSocketError on failure.
 */
export function sendUnixDatagram(path: string, data: Uint8Array): void {
  wrap(`send to ${path}`, () => native.sendUnixDatagram(path, data));
}

/** A bound AF_UNIX datagram socket that hands every datagram to a callback (tests: a notify socket). */
export class UnixDatagramReceiver {
  private fd: number;
  private readonly reader: unknown;

  private constructor(fd: number, onMessage: (data: Buffer) => void) {
    this.fd = fd;
    this.reader = native.startReading(fd, (frame) => {
      if (frame) onMessage(frame);
    });
  }

  static bind(path: string, onMessage: (data: Buffer) => void): UnixDatagramReceiver {
    return new UnixDatagramReceiver(wrap(`bind ${path}`, () => native.openUnixDatagram(path)), onMessage);
  }

  close(): void {
    if (this.fd < 0) return;
    native.stopReading(this.reader);
    native.close(this.fd);
    this.fd = -1;
  }
}
