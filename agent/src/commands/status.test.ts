import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { INSTANCE, STATUS } from '../metrics/status-fixture.js';
import { formatStatus } from './status.js';

describe('redkeep status (human form)', () => {
  it('shows at a glance who is master, priorities, the Redis role and each replica\'s lag, the last transition and why', () => {
    const at = new Date(Date.now() - 5000).toISOString();
    const text = formatStatus({
      ...STATUS,
      instances: [
        { ...INSTANCE, lastTransition: { at, from: 'backup', to: 'master', reason: 'master-down-timer' } },
        { ...INSTANCE, name: 'cache', state: 'backup', effectivePriority: 90, basePriority: 100, masterAddress: '192.0.2.12', masterPriority: 120, guard: undefined, redis: { ...(INSTANCE.redis as NonNullable<typeof INSTANCE.redis>), role: 'replica', masterHost: '192.0.2.12:6379', masterLinkUp: false, replicas: [] } },
      ],
    }).join('\n');
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
  });
});
