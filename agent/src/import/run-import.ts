// The shell of every import command: read the file, convert it (pure), validate the result with the
// real config validator, print the warnings and write the TOML.

import { readFile, writeFile } from 'node:fs/promises';
import toml from 'toml';
import { ConfigError, validateConfig } from '../config/config.js';
import type { Output } from '../output.js';
import { type Conversion, ConversionError } from './toml-writer.js';

export interface ImportTarget {
  /** The command, for messages: "import-keepalived". */
  readonly command: string;
  /** The file to convert. */
  readonly file: string;
  /** Where to write the TOML (mode 0600 when created: it may hold a secret or name one); stdout when undefined. */
  readonly out?: string | undefined;
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * Reads `target.file`, converts it with `convert` and prints or writes the TOML. Warnings go to
 * stderr as FILE:LINE: warning: ...; 0 on success, 1 when the file cannot be read, nothing can be
 * converted, the result is not valid (a converter bug), or OUT cannot be written.
 */
export async function runImport(target: ImportTarget, convert: (text: string) => Conversion, out: Output): Promise<number> {
  const { command, file } = target;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    out.error(`redkeep ${command}: cannot read ${file}: ${errorText(e)}`);
    return 1;
  }
  let result: Conversion;
  try {
    result = convert(text);
  } catch (e) {
    if (!(e instanceof ConversionError)) throw e;
    for (const w of e.warnings) out.error(`${file}:${w.line}: warning: ${w.message}`);
    out.error(`${file}:${e.line}: error: ${e.message}`);
    return 1;
  }
  for (const w of result.warnings) out.error(`${file}:${w.line}: warning: ${w.message}`);

  // The converter's output must always be a valid configuration: anything else is its bug.
  try {
    validateConfig(toml.parse(result.toml), target.out ?? '<converted>', result.toml);
  } catch (e) {
    out.error(`redkeep ${command}: the converted configuration is not valid; this is a bug in ${command}, please report it with ${file}:`);
    if (e instanceof ConfigError) for (const line of e.message.split('\n')) out.error(`  ${line}`);
    else out.error(`  ${errorText(e)}`);
    return 1;
  }

  if (target.out === undefined) {
    out.print(result.toml.replace(/\n$/, ''));
    return 0;
  }
  try {
    await writeFile(target.out, result.toml, { mode: 0o600 });
  } catch (e) {
    out.error(`redkeep ${command}: cannot write ${target.out}: ${errorText(e)}`);
    return 1;
  }
  const n = result.warnings.length;
  out.error(`redkeep ${command}: wrote ${target.out}${n > 0 ? ` (${n} warning${n === 1 ? '' : 's'}: see the "# CHECK" comments)` : ''}`);
  return 0;
}
