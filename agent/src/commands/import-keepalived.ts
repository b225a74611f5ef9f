import { runImport } from '../import/run-import.js';
import { convertKeepalived } from '../keepalived/convert.js';
import type { Output } from '../output.js';

export interface ImportKeepalivedArgs {
  /** The keepalived.conf to convert. */
  readonly file: string;
  /** Where to write the TOML (mode 0600 when created: it may hold auth_pass); stdout when undefined. */
  readonly out?: string | undefined;
  /** keepalived's config id (`keepalived -i`): selects the `@id` lines meant for one host. */
  readonly configId?: string | undefined;
}

/**
 * `redkeep import-keepalived FILE [--out OUT] [--config-id ID]`: converts a keepalived.conf into redkeep TOML.
 * Warnings go to stderr as FILE:LINE: warning: ...; the TOML to stdout or OUT. 0 on success, 1
 * when FILE cannot be read, nothing can be converted, or OUT cannot be written.
 */
export async function importKeepalivedCommand(args: ImportKeepalivedArgs, out: Output): Promise<number> {
  return await runImport({ command: 'import-keepalived', file: args.file, out: args.out }, (text) => convertKeepalived(text, args.file, { configId: args.configId }), out);
}
