// Demo: three redkeep agents in a namespace lab (real packets), VRRPv3 at 100 ms. Shows status,
// kills the master agent (kill -9), shows who took over and how fast, then cleans up.

import { execFileSync } from 'node:child_process';
import { AgentProc, Lab, REDKEEP_BIN, RunDir, holders, waitFor } from '../lab/index.js';

const VIP = '192.0.2.50';
const lab = Lab.create({ hosts: 3 });
const dir = new RunDir();

function status(host: string, a: AgentProc): void {
  const out = execFileSync('ip', ['netns', 'exec', lab.host(host).ns, process.execPath, REDKEEP_BIN, 'status', '--socket', a.socket], { encoding: 'utf8' });
  console.log(out.split('\n').filter((l) => l.trim() !== '').map((l) => `    ${l}`).join('\n'));
}

try {
  console.log(`lab ${lab.id}: h1 ${lab.host('h1').address}, h2 ${lab.host('h2').address}, h3 ${lab.host('h3').address}, client ${lab.client.address}; VIP ${VIP}`);
  const prio: Record<string, number> = { h1: 100, h2: 120, h3: 150 };
  const agents = lab.hosts.map((h) => new AgentProc(lab, h.name, dir, { priority: prio[h.name] ?? 100 }).start());
  await waitFor('h3 to hold the VIP', 10_000, () => holders(lab, VIP).join() === 'h3');
  lab.run('client', ['ping', '-c', '1', '-W', '1', VIP]);
  console.log(`\n== elected: VIP on ${holders(lab, VIP).join()}; the client resolves it to ${lab.neighbour('client', VIP)} (h3 is ${lab.host('h3').mac})`);
  console.log('  redkeep status on h3:');
  status('h3', agents[2] as AgentProc);

  const t0 = Date.now();
  (agents[2] as AgentProc).signal('SIGKILL');
  await waitFor('h2 to take over', 10_000, () => holders(lab, VIP).includes('h2'), 2);
  const ms = Date.now() - t0;
  await waitFor('the GARP to reach the client', 2000, () => lab.neighbour('client', VIP) === lab.host('h2').mac);
  console.log(`\n== kill -9 of the master's agent: h2 holds the VIP ${ms} ms later; the client now resolves it to ${lab.neighbour('client', VIP)} (h2)`);
  console.log('  (h3 still has the address a killed agent leaves behind: fencing it is the Redis issue\'s job)');
  console.log('  redkeep status on h2:');
  status('h2', agents[1] as AgentProc);
  for (const a of agents) if (a.running) a.signal('SIGTERM');
} finally {
  lab.destroy();
  dir.remove();
  console.log('\nlab removed');
}
