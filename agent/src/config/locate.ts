// Finds the line of each key in a TOML file, so that an error can name file, line and key. It
// walks the syntax nodes of the toml package's own parser (they carry offsets), so a key is found
// however it is written: dotted (redis.address = ...), quoted ("max_lag" = 5), in an inline
// table, in an array spread over lines, under the third [[instance]]. Paths are the validator's:
// instance[2].redis.max_lag, instance[0].tracks[1].weight, ...redis.peer_addresses["192.0.2.11"].

import tomlCompiler from 'toml/lib/compiler.js';
import tomlParser, { type TomlStatement, type TomlValueNode } from 'toml/lib/parser.js';

export type LineMap = ReadonlyMap<string, number>;

/** A file toml refuses: the line (when known), the key path (when known) and why. */
export interface TomlProblem {
  readonly line: number | undefined;
  readonly key: string;
  readonly message: string;
}

export type ParsedToml = { readonly ok: true; readonly doc: unknown; readonly lines: LineMap } | { readonly ok: false; readonly problem: TomlProblem };

const BARE_KEY = /^[A-Za-z0-9_-]+$/;

/** The path of a key in a table: `table.key`, or `table["key"]` for a key that needs quotes ("192.0.2.11"). */
export function childPath(table: string, key: string): string {
  if (!BARE_KEY.test(key)) return `${table}[${JSON.stringify(key)}]`;
  return table ? `${table}.${key}` : key;
}

function keyParts(key: string | readonly string[] | undefined): readonly string[] {
  if (key === undefined) return [];
  return typeof key === 'string' ? [key] : key;
}

class LineIndex {
  private readonly starts: number[] = [0];
  constructor(text: string) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }
  lineAt(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }
  offsetOf(line: number, column: number): number {
    return (this.starts[line - 1] ?? 0) + column - 1;
  }
}

/** Where every key, table and array element is: its line, the first line it was defined on, the path of each statement. */
class KeyWalk {
  /** The line an error about a path names: where it is set, or where its table is. */
  readonly lines = new Map<string, number>();
  /** The first line a path was defined on, explicitly or as the parent of a dotted key or header. */
  readonly first = new Map<string, number>();
  /** The path each statement, inline-table entry or array element defines, by its offset. */
  readonly atOffset = new Map<number, string>();
  private readonly explicit = new Set<string>();
  private readonly arrayCounts = new Map<string, number>();
  private table = '';

  constructor(private readonly index: LineIndex) {}

  walk(nodes: readonly TomlStatement[]): void {
    for (const node of nodes) {
      const line = this.index.lineAt(node.offset);
      const parts = node.type === 'Assign' ? keyParts(node.key) : (node.value as readonly string[]);
      if (node.type === 'Assign') {
        this.assign(this.table, parts, node.value as TomlValueNode, node.offset);
      } else if (node.type === 'ArrayPath') {
        // [[instance]]: a new element of the array of tables (its n-th header is element n-1).
        const base = childPath(this.header(parts.slice(0, -1), line), parts.at(-1) ?? '');
        const n = (this.arrayCounts.get(base) ?? 0) + 1;
        this.arrayCounts.set(base, n);
        this.table = `${base}[${n - 1}]`;
        this.define(base, line, false);
        this.define(this.table, line, true);
        this.atOffset.set(node.offset, this.table);
      } else {
        this.table = this.header(parts, line);
        this.define(this.table, line, true);
        this.atOffset.set(node.offset, this.table);
      }
    }
  }

  /** A header's path, through the latest element of each array of tables: instance.redis -> instance[2].redis */
  private header(parts: readonly string[], line: number): string {
    let path = '';
    for (const part of parts) {
      path = childPath(path, part);
      const n = this.arrayCounts.get(path);
      if (n !== undefined) path = `${path}[${n - 1}]`;
      this.define(path, line, false);
    }
    return path;
  }

  private assign(table: string, parts: readonly string[], value: TomlValueNode, offset: number): void {
    const line = this.index.lineAt(offset);
    let path = table;
    parts.forEach((part, i) => {
      path = childPath(path, part);
      // redis.address = ... defines the table instance[n].redis on this line, unless it has one.
      this.define(path, line, i === parts.length - 1);
    });
    this.atOffset.set(offset, path);
    // An integer toml cannot hold is blamed on its value's offset.
    this.atOffset.set(value.offset, path);
    this.value(path, value);
  }

