// Watches the Redis role of every lab host from the client namespace, every few milliseconds,
// for the failover benchmark and tests: "time to a single master" is read from what it prints.
//   node scripts/dist/lab/role-probe.js PORT ADDRESS...
// Prints "role ADDRESS ROLE MS" whenever an address' role changes (MS: wall clock); ROLE is
// "master" (taking writes), "master-refusing" (a master whose min-replicas-to-write is not met:
// every write gets NOREPLICAS), "replica", or "down" (no answer within 50 ms).

import { Redis } from 'ioredis';

const [portText = '6379', ...addresses] = process.argv.slice(2);
const out: string[] = [];
const last = new Map<string, string>();
let stopped = false;

function note(address: string, role: string): void {
  if (last.get(address) === role) return;
  last.set(address, role);
  out.push(`role ${address} ${role} ${Date.now()}\n`);
}

for (const address of addresses) {
  const client = new Redis({
    host: address,
    port: Number(portText),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 100,
    commandTimeout: 50,
    retryStrategy: () => 10,
    lazyConnect: false,
  });
  client.on('error', () => undefined);
  void (async () => {
    while (!stopped) {
      try {
        const [text, gate] = await Promise.all([client.info('replication'), client.call('CONFIG', 'GET', 'min-replicas-to-write') as Promise<string[]>]);
        // A master takes writes only while it has min-replicas-to-write good replicas.
        const need = Number(gate[1] ?? 0);
        const good = Number(/min_slaves_good_slaves:(\d+)/.exec(text)?.[1] ?? 0);
        note(address, /role:master/.test(text) ? (need > 0 && good < need ? 'master-refusing' : 'master') : 'replica');
      } catch {
        note(address, 'down');
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    client.disconnect();
  })();
}

const flusher = setInterval(() => {
  if (out.length) process.stdout.write(out.splice(0).join(''));
}, 50);
process.on('SIGTERM', () => {
  stopped = true;
  setTimeout(() => {
    clearInterval(flusher);
    if (out.length) process.stdout.write(out.splice(0).join(''));
    process.exit(0);
  }, 100);
});
