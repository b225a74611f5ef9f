// For tests: a Redis' replication facts, a master of history 'aaaa' at offset 1000 holding 5
// keys unless told otherwise.
import type { ReplicationFacts } from './history.js';

export function factsFixture(over: Partial<ReplicationFacts> = {}): ReplicationFacts {
  return {
    role: 'master',
    runId: 'r1',
    replId: 'aaaa',
    replId2: undefined,
    secondReplOffset: undefined,
    replOffset: 1000,
    masterHost: undefined,
    masterPort: undefined,
    masterLinkUp: false,
    syncInProgress: false,
    keys: 5,
    replicas: [],
    ...over,
  };
}
