// A command's --help, as redkeep's CLI prints it (yargs), read back into its parts for redkeep(8):
// the description and each option with its flags, text and [type] [default] notes.

export interface HelpOption {
  /** `-c, --config` or `file`. */
  readonly flags: string;
  readonly text: string;
  /** yargs' notes: `string`, `required`, `default: false`, `choices: "on", "off"`. */
  readonly notes: readonly string[];
}

export interface CommandHelp {
  readonly usage: string;
  readonly description: string;
  readonly positionals: readonly HelpOption[];
  readonly options: readonly HelpOption[];
  /** `redkeep --help`'s commands and examples: the command line as flags, what it does as text. */
  readonly commands: readonly HelpOption[];
  readonly examples: readonly HelpOption[];
}

/** A trailing `[...]` note, which may itself hold brackets (`[default: "[::1]:6379"]`). */
const TRAILING_NOTE = /\s*\[((?:[^[\]]|\[[^\]]*\])*)\]$/;

/** Deeper than this is the text column; an entry's own column starts at 2, or 6 for a long flag alone. */
const MAX_LEFT_INDENT = 6;

/** One entry's lines, two columns (either may wrap): flags or command line, then text and notes. */
function entry(lines: readonly string[]): HelpOption {
  const left: string[] = [];
  const right: string[] = [];
  for (const line of lines) {
    const indent = line.length - line.trimStart().length;
    if (indent > MAX_LEFT_INDENT) {
      right.push(line.trim());
      continue;
    }
    const [l = '', r = ''] = line.trim().split(/\s{2,}(.*)/s);
    left.push(l);
    if (r !== '') right.push(r);
  }
  let body = right.join(' ').replace(/\s+/g, ' ').trim();
  const notes: string[] = [];
  for (let m = TRAILING_NOTE.exec(body); m; m = TRAILING_NOTE.exec(body)) {
    notes.unshift(m[1] ?? '');
    body = body.slice(0, m.index).trimEnd();
  }
  return { flags: left.join(' '), text: body, notes };
}

/** Parses `redkeep CMD --help`; continuation lines (wrapped text) are indented past an entry's start. */
export function parseHelp(help: string): CommandHelp {
  const lines = help.split('\n');
  const usage = (lines[0] ?? '').trim();
  let i = 1;
  while (i < lines.length && lines[i]?.trim() === '') i++;
  const description: string[] = [];
  // The top level has no description: its first group follows the usage.
  for (; i < lines.length && lines[i]?.trim() !== '' && !/^\w+:$/.test(lines[i] ?? ''); i++) description.push(lines[i]?.trim() ?? '');
  const groups: Record<string, string[][]> = {};
  let name = '';
  let group: string[][] | undefined;
  for (; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const heading = /^(\w+):$/.exec(line);
    if (heading) {
      name = heading[1] ?? '';
      group = groups[name] = [];
    } else if (line.trim() === '') {
      group = undefined;
    } else if (group !== undefined) {
      // An entry starts at column 2 (`  file`, `  -c, --config`) or at 6 for a long flag alone;
      // a command's or an example's command line, which may wrap within its column, with the name.
      const starts = name === 'Examples' || name === 'Commands' ? line.startsWith(`  ${usage.split(' ')[0] ?? ''} `) : /^ {2}(?:\S| {4}--)/.test(line);
      const last = group[group.length - 1];
      if (starts || last === undefined) group.push([line]);
      else last.push(line);
    }
  }
  return {
    usage,
    description: description.join(' '),
    positionals: (groups['Positionals'] ?? []).map(entry),
    options: (groups['Options'] ?? []).map(entry),
    commands: (groups['Commands'] ?? []).map(entry),
    examples: (groups['Examples'] ?? []).map(entry),
  };
}
