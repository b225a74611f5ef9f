import { ConfigError, loadConfig } from '../config/config.js';
import { Agent } from '../daemon/agent.js';
import { SystemdNotifier } from '../daemon/systemd.js';
import { EXIT } from '../exit-status.js';
import { sendUnixDatagram } from '@redkeep/afpacket';
import { JOURNAL_SOCKET, underJournald } from '../journal.js';
import { createLogger, flushLogger } from '../log.js';
import type { Output } from '../output.js';

/**
 * `redkeep run [--config FILE]`: the foreground daemon. A config that cannot be read or is not
 * valid: 78 (EX_CONFIG). Resolves with the exit status once a
 * SIGTERM or SIGINT has taken it through the one shutdown path.
 */
export async function runCommand(file: string, out: Output): Promise<number> {
  let config;
  try {
    config = loadConfig(file);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    for (const line of e.message.split('\n')) out.error(line);
    return EXIT.config;
  }
  // Under journald, entries with fields through its native socket rather than lines on the stream.
  const journal = underJournald() ? { send: (entry: Uint8Array) => sendUnixDatagram(JOURNAL_SOCKET, entry) } : undefined;
  const log = createLogger(config.agent.logLevel, config.agent.logFormat, { agent: config.agent.name }, undefined, journal);
  const agent = new Agent(config, log);
  const systemd = new SystemdNotifier(log);
  agent.onChange = () => systemd.status(agent.summary());
  agent.onReload = (phase) => (phase === 'start' ? systemd.reloading() : systemd.reloaded(agent.summary()));
  let status = 0;
  const stopped = new Promise<void>((resolve) => {
    // The one shutdown path; systemd is told, and given more time while the hand-over runs.
    const shutdown = (): void => {
      systemd.stopping(agent.stopBudgetMs());
      void agent.stop().finally(() => {
        systemd.stopped();
        resolve();
      });
    };
    const onSignal = (sig: NodeJS.Signals): void => {
      log.info(`${sig} received`);
      shutdown();
    };
    // A second signal during the shutdown joins it (agent.stop() is one shutdown, whoever asks).
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    process.on('SIGHUP', () => {
      log.info('SIGHUP received: reloading the configuration');
      agent.reload().catch((e: unknown) => log.error('reload failed', { error: e instanceof Error ? e.message : String(e) }));
    });
    process.on('uncaughtException', (e) => {
      log.error('unexpected error; stopping', { error: e.stack ?? e.message });
      status = EXIT.internal;
      shutdown();
    });
  });
  try {
    await agent.start();
    // A stop during start has already said STOPPING: no READY after it.
    if (!agent.stopping) {
      systemd.ready(agent.summary());
      if (systemd.enabled) log.info('systemd notified: ready', { watchdogMs: systemd.watchdogIntervalMs ?? 'off' });
    }
  } catch (e) {
    log.error('cannot start', { error: e instanceof Error ? e.message : String(e) });
    await agent.stop();
    await flushLogger(log);
    return 1;
  }
  await stopped;
  await flushLogger(log);
  return status;
}
