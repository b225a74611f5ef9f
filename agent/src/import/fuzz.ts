// Seeded mutations of real files, for the importers' tests: whatever the input, a converter gives
// a configuration redkeep accepts, or refuses with its own error; never anything else.

import toml from 'toml';
import { validateConfig } from '../config/config.js';
import type { Conversion } from './toml-writer.js';

export interface FuzzRun {
  /** Texts to mutate: real files. */
  readonly seeds: readonly string[];
  /** What is inserted: the syntax and values that matter to the converter. */
  readonly pieces: readonly string[];
  readonly runs: number;
  readonly seed: number;
  /** Cuts and insertions per text: 1..maxEdits. */
  readonly maxEdits: number;
  /** Converts one text; `random(k)` gives 0..k-1 from the same seeded sequence. */
  readonly convert: (text: string, random: (k: number) => number) => Conversion;
  /** Whether an error is the converter's own refusal. */
  readonly refusal: (e: unknown) => boolean;
}

/**
 * Converts `runs` mutated texts; throws an Error naming the text when a conversion throws anything
 * but a refusal or gives a configuration the validator rejects. Returns how many converted.
 */
export function fuzzConverter(o: FuzzRun): number {
  let state = o.seed;
  const random = (k: number): number => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state % k;
  };
  let converted = 0;
  for (let i = 0; i < o.runs; i++) {
    let t = o.seeds[random(o.seeds.length)] ?? '';
    for (let k = 1 + random(o.maxEdits); k > 0; k--) {
      const at = random(t.length + 1);
      t = random(2) === 0 ? t.slice(0, at) + t.slice(at + 1 + random(15)) : t.slice(0, at) + (o.pieces[random(o.pieces.length)] ?? '') + t.slice(at);
    }
    let r: Conversion;
    try {
      r = o.convert(t, random);
    } catch (e) {
      if (o.refusal(e)) continue;
      throw new Error(`${String(e)} for ${JSON.stringify(t)}`);
    }
    try {
      validateConfig(toml.parse(r.toml), 'fuzz.toml', r.toml);
    } catch (e) {
      throw new Error(`invalid output (${String(e)}) for ${JSON.stringify(t)}`);
    }
    converted++;
  }
  return converted;
}
