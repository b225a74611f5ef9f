import { type Cidr, parseCidr } from '@redkeep/vrrp';
import { runImport } from '../import/run-import.js';
import type { Output } from '../output.js';
import { type SentinelImportOptions, convertSentinel } from '../sentinel-conf/convert.js';

export interface ImportSentinelArgs {
  /** The sentinel.conf to convert. */
  readonly file: string;
  /** Where to write the TOML (mode 0600 when created); stdout when undefined. */
  readonly out?: string | undefined;
  readonly interface?: string | undefined;
  /** ADDR/PREFIX, one per monitored master in the order of the file. */
  readonly vip?: readonly string[] | undefined;
  readonly vrid?: string | undefined;
  readonly priority?: string | undefined;
}

function integer(option: string, text: string | undefined, min: number, max: number, hint = ''): number | string | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,3}$/.test(text) || Number(text) < min || Number(text) > max) return `--${option} ${JSON.stringify(text)}: must be an integer ${min}..${max}${hint}`;
  return Number(text);
}

/** The options as the converter takes them, or the sentence that says which one is wrong. */
export function sentinelImportOptions(args: ImportSentinelArgs): { ok: true; options: SentinelImportOptions } | { ok: false; error: string } {
  const ifname = args.interface;
  // Linux's dev_valid_name: 1..15 bytes, not "." or "..", no "/", ":" or blank.
  if (ifname !== undefined && (ifname === '' || ifname === '.' || ifname === '..' || Buffer.byteLength(ifname) > 15 || /[/:\s]/.test(ifname))) {
    return { ok: false, error: `--interface ${JSON.stringify(ifname)}: must be an interface name (1..15 bytes, no "/", ":" or blank)` };
  }
  const vips: Cidr[] = [];
  for (const text of args.vip ?? []) {
    const c = parseCidr(text);
    if (c === undefined) return { ok: false, error: `--vip ${JSON.stringify(text)}: must be an address with a prefix, such as 192.0.2.50/24 or 2001:db8::50/64` };
    if (/^(127\.|0\.0\.0\.0$|22[4-9]\.|2[3-5]\d\.)/.test(c.address) || c.address === '::' || c.address === '::1' || c.address.startsWith('ff')) {
      return { ok: false, error: `--vip ${JSON.stringify(text)}: must be a unicast address that is not loopback` };
    }
    if (vips.some((v) => v.address === c.address)) return { ok: false, error: `--vip ${c.address} is given twice: each master needs its own` };
    vips.push(c);
  }
  const vrid = integer('vrid', args.vrid, 1, 255);
  if (typeof vrid === 'string') return { ok: false, error: vrid };
  const priority = integer('priority', args.priority, 1, 254, ' (255, the address owner, cannot use the Redis data guard)');
  if (typeof priority === 'string') return { ok: false, error: priority };
  return { ok: true, options: { interface: ifname, vips, vrid, priority } };
}

/**
 * `redkeep import-sentinel FILE [--out OUT] [--interface IF] [--vip ADDR/PREFIX]... [--vrid N]
 * [--priority N]`: converts a sentinel.conf into redkeep TOML. Warnings go to stderr as
 * FILE:LINE: warning: ...; the TOML to stdout or OUT. 0 on success; 1 when FILE cannot be read,
 * nothing can be converted, or OUT cannot be written; 2 for an option value that is not valid.
 */
export async function importSentinelCommand(args: ImportSentinelArgs, out: Output): Promise<number> {
  const parsed = sentinelImportOptions(args);
  if (!parsed.ok) {
    out.error(`redkeep import-sentinel: ${parsed.error}`);
    return 2;
  }
  return await runImport({ command: 'import-sentinel', file: args.file, out: args.out }, (text) => convertSentinel(text, args.file, parsed.options), out);
}
