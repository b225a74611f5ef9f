import { readFile, writeFile } from 'node:fs/promises';
import toml from 'toml';
import { ConfigError, validateConfig } from '../config/config.js';
import { KeepalivedImportError, convertKeepalived } from '../keepalived/convert.js';
import type { Output } from '../output.js';

export interface ImportKeepalivedArgs {
  /** The keepalived.conf to convert. */
  readonly file: string;
  /** Where to write the TOML (mode 0600 when created: it may hold auth_pass); stdout when undefined. */
  readonly out?: string | undefined;
  /** keepalived's config id (`keepalived -i`): selects the `@id` lines meant for one host. */
  readonly configId?: string | undefined;
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * `redkeep import-keepalived FILE [--out OUT] [--config-id ID]`: converts a keepalived.conf into redkeep TOML.
 * Warnings go to stderr as FILE:LINE: warning: ...; the TOML to stdout or OUT. 0 on success, 1
 * when FILE cannot be read, nothing can be converted, or OUT cannot be written.
 */
export async function importKeepalivedCommand(args: ImportKeepalivedArgs, out: Output): Promise<number> {
  let text: string;
  try {
    text = await readFile(args.file, 'utf8');
  } catch (e) {
    out.error(`redkeep import-keepalived: cannot read ${args.file}: ${errorText(e)}`);
    return 1;
  }
  let result: ReturnType<typeof convertKeepalived>;
  try {
    result = convertKeepalived(text, args.file, { configId: args.configId });
  } catch (e) {
    if (!(e instanceof KeepalivedImportError)) throw e;
    for (const w of e.warnings) out.error(`${args.file}:${w.line}: warning: ${w.message}`);
    out.error(`${args.file}:${e.line}: error: ${e.message}`);
    return 1;
  }
  for (const w of result.warnings) out.error(`${args.file}:${w.line}: warning: ${w.message}`);

  // The converter's output must always be a valid configuration: anything else is its bug.
  const target = args.out ?? '<converted>';
  try {
    validateConfig(toml.parse(result.toml), target, result.toml);
  } catch (e) {
    out.error(`redkeep import-keepalived: the converted configuration is not valid; this is a bug in import-keepalived, please report it with ${args.file}:`);
    if (e instanceof ConfigError) for (const line of e.message.split('\n')) out.error(`  ${line}`);
    else out.error(`  ${errorText(e)}`);
    return 1;
  }

  if (args.out === undefined) {
    out.print(result.toml.replace(/\n$/, ''));
    return 0;
  }
  try {
    await writeFile(args.out, result.toml, { mode: 0o600 });
  } catch (e) {
    out.error(`redkeep import-keepalived: cannot write ${args.out}: ${errorText(e)}`);
    return 1;
  }
  const n = result.warnings.length;
  out.error(`redkeep import-keepalived: wrote ${args.out}${n > 0 ? ` (${n} warning${n === 1 ? '' : 's'}: see the "# CHECK" comments)` : ''}`);
  return 0;
}
