// A directory of captures: every NAME.pcap with tcpdump's decoding beside it in NAME.txt.

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type TcpdumpFrame, parseTcpdumpText } from './tcpdump.js';

export interface Capture {
  readonly name: string;
  readonly pcap: Uint8Array;
  readonly frames: readonly TcpdumpFrame[];
}

export function loadCaptures(dir: string): Capture[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.pcap'))
    .sort()
    .map((f) => {
      const name = f.replace(/\.pcap$/, '');
      return {
        name,
        pcap: new Uint8Array(readFileSync(join(dir, f))),
        frames: parseTcpdumpText(readFileSync(join(dir, `${name}.txt`), 'utf8')),
      };
    });
}
