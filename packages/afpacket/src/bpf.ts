// Classic BPF programs for packet sockets, assembled by hand (struct sock_filter, host order).

const LD_H_ABS = 0x28;
const LD_B_ABS = 0x30;
const JEQ_K = 0x15;
const RET_K = 0x06;

interface Insn {
  readonly code: number;
  readonly jt: number;
  readonly jf: number;
  readonly k: number;
}

export function assembleBpf(program: readonly Insn[]): Uint8Array {
  const out = new Uint8Array(program.length * 8);
  const view = new DataView(out.buffer);
  const little = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  program.forEach((insn, i) => {
    view.setUint16(i * 8, insn.code, little);
    out[i * 8 + 2] = insn.jt;
    out[i * 8 + 3] = insn.jf;
    view.setUint32(i * 8 + 4, insn.k, little);
  });
  return out;
}

/**
 * Accepts ARP, IPv4 with protocol 112 (VRRP) and IPv6 with next header 112, on untagged
 * Ethernet; drops everything else in the kernel, so a busy Redis link costs us nothing.
 */
export function vrrpAndArpFilter(): Uint8Array {
  return assembleBpf([
    { code: LD_H_ABS, jt: 0, jf: 0, k: 12 }, // 0: ethertype
    { code: JEQ_K, jt: 6, jf: 0, k: 0x0806 }, // 1: ARP -> accept
    { code: JEQ_K, jt: 1, jf: 0, k: 0x0800 }, // 2: IPv4 -> 4
    { code: JEQ_K, jt: 2, jf: 5, k: 0x86dd }, // 3: IPv6 -> 6, else reject
    { code: LD_B_ABS, jt: 0, jf: 0, k: 23 }, // 4: IPv4 protocol
    { code: JEQ_K, jt: 2, jf: 3, k: 112 }, // 5: VRRP -> accept, else reject
    { code: LD_B_ABS, jt: 0, jf: 0, k: 20 }, // 6: IPv6 next header
    { code: JEQ_K, jt: 0, jf: 1, k: 112 }, // 7: VRRP -> accept, else reject
    { code: RET_K, jt: 0, jf: 0, k: 0x40000 }, // 8: accept whole frame
    { code: RET_K, jt: 0, jf: 0, k: 0 }, // 9: reject
  ]);
}

/** Accepts IPv6 frames whose next header is 112 (VRRP) only. */
export function vrrpIpv6Filter(): Uint8Array {
  return assembleBpf([
    { code: LD_H_ABS, jt: 0, jf: 0, k: 12 },
    { code: JEQ_K, jt: 0, jf: 3, k: 0x86dd },
    { code: LD_B_ABS, jt: 0, jf: 0, k: 20 },
    { code: JEQ_K, jt: 0, jf: 1, k: 112 },
    { code: RET_K, jt: 0, jf: 0, k: 0x40000 },
    { code: RET_K, jt: 0, jf: 0, k: 0 },
  ]);
}

/** Accepts nothing: for a socket that only sends (its receive queue would otherwise fill up). */
export function dropAllFilter(): Uint8Array {
  return assembleBpf([{ code: RET_K, jt: 0, jf: 0, k: 0 }]);
}
