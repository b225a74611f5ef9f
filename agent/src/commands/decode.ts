import { readFileSync } from 'node:fs';
import { parsePcap } from '@redkeep/pcap';
import { dissectFrame, isSupportedLinkType } from '@redkeep/wire';
import { frameToJson, frameToText, unsupportedLinkTypeText } from '../frame-format.js';
import type { Output } from '../output.js';

export interface DecodeArgs {
  readonly file: string;
  readonly json: boolean;
}

/** `redkeep decode FILE [--json]` (classic pcap or pcapng): returns the exit status. */
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
  const unsupported = [...new Set(file.interfaces.map((i) => i.linkType).filter((t) => !isSupportedLinkType(t)))];
  // Nothing in the capture can be decoded: refuse it whole, as a capture of the wrong kind.
  if (file.interfaces.length > 0 && file.interfaces.every((i) => !isSupportedLinkType(i.linkType))) {
    for (const t of unsupported) out.error(`redkeep decode: ${args.file}: ${unsupportedLinkTypeText(t)}`);
    return 2;
  }
  // Per packet: a pcapng capture may hold interfaces of several link types.
  file.records.forEach((rec, i) => {
    const j = frameToJson(i + 1, rec.timestamp, dissectFrame(rec.linkType, rec.data));
    out.print(args.json ? JSON.stringify(j) : frameToText(j));
  });
  for (const t of unsupported) {
    const n = file.records.filter((r) => r.linkType === t).length;
    if (n > 0) out.error(`redkeep decode: ${args.file}: ${unsupportedLinkTypeText(t)}: its ${n} frames are shown as malformed`);
  }
  if (file.truncated) {
    out.error(`redkeep decode: ${args.file}: the capture ends inside a frame; ${file.records.length} whole frames shown`);
  }
  return 0;
}
