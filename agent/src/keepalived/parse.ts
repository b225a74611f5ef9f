// A reader for keepalived.conf syntax, for `redkeep import-keepalived`. Pure: text in, a tree of
// statements and warnings out; it never reads a file and never throws on bad input.
//
// The syntax, as keepalived.conf(5) describes it and keepalived 2.2.7 reads it:
// - line based: a statement is the words of one line, up to a `{`, a `}` or the end of the line;
// - `#` and `!` start a comment anywhere outside quotes, even inside a word;
// - `{ ... }` opens a block that belongs to the statement before it (on the same line, or on an
//   earlier line when the brace stands alone); `{` and `}` need no spaces around them;
// - "..." and '...' quote within a word (`a"b c"d` is the one word `ab cd`); inside quotes
//   backslash escapes work as in the shell (\t, \n, \101, \x41, \cA, \" ...);
// - `include FILE` (and includer, includem, includew, includeb, includea) pull in other files:
//   not followed here, reported;
// - `$NAME=VALUE` defines a parameter, `$NAME` (before a space) and `${NAME}` use it; lines
//   starting with `@id` are conditional on the config id; `~SEQ(...)`/`~LST(...)` repeat a line.
//   Single-line definitions are expanded; the rest is reported and skipped.

export interface KeepalivedWord {
  readonly text: string;
  /** Whether any part of the word was in quotes. */
  readonly quoted: boolean;
}

export interface KeepalivedNode {
  /** The first word of the statement. */
  readonly keyword: string;
  /** The words after the keyword, quotes removed. */
  readonly args: readonly string[];
  /** Every word of the statement, keyword included. */
  readonly words: readonly KeepalivedWord[];
  /** 1-based line of the statement. */
  readonly line: number;
  /** The statements of the `{ }` block that follows, or undefined when there is none. */
  readonly block: readonly KeepalivedNode[] | undefined;
  /** Line of the `}` that closes the block (the last line when it is missing). */
  readonly endLine: number | undefined;
}

export interface KeepalivedDiagnostic {
  readonly line: number;
  readonly message: string;
}

export interface KeepalivedDocument {
  readonly nodes: readonly KeepalivedNode[];
  readonly warnings: readonly KeepalivedDiagnostic[];
}

const INCLUDE_KEYWORDS = new Set(['include', 'includer', 'includem', 'includew', 'includeb', 'includea']);

/** Parameters keepalived defines itself; only these two can be expanded without a host. */
const PREDEFINED: ReadonlyMap<string, string> = new Map([
  ['_HASH', '#'],
  ['_BANG', '!'],
]);
const HOST_PREDEFINED = ['_PWD', '_INSTANCE', '_RANDOM', '_ENV'];

/** Text in a message: quoted, one line, no control characters. */
export function show(text: string): string {
  return JSON.stringify(text).replace(/[\u007f-\u009f]/g, '?');
}

type Token =
  | { readonly kind: 'word'; readonly text: string; readonly quoted: boolean; readonly line: number }
  | { readonly kind: 'open' | 'close' | 'eol'; readonly line: number };

/** One escape inside quotes, starting after the backslash at `i`; returns the text and where to go on. */
function escape(s: string, i: number): { text: string; next: number } {
  const c = s[i];
  if (c === undefined) return { text: '\\', next: i };
  const simple: Record<string, string> = { a: '\x07', b: '\b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };
  const mapped = simple[c];
  if (mapped !== undefined) return { text: mapped, next: i + 1 };
  const oct = /^[0-7]{1,3}/.exec(s.slice(i));
  if (oct) return { text: String.fromCharCode(parseInt(oct[0], 8) & 0xff), next: i + oct[0].length };
  if (c === 'x') {
    const hex = /^[0-9a-fA-F]{1,2}/.exec(s.slice(i + 1));
    if (hex) return { text: String.fromCharCode(parseInt(hex[0], 16)), next: i + 1 + hex[0].length };
    return { text: 'x', next: i + 1 };
  }
  if (c === 'c' && i + 1 < s.length) return { text: String.fromCharCode((s.charCodeAt(i + 1) & 0x1f) >>> 0), next: i + 2 };
  return { text: c, next: i + 1 };
}

/** Where the comment of a line starts (outside quotes), or the line's length. */
function commentStart(line: string): number {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote !== undefined) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' || c === '!') return i;
  }
  return line.length;
}

