// Commands are loaded when they run, and the daemon (`run`) without the CLI framework: the
// long-running process carries only what it uses (see the README's footprint section).
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import type Yargs from 'yargs/yargs';
import { ConfigError, DEFAULT_CONFIG_FILE, DEFAULT_CONTROL_SOCKET, defaultConfigFile, loadConfig } from './config/config.js';
import { EXIT, EXIT_MEANINGS } from './exit-status.js';
import { type Output, processOutput } from './output.js';
import { REDKEEP_VERSION } from './version.js';

/** Each command's synopsis: the hint after a usage error, and redkeep(8)'s SYNOPSIS. */
export const SYNOPSIS = {
  run: 'run [--config FILE]',
  'check-config': 'check-config [FILE] [--files]',
  status: 'status [--cluster] [--json] [--socket PATH | --config FILE]',
  switchover: 'switchover [--to HOST] [--instance NAME] [--socket PATH | --config FILE]',
  reload: 'reload [--socket PATH | --config FILE]',
  maintenance: 'maintenance on|off [--instance NAME] [--json] [--socket PATH | --config FILE]',
  events: 'events [--json] [--no-follow] [--limit N] [--socket PATH | --config FILE]',
  'import-keepalived': 'import-keepalived FILE [--out TOML] [--config-id ID]',
  'import-sentinel': 'import-sentinel FILE [--out TOML] [--interface IF] [--vip ADDR/PREFIX]... [--vrid N] [--priority N]',
  watch: 'watch (--interface IF | --read FILE) [--json] [--count N]',
  decode: 'decode FILE [--json]',
  witness: 'witness [--listen ADDRESS:PORT] [--password-file FILE]',
  completion: 'completion',
} as const;
type CommandName = keyof typeof SYNOPSIS;

const EXIT_STATUSES = `Exit status: ${EXIT_MEANINGS.map((e) => `${e.status} ${e.brief}`).join('; ')}.`;

const CONFIG_FILE_DESCRIPTION = `TOML configuration file (default: $REDKEEP_CONFIG when set, else ${DEFAULT_CONFIG_FILE})`;

/** How a command finds the running agent: `--socket`, or the control socket a config names. */
const AGENT_SOCKET_OPTIONS = {
  socket: { type: 'string', describe: `control socket (default: the config's, else ${DEFAULT_CONTROL_SOCKET})` },
  config: { alias: 'c', type: 'string', describe: 'take the control socket path from this config (default: $REDKEEP_CONFIG when set)' },
} as const;

/**
 * The control socket: --socket, else the one in --config, else the one in $REDKEEP_CONFIG (the
 * file `run` reads when it is set), else the default; undefined after a config error.
 */
function socketOf(a: { socket?: string | undefined; config?: string | undefined }, out: Output): string | undefined {
  if (a.socket !== undefined) return a.socket;
  const file = a.config ?? (process.env['REDKEEP_CONFIG'] || undefined);
  if (file === undefined) return DEFAULT_CONTROL_SOCKET;
  try {
    return loadConfig(file).agent.controlSocket;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    for (const line of e.message.split('\n')) out.error(line);
    return undefined;
  }
}

/** A command that asks the running agent: 78 if the config naming its socket is bad. */
async function withSocket(a: { socket?: string | undefined; config?: string | undefined }, out: Output, run: (socket: string) => Promise<number>): Promise<number> {
  const socket = socketOf(a, out);
  return socket === undefined ? EXIT.config : await run(socket);
}

/** Help text wraps at whole words: at the terminal's width, else $COLUMNS, else 80; at most 100. */
function helpWidth(): number {
  const columns = process.stdout.columns ?? (Number(process.env['COLUMNS']) || 80);
  return Math.min(100, Math.max(40, columns));
}

/** "usage: ..." for the command argv names (or the command list), and where to read more. */
function usageHint(argv: readonly string[]): string[] {
  const name = argv.find((a): a is CommandName => Object.hasOwn(SYNOPSIS, a));
  if (name !== undefined) return [`usage: redkeep ${SYNOPSIS[name]}`, `(redkeep ${name} --help for more)`];
  return [`usage: redkeep <command> [options]; commands: ${Object.keys(SYNOPSIS).join(', ')}`, '(redkeep --help for more)'];
}

