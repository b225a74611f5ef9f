// The Sentinel endpoint on real agents: three lab hosts with real Redis, each agent answering the
// Sentinel protocol on :26379. Compared with a real redis-sentinel (Debian's) watching the same
// Redis, through a foreign client (redis-py) that parses the fields; then ioredis in Sentinel mode
// writes through a master host crash, a subscriber hears +switch-master, and a poller checks that
// no endpoint ever points back at the old master once the new one is reported. Last, a master cut
// off from the others stops reporting itself (its writes are refused).

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { REDKEEP_BIN, RedisCluster, sleep, waitFor } from '@redkeep/scripts/lab';

const NAME = 'redis-write';
const PORT = 26379;
const REAL_SENTINEL_PORT = 26380;
const IOREDIS = createRequire(fileURLToPath(new URL('../../../agent/package.json', import.meta.url))).resolve('ioredis');
const PYTHON = '/usr/bin/python3';

/** redis-py's view of one Sentinel endpoint, and its Sentinel client's discovery over several. */
const PY = `
import json, sys
import redis
from redis.sentinel import Sentinel
host, port, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = redis.Redis(host=host, port=port, socket_timeout=2, decode_responses=True)
out = {
    'addr': s.execute_command('SENTINEL GET-MASTER-ADDR-BY-NAME', name),
    'master': s.sentinel_master(name),
    'replicas': s.sentinel_slaves(name),
    'sentinels': s.sentinel_sentinels(name),
}
if len(sys.argv) > 4:
    sen = Sentinel([(h, port) for h in sys.argv[4].split(',')], socket_timeout=2)
    out['discover_master'] = list(sen.discover_master(name))
    out['discover_slaves'] = sorted([list(x) for x in sen.discover_slaves(name)])
print(json.dumps(out, default=str))
`;

/** ioredis in Sentinel mode: SET k <n> every 10 ms; prints each ack, each error, each new connection. */
const WRITER = `
const Redis = require(process.argv[2]);
const sentinels = process.argv[3].split(',').map((host) => ({ host, port: ${PORT} }));
const r = new Redis({ sentinels, name: '${NAME}', failoverDetector: true, connectTimeout: 300, commandTimeout: 300,
  sentinelRetryStrategy: () => 50, retryStrategy: () => 50, maxRetriesPerRequest: 0, enableOfflineQueue: false });
r.on('error', () => undefined);
r.on('ready', () => console.log('connected ' + (r.stream && r.stream.remoteAddress)));
let n = 0;
setInterval(() => {
  const i = ++n;
  r.set('k', String(i)).then(() => console.log('ack ' + i + ' ' + Date.now()), (e) => console.log('err ' + i + ' ' + e.message));
}, 10);
`;

/** Asks every endpoint get-master-addr-by-name every 20 ms; prints "<ms> <endpoint> <answer|nil|down>". */
const POLLER = `
const net = require('node:net');
const hosts = process.argv[2].split(',');
function ask(h) {
  return new Promise((resolve) => {
    const s = net.connect({ host: h, port: ${PORT} });
    let buf = '';
    const done = (x) => { s.destroy(); resolve(x); };
    s.setTimeout(200, () => done('down'));
    s.on('error', () => done('down'));
    s.on('connect', () => s.write('SENTINEL get-master-addr-by-name ${NAME}\\r\\n'));
    s.on('data', (d) => {
      buf += d;
      if (buf.startsWith('*-1')) done('nil');
      const m = /^\\*2\\r\\n\\$\\d+\\r\\n([^\\r]+)\\r\\n\\$\\d+\\r\\n(\\d+)\\r\\n/.exec(buf);
      if (m) done(m[1] + ':' + m[2]);
    });
  });
}
setInterval(() => { for (const h of hosts) ask(h).then((a) => console.log(Date.now() + ' ' + h + ' ' + a)); }, 20);
`;

function lines(child: ChildProcess): string[] {
  const out: string[] = [];
  let part = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (d: string) => {
    const all = (part + d).split('\n');
    part = all.pop() ?? '';
    out.push(...all);
  });
  return out;
}

type PyView = {
  addr: [string, number] | null;
  master: Record<string, unknown>;
  replicas: Record<string, unknown>[];
  sentinels: Record<string, unknown>[];
  discover_master?: [string, number];
  discover_slaves?: [string, number][];
};

