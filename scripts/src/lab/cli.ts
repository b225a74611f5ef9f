// The lab by hand:
//   node scripts/dist/lab/cli.js up [--hosts 3] [--replication-network]
//                                                     build a LAN (and eth1 on 198.51.100.0/24), print its id, keep it until Ctrl-C
//   node scripts/dist/lab/cli.js cut|heal|isolate|rejoin ID HOST
//   node scripts/dist/lab/cli.js exec ID HOST -- CMD...
//   node scripts/dist/lab/cli.js down ID
import { Lab } from './lab.js';

const [cmd, ...args] = process.argv.slice(2);

function usage(): never {
  console.error('usage: lab up [--hosts N] [--replication-network] | cut|heal|isolate|rejoin ID HOST | exec ID HOST -- CMD... | down ID');
  process.exit(2);
}

switch (cmd) {
  case 'up': {
    const i = args.indexOf('--hosts');
    const lab = Lab.create({ hosts: i >= 0 ? Number(args[i + 1]) : 3, replicationNetwork: args.includes('--replication-network') });
    console.log(`lab ${lab.id} is up (Ctrl-C removes it)`);
    for (const h of lab.all) console.log(`  ${h.name.padEnd(7)} netns ${h.ns}  ${h.address}  ${h.address6}  ${h.mac}${lab.replicationNetwork && h !== lab.client ? `  eth1 ${h.address2}` : ''}`);
    console.log(`  bridge  netns ${lab.bridgeNs}`);
    setInterval(() => undefined, 1 << 30);
    break;
  }
  case 'cut':
  case 'heal':
  case 'isolate':
  case 'rejoin': {
    const [id, host] = args;
    if (!id || !host) usage();
    const lab = Lab.attach(id);
    if (cmd === 'cut') lab.cutLink(host);
    else if (cmd === 'heal') lab.healLink(host);
    else if (cmd === 'isolate') lab.isolate(host);
    else lab.rejoin(host);
    break;
  }
  case 'exec': {
    const [id, host, sep, ...argv] = args;
    if (!id || !host || sep !== '--' || argv.length === 0) usage();
    const r = Lab.attach(id).exec(host, argv);
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    process.exitCode = r.status ?? 1;
    break;
  }
  case 'down': {
    const [id] = args;
    if (!id) usage();
    Lab.attach(id).destroy();
    break;
  }
  default:
    usage();
}
