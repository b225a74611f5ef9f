// Gratuitous ARP (the request form keepalived sends) and IPv6 unsolicited neighbour
// advertisements, written to an AF_PACKET socket: no external binary.

import { PacketSocket } from '@redkeep/afpacket';
import { addressFamilyOf } from '@redkeep/vrrp';
import { encodeGratuitousArp, encodeUnsolicitedNa, parseMac } from '@redkeep/wire';

export class Announcer {
  private readonly sock: PacketSocket;
  private readonly mac: Uint8Array;

  private constructor(sock: PacketSocket, mac: Uint8Array) {
    this.sock = sock;
    this.mac = mac;
  }

  static open(ifindex: number, mac: string): Announcer {
    const bytes = parseMac(mac);
    if (!bytes) throw new RangeError(`not a MAC address: ${mac}`);
    return new Announcer(PacketSocket.open(ifindex, 0), bytes);
  }

  /** Frames for one round: one GARP per IPv4 address, one NA per IPv6 address. */
  frames(addresses: readonly string[]): Uint8Array[] {
    return addresses.map((a) =>
      addressFamilyOf(a) === 'ipv6' ? encodeUnsolicitedNa(this.mac, a) : encodeGratuitousArp(this.mac, a),
    );
  }

  /** Sends one round; returns the number of frames sent. Throws on a socket error. */
  sendRound(addresses: readonly string[]): number {
    const frames = this.frames(addresses);
    for (const f of frames) this.sock.send(f);
    return frames.length;
  }

  close(): void {
    this.sock.close();
  }
}
