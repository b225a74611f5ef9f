import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { ETH_P_ALL, PacketSocket, vrrpAndArpFilter } from '@redkeep/afpacket';
import { HostNetlink } from '@redkeep/host';
import { CaptureReader, LINKTYPE_ETHERNET, captureErrorText } from '@redkeep/pcap';
import { dissectFrame, isSupportedLinkType } from '@redkeep/wire';
import { EXIT } from '../exit-status.js';
import { frameToJson, frameToText, unsupportedLinkTypeText } from '../frame-format.js';
import type { Output } from '../output.js';

export type WatchSource = { readonly interface: string } | { readonly read: string };

export interface WatchArgs {
  /** An interface to listen on, or a capture to read (`-`: stdin), e.g. tcpdump -U -w - piped in. */
  readonly source: WatchSource;
  readonly json: boolean;
  /** Stop after this many frames (for scripts and tests); undefined = until interrupted. */
  readonly count: number | undefined;
}

/** Prints frames as decode does, numbered from 1; says when --count is reached. */
class FramePrinter {
  private shown = 0;
  constructor(
    private readonly args: WatchArgs,
    private readonly out: Output,
  ) {}

  /** Prints one frame; returns true once --count frames have been printed. */
  print(linkType: number, data: Uint8Array, timestamp: number | undefined, onlyVrrpAndArp: boolean): boolean {
    const summary = dissectFrame(linkType, data);
    // What the live mode's socket filter lets through: VRRP (v4, v6) and ARP, well-formed or not.
    if (onlyVrrpAndArp && summary.kind === 'other') return false;
    this.shown++;
    const j = frameToJson(this.shown, timestamp, summary);
    this.out.print(this.args.json ? JSON.stringify(j) : frameToText(j));
    return this.args.count !== undefined && this.shown >= this.args.count;
  }
}

/** Resolves when SIGINT or SIGTERM arrives or `stop` is called; `stop` runs `close` once. */
function untilStopped(close: () => void, run: (stop: () => void) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    let stopped = false;
    const stop = (): void => {
      if (stopped) return;
      stopped = true;
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      close();
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    run(stop);
  });
}

/**
 * `redkeep watch --interface IF | --read FILE [--json] [--count N]`: VRRP adverts and ARP, live on
 * a link or from a pcap or pcapng stream as it arrives.
 */
export async function watchCommand(args: WatchArgs, out: Output): Promise<number> {
  return 'read' in args.source ? await watchCapture(args.source.read, args, out) : await watchInterface(args.source.interface, args, out);
}

async function watchInterface(ifname: string, args: WatchArgs, out: Output): Promise<number> {
  const nl = HostNetlink.open();
  let link;
  try {
    link = await nl.link(ifname);
  } finally {
    nl.close();
  }
  if (!link) {
    out.error(`redkeep watch: no interface named ${ifname}`);
    return EXIT.usage;
  }
  let sock: PacketSocket;
  try {
    sock = PacketSocket.open(link.index, ETH_P_ALL, vrrpAndArpFilter());
  } catch (e) {
    out.error(`redkeep watch: ${e instanceof Error ? e.message : String(e)} (needs root or CAP_NET_RAW)`);
    return EXIT.failed;
  }
  const printer = new FramePrinter(args, out);
  await untilStopped(
    () => sock.close(),
    (stop) =>
      sock.read((frame, _direction, kernelTime) => {
        if (sock.closed) return;
        if (printer.print(LINKTYPE_ETHERNET, frame, kernelTime ?? Date.now() / 1000, false)) stop();
      }),
  );
  return EXIT.ok;
}

/** Decodes a capture as its bytes arrive: packets complete as soon as their block is whole. */
async function watchCapture(path: string, args: WatchArgs, out: Output): Promise<number> {
  const name = path === '-' ? 'stdin' : path;
  const input: Readable = path === '-' ? process.stdin : createReadStream(path);
  const printer = new FramePrinter(args, out);
  const reader = new CaptureReader();
  const warned = new Set<number>();
  let status: number = EXIT.ok;
  const fail = (line: string): void => {
    out.error(`redkeep watch: ${line}`);
    status = EXIT.failed;
  };
  await untilStopped(
    () => input.destroy(),
    (stop) => {
      input.on('data', (chunk: Buffer) => {
        for (const rec of reader.push(chunk)) {
          if (!isSupportedLinkType(rec.linkType)) {
            if (!warned.has(rec.linkType)) out.error(`redkeep watch: ${name}: ${unsupportedLinkTypeText(rec.linkType)}: its frames are skipped`);
            warned.add(rec.linkType);
          } else if (printer.print(rec.linkType, rec.data, rec.timestamp, true)) {
            stop();
            return;
          }
        }
        if (reader.error) {
          fail(`${name}: ${captureErrorText(reader.error)}`);
          stop();
        }
      });
      input.once('end', () => {
        const end = reader.end();
        if (end.error) fail(`${name}: ${captureErrorText(end.error)}`);
        else if (end.truncated) out.error(`redkeep watch: ${name}: the capture ends inside a frame`);
        stop();
      });
      input.once('error', (e) => {
        fail(`cannot read ${name}: ${e.message}`);
        stop();
      });
    },
  );
  return status;
}
