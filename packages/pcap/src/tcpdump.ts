// tcpdump's text decoding of VRRP and ARP frames (`tcpdump -vv -xx`-style output with the hex
// dump), parsed so tests can compare a decoder against tcpdump's reading of the same bytes.

export interface TcpdumpVrrp {
  readonly kind: 'vrrp';
  readonly srcMac: string;
  readonly tos: number;
  readonly ttl: number;
  readonly src: string;
  readonly dst: string;
  readonly version: number;
  readonly vrid: number;
  readonly priority: number;
  readonly authType: string | undefined;
  readonly intervalCs: number;
  readonly length: number;
  readonly addresses: string[];
  readonly auth: string | undefined;
  /** The IP datagram bytes from tcpdump's hex dump. */
  readonly hex: Uint8Array;
}

export interface TcpdumpArp {
  readonly kind: 'arp';
  readonly srcMac: string;
  readonly op: 'request' | 'reply';
  readonly targetIp: string;
  readonly senderIp: string;
  readonly hex: Uint8Array;
}

export type TcpdumpFrame = TcpdumpVrrp | TcpdumpArp;

export interface Vector {
  readonly name: string;
  readonly pcap: Uint8Array;
  readonly frames: readonly TcpdumpFrame[];
}

const HEAD = /^\d\d:\d\d:\d\d\.\d+ ([0-9a-f:]{17}) .*?ethertype (IPv4|ARP)/;
const IPHDR = /\(tos (0x[0-9a-f]+), ttl (\d+),/;
const VRRP =
  /^\s+(\S+) > (\S+): VRRPv(\d), Advertisement, vrid (\d+), prio (\d+), (?:authtype (\w+), )?intvl (\d+)(s|cs), length (\d+), addrs(?:\(\d+\))?: (\S+)(?: auth "([^"]*)")?/;
const ARP = /(Request|Reply) who-has (\S+) .*?tell (\S+),/;
const HEX = /^\s+0x[0-9a-f]{4}:\s+((?:[0-9a-f]{2,4} ?)+)/;

export function parseTcpdumpText(text: string): TcpdumpFrame[] {
  const frames: TcpdumpFrame[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const head = HEAD.exec(line);
    if (!head) continue;
    const hexParts: string[] = [];
    let j = i + 1;
    let vrrpLine: RegExpExecArray | null = null;
    for (; j < lines.length && !HEAD.test(lines[j] ?? ''); j++) {
      const l = lines[j] ?? '';
      const hx = HEX.exec(l);
      if (hx) hexParts.push((hx[1] ?? '').replace(/\s+/g, ''));
      else vrrpLine ??= VRRP.exec(l);
    }
    const hexStr = hexParts.join('');
    const hex = Uint8Array.from(hexStr.match(/../g) ?? [], (h) => parseInt(h, 16));
    const srcMac = head[1] ?? '';
    if (head[2] === 'ARP') {
      const a = ARP.exec(line);
      if (!a) throw new Error(`unparsed tcpdump ARP line: ${line}`);
      frames.push({
        kind: 'arp',
        srcMac,
        op: a[1] === 'Request' ? 'request' : 'reply',
        targetIp: a[2] ?? '',
        senderIp: a[3] ?? '',
        hex,
      });
    } else {
      const ip = IPHDR.exec(line);
      const v = vrrpLine;
      if (!ip || !v) throw new Error(`unparsed tcpdump VRRP frame at line ${i + 1}`);
      frames.push({
        kind: 'vrrp',
        srcMac,
        tos: parseInt(ip[1] ?? '', 16),
        ttl: Number(ip[2]),
        src: v[1] ?? '',
        dst: (v[2] ?? '').replace(/:$/, ''),
        version: Number(v[3]),
        vrid: Number(v[4]),
        priority: Number(v[5]),
        authType: v[6],
        intervalCs: Number(v[7]) * (v[8] === 's' ? 100 : 1),
        length: Number(v[9]),
        addresses: (v[10] ?? '').split(','),
        auth: v[11],
        hex,
      });
    }
    i = j - 1;
  }
  return frames;
}

