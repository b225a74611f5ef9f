// Strict mode against an etcd that wants TLS with client certificates and a user: the agents
// reach it through `[agent] etcd` tls (ca_file, cert_file, key_file), username and password_file,
// as the user an operator would give them (read and write under /redkeep/ only). The master holds
// the lease and takes writes; the password is in no agent's argv, environment or log; an agent
// started with a wrong password is refused by etcd, says so, and stays in Fault; one whose password
// file is missing cannot open its etcd client, stays in Fault, and joins once the file is back.

import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { CLUSTER_VIP, EtcdCluster, type EtcdCerts, RedisCluster, RunDir, Writer, holders, makeEtcdCerts, waitFor } from '@redkeep/scripts/lab';

const MEMBERS = ['h3', 'h4', 'h5'];
const PASSWORD = 'lab etcd pass 7f3a';

describe('strict mode with etcd over TLS (client certificates) and a user of its own', () => {
  const files = new RunDir();
  let certs: EtcdCerts;
  let passwordFile: string;
  let c: RedisCluster;
  let etcd: EtcdCluster;

  before(async () => {
    const addresses = MEMBERS.map((h) => `198.51.100.${Number(h.slice(1)) + 10}`);
    certs = makeEtcdCerts(files, addresses);
    passwordFile = files.file('etcd-password', `${PASSWORD}\n`);
    const endpoints = addresses.map((a) => `"https://${a}:2379"`).join(', ');
    const tls = `tls = { ca_file = "${certs.caFile}", cert_file = "${certs.clientCertFile}", key_file = "${certs.clientKeyFile}" }`;
    c = new RedisCluster({ hosts: 2, outsiders: 3, replicationNetwork: true, agentExtra: `etcd = { endpoints = [${endpoints}], ${tls}, username = "redkeep", password_file = "${passwordFile}" }` });
    etcd = new EtcdCluster(c.lab, { members: MEMBERS, heartbeatMs: 50, electionTimeoutMs: 500, tls: certs });
    await etcd.start();
    etcd.enableAuth('redkeep', PASSWORD, '/redkeep/');
    await c.start('h2');
    await c.settled('h2', ['h1'], 20_000);
  });
  after(async () => {
    if (process.env.REDKEEP_STRICT_LOGS) writeFileSync(`${process.env.REDKEEP_STRICT_LOGS}.tls`, `${c?.logs() ?? ''}\n${etcd?.logs.text ?? ''}`);
    await etcd?.destroy();
    c?.destroy();
    files.remove();
  });

  it('the master holds the lease and takes writes; no password in argv, environment or logs', async () => {
    const writer = new Writer(c.lab, 5);
    await waitFor('writes through the VIP (once h2 holds the lease)', 10_000, () => writer.acks().length > 50, 50);
    const r = etcd.etcdctl('h3', ['get', '/redkeep/redis-write/leader', '--print-value-only']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { holder: string }).holder, 'h2');
    assert.deepEqual(holders(c.lab, CLUSTER_VIP), ['h2']);
    const acks = await writer.stop();
    assert.deepEqual(c.lostOn('h2', acks), []);
    for (const h of ['h1', 'h2']) {
      const pid = (await c.a(h).status()).agent.pid;
      assert.doesNotMatch(readFileSync(`/proc/${pid}/cmdline`, 'latin1'), /etcd pass/, `${h}'s argv`);
      assert.doesNotMatch(readFileSync(`/proc/${pid}/environ`, 'latin1'), /etcd pass/, `${h}'s environment`);
      assert.doesNotMatch(c.a(h).logs.text, /etcd pass/, `${h}'s log`);
    }
  });

  it('an agent with a wrong password is refused by etcd, says so, and stays in Fault', async () => {
    writeFileSync(passwordFile, 'not the password\n');
    c.a('h1').signal('SIGTERM');
    await c.a('h1').exited(10_000);
    const h1 = c.restartAgent('h1');
    const lease = async (): Promise<{ writes: string; stepDown: boolean; why: string } | undefined> => {
      try {
        return (await h1.status()).instances[0]?.guard?.lease as { writes: string; stepDown: boolean; why: string } | undefined;
      } catch {
        return undefined;
      }
    };
    await waitFor("h1's lease guard to step down (etcd does not let it in)", 15_000, async () => (await lease())?.stepDown === true, 200);
    assert.equal((await lease())?.writes, 'refuse');
    await waitFor('h1 in Fault (its etcd-lease track)', 5000, async () => (await h1.status()).instances[0]?.state === 'fault', 100);
    const log = h1.logs.text;
    assert.match(log, /authentication failed|invalid user ID or password|auth/i, log.slice(-3000));
    assert.doesNotMatch(log, /not the password/);
    // The master is not disturbed.
    assert.deepEqual(holders(c.lab, CLUSTER_VIP), ['h2']);
  });

  it('an agent whose etcd client cannot be opened (its password file missing) stays in Fault, tries again, and joins once it can', async () => {
    c.a('h1').signal('SIGTERM');
    await c.a('h1').exited(10_000);
    rmSync(passwordFile);
    const h1 = c.restartAgent('h1');
    const state = async (): Promise<string | undefined> => {
      try {
        return (await h1.status()).instances[0]?.state;
      } catch {
        return undefined;
      }
    };
    await waitFor("h1's log to say the etcd client cannot be opened", 15_000, () => h1.logs.text.includes('cannot open the etcd client'), 100);
    await waitFor('h1 in Fault', 5000, async () => (await state()) === 'fault', 100);
    assert.deepEqual(holders(c.lab, CLUSTER_VIP), ['h2'], 'the master is not disturbed');
    writeFileSync(passwordFile, `${PASSWORD}\n`);
    // Tried again (1 s, 2 s, 4 s, ...): etcd lets it in, and it leaves Fault as a backup.
    await waitFor('h1 to open its etcd client and be a backup', 20_000, async () => h1.logs.text.includes('etcd lease guard started') && (await state()) === 'backup', 200);
    assert.deepEqual(holders(c.lab, CLUSTER_VIP), ['h2']);
  });
});
