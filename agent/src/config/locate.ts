// Finds the line of each key in a TOML file, so that a validation error can name file, line and
// key. A line scanner, not a parser: the toml package has already accepted the file; here we
// only map key paths such as "instance[1].garp.delay" to the line that sets them.

export type LineMap = ReadonlyMap<string, number>;

const TABLE = /^\s*\[\s*([A-Za-z0-9_.\- ]+?)\s*\]\s*(#.*)?$/;
const ARRAY_TABLE = /^\s*\[\[\s*([A-Za-z0-9_.\- ]+?)\s*\]\]\s*(#.*)?$/;
// A bare key, or a quoted one ("192.0.2.11" = ...: an address as a key, peer_addresses).
const KEY = /^\s*(?:([A-Za-z0-9_-]+)|"([^"\\]*)"|'([^']*)')\s*=/;
const INLINE_KEY = /(?:([A-Za-z0-9_-]+)|"([^"\\]*)"|'([^']*)')\s*=/g;

/** The path of a key in a table: `table.key`, or `table["key"]` for a quoted one (see quotedKey in redis-config.ts). */
function keyPath(table: string, m: RegExpMatchArray): string {
  const bare = m[1];
  if (bare !== undefined) return table ? `${table}.${bare}` : bare;
  return `${table}[${JSON.stringify(m[2] ?? m[3] ?? '')}]`;
}

export function locateKeys(text: string): LineMap {
  const map = new Map<string, number>();
  const arrayCounts = new Map<string, number>();
  let table = '';
  const lines = text.split('\n');
  /** Resolves a dotted header against arrays of tables seen so far: instance.redis -> instance[2].redis */
  const resolve = (dotted: string): string => {
    const parts = dotted.split('.').map((p) => p.trim());
    let path = '';
    for (const p of parts) {
      path = path ? `${path}.${p}` : p;
      const n = arrayCounts.get(path);
      if (n !== undefined) path = `${path}[${n - 1}]`;
    }
    return path;
  };
  lines.forEach((line, i) => {
    const lineNo = i + 1;
    let m = ARRAY_TABLE.exec(line);
    if (m) {
      const base = resolve((m[1] ?? '').split('.').slice(0, -1).join('.'));
      const last = (m[1] ?? '').split('.').pop()?.trim() ?? '';
      const key = base ? `${base}.${last}` : last;
      const n = (arrayCounts.get(key) ?? 0) + 1;
      arrayCounts.set(key, n);
      table = `${key}[${n - 1}]`;
      if (!map.has(key)) map.set(key, lineNo);
      map.set(table, lineNo);
      return;
    }
    m = TABLE.exec(line);
    if (m) {
      table = resolve(m[1] ?? '');
      map.set(table, lineNo);
      return;
    }
    m = KEY.exec(line);
    if (m) {
      const key = keyPath(table, m);
      map.set(key, lineNo);
      // Keys of an inline table on the same line: garp = { repeat = 5, delay = "5s" }
      const rest = line.slice((m.index ?? 0) + m[0].length);
      if (rest.includes('{')) {
        for (const k of rest.matchAll(INLINE_KEY)) {
          const sub = keyPath(key, k);
          if (!map.has(sub)) map.set(sub, lineNo);
        }
      }
    }
  });
  return map;
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
