import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startControlServer, stopControlServer } from '../control/server.js';
import { INSTANCE, STATUS } from '../metrics/status-fixture.js';
import { captureOutput } from '../output.js';
import { statusJson } from '../status-json.js';
import { formatStatus, statusCommand } from './status.js';

const tmp = mkdtempSync(join(tmpdir(), 'redkeep-status-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('redkeep status (human form)', () => {
  it('shows at a glance who is master, priorities, the Redis role and each replica\'s lag, the last transition and why', () => {
    const at = new Date(Date.now() - 5000).toISOString();
    const text = formatStatus(
      statusJson({
        ...STATUS,
        instances: [
          { ...INSTANCE, lastTransition: { at, from: 'backup', to: 'master', reason: 'master-down-timer', detail: undefined } },
          { ...INSTANCE, name: 'cache', state: 'backup', effectivePriority: 90, basePriority: 100, masterAddress: '192.0.2.12', masterPriority: 120, guard: undefined, redis: { ...(INSTANCE.redis as NonNullable<typeof INSTANCE.redis>), role: 'replica', masterHost: '192.0.2.12:6379', masterLinkUp: false, replicas: [] } },
        ],
      }),
    ).join('\n');
    assert.match(text, /^redis-write: MASTER {2}eth0 vrid 51 VRRPv3$/m);
    assert.match(text, /priority 130 \(base 130\), master this host/);
    assert.match(text, /last transition backup -> master \(master-down-timer\) [45]\.\d s ago/);
    assert.match(text, /redis 127\.0\.0\.1:6379: master, offset 5000; wanted: master/);
    assert.match(text, /replicas: 192\.0\.2\.11:6379 lag 100 B \/ 0 s, 192\.0\.2\.12:6379 lag 0 B \/ 1 s/);
    assert.match(text, /data guard FAILING: isolated \(writes refused\)/);
    assert.match(text, /^cache: BACKUP/m);
    assert.match(text, /priority 90 \(base 100\), master 192\.0\.2\.12 \(priority 120\)/);
    assert.match(text, /replica of 192\.0\.2\.12:6379 \(link DOWN\)/);
    assert.match(text, /drops: bad-checksum 2, not-a-peer 5/);
    assert.match(text, /hand-overs: designated here 1 \(took over at once 1, ignored 0\), designated a successor 0/);
    assert.match(text, /tracks: track:redis-alive ok, track:redis-data FAILED \(-253\)/);
  });
});

describe('redkeep status --json', () => {
  it('prints the agent\'s answer: schema 1, every key present, null where a value is absent', async () => {
    const path = join(tmp, 'status.sock');
    const server = await startControlServer(path, undefined, () => statusJson(STATUS));
    try {
      const out = captureOutput();
      assert.equal(await statusCommand({ socket: path, json: true }, out), 0);
      const json = JSON.parse(out.stdout.join('\n')) as Record<string, unknown> & { instances: Record<string, unknown>[]; interfaces: Record<string, unknown>[] };
      assert.equal(json.schema, 1);
      assert.deepEqual(Object.keys(json), ['schema', 'agent', 'process', 'interfaces', 'instances']);
      const i = json.instances[0];
      assert.deepEqual(Object.keys(i ?? {}).sort(), Object.keys(INSTANCE).sort(), 'every key of an instance, absent ones too');
      assert.equal(i?.masterAddress, null);
      assert.equal((i?.lastTransition as { detail: unknown } | null)?.detail, null);
      assert.equal(i?.readServe, null);
      assert.deepEqual(i?.tracks, [
        { name: 'track:redis-alive', weight: 0, ok: true, value: null },
        { name: 'track:redis-data', weight: -253, ok: false, value: null },
      ]);
      assert.equal(json.interfaces[0]?.mac, null);
    } finally {
      await stopControlServer(server, path);
    }
  });
});
