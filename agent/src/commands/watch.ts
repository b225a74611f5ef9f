import { ETH_P_ALL, PacketSocket, vrrpAndArpFilter } from '@redkeep/afpacket';
import { HostNetlink } from '@redkeep/host';
import { LINKTYPE_ETHERNET } from '@redkeep/pcap';
import { dissectFrame } from '@redkeep/wire';
import { frameToJson, frameToText } from '../frame-format.js';
import type { Output } from '../output.js';

export interface WatchArgs {
  readonly interface: string;
  readonly json: boolean;
  /** Stop after this many frames (for scripts and tests); undefined = until interrupted. */
  readonly count: number | undefined;
}

/** `redkeep watch --interface IF [--json]`: live decode of VRRP adverts and ARP on a link. */
export async function watchCommand(args: WatchArgs, out: Output): Promise<number> {
  const nl = HostNetlink.open();
  let link;
  try {
    link = await nl.link(args.interface);
  } finally {
    nl.close();
  }
  if (!link) {
    out.error(`redkeep watch: no interface named ${args.interface}`);
    return 2;
  }
  let sock: PacketSocket;
  try {
    sock = PacketSocket.open(link.index, ETH_P_ALL, vrrpAndArpFilter());
  } catch (e) {
    out.error(`redkeep watch: ${e instanceof Error ? e.message : String(e)} (needs root or CAP_NET_RAW)`);
    return 1;
  }
  let n = 0;
  await new Promise<void>((resolve) => {
    const finish = (): void => {
      process.off('SIGINT', finish);
      process.off('SIGTERM', finish);
      sock.close();
      resolve();
    };
    process.once('SIGINT', finish);
    process.once('SIGTERM', finish);
    sock.read((frame, _direction, kernelTime) => {
      if (sock.closed) return;
      n++;
      const j = frameToJson(n, kernelTime ?? Date.now() / 1000, dissectFrame(LINKTYPE_ETHERNET, frame));
      out.print(args.json ? JSON.stringify(j) : frameToText(j));
      if (args.count !== undefined && n >= args.count) finish();
    });
  });
  return 0;
}