/** Splits one comment-free line into words and braces. */
function tokenizeLine(text: string, line: number, tokens: Token[], warn: (line: number, message: string) => void): void {
  let word = '';
  let inWord = false;
  let quoted = false;
  const flush = (): void => {
    if (inWord) tokens.push({ kind: 'word', text: word, quoted, line });
    word = '';
    inWord = false;
    quoted = false;
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? '';
    if (c === ' ' || c === '\t' || c === '\v' || c === '\f' || c === '\r') {
      flush();
      i++;
    } else if (c === '{' || c === '}') {
      flush();
      tokens.push({ kind: c === '{' ? 'open' : 'close', line });
      i++;
    } else if (c === '"' || c === "'") {
      inWord = true;
      quoted = true;
      i++;
      let closed = false;
      while (i < text.length) {
        const d = text[i];
        if (d === c) {
          closed = true;
          i++;
          break;
        }
        if (d === '\\') {
          const e = escape(text, i + 1);
          word += e.text;
          i = e.next;
        } else {
          word += d;
          i++;
        }
      }
      if (!closed) warn(line, `a ${c === '"' ? 'double' : 'single'} quote is not closed: the string runs to the end of the line`);
    } else {
      inWord = true;
      word += c;
      i++;
    }
  }
  flush();
  tokens.push({ kind: 'eol', line });
}

/** Expands `${NAME}` anywhere and `$NAME` before a space or the end of the line. */
function substitute(text: string, params: ReadonlyMap<string, string>, line: number, warn: (line: number, message: string) => void): string {
  let out = text;
  for (let depth = 0; depth < 20; depth++) {
    let changed = false;
    out = out.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)(?=\s|$)/g, (all, braced: string | undefined, bare: string | undefined) => {
      const name = braced ?? bare ?? '';
      const v = params.get(name) ?? PREDEFINED.get(name);
      if (v === undefined) return all;
      changed = true;
      return v;
    });
    if (!changed) return out;
  }
  warn(line, 'parameter substitution does not end (a parameter refers to itself): the line is used as it stands');
  return out;
}

interface MutableNode {
  keyword: string;
  args: string[];
  words: KeepalivedWord[];
  line: number;
  block: MutableNode[] | undefined;
  endLine: number | undefined;
}

export interface ParseOptions {
  /**
   * keepalived's config id (`keepalived -i ID`, by default the host name): lines starting with
   * `@ID` are kept, `@^ID` dropped. Without one, every conditional line is skipped with a warning.
   */
  readonly configId?: string | undefined;
}

