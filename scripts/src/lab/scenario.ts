// A namespace test that prints the logs of what it ran (agents, keepalived, tcpdump) when it fails.

import { it } from 'node:test';

/** it(name, fn), writing `logs()` to stderr under the test's name if fn throws. */
export function scenarioWithLogs(name: string, logs: () => string, fn: () => Promise<void>, heading = 'logs'): void {
  it(name, async () => {
    try {
      await fn();
    } catch (e) {
      process.stderr.write(`--- ${heading} for "${name}" ---\n${logs()}\n`);
      throw e;
    }
  });
}
