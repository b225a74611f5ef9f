import yargs from 'yargs';
import { decodeCommand } from './commands/decode.js';
import { type Output, processOutput } from './output.js';

/**
 * Parses argv and runs one command; resolves to the exit status. Never calls process.exit: only
 * the bin entry point does.
 */
export async function main(argv: readonly string[], out: Output = processOutput): Promise<number> {
  let status = 0;
  let usageError: string | undefined;
  const parser = yargs([...argv])
    .scriptName('redkeep')
    .usage('$0 <command> [options]')
    .command(
      'decode <file>',
      'decode every frame of a pcap capture: VRRP adverts (v2, v3, IPv4, IPv6) and ARP',
      (y) =>
        y
          .positional('file', { type: 'string', demandOption: true, describe: 'classic pcap file' })
          .option('json', { type: 'boolean', default: false, describe: 'one JSON object per frame' }),
      (a) => {
        status = decodeCommand({ file: a.file, json: a.json }, out);
      },
    )
    .demandCommand(1, 'name a command')
    .strict()
    .help()
    .version(false)
    .exitProcess(false)
    .fail((msg, err) => {
      usageError = msg || err?.message || 'invalid usage';
    });
  await parser.parseAsync();
  if (usageError !== undefined) {
    out.error(`redkeep: ${usageError} (see redkeep --help)`);
    return 2;
  }
  return status;
}