  private value(path: string, node: TomlValueNode): void {
    if (node.type === 'Array') {
      (node.value as readonly TomlValueNode[]).forEach((element, i) => {
        const p = `${path}[${i}]`;
        this.define(p, this.index.lineAt(element.offset), true);
        this.atOffset.set(element.offset, p);
        this.value(p, element);
      });
    } else if (node.type === 'InlineTable') {
      for (const entry of node.value as readonly TomlValueNode[]) this.assign(path, keyParts(entry.key), entry.value as TomlValueNode, entry.offset);
    }
  }

  private define(path: string, line: number, explicit: boolean): void {
    if (!this.first.has(path)) this.first.set(path, line);
    if (this.explicit.has(path)) return;
    if (explicit) {
      this.explicit.add(path);
      this.lines.set(path, line);
    } else if (!this.lines.has(path)) this.lines.set(path, line);
  }
}

/** How the toml package names a path in its messages: parts joined by dots, no array indices. */
function tomlName(path: string): string {
  return path.replace(/\[\d+\]/g, '').replace(/\[("(?:[^"\\]|\\.)*")\]/g, (_, q: string) => `.${JSON.parse(q) as string}`).replace(/^\./, '');
}

/** The toml package's own complaint (a key or a table defined twice, an integer too large), told with our key path. */
function redefinition(walk: KeyWalk, index: LineIndex, e: { message: string; line: number; column: number }): TomlProblem {
  const at = walk.atOffset.get(index.offsetOf(e.line, e.column)) ?? '';
  // The path toml names may be a parent of the statement's: a.b = 1 after a = 2.
  const named = /'(.*)'/.exec(e.message)?.[1];
  let key = at;
  for (let p = at; p; p = p.slice(0, Math.max(p.lastIndexOf('.'), p.lastIndexOf('['), 0))) {
    if (named !== undefined && tomlName(p) === named.replace(/"/g, '')) {
      key = p;
      break;
    }
  }
  const first = walk.first.get(key);
  if (/^Cannot redefine existing key/.test(e.message)) {
    const where = first !== undefined && first !== e.line ? ` (first on line ${first})` : '';
    return { line: e.line, key, message: `is defined twice${where}: set a key once in its table and write a table once (merge the two)` };
  }
  return { line: e.line, key, message: `not valid TOML: ${e.message}` };
}

/** Parses TOML as toml.parse does, and finds the line of every key. Never throws. */
export function parseToml(text: string): ParsedToml {
  const index = new LineIndex(text);
  let nodes: TomlStatement[];
  try {
    nodes = tomlParser.parse(text);
  } catch (e) {
    // A SyntaxError has location.start; some of the parser's own checks set line and column.
    const err = e as { location?: { start?: { line?: number; column?: number } }; line?: number; column?: number };
    const line = err.location?.start?.line ?? err.line;
    const column = err.location?.start?.column ?? err.column;
    const msg = e instanceof Error ? e.message : String(e);
    return { ok: false, problem: { line, key: '', message: `not valid TOML${column ? ` (column ${column})` : ''}: ${msg}` } };
  }
  const walk = new KeyWalk(index);
  walk.walk(nodes);
  try {
    return { ok: true, doc: tomlCompiler.compile(nodes, text), lines: walk.lines };
  } catch (e) {
    const { line, column } = e as { line?: unknown; column?: unknown };
    const msg = e instanceof Error ? e.message : String(e);
    if (typeof line === 'number' && typeof column === 'number') return { ok: false, problem: redefinition(walk, index, { message: msg, line, column }) };
    return { ok: false, problem: { line: undefined, key: '', message: `not valid TOML: ${msg}` } };
  }
}

/** The line of every key path of a file toml accepts (an empty map for one it refuses). */
export function locateKeys(text: string): LineMap {
  const parsed = parseToml(text);
  return parsed.ok ? parsed.lines : new Map();
}

/** The line of a key path, or of its nearest ancestor that has one. */
export function lineOf(map: LineMap, path: string): number | undefined {
  let p = path;
  for (;;) {
    const n = map.get(p);
    if (n !== undefined) return n;
    const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
    if (cut <= 0) return undefined;
    p = p.slice(0, cut);
  }
}
