// A pub/sub client through the VIP, idle once subscribed (it reconnects every 20 ms when its
// connection closes, as the writer does), for the tests of what a switchover does to the old
// master's clients. Run in the lab's client namespace:
//   node scripts/dist/lab/subscriber.js HOST PORT CHANNEL
// Prints "subscribed MS" each time it (re)subscribes (MS: wall clock).

import { Redis } from 'ioredis';

const [host = '192.0.2.50', portText = '6379', channel = 'news'] = process.argv.slice(2);
const client = new Redis({ host, port: Number(portText), connectTimeout: 200, retryStrategy: () => 20 });
client.on('error', () => undefined);
client.on('ready', () => process.stdout.write(`subscribed ${Date.now()}\n`));
void client.subscribe(channel).catch(() => undefined);
process.on('SIGTERM', () => {
  client.disconnect();
  process.exit(0);
});
