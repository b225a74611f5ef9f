import { readFileSync } from 'node:fs';
import { LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, parsePcap } from '@redkeep/pcap';
import { dissectFrame } from '@redkeep/wire';
import { frameToJson, frameToText } from '../frame-format.js';
import type { Output } from '../output.js';

export interface DecodeArgs {
  readonly file: string;
  readonly json: boolean;
}

/** `redkeep decode FILE.pcap [--json]`: returns the exit status. */
export function decodeCommand(args: DecodeArgs, out: Output): number {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(args.file));
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    out.error(`redkeep decode: cannot read ${args.file}: ${msg}`);
    return 2;
  }
  const parsed = parsePcap(bytes);
  if (!parsed.ok) {
    out.error(`redkeep decode: ${args.file}: ${parsed.reason}`);
    return 2;
  }
  const { file } = parsed;
  if (file.linkType !== LINKTYPE_ETHERNET && file.linkType !== LINKTYPE_LINUX_SLL) {
    out.error(
      `redkeep decode: ${args.file}: link type ${file.linkType} is not supported (Ethernet or Linux cooked captures are)`,
    );
    return 2;
  }
  file.records.forEach((rec, i) => {
    const j = frameToJson(i + 1, rec.timestamp, dissectFrame(file.linkType, rec.data));
    out.print(args.json ? JSON.stringify(j) : frameToText(j));
  });
  if (file.truncated) {
    out.error(`redkeep decode: ${args.file}: the capture ends inside a frame; ${file.records.length} whole frames shown`);
  }
  return 0;
}
