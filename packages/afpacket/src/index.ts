// TypeScript face of the AF_PACKET addon (native/afpacket.c).

import { createRequire } from 'node:module';

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
}

const native = createRequire(import.meta.url)('../build/Release/afpacket.node') as Native;

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
    const err = e as Error & { code?: string };
    throw new PacketSocketError(`${what}: ${err.message}`, err.code ?? 'EAFPACKET');
  }
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
    this.reader = wrap('startReading', () =>
      native.startReading(this.fd, (frame, pktType, status, timestamp) => {
        try {
          if (status !== 0 || frame === null) onError(status);
          else
            onFrame(
              new Uint8Array(frame.buffer, frame.byteOffset, frame.length),
              PKT_TYPES[pktType ?? -1] ?? 'other',
              timestamp ?? undefined,
            );
        } catch (e) {
          // A handler's exception must not escape into native code (it would resurface later).
          queueMicrotask(() => {
            throw e;
          });
        }
      }),
    );
  }

  close(): void {
    if (this.fd < 0) return;
    if (this.reader !== undefined) native.stopReading(this.reader);
    this.reader = undefined;
    const fd = this.fd;
    this.fd = -1;
    wrap('close', () => native.close(fd));
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