/**
 * Parses argv and runs one command; resolves to the exit status. Never calls process.exit: only
 * the bin entry point does. yargs only parses and validates: a handler picks the command, which
 * runs after the whole command line was found valid, so a usage error never runs anything.
 */
export async function main(argv: readonly string[], out: Output = processOutput): Promise<number> {
  const run = runArgs(argv);
  if (run !== undefined) {
    const { runCommand } = await import('./commands/run.js');
    return await runCommand(run.config, out);
  }
  // The CommonJS build: the ES module one wraps help text in the middle of words.
  const yargs = createRequire(import.meta.url)('yargs/yargs') as typeof Yargs;
  let chosen: (() => Promise<number>) | undefined;
  const usageErrors = new Set<string>();
  const parser = yargs([...argv])
    .scriptName('redkeep')
    .usage('$0 <command> [options]')
    .command(
      'decode <file>',
      'decode every frame of a capture: VRRP adverts (v2, v3, IPv4, IPv6) and ARP',
      (y) =>
        y
          .positional('file', { type: 'string', demandOption: true, describe: 'pcap or pcapng file, of Ethernet or Linux cooked (tcpdump -i any) frames' })
          .option('json', { type: 'boolean', default: false, describe: 'one JSON object per frame' }),
      (a) => {
        chosen = async () => (await import('./commands/decode.js')).decodeCommand({ file: a.file, json: a.json }, out);
      },
    )
    .command(
      'run',
      'run the agent in the foreground (SIGTERM or SIGINT stops it cleanly)',
      (y) => y.option('config', { alias: 'c', type: 'string', default: defaultConfigFile(), describe: CONFIG_FILE_DESCRIPTION }),
      (a) => {
        chosen = async () => await (await import('./commands/run.js')).runCommand(a.config, out);
      },
    )
    .command(
      'witness',
      'be the third voter of two Redis hosts, on a host without Redis: answers the members\' liveness reads (PING, INFO) on the Redis port',
      (y) =>
        y
          .option('listen', { type: 'string', default: '0.0.0.0:6379', describe: 'ADDRESS:PORT: the members\' peer_port' })
          .option('password-file', { type: 'string', describe: 'the Redis password the members send (AUTH), read from this file' }),
      (a) => {
        chosen = async () => await (await import('./commands/witness.js')).witnessCommand({ listen: a.listen, passwordFile: a.passwordFile }, out);
      },
    )
    .command(
      'check-config [file]',
      `validate a configuration file: a summary and exit ${EXIT.ok}, or every error (file:line: key: problem) and exit ${EXIT.config}`,
      (y) =>
        y.positional('file', { type: 'string', default: defaultConfigFile(), describe: CONFIG_FILE_DESCRIPTION }).option('files', {
          type: 'boolean',
          default: false,
          describe: 'also check that the password and TLS files it names can be read, as the agent reads them at start (run it as the service user: runuser -u redkeep -- redkeep check-config --files)',
        }),
      (a) => {
        chosen = async () => (await import('./commands/check-config.js')).checkConfigCommand(a.file, out, { files: a.files });
      },
    )
    .command(
      'status',
      'show what the running agent knows: state, priorities, master, VIPs, last transition, counters',
      (y) =>
        y
          .option('json', { type: 'boolean', default: false, describe: 'machine-readable JSON' })
          .option('cluster', { type: 'boolean', default: false, describe: "every member of this host's instances: their agents' state, priority, VIPs, maintenance, data guard, and their Redis" })
          .options(AGENT_SOCKET_OPTIONS),
      (a) => {
        chosen = () => withSocket(a, out, async (socket) => await (await import('./commands/status.js')).statusCommand({ socket, json: a.json, cluster: a.cluster }, out));
      },
    )
    .command(
      'import-keepalived <file>',
      'convert a keepalived.conf into redkeep TOML (stdout, or --out); warnings as FILE:LINE: warning: on stderr',
      (y) =>
        y
          .positional('file', { type: 'string', demandOption: true, describe: 'the keepalived.conf to convert' })
          .option('out', { alias: 'o', type: 'string', describe: 'write the TOML to this file (created with mode 0600: it may hold auth_pass)' })
          .option('config-id', { type: 'string', describe: "keepalived's config id (keepalived -i): keep the @id lines meant for this host" }),
      (a) => {
        chosen = async () => await (await import('./commands/import-keepalived.js')).importKeepalivedCommand({ file: a.file, out: a.out, configId: a.configId }, out);
      },
    )
    .command(
      'import-sentinel <file>',
      'convert a Redis Sentinel sentinel.conf into redkeep TOML (stdout, or --out); warnings as FILE:LINE: warning: on stderr',
      (y) =>
        y
          .positional('file', { type: 'string', demandOption: true, describe: 'the sentinel.conf to convert' })
          .option('out', { alias: 'o', type: 'string', describe: 'write the TOML to this file (created with mode 0600)' })
          .option('interface', { alias: 'i', type: 'string', describe: 'the interface the VIP lives on (default: a placeholder, eth0)' })
          .option('vip', { type: 'string', array: true, nargs: 1, describe: 'ADDR/PREFIX: the VIP clients write to, one per monitored master in file order (default: placeholders from 192.0.2.0/24)' })
          .option('vrid', { type: 'string', describe: 'VRID 1..255 of the first master, the next ones follow (default: a placeholder, 51)' })
          .option('priority', { type: 'string', describe: "this host's priority 1..254 (default: a placeholder, 100)" }),
      (a) => {
        chosen = async () =>
          await (await import('./commands/import-sentinel.js')).importSentinelCommand(
            { file: a.file, out: a.out, interface: a.interface, vip: a.vip, vrid: a.vrid, priority: a.priority },
            out,
          );
      },
    )
    .command(
      'reload',
      'make the running agent read its config again (as SIGHUP): validated first, unchanged instances untouched, new hooks and track checks applied in place',
      (y) => y.options(AGENT_SOCKET_OPTIONS),
      (a) => {
        chosen = () => withSocket(a, out, async (socket) => await (await import('./commands/reload.js')).reloadCommand({ socket }, out));
      },
    )
    .command(
      'switchover',
      'planned switchover, run on the master: pause writes, wait for the target replica, hand the VIP over with priority 0',
      (y) =>
        y
          .option('to', { type: 'string', describe: 'the host to hand over to (its VRRP address or name); default: the highest priority backup' })
          .option('instance', { type: 'string', describe: 'the instance (default: the one this host is master of)' })
          .options(AGENT_SOCKET_OPTIONS),
      (a) => {
        chosen = () => withSocket(a, out, async (socket) => await (await import('./commands/switchover.js')).switchoverCommand({ socket, instance: a.instance, to: a.to }, out));
      },
    )
    .command(
      'events',
      'the agent\'s recent events, then each new one as it happens: transitions, fences, isolation, hand-overs, hooks, maintenance',
      (y) =>
        y
          .option('json', { type: 'boolean', default: false, describe: 'one JSON object per event' })
          .option('follow', { type: 'boolean', default: true, describe: 'keep printing new events (--no-follow: print the recent ones and exit)' })
          .option('limit', { type: 'number', describe: 'how many recent events to print first (default: all kept, up to 256)' })
          .options(AGENT_SOCKET_OPTIONS)
          .check((a) => a.limit === undefined || (Number.isInteger(a.limit) && a.limit >= 0) || '--limit must be a whole number, 0 or more'),
      (a) => {
        chosen = () =>
          withSocket(a, out, async (socket) => await (await import('./commands/events.js')).eventsCommand({ socket, json: a.json, follow: a.follow, limit: a.limit }, out));
      },
    )
    .command(
      'maintenance <mode>',
      'maintenance on: a master hands over first (zero-loss switchover), then this host stays backup at priority 1, across restarts, until maintenance off',
      (y) =>
        y
          .positional('mode', { type: 'string', choices: ['on', 'off'], demandOption: true })
          .option('instance', { type: 'string', describe: 'only this instance (default: every instance of this host)' })
          .option('json', { type: 'boolean', default: false, describe: 'machine-readable JSON' })
          .options(AGENT_SOCKET_OPTIONS),
      (a) => {
        chosen = () =>
          withSocket(a, out, async (socket) => await (await import('./commands/maintenance.js')).maintenanceCommand({ socket, on: a.mode === 'on', instance: a.instance, json: a.json }, out));
      },
    )
    .command(
      'watch',
      'decode VRRP adverts and ARP live on an interface, or from a capture as it arrives, in the format of decode',
      (y) =>
        y
          .option('interface', { alias: 'i', type: 'string', describe: 'interface to listen on' })
          .option('read', { alias: 'r', type: 'string', requiresArg: true, describe: 'pcap or pcapng capture to read as it is written; - for stdin (tcpdump -U -w -)' })
          .option('json', { type: 'boolean', default: false, describe: 'one JSON object per frame' })
          .option('count', { type: 'number', describe: 'stop after this many frames' })
          .conflicts('interface', 'read')
          .check((a) => a.interface !== undefined || a.read !== undefined || 'name --interface IF or --read FILE'),
      (a) => {
        const source = a.read !== undefined ? { read: a.read } : { interface: a.interface ?? '' };
        chosen = async () => await (await import('./commands/watch.js')).watchCommand({ source, json: a.json, count: a.count }, out);
      },
    )
    .example('$0 run', `the agent, with $REDKEEP_CONFIG or ${DEFAULT_CONFIG_FILE}`)
    .example('$0 check-config ./redkeep.toml', 'validate a file before installing it')
    .example('$0 status --cluster', 'every member of this host\'s instances, from here')
    .example('$0 switchover --to 192.0.2.12', 'on the master: hand over to that host without losing a write')
    .example('$0 maintenance on', 'drain this host (a master hands over first); maintenance off ends it')
    .example('$0 events --no-follow --limit 20', 'the last 20 events')
    .example("tcpdump -i any -U -w - 'vrrp or arp' | $0 watch --read -", 'decode a live capture as tcpdump writes it')
    .example('$0 import-keepalived keepalived.conf', 'print a keepalived setup as redkeep TOML')
    .completion('completion', 'print the bash completion script (source it from a shell profile, or install it in bash-completion\'s directory)')
    .epilogue(EXIT_STATUSES)
    .demandCommand(1, 'name a command')
    .recommendCommands()
    .strict()
    .help()
    .alias('help', 'h')
    .version(REDKEEP_VERSION)
    .alias('version', 'V')
    .wrap(helpWidth())
    .exitProcess(false)
    .fail((msg, err) => {
      usageErrors.add(msg || err?.message || 'invalid usage');
    });
  // Help, version and completions come back here instead of going to the console, so they
  // reach `out` like everything else (redkeep(8) is made from the help this way).
  await parser.parseAsync([...argv], {}, (_err, _args, output) => {
    if (output) out.print(output);
  });
  if (usageErrors.size > 0) {
    // yargs says "Did you mean status?" before "Unknown argument: stauts".
    const errors = [...usageErrors].sort((x, y) => Number(x.startsWith('Did you mean')) - Number(y.startsWith('Did you mean')));
    for (const e of errors) out.error(`redkeep: ${e}`);
    for (const line of usageHint(argv)) out.error(line);
    return EXIT.usage;
  }
  // --help and --version print and choose nothing.
  return chosen === undefined ? EXIT.ok : await chosen();
}

/**
 * `run [--config FILE]` (or `-c FILE`, `--config=FILE`; default `$REDKEEP_CONFIG`, else
 * /etc/redkeep/redkeep.toml) and nothing else: the daemon's own arguments, parsed without loading
 * yargs. Anything else (help, a typo) is left to yargs, which prints the usage or the error; its
 * `run` command takes the same option.
 */
export function runArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): { config: string } | undefined {
  if (argv[0] !== 'run') return undefined;
  try {
    const { values, positionals } = parseArgs({
      args: argv.slice(1),
      options: { config: { type: 'string', short: 'c' } },
      strict: true,
      allowPositionals: true,
    });
    if (positionals.length > 0 || values.config === '') return undefined;
    return { config: values.config ?? defaultConfigFile(env) };
  } catch {
    return undefined;
  }
}
