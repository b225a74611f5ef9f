// redkeep(8), redkeep.toml(5) and the bash completion, made from the CLI's own yargs definitions
// (its --help, read through main()'s Output) and the configuration reference.

import { readFileSync } from 'node:fs';
import {
  CONFIG_INTRO,
  CONFIG_SECTIONS,
  CONFIG_TOPICS,
  DEFAULT_CONFIG_FILE,
  DEFAULT_CONTROL_SOCKET,
  DEFAULT_STATE_DIR,
  EXIT_MEANINGS,
  SYNOPSIS,
  captureOutput,
  main,
} from 'redkeep';
import { type CommandHelp, type HelpOption, parseHelp } from './help.js';
import { roffBlocks, roffEscape, roffHeader, roffInline } from './roff.js';

const EXAMPLE_FILE = new URL('../../../examples/redkeep.toml', import.meta.url);
const VERSION = (JSON.parse(readFileSync(new URL('../../../agent/package.json', import.meta.url), 'utf8')) as { version: string }).version;

export type CommandName = keyof typeof SYNOPSIS;
export const COMMANDS = Object.keys(SYNOPSIS) as CommandName[];

/** What the CLI prints for these arguments, stdout only. */
export async function cliOutput(args: readonly string[]): Promise<string> {
  // Defaults shown in the help (the config file) must not depend on who generates the pages.
  delete process.env['REDKEEP_CONFIG'];
  const out = captureOutput();
  const status = await main(args, out);
  if (status !== 0) throw new Error(`redkeep ${args.join(' ')} exited ${status}: ${out.stderr.join('\n')}`);
  return out.stdout.join('\n');
}

/** A command's --help, parsed. */
export async function commandHelp(name: CommandName): Promise<CommandHelp> {
  if (name !== 'completion') return parseHelp(await cliOutput([name, '--help']));
  // yargs' completion command prints its script for --help too: its line in the command list.
  const line = parseHelp(await cliOutput(['--help'])).commands.find((c) => c.flags === `redkeep ${name}`);
  return { usage: `redkeep ${name}`, description: line?.text ?? '', positionals: [], options: [], commands: [], examples: [] };
}

/** The bash completion script, as `redkeep completion` prints it. */
export async function bashCompletion(): Promise<string> {
  return `${await cliOutput(['completion'])}\n`;
}

const GLOBAL_FLAGS = new Set(['-h, --help', '-V, --version']);

function optionItem(o: HelpOption): string[] {
  const flags = o.flags
    .split(/,\s*/)
    .map((f) => (f.startsWith('-') ? `\\fB${roffEscape(f)}\\fR` : `\\fI${roffEscape(f.toUpperCase())}\\fR`))
    .join(', ');
  // The type is in the synopsis; what is worth saying is the default, the choices, required.
  const notes = o.notes.filter((n) => !['boolean', 'string', 'number', 'array'].includes(n));
  const text = notes.length > 0 ? `${o.text} [${notes.join('] [')}]` : o.text;
  return ['.TP', flags, roffInline(text)];
}

function synopsisLine(name: CommandName): string {
  // Words in capitals are placeholders (FILE, HOST, ADDRESS:PORT); the rest is typed as it is.
  const text = roffEscape(SYNOPSIS[name])
    .replace(/\b(?:[A-Z][A-Z_:/]*[A-Z]|N)\b/g, (p) => `\\fI${p}\\fB`)
    .replace(/\.\.\./g, '...\\&'); // not the end of a sentence
  return `\\fBredkeep ${text}\\fR`;
}