/** Parses keepalived.conf text. Never throws: anything it cannot read becomes a warning with its line. */
export function parseKeepalived(text: string, options: ParseOptions = {}): KeepalivedDocument {
  const warnings: KeepalivedDiagnostic[] = [];
  const warn = (line: number, message: string): void => {
    warnings.push({ line, message });
  };
  const tokens: Token[] = [];
  const params = new Map<string, string>();
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let continuation = false;
  lines.forEach((raw, i) => {
    const line = i + 1;
    if (continuation) {
      // The rest of a multi-line parameter definition.
      continuation = /\\\s*$/.test(raw);
      return;
    }
    const text0 = raw.slice(0, commentStart(raw));
    const trimmed = text0.trim();
    if (trimmed === '') return;
    let body = text0;
    if (trimmed.startsWith('@')) {
      const m = /^@(\^?)(\S*)/.exec(trimmed);
      const negated = m?.[1] === '^';
      const id = m?.[2] ?? '';
      if (options.configId === undefined) {
        warn(line, `conditional line (${show(`@${negated ? '^' : ''}${id}`)}) is skipped: give the config id (keepalived -i) with --config-id to keep the lines meant for one host`);
        return;
      }
      if ((id === options.configId) === negated) return;
      body = trimmed.slice((m?.[0] ?? '').length);
      if (body.trim() === '') return;
    }
    if (/^~(SEQx?|LST)\b/.test(body.trim())) {
      warn(line, `${body.trim().startsWith('~LST') ? '~LST' : '~SEQ'} line is not expanded: skipped (write out the lines it stands for)`);
      return;
    }
    const def = /^\$([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(body.trim());
    if (def) {
      const name = def[1] ?? '';
      const value = (def[2] ?? '').trim();
      if (value.endsWith('\\')) {
        continuation = true;
        warn(line, `multi-line parameter definition $${name} is not supported: skipped, and every line that uses it`);
        params.delete(name);
      } else params.set(name, value);
      return;
    }
    const expanded = substitute(body, params, line, warn);
    for (const p of HOST_PREDEFINED) {
      if (expanded.includes(`\${${p}`)) warn(line, `\${${p}} depends on the host keepalived runs on: not expanded`);
    }
    tokenizeLine(expanded, line, tokens, warn);
  });
  return { nodes: buildTree(tokens, warn, lines.length), warnings: warnings.sort((a, b) => a.line - b.line) };
}

function buildTree(tokens: readonly Token[], warn: (line: number, message: string) => void, lastLine: number): KeepalivedNode[] {
  const root: MutableNode[] = [];
  // Each open block: where its statements go, and its statement (undefined for a brace that
  // had no statement: its contents go to the enclosing block).
  const stack: { nodes: MutableNode[]; owner: MutableNode | undefined; line: number }[] = [{ nodes: root, owner: undefined, line: 0 }];
  let words: { text: string; quoted: boolean; line: number }[] = [];
  const top = (): { nodes: MutableNode[]; owner: MutableNode | undefined; line: number } => stack[stack.length - 1] ?? { nodes: root, owner: undefined, line: 0 };

  const flush = (): MutableNode | undefined => {
    const first = words[0];
    if (first === undefined) return undefined;
    const all = words.map((w) => ({ text: w.text, quoted: w.quoted }));
    words = [];
    if (INCLUDE_KEYWORDS.has(first.text) && !first.quoted) {
      const target = all[1]?.text;
      warn(first.line, `${first.text} ${target !== undefined ? show(target) : '(no file)'} is not followed: convert that file too and merge the result`);
      return undefined;
    }
    const node: MutableNode = { keyword: first.text, args: all.slice(1).map((w) => w.text), words: all, line: first.line, block: undefined, endLine: undefined };
    top().nodes.push(node);
    return node;
  };

  for (const t of tokens) {
    switch (t.kind) {
      case 'word':
        words.push({ text: t.text, quoted: t.quoted, line: t.line });
        break;
      case 'eol':
        flush();
        break;
      case 'open': {
        let owner = flush();
        if (owner === undefined) {
          // A brace on a line of its own belongs to the statement before it.
          const prev = top().nodes[top().nodes.length - 1];
          if (prev !== undefined && prev.block === undefined) owner = prev;
          else warn(t.line, "'{' has no keyword before it: its contents are read as if the braces were not there");
        }
        if (owner) {
          owner.block = [];
          stack.push({ nodes: owner.block, owner, line: t.line });
        } else stack.push({ nodes: top().nodes, owner: undefined, line: t.line });
        break;
      }
      case 'close': {
        flush();
        if (stack.length <= 1) {
          warn(t.line, "'}' has no matching '{': ignored");
          break;
        }
        const frame = stack.pop();
        if (frame?.owner) frame.owner.endLine = t.line;
        break;
      }
    }
  }
  flush();
  while (stack.length > 1) {
    const frame = stack.pop();
    if (!frame) break;
    const what = frame.owner ? `the block of ${show(frame.owner.keyword)} opened on line ${frame.line}` : `the '{' on line ${frame.line}`;
    warn(frame.owner?.line ?? frame.line, `${what} is not closed: a '}' is missing (read up to the end of the file)`);
    if (frame.owner) frame.owner.endLine = lastLine;
  }
  return root;
}

export interface ScriptWords {
  /** The argv keepalived would run. */
  readonly argv: readonly string[];
  /** Whether the text uses shell syntax (a pipe, redirection, `;`, `&&`, `$VAR`, `$(...)`) outside quotes. */
  readonly shellSyntax: boolean;
}

/**
 * Splits a script string (the one word after `script`, `notify_master` ...) the way keepalived
 * does before running it, without a shell: whitespace separates arguments, single and double
 * quotes group (and are removed), nothing else is special.
 */
export function splitScript(text: string): ScriptWords {
  const argv: string[] = [];
  let shellSyntax = false;
  let cur = '';
  let inArg = false;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? '';
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      else cur += c;
      continue;
    }
    if (/\s/.test(c)) {
      if (inArg) argv.push(cur);
      cur = '';
      inArg = false;
      continue;
    }
    inArg = true;
    if (c === '"' || c === "'") {
      quote = c;
      continue;
    }
    if ('|&;<>`'.includes(c) || (c === '$' && /[A-Za-z_{(]/.test(text[i + 1] ?? ''))) shellSyntax = true;
    cur += c;
  }
  if (inArg) argv.push(cur);
  return { argv, shellSyntax };
}
