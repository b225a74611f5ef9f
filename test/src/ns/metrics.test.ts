// The Prometheus endpoint on real agents: three lab hosts with real Redis, scraped from inside
// each host's namespace the way a local Prometheus (or node_exporter's textfile neighbour) would.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisCluster, waitFor } from '@redkeep/scripts/lab';

function scrape(c: RedisCluster, host: string, url = 'http://127.0.0.1:9064/metrics'): { status: number | null; text: string } {
  const js = `fetch(${JSON.stringify(url)}, { signal: AbortSignal.timeout(1500) }).then(async (r) => process.stdout.write(r.status + '\\n' + (await r.text())), (e) => { process.stdout.write('error ' + e.message); process.exit(3); })`;
  const r = c.lab.exec(host, [process.execPath, '-e', js]);
  return { status: r.status, text: r.stdout };
}

function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe('metrics endpoint (three hosts, real Redis)', () => {
  let c: RedisCluster;
  before(async () => {
    c = new RedisCluster({ agentExtra: 'metrics_address = ":9064"' });
    await c.start('h3');
    await c.settled('h3', ['h1', 'h2'], 15_000);
  });
  after(() => c.destroy());

  it('shows the master, its Redis and both replicas on h3, and a following backup on h1', async () => {
    const l = 'vrrp_instance="redis-write"';
    // The agent reads its Redis' INFO once a second: wait for a look that saw the writes of the sync.
    await waitFor('an offset in the metrics', 5000, () => (value(scrape(c, 'h3').text, `redkeep_redis_offset_bytes{${l}}`) ?? 0) > 0, 100);
    const m = scrape(c, 'h3');
    assert.equal(m.text.split('\n')[0], '200', m.text);
    assert.equal(value(m.text, `redkeep_instance_state{${l},state="master"}`), 1);
    assert.equal(value(m.text, `redkeep_instance_priority{${l}}`), 130);
    assert.ok((value(m.text, `redkeep_instance_adverts_sent_total{${l}}`) ?? 0) > 10);
    assert.equal(value(m.text, `redkeep_redis_role{${l},role="master"}`), 1);
    assert.ok((value(m.text, `redkeep_redis_offset_bytes{${l}}`) ?? 0) > 0);
    for (const h of ['h1', 'h2']) {
      // The master learns a replica's offset from its acknowledgements, once a second.
      const lag = value(m.text, `redkeep_redis_replica_lag_bytes{${l},replica="${c.lab.host(h).address}:6379"}`);
      assert.ok(lag !== undefined && lag >= 0 && lag < 1000, `${h} is in sync (lag ${String(lag)} bytes)`);
      assert.ok((value(m.text, `redkeep_redis_replica_lag_seconds{${l},replica="${c.lab.host(h).address}:6379"}`) ?? 99) <= 2);
    }
    assert.equal(value(m.text, `redkeep_data_guard_ok{${l}}`), 1);
    assert.equal(value(m.text, `redkeep_track_up{${l},track="track:redis-alive"}`), 1);

    const b = scrape(c, 'h1');
    assert.equal(value(b.text, `redkeep_instance_state{${l},state="backup"}`), 1);
    assert.equal(value(b.text, `redkeep_instance_master_priority{${l}}`), 130);
    assert.ok((value(b.text, `redkeep_instance_adverts_received_total{${l}}`) ?? 0) > 10);
    assert.equal(value(b.text, `redkeep_redis_role{${l},role="replica"}`), 1);
    assert.equal(value(b.text, `redkeep_redis_master_link_up{${l}}`), 1);
  });

  it('listens on localhost only, and answers 404 off /metrics', () => {
    assert.notEqual(scrape(c, 'client', `http://${c.lab.host('h3').address}:9064/metrics`).status, 0, 'not reachable from the LAN');
    assert.equal(scrape(c, 'h3', 'http://127.0.0.1:9064/').text.split('\n')[0], '404');
  });
});
