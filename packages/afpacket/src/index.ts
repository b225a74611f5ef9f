// TypeScript face of the AF_PACKET addon (native/afpacket.c).

import { createRequire } from 'node:module';

interface Native {
  open(ifindex: number, ethertype: number): number;
  send(fd: number, frame: Uint8Array): number;
  attachFilter(fd: number, program: Uint8Array): void;
  startReading(
    fd: number,
    cb: (frame: Buffer | null, pktType: number | null, status: number, timestamp: number | null) => void,
  ): unknown;
  stopReading(handle: unknown): void;
  close(fd: number): void;
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

  static open(ifindex: number, ethertype = 0): PacketSocket {
    return new PacketSocket(wrap('open', () => native.open(ifindex, ethertype)));
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
        if (status !== 0 || frame === null) onError(status);
        else
          onFrame(
            new Uint8Array(frame.buffer, frame.byteOffset, frame.length),
            PKT_TYPES[pktType ?? -1] ?? 'other',
            timestamp ?? undefined,
          );
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

export * from './bpf.js';
