// What the importers (`redkeep import-keepalived`, `redkeep import-sentinel`) share: TOML text
// written by hand, so that every setting can carry "# CHECK" comments next to the key it is about,
// and the warnings those comments repeat. Pure: no I/O.

export interface ImportWarning {
  readonly line: number;
  readonly message: string;
}

/** A converted configuration: TOML text (always valid for redkeep) and the warnings, in line order. */
export interface Conversion {
  toml: string;
  warnings: ImportWarning[];
}

/** Nothing could be converted: there is no redkeep configuration to give. */
export abstract class ConversionError extends Error {
  abstract readonly code: string;
  readonly line: number;
  /** The warnings gathered before giving up: they say why each part was left out. */
  readonly warnings: readonly ImportWarning[];
  constructor(line: number, message: string, warnings: readonly ImportWarning[]) {
    super(message);
    this.line = line;
    this.warnings = warnings;
  }
}

/** Lone UTF-16 surrogates (not text; TOML cannot carry them) become U+FFFD. */
const wellFormed = (s: string): string => s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');

/** A TOML basic string. */
export function tomlString(s: string): string {
  let out = '"';
  for (const ch of wellFormed(s)) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

export const tomlArray = (items: readonly string[]): string => `[${items.join(', ')}]`;
export const tomlInline = (pairs: readonly (readonly [string, string])[]): string => `{ ${pairs.map(([k, v]) => `${k} = ${v}`).join(', ')} }`;

/** A comment line: one line, no control characters (TOML forbids them in comments). */
export function comment(text: string): string {
  return `# ${wellFormed(text).replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, '?')}`;
}

/** A comment with the source line it is about (0: none), so that a table's comments read in file order. */
export interface Note {
  readonly line: number;
  readonly text: string;
}

export const byLine = (notes: readonly Note[]): string[] => [...notes].sort((a, b) => a.line - b.line).map((n) => n.text);

/** One TOML table being written; comments can be attached to a key before or after it is set. */
export class Section {
  private readonly head: Note[] = [];
  private readonly entries: { key: string; value: string; notes: Note[] }[] = [];
  private readonly pending = new Map<string, Note[]>();
  constructor(readonly header: string | undefined) {}

  note(text: string, key?: string, line = 0): void {
    const n: Note = { line, text: comment(text) };
    if (key === undefined) {
      this.head.push(n);
      return;
    }
    const e = this.entries.find((x) => x.key === key);
    if (e) e.notes.push(n);
    else this.pending.set(key, [...(this.pending.get(key) ?? []), n]);
  }

  set(key: string, value: string): void {
    this.entries.push({ key, value, notes: this.pending.get(key) ?? [] });
    this.pending.delete(key);
  }

  /** Whether any key is set. */
  get empty(): boolean {
    return this.entries.length === 0;
  }

  /** Every comment, for a table that is not written. */
  notes(): Note[] {
    return [...this.head, ...[...this.pending.values()].flat(), ...this.entries.flatMap((e) => e.notes)];
  }

  render(): string[] {
    const out: string[] = [];
    if (this.header !== undefined) out.push(this.header);
    out.push(...byLine([...this.head, ...[...this.pending.values()].flat()]));
    for (const e of this.entries) out.push(...byLine(e.notes), `${e.key} = ${e.value}`);
    return out;
  }
}

/**
 * The warnings of one conversion: each is kept for stderr and written as a "# CHECK line N:"
 * comment, in the table (and before the key) it is about, or at the top of the file.
 */
export class WarningLog {
  private readonly list: ImportWarning[] = [];
  /** Comments for the top of the file: warnings that belong to no table written. */
  readonly top: Note[] = [];

  warn(line: number, message: string, at?: Section, key?: string): void {
    const clean = message.replace(/[\u0000-\u001f\u007f]/g, '?');
    this.list.push({ line, message: clean });
    const text = `CHECK line ${line}: ${clean}`;
    if (at) at.note(text, key, line);
    else this.top.push({ line, text: comment(text) });
  }

  /** In line order (stable: warnings of one line keep their order). */
  sorted(): ImportWarning[] {
    return [...this.list].sort((a, b) => a.line - b.line);
  }
}
