// A client writing through the VIP every few milliseconds and recording every acknowledged
// write, for the data-safety tests and the failover benchmark. Run in the lab's client namespace:
//   node scripts/dist/lab/writer.js HOST PORT INTERVAL_MS [TIMEOUT_MS]
// TIMEOUT_MS, when given, is both the connect and the command timeout (default: connect 200 ms,
// command 500 ms). Prints "ack N MS" for each acknowledged SET w:N N (MS: wall clock), "err N MS" for failures.

import { Redis } from 'ioredis';

const [host = '192.0.2.50', portText = '6379', intervalText = '5', timeoutText] = process.argv.slice(2);
const timeoutMs = timeoutText === undefined ? undefined : Number(timeoutText);
const client = new Redis({
  host,
  port: Number(portText),
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  connectTimeout: timeoutMs ?? 200,
  commandTimeout: timeoutMs ?? 500,
  retryStrategy: () => 20,
  reconnectOnError: (e) => (/READONLY/.test(e.message) ? 2 : false),
});
client.on('error', () => undefined);
let n = 0;
let stopped = false;
const out: string[] = [];
const flush = (): void => {
  if (out.length) process.stdout.write(out.splice(0).join(''));
};
const timer = setInterval(() => {
  if (stopped) return;
  const k = ++n;
  client.set(`w:${k}`, String(k)).then(
    () => out.push(`ack ${k} ${Date.now()}\n`),
    (e: unknown) => {
      out.push(`err ${k} ${Date.now()}\n`);
      // As failover-aware clients do: a read-only or silent server means the VIP moved on.
      const msg = e instanceof Error ? e.message : '';
      // The socket is dropped at once (a new connection starts now), not closed politely: toward a
      // host that went silent, ioredis' disconnect() would wait for its FIN to be answered.
      if (/READONLY|timed out/i.test(msg) && client.status === 'ready') {
        const stream = (client as unknown as { stream?: { destroy(): void } }).stream;
        if (stream) stream.destroy();
        else client.disconnect(true);
      }
    },
  );
}, Number(intervalText));
const flusher = setInterval(flush, 50);
process.on('SIGTERM', () => {
  stopped = true;
  clearInterval(timer);
  setTimeout(() => {
    clearInterval(flusher);
    flush();
    client.disconnect();
  }, 600);
});