describe('Sentinel endpoint (three hosts, real Redis, real redis-sentinel, redis-py and ioredis)', () => {
  let c: RedisCluster;
  let py: string;
  let hookDir: string;
  const ip = (h: string): string => c.lab.host(h).address;
  const view = (endpoint: string, port: number, discover?: string[]): PyView => {
    const r = c.lab.exec('client', [PYTHON, py, endpoint, String(port), NAME, ...(discover ? [discover.join(',')] : [])]);
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as PyView;
  };

  before(async () => {
    hookDir = mkdtempSync(join(tmpdir(), 'redkeep-sentinel-hooks-'));
    const log = join(hookDir, 'hooks.log');
    c = new RedisCluster({
      agentExtra: `sentinel_address = "0.0.0.0:${PORT}"`,
      // Sentinel's client-reconfig-script arguments, and the masters in every hook's environment.
      redisExtra: [
        '[instance.hooks]',
        `client_reconfig = ["/bin/sh", "-c", "echo \\"reconfig $*\\" >> ${log}", "reconfig"]`,
        `notify = ["/bin/sh", "-c", "echo \\"notify $3 old=$REDKEEP_OLD_MASTER new=$REDKEEP_NEW_MASTER\\" >> ${log}", "notify"]`,
      ].join('\n'),
    });
    py = join(c.dir.path, 'sentinel-view.py');
    writeFileSync(py, PY);
    await c.start('h3');
    await c.settled('h3', ['h1', 'h2'], 15_000);
  });
  after(() => {
    c.destroy();
    rmSync(hookDir, { recursive: true, force: true });
  });

  it('answers as a real redis-sentinel does, field by field, from every agent', async () => {
    // Every agent names the same master.
    for (const h of ['h1', 'h2', 'h3']) {
      const r = c.lab.exec('client', ['redis-cli', '-h', ip(h), '-p', String(PORT), 'SENTINEL', 'get-master-addr-by-name', NAME]);
      assert.equal(r.stdout, `${ip('h3')}\n6379\n`, `${h}: ${r.stdout}${r.stderr}`);
    }
    // A real Sentinel watching the same master (quorum 2 alone: it never fails over).
    const conf = join(c.dir.path, 'sentinel.conf');
    writeFileSync(conf, [`port ${REAL_SENTINEL_PORT}`, `sentinel monitor ${NAME} ${ip('h3')} 6379 2`, `sentinel down-after-milliseconds ${NAME} 1000`, `dir ${c.dir.path}`, ''].join('\n'));
    const real = c.lab.spawn('client', ['redis-sentinel', conf]);
    try {
      let r: PyView | undefined;
      await waitFor('the real Sentinel to see both replicas in sync', 15_000, () => {
        try {
          r = view('127.0.0.1', REAL_SENTINEL_PORT);
          return r.replicas.length === 2 && r.replicas.every((x) => x['master-link-status'] === 'ok');
        } catch {
          return false;
        }
      }, 200);
      const real1 = r as PyView;
      const ours = view(ip('h1'), PORT, ['h1', 'h2', 'h3'].map(ip));
      assert.deepEqual(ours.addr, real1.addr);
      assert.deepEqual(ours.addr, [ip('h3'), 6379]);
      // The fields clients read, with the types redis-py gives them, and the same values.
      const missing = (a: Record<string, unknown>, b: Record<string, unknown>): string[] => Object.keys(b).filter((k) => !(k in a));
      assert.deepEqual(missing(ours.master, real1.master), [], 'master fields');
      for (const k of ['name', 'ip', 'port', 'is_master', 'is_slave', 'is_sdown', 'is_odown', 'is_disconnected', 'num-slaves', 'role-reported']) {
        assert.deepEqual(ours.master[k], real1.master[k], `master ${k}`);
      }
      assert.equal(ours.master['num-other-sentinels'], 2);
      const byIp = (xs: Record<string, unknown>[]): Record<string, unknown>[] => [...xs].sort((a, b) => String(a.ip).localeCompare(String(b.ip)));
      const [o, rr] = [byIp(ours.replicas), byIp(real1.replicas)];
      assert.equal(o.length, 2);
      for (let i = 0; i < 2; i++) {
        assert.deepEqual(missing(o[i] ?? {}, rr[i] ?? {}), [], 'replica fields');
        for (const k of ['name', 'ip', 'port', 'is_slave', 'is_master', 'is_sdown', 'is_disconnected', 'master-link-status', 'master-host', 'master-port', 'role-reported']) {
          assert.deepEqual(o[i]?.[k], rr[i]?.[k], `replica ${String(o[i]?.ip)} ${k}`);
        }
      }
      // The other agents, as sentinels; redis-py's Sentinel client finds master and replicas.
      assert.deepEqual(ours.sentinels.map((s) => [s.ip, s.port, s.is_sentinel]).sort(), [[ip('h2'), PORT, true], [ip('h3'), PORT, true]]);
      assert.deepEqual(ours.discover_master, [ip('h3'), 6379]);
      assert.deepEqual(ours.discover_slaves, [[ip('h1'), 6379], [ip('h2'), 6379]]);
      // import-sentinel turns the real Sentinel's rewritten config (known replicas and all) into a
      // redkeep config that check-config accepts, with every host of the cluster as a member.
      await sleep(200);
      const imported = join(c.dir.path, 'imported.toml');
      const im = c.lab.exec('client', [process.execPath, REDKEEP_BIN, 'import-sentinel', conf, '--out', imported, '--interface', 'eth0', '--vip', '192.0.2.50/24']);
      assert.equal(im.status, 0, im.stderr);
      const text = readFileSync(imported, 'utf8');
      const members = (JSON.parse(/^members = (\[.*\])$/m.exec(text)?.[1] ?? '[]') as string[]).sort();
      assert.deepEqual(members, ['h1', 'h2', 'h3'].map(ip).sort());
      assert.match(text, new RegExp(`name = "${NAME}"`));
      assert.equal(c.lab.exec('client', [process.execPath, REDKEEP_BIN, 'check-config', imported]).status, 0);
    } finally {
      real.kill('SIGKILL');
    }
    // ROLE and PING as clients send them.
    const role = c.lab.exec('client', ['redis-cli', '-h', ip('h2'), '-p', String(PORT), 'ROLE']);
    assert.equal(role.stdout, `sentinel\n${NAME}\n`);
  });

  it('ioredis in Sentinel mode writes through a master host crash; +switch-master is published; no endpoint points back at the old master', async () => {
    const w = join(c.dir.path, 'writer.cjs');
    const p = join(c.dir.path, 'poller.cjs');
    writeFileSync(w, WRITER);
    writeFileSync(p, POLLER);
    const hosts = ['h1', 'h2', 'h3'].map(ip);
    const sub = c.lab.spawn('client', ['redis-cli', '-h', ip('h1'), '-p', String(PORT), 'PSUBSCRIBE', '*']);
    const subOut = lines(sub);
    const writer = c.lab.spawn('client', [process.execPath, w, IOREDIS, hosts.join(',')]);
    const wOut = lines(writer);
    const poller = c.lab.spawn('client', [process.execPath, p, hosts.join(',')]);
    const pOut = lines(poller);
    try {
      await waitFor('the writer to write to h3', 10_000, () => wOut.includes(`connected ${ip('h3')}`) && wOut.filter((l) => l.startsWith('ack ')).length >= 20, 50);
      await sleep(300);
      // The hooks that ran from the crash on (a loaded machine may have seen a failover before).
      const hooksBefore = readFileSync(join(hookDir, 'hooks.log'), 'utf8').split('\n').length - 1;
      const crashAt = Date.now();
      c.partition('h3');
      c.a('h3').signal('SIGKILL');
      c.r('h3').kill();
      await waitFor('the writer to write to h2', 20_000, () => {
        const i = wOut.indexOf(`connected ${ip('h2')}`);
        return i >= 0 && wOut.slice(i).filter((l) => l.startsWith('ack ')).length >= 20;
      }, 50);
      await waitFor('+switch-master', 5000, () => subOut.includes(`${NAME} ${ip('h3')} 6379 ${ip('h2')} 6379`), 50);
      // The hooks: client_reconfig as Sentinel calls it (leader on h2, observer on h1), and the
      // old and new master in the environment of h2's MASTER notify. Under load h1's
      // Master_Down_Interval (a few ms longer than h2's) can run out before h2's first advert
      // reaches it: h1 is master for a moment and yields to h2's higher priority, as keepalived
      // does. Its hooks then tell that path, h3 -> h1 as leader, then h1 -> h2 as observer.
      const hooks = (): string[] => readFileSync(join(hookDir, 'hooks.log'), 'utf8').split('\n').slice(hooksBefore);
      const reconfig = (role: string, from: string, to: string): string => `reconfig ${NAME} ${role} failover ${ip(from)} 6379 ${ip(to)} 6379`;
      const h1Saw = (): boolean => hooks().includes(reconfig('observer', 'h3', 'h2')) || (hooks().includes(reconfig('leader', 'h3', 'h1')) && hooks().includes(reconfig('observer', 'h1', 'h2')));
      await waitFor('the client_reconfig hooks', 5000, () => hooks().includes(reconfig('leader', 'h3', 'h2')) && h1Saw(), 50).catch((e: unknown) => {
        throw new Error(`${String(e)}; the hooks ran: ${hooks().join(' | ')}`);
      });
      assert.ok(hooks().includes(`notify MASTER old=${ip('h3')}:6379 new=${ip('h2')}:6379`), hooks().join(' | '));
      // Nothing else: one line per master each host saw come and go.
      const expected = hooks().includes(reconfig('observer', 'h3', 'h2')) ? 2 : 3;
      assert.equal(hooks().filter((l) => l.startsWith('reconfig ')).length, expected, hooks().join(' | '));
      await sleep(300);
      const acks = wOut.filter((l) => l.startsWith('ack ')).map((l) => l.split(' ').map(Number));
      const lastAck = Math.max(...acks.map((a) => a[1] ?? 0));
      const afterCrash = acks.filter((a) => (a[2] ?? 0) > crashAt);
      assert.ok(afterCrash.length >= 20, 'writes acknowledged after the crash');
      // Every write h2 acknowledged is on h2 (SETs of increasing numbers: the value is the last).
      const got = Number(c.lab.exec('h2', ['redis-cli', '-p', '6379', 'GET', 'k']).stdout.trim());
      assert.ok(got >= lastAck - 0, `h2 has k=${got}, the last acknowledged write was ${lastAck}`);
      // Once an endpoint named h2, none named h3 again.
      const answers = pOut.map((l) => l.split(' ')).filter((x) => x.length === 3) as [string, string, string][];
      const firstH2 = answers.find((a) => a[2] === `${ip('h2')}:6379`);
      assert.ok(firstH2, `an endpoint named h2: ${pOut.slice(-10).join(' | ')}`);
      const back = answers.filter((a) => Number(a[0]) > Number(firstH2[0]) && a[2] === `${ip('h3')}:6379`);
      assert.deepEqual(back, [], 'no endpoint names h3 after one named h2');
      // And now (the poller's answers from here on: a loaded machine may leave it behind for a while).
      const now = Date.now();
      const recent = (): [string, string, string][] => pOut.map((l) => l.split(' ')).filter((x) => x.length === 3 && Number(x[0]) > now && x[1] !== ip('h3')) as [string, string, string][];
      await waitFor('the poller to hear h1 and h2 again', 5000, () => new Set(recent().map((a) => a[1])).size === 2, 50);
      assert.ok(recent().every((a) => a[2] === `${ip('h2')}:6379`), recent().join(' | '));
    } catch (e) {
      const hooks = ((): string => {
        try {
          return readFileSync(join(hookDir, 'hooks.log'), 'utf8');
        } catch {
          return '(none)';
        }
      })();
      process.stderr.write(`--- subscriber ---\n${subOut.join('\n')}\n--- hooks ---\n${hooks}\n--- poller (last 30) ---\n${pOut.slice(-30).join('\n')}\n--- logs ---\n${c.logs()}\n`);
      throw e;
    } finally {
      for (const x of [sub, writer, poller]) x.kill('SIGKILL');
    }
  });

  it('a master cut off from the others stops reporting itself, and so do the others', async () => {
    // h2 is master of h1 and h2 (h3 is down): cut h2 off. It loses its quorum and refuses writes.
    c.partition('h2');
    try {
      await waitFor('h2 to stop naming itself', 10_000, () => c.lab.exec('h2', ['redis-cli', '-p', String(PORT), 'SENTINEL', 'get-master-addr-by-name', NAME]).stdout === '\n', 100);
      await waitFor('h1 to name nobody', 10_000, () => c.lab.exec('h1', ['redis-cli', '-p', String(PORT), 'SENTINEL', 'get-master-addr-by-name', NAME]).stdout === '\n', 100);
      const m = c.lab.exec('h2', ['redis-cli', '-p', String(PORT), 'SENTINEL', 'master', NAME]).stdout.split('\n');
      assert.equal(m[m.indexOf('flags') + 1], 'master,s_down,o_down');
    } finally {
      c.heal('h2');
    }
    // Healed: the two agents elect a master again, and both endpoints name it (whichever it is).
    const named = (h: string): string => c.lab.exec('client', ['redis-cli', '-h', ip(h), '-p', String(PORT), 'SENTINEL', 'get-master-addr-by-name', NAME]).stdout;
    try {
      await waitFor('h1 and h2 to name the same master again', 20_000, () => named('h2') !== '\n' && named('h1') === named('h2'), 100);
    } catch (e) {
      process.stderr.write(`--- h1: ${JSON.stringify(named('h1'))} h2: ${JSON.stringify(named('h2'))}\n--- logs ---\n${c.logs()}\n`);
      throw e;
    }
    const master = named('h2').split('\n')[0] ?? '';
    const host = ['h1', 'h2'].find((h) => ip(h) === master);
    assert.ok(host, `the master named is h1 or h2: ${master}`);
    assert.equal(c.r(host).info('replication').role, 'master');
  });
});
