// A reader for sentinel.conf (Redis configuration file syntax), for `redkeep import-sentinel`.
// Pure: text in, directives and warnings out; it never reads a file and never throws.
//
// The syntax, as Redis 7.0 reads it (config.c loadServerConfigFromString, sds.c sdssplitargs):
// - one directive per line; blank lines and lines whose first non-blank character is `#` are
//   skipped (a `#` later in a line is an ordinary character);
// - words are separated by blanks; "..." quotes with the escapes \n \r \t \b \a \\ \" and \xHH,
//   '...' quotes with \' only; quotes may start inside a word (`a"b c"` is the word `ab c`), but a
//   closing quote must be followed by a blank or the end of the line;
// - the directive (the first word) is case-insensitive; `sentinel` lines carry a second,
//   case-insensitive word, the Sentinel setting.
//
// Secrets (requirepass, auth-pass, ...) pass through as words; this reader never repeats a word
// of a line in a warning.

export interface SentinelDirective {
  /** 1-based line. */
  readonly line: number;
  /** The first word, lower case. */
  readonly name: string;
  /** The words after the first, quotes removed. */
  readonly args: readonly string[];
}

export interface SentinelDocument {
  readonly directives: readonly SentinelDirective[];
  readonly warnings: readonly { readonly line: number; readonly message: string }[];
}

const BLANK = new Set([' ', '\t', '\n', '\r', '\v', '\f']);
const ESCAPES: Readonly<Record<string, number>> = { n: 0x0a, r: 0x0d, t: 0x09, b: 0x08, a: 0x07 };
const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c);

/**
 * The words of one line as Redis' sdssplitargs splits them, or undefined when the quotes do not
 * balance (Redis refuses to start: "Unbalanced quotes in configuration line"). \xHH gives a byte;
 * the bytes of each word are read back as UTF-8.
 */
export function splitArgs(text: string): string[] | undefined {
  const chars = [...text];
  const words: string[] = [];
  let i = 0;
  for (;;) {
    while (i < chars.length && BLANK.has(chars[i] ?? '')) i++;
    if (i >= chars.length) return words;
    const bytes: number[] = [];
    const add = (s: string): void => {
      bytes.push(...Buffer.from(s, 'utf8'));
    };
    let quote: '"' | "'" | undefined;
    for (;;) {
      const c = chars[i];
      if (quote !== undefined) {
        if (c === undefined) return undefined;
        if (c === quote) {
          // The closing quote must be followed by a blank or nothing at all.
          if (chars[i + 1] !== undefined && !BLANK.has(chars[i + 1] ?? '')) return undefined;
          i++;
          break;
        }
        const next = chars[i + 1];
        if (c === '\\' && quote === "'" && next === "'") {
          add("'");
          i += 2;
        } else if (c === '\\' && quote === '"' && next === 'x' && isHex(chars[i + 2]) && isHex(chars[i + 3])) {
          bytes.push(Number.parseInt(`${chars[i + 2]}${chars[i + 3]}`, 16));
          i += 4;
        } else if (c === '\\' && quote === '"' && next !== undefined) {
          const code = ESCAPES[next];
          if (code !== undefined) bytes.push(code);
          else add(next);
          i += 2;
        } else {
          add(c);
          i++;
        }
      } else if (c === undefined || c === ' ' || c === '\n' || c === '\r' || c === '\t') {
        break;
      } else if (c === '"' || c === "'") {
        quote = c;
        i++;
      } else {
        add(c);
        i++;
      }
    }
    words.push(Buffer.from(bytes).toString('utf8'));
  }
}

/** Reads sentinel.conf text into its directives, in file order. */
export function parseSentinelConf(text: string): SentinelDocument {
  const directives: SentinelDirective[] = [];
  const warnings: { line: number; message: string }[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const words = splitArgs(trimmed);
    if (words === undefined) {
      warnings.push({ line, message: 'the quotes of this line do not balance (Redis refuses to start with it): left out' });
      return;
    }
    const [first, ...args] = words;
    if (first === undefined) return;
    directives.push({ line, name: first.toLowerCase(), args });
  });
  return { directives, warnings };
}