export async function redkeepManPage(): Promise<string> {
  const top = parseHelp(await cliOutput(['--help']));
  const lines: string[] = [...roffHeader('redkeep', 8, VERSION, 'System Administration')];
  lines.push('.SH NAME', 'redkeep \\- Redis failover agent: a keepalived\\-compatible VRRP router that moves the write VIP and sets the Redis roles');
  lines.push('.SH SYNOPSIS');
  for (const name of COMMANDS) lines.push(synopsisLine(name), '.br');
  lines.push('\\fBredkeep\\fR \\fB\\-\\-help\\fR | \\fB\\-\\-version\\fR');
  lines.push('.SH DESCRIPTION');
  lines.push(
    ...roffBlocks(`redkeep runs one agent per Redis host. Each agent takes part in a VRRP election (RFC 3768 v2, RFC 5798 v3) that keepalived routers can join, adds and removes the virtual addresses (VIPs) itself, promotes its Redis before its write VIP comes up and makes the other hosts' Redis replicas of it, and runs notify hooks.

Its data rules (a quorum of members, the replication history, fences, planned switchovers) keep a write acknowledged by a majority from being lost beyond Redis' asynchronous replication window; redkeep.toml(5) explains them.

\`redkeep run\` is the agent. The other commands ask a running agent over its control socket (\`status\`, \`reload\`, \`switchover\`, \`maintenance\`, \`events\`), check or convert configuration, or read VRRP traffic.`),
  );
  lines.push('.SH COMMANDS');
  for (const name of COMMANDS) {
    const help = await commandHelp(name);
    lines.push(`.SS ${name}`, synopsisLine(name), '.PP', roffInline(help.description));
    for (const o of [...help.positionals, ...help.options].filter((x) => !GLOBAL_FLAGS.has(x.flags))) lines.push(...optionItem(o));
  }
  lines.push('.SH OPTIONS', 'Every command takes these.');
  for (const o of top.options.filter((x) => GLOBAL_FLAGS.has(x.flags))) lines.push(...optionItem(o));
  lines.push('.SH EXIT STATUS');
  for (const e of EXIT_MEANINGS) lines.push('.TP', `\\fB${e.status}\\fR`, roffInline(e.detail));
  lines.push('.SH ENVIRONMENT');
  lines.push('.TP', '\\fBREDKEEP_CONFIG\\fR', roffInline(`the configuration file of \`run\` and \`check-config\` when none is given (else ${DEFAULT_CONFIG_FILE})`));
  lines.push('.TP', '\\fBNOTIFY_SOCKET\\fR', roffInline('set by systemd: `run` reports READY=1, its state as STATUS=, WATCHDOG=1 and STOPPING=1'));
  lines.push('.TP', '\\fBCOLUMNS\\fR', roffInline('the width help text wraps at when not on a terminal (at most 100)'));
  lines.push('.SH FILES');
  lines.push('.TP', `\\fB${roffEscape(DEFAULT_CONFIG_FILE)}\\fR`, roffInline('the configuration, see redkeep.toml(5)'));
  lines.push('.TP', `\\fB${roffEscape(DEFAULT_CONTROL_SOCKET)}\\fR`, roffInline('the control socket the commands ask the agent through (`control_socket`)'));
  lines.push('.TP', `\\fB${roffEscape(DEFAULT_STATE_DIR)}\\fR`, roffInline('state kept across restarts: `maintenance.json` (`state_dir`)'));
  lines.push('.SH EXAMPLES');
  for (const e of top.examples) lines.push('.TP', `\\fB${roffEscape(e.flags)}\\fR`, roffInline(e.text));
  lines.push('.SH SEE ALSO', '\\fBredkeep.toml\\fR(5), \\fBkeepalived\\fR(8), \\fBredis\\-server\\fR(1), \\fBsystemctl\\fR(1)');
  return `${lines.join('\n')}\n`;
}

export function redkeepTomlManPage(): string {
  const lines: string[] = [...roffHeader('redkeep.toml', 5, VERSION, 'File Formats')];
  lines.push('.SH NAME', 'redkeep.toml \\- configuration of redkeep(8)');
  lines.push('.SH SYNOPSIS', `\\fB${roffEscape(DEFAULT_CONFIG_FILE)}\\fR`);
  lines.push('.SH DESCRIPTION');
  lines.push(
    ...roffBlocks(`${CONFIG_INTRO}

\`redkeep run\` reads the file at start; \`redkeep reload\` (or SIGHUP) reads it again: a file that is not valid is refused and the running configuration stays. \`redkeep check-config\` validates a file before it is installed.`),
  );
  lines.push('.SH KEYS');
  for (const s of CONFIG_SECTIONS) {
    lines.push(`.SS "${roffEscape(s.heading)}"`, roffInline(s.summary));
    for (const k of s.keys) {
      lines.push('.TP', `\\fB${roffEscape(k.key)}\\fR (${roffInline(k.type)}; default: ${roffInline(k.default)})`, roffInline(k.meaning));
    }
    if (s.notes !== undefined) lines.push('.PP', ...roffBlocks(s.notes));
  }
  lines.push('.SH DATA RULES');
  lines.push(...roffBlocks('What each rule guarantees, and how. They apply to instances with `[instance.redis]` and `manage_role = true`.'));
  for (const t of CONFIG_TOPICS) lines.push(`.SS "${roffEscape(t.title)}"`, ...roffBlocks(t.text));
  lines.push('.SH EXAMPLE', '.nf', '.RS 4');
  for (const l of readFileSync(EXAMPLE_FILE, 'utf8').trimEnd().split('\n')) lines.push(l === '' ? '' : `\\&${roffEscape(l)}`);
  lines.push('.RE', '.fi');
  lines.push('.SH FILES', '.TP', `\\fB${roffEscape(DEFAULT_CONFIG_FILE)}\\fR`, roffInline('the file `redkeep run` reads unless `--config` or `$REDKEEP_CONFIG` names another'));
  lines.push('.SH SEE ALSO', '\\fBredkeep\\fR(8), \\fBkeepalived.conf\\fR(5), \\fBredis\\-server\\fR(1)');
  return `${lines.join('\n')}\n`;
}
