// The configuration reference: every key the loader accepts, per table, with its type, default
// and meaning, and the longer explanations of the data rules. One source for the README's key
// tables and redkeep.toml(5) (scripts/src/docs); reference.test.ts checks it against the keys
// config.ts accepts, so a new key cannot go undocumented. Text is Markdown's inline subset:
// `code` and *emphasis*; paragraphs are separated by a blank line, "- " starts a list item.

import type { ConfigTable } from './config.js';

export interface ConfigKeyDoc {
  readonly key: string;
  readonly type: string;
  readonly default: string;
  readonly meaning: string;
}

export interface ConfigSectionDoc {
  /** The table's path in ACCEPTED_KEYS: `instance.redis` is every [[instance]]'s redis table. */
  readonly table: Exclude<ConfigTable, ''>;
  /** How the README and the man page title it: `[instance.redis]`, `garp`. */
  readonly heading: string;
  readonly summary: string;
  readonly keys: readonly ConfigKeyDoc[];
  /** Paragraphs after the key table. */
  readonly notes?: string;
}

export interface ConfigTopicDoc {
  readonly title: string;
  readonly text: string;
}

export const CONFIG_INTRO = `TOML; durations are strings such as \`"100ms"\`, \`"1s"\`, \`"1.5s"\`, \`"2m"\`. Unknown keys are
refused with a suggestion. \`redkeep check-config\` reports every problem at once, with file, line
and key.`;

export const CONFIG_SECTIONS: readonly ConfigSectionDoc[] = [
  {
    table: 'agent',
    heading: '[agent]',
    summary: 'the agent itself',
    keys: [
      { key: 'name', type: 'string', default: `\`"redkeep"\``, meaning: 'name in logs and status' },
      { key: 'control_socket', type: 'path', default: `\`"/run/redkeep/redkeep.sock"\``, meaning: `unix socket for \`redkeep status\` and the other commands that ask the agent; mode 0600 (root only)` },
      { key: 'control_group', type: 'string', default: 'none', meaning: `group that may use the socket too (mode 0660); resolved through NSS (\`getent group\`), so LDAP or sssd groups work` },
      { key: 'log_level', type: 'string', default: `\`"info"\``, meaning: `\`error\`, \`warn\`, \`info\` or \`debug\`` },
      { key: 'log_format', type: 'string', default: `\`"text"\``, meaning: `\`text\` lines or \`json\` lines` },
      { key: 'metrics_address', type: 'address:port', default: 'none (off)', meaning: `Prometheus endpoint \`GET /metrics\`: \`"127.0.0.1:9064"\`, \`"[::1]:9064"\`, or \`":9064"\` for localhost. 9064 because the Prometheus wiki's *Default port allocations* have filled 9100-9999 (keepalived-exporter has 9165, redis_exporter 9121, node_exporter 9100), and its advice for software without an allocation is a port outside that range` },
      { key: 'state_dir', type: 'path', default: `\`"/var/lib/redkeep"\``, meaning: `state kept across restarts (maintenance); systemd's \`StateDirectory=redkeep\`` },
      { key: 'sentinel_address', type: 'address:port', default: 'none (off)', meaning: `Sentinel-protocol endpoint for Sentinel-aware clients, e.g. \`"0.0.0.0:26379"\`; serves the instances with \`[instance.redis]\` and \`manage_role = true\`, the instance name being the master name (see *Sentinel endpoint*)` },
      { key: 'sentinel_password_file', type: 'path', default: 'none', meaning: `clients must \`AUTH\` (or \`HELLO 3 AUTH default …\`) with the password in this file (absolute path, read at start)` },
      { key: 'etcd', type: 'table', default: 'none (off)', meaning: `strict mode: an etcd lease decides who may acknowledge writes (see *Strict mode* and the table below); guards every write instance with \`[instance.redis]\` and \`manage_role = true\`; a change restarts those instances on reload` },
    ],
  },
  {
    table: 'agent.etcd',
    heading: '[agent] etcd',
    summary: `strict mode: \`etcd = { endpoints = ["https://198.51.100.21:2379", ...] }\` (or \`[agent.etcd]\`)`,
    keys: [
      { key: 'endpoints', type: 'array of strings', default: 'required', meaning: `the etcd cluster's client URLs, all \`http://\` or all \`https://\`, \`scheme://host:port\` only` },
      { key: 'prefix', type: 'string', default: `\`"/redkeep/"\``, meaning: `where the keys live: \`<prefix><instance>/leader\` (on the holder's lease) and \`<prefix><instance>/history\`; starts and ends with \`/\`` },
      { key: 'tls', type: 'table', default: 'none', meaning: `\`{ ca_file, cert_file, key_file }\`, absolute paths; \`cert_file\` and \`key_file\` together; https endpoints only` },
      { key: 'username', type: 'string', default: 'none', meaning: `etcd user; goes with \`password_file\`` },
      { key: 'password_file', type: 'path', default: 'none', meaning: 'absolute; read at start, never in argv, logs or status' },
      { key: 'lease_ttl', type: 'duration', default: `each instance's Master_Down_Interval, whole seconds, at least 2 s`, meaning: `\`"2s"\`..\`"60s"\`, whole seconds; longer than an etcd leader election, or a leader change fences the master for a moment` },
      { key: 'on_loss', type: 'string', default: `\`"fence"\``, meaning: `when etcd does not answer: \`"fence"\` (no writer without a lease), \`"keep"\` (the holder keeps writing, no new writer), \`"embedded"\` (the embedded rules alone decide); see *Strict mode*` },
    ],
  },
  {
    table: 'agent.etcd.tls',
    heading: '[agent] etcd tls',
    summary: `TLS towards etcd: \`tls = { ca_file = "/etc/redkeep/etcd-ca.pem" }\``,
    keys: [
      { key: 'ca_file', type: 'path', default: 'the system\'s CAs', meaning: 'CA certificates to verify the etcd members with' },
      { key: 'cert_file', type: 'path', default: 'none', meaning: `client certificate; goes with \`key_file\`` },
      { key: 'key_file', type: 'path', default: 'none', meaning: `client key; goes with \`cert_file\`` },
    ],
  },
  {
    table: 'instance',
    heading: '[[instance]]',
    summary: 'one per VRRP instance',
    keys: [
      { key: 'name', type: 'string', default: 'required', meaning: 'unique instance name; the same on every host (the alert rules and the Sentinel endpoint use it)' },
      { key: 'serve', type: 'string', default: `\`"write"\``, meaning: `\`"write"\`: the VIP follows the Redis master. \`"read"\`: a read VIP, held by the best in-sync replica (see *Read VIP*). A read instance needs \`[instance.redis]\` with the address of a write instance's Redis in the same file (same interface and family) and no data-guard keys; one Redis has at most one write instance` },
      { key: 'interface', type: 'string', default: 'required', meaning: 'interface the VRRP adverts and VIPs live on' },
      { key: 'vrid', type: 'integer', default: 'required', meaning: '1..255, unique per interface and address family' },
      { key: 'priority', type: 'integer', default: '100', meaning: '1..254; 255 is the address owner (always preempts)' },
      { key: 'version', type: 'integer', default: '3', meaning: '2 (RFC 3768, IPv4 only, whole seconds) or 3 (RFC 5798)' },
      { key: 'advert_interval', type: 'duration', default: `\`"1s"\``, meaning: 'v3: 10 ms..40.95 s in steps of 10 ms; v2: 1..255 s' },
      { key: 'preempt', type: 'boolean', default: 'true', meaning: 'a higher priority takes over from a lower master' },
      { key: 'preempt_delay', type: 'duration', default: `\`"0s"\``, meaning: 'tolerate a lower-priority master this long after first hearing it' },
      { key: 'virtual_addresses', type: 'array of strings', default: 'required', meaning: `e.g. \`["192.0.2.50/24"]\`; all IPv4 or all IPv6; no duplicates` },
      { key: 'address_label', type: 'string', default: 'none', meaning: `IPv4 address label, must start with the interface name (\`"eth0:vip"\`)` },
      { key: 'unicast_source', type: 'address', default: 'interface address', meaning: 'source of unicast adverts' },
      { key: 'unicast_peers', type: 'array of strings', default: 'none (multicast)', meaning: 'unicast mode: adverts go to, and are accepted only from, these; they are the members' },
      { key: 'members', type: 'array of strings', default: `none; required in multicast with \`[instance.redis]\` role control`, meaning: `multicast: the advert sources of every redkeep host of the instance (this host's own may be listed); adverts from others are dropped (\`not-a-member\`), and only members' Redis is read, followed or sent the password; \`[]\` for a single host` },
      { key: 'witnesses', type: 'array of strings', default: 'none', meaning: `addresses of \`redkeep witness\` processes (hosts without Redis): they vote for the quorum (see *Two hosts*)` },
      { key: 'auth_pass', type: 'string', default: 'none', meaning: 'v2 PASS authentication, at most 8 bytes (kept out of logs and status)' },
      { key: 'garp', type: 'table', default: `see \`garp\``, meaning: 'gratuitous ARP / NA bursts (keys below)' },
      { key: 'track_interfaces', type: 'array of tables', default: 'none', meaning: `\`[{ name = "eth1", weight = -20 }]\`: interfaces whose state changes the priority (keys below)` },
      { key: 'tracks', type: 'array', default: 'none', meaning: `the \`[[track]]\`s this instance follows: \`["redis-alive", { name = "disk", weight = -50 }]\` (keys below)` },
      { key: 'redis', type: 'table', default: 'none', meaning: `the local Redis this instance looks after: \`[instance.redis]\`` },
      { key: 'hooks', type: 'table', default: 'none', meaning: `commands run on transitions: \`[instance.hooks]\`` },
    ],
    notes: `The advert source is \`unicast_source\`, else the interface's first address of the family (IPv4)
or its link-local address (IPv6). An instance whose interface has no such address yet waits for
one (status says so).`,
  },
  {
    table: 'instance.garp',
    heading: '[[instance]] garp',
    summary: `an instance's gratuitous ARP / unsolicited NA bursts, keepalived's defaults: \`garp = { repeat = 5, delay = "5s" }\``,
    keys: [
      { key: 'repeat', type: 'integer', default: '5', meaning: 'packets in the burst sent on becoming master (0..1000); redkeep sends one more such burst when a master finds members back in reach (a partition healed)' },
      { key: 'delay', type: 'duration', default: `\`"5s"\``, meaning: `a second burst this long after becoming master; \`"0s"\`: none` },
      { key: 'refresh', type: 'duration', default: `\`"0s"\``, meaning: `while master, a burst every this long; \`"0s"\`: off` },
      { key: 'refresh_repeat', type: 'integer', default: '1', meaning: 'packets in each refresh burst' },
      { key: 'lower_prio_repeat', type: 'integer', default: '5', meaning: 'packets in the burst sent when a lower-priority router claims master' },
      { key: 'interval', type: 'duration', default: `\`"0ms"\``, meaning: `gap between the packets of a burst, at most \`"1s"\`` },
    ],
  },
  {
    table: 'instance.track_interfaces',
    heading: '[[instance]] track_interfaces[]',
    summary: `an entry of an instance's \`track_interfaces\``,
    keys: [
      { key: 'name', type: 'string', default: 'required', meaning: 'the interface' },
      { key: 'weight', type: 'integer', default: '0', meaning: '-253..253: a down interface adds its (negative) weight; a positive weight is added while it is up; 0 means Fault while it is down' },
    ],
  },
  {
    table: 'instance.tracks',
    heading: '[[instance]] tracks[]',
    summary: `an entry of an instance's \`tracks\`: a track name, or a table`,
    keys: [
      { key: 'name', type: 'string', default: 'required', meaning: `a \`[[track]]\` name` },
      { key: 'weight', type: 'integer', default: `the track's \`weight\``, meaning: '-253..253: overrides the track\'s weight for this instance' },
    ],
  },
  {
    table: 'instance.redis',
    heading: '[instance.redis]',
    summary: 'the local Redis this instance looks after',
    keys: [
      { key: 'address', type: 'host:port', default: `\`"127.0.0.1:6379"\``, meaning: `the local Redis, \`host:port\` (\`[::1]:6379\` for IPv6)` },
      { key: 'peer_port', type: 'integer', default: 'the local port', meaning: `port of the peers' Redis, for \`REPLICAOF\`` },
      { key: 'peer_addresses', type: 'table', default: 'none: each member\'s Redis at its advert address', meaning: `Redis on another network than the VIP's: \`{ "192.0.2.11" = "198.51.100.11", ... }\`, each member's advert address (quoted; of the instance's family) → the unicast address (either family) its Redis is reached at by the other members. Every member and this host's own advert address (\`unicast_source\` in unicast mode; in multicast a member, or the one key beyond them) must be listed; no address twice, no loopback, no VIP; a link-local value may name its interface (\`"fe80::11%eth1"\`). See *Where the members' Redis are*` },
      { key: 'username', type: 'string', default: 'none', meaning: 'ACL user' },
      { key: 'password_file', type: 'path', default: 'none', meaning: 'file the password is read from at start; it never appears in argv, logs or status' },
      { key: 'password_env', type: 'string', default: 'none', meaning: `environment variable the password is read from at start (instead of \`password_file\`)` },
      { key: 'tls', type: 'table', default: 'none', meaning: 'TLS to the local and the members\' Redis (keys below)' },
      { key: 'db', type: 'integer', default: '0', meaning: 'database for checks (0..15)' },
      { key: 'manage_role', type: 'boolean', default: 'true', meaning: `Master → \`REPLICAOF NO ONE\` (before the VIP comes up, so clients find a writable master at once), Backup and Fault → \`REPLICAOF\` the master's Redis (a member's, by the address its adverts come from), once its Redis, read fresh, has our history at or beyond our offset or succeeds it; reconciled every second and on every change. The data guards run only with it` },
      { key: 'switchover_on_stop', type: 'boolean', default: 'true', meaning: 'on SIGTERM as master: pause writes, let the replicas catch up, fence, then hand over' },
      { key: 'isolation_timeout', type: 'duration', default: `two advert intervals, at least \`"200ms"\``, meaning: `a member whose Redis has not answered for this long is unreachable; without a quorum the instance goes to Fault and a master's Redis refuses writes at once; must stay below 3 advert intervals less one guard period; \`"0s"\` turns quorum and isolation off` },
      { key: 'quorum', type: 'integer', default: 'a majority of the members and this host', meaning: `members (this host and witnesses included) that must be reachable for this host to be or become master; \`1\` prefers availability (see *Two hosts*)` },
      { key: 'max_link_down', type: 'duration', default: `\`"5s"\`, or 3 adverts + 1.5 s if longer`, meaning: `a backup whose replication link has been down this long lowers its priority; must exceed 3 adverts + 1.5 s so that a failover never trips it; \`"0s"\` turns it off` },
      { key: 'max_lag', type: 'integer', default: '1048576', meaning: 'bytes: a backup this far behind a reachable peer\'s offset (two samples in a row) lowers its priority; on a read instance, how far behind the master its replica may be; 0 turns it off' },
      { key: 'guard_weight', type: 'integer', default: '-253', meaning: 'added to the priority while the data guard fails (-253..0; 0 means Fault); an instance with priority 255 cannot use the guard' },
    ],
  },
  {
    table: 'instance.redis.tls',
    heading: '[instance.redis] tls',
    summary: `TLS settings of \`[instance.redis]\`: \`tls = { ca_file = "/etc/redis/ca.pem" }\``,
    keys: [
      { key: 'ca_file', type: 'path', default: 'the system\'s CAs', meaning: 'CA certificates to verify the Redis servers with' },
      { key: 'cert_file', type: 'path', default: 'none', meaning: `client certificate; goes with \`key_file\`` },
      { key: 'key_file', type: 'path', default: 'none', meaning: `client key; goes with \`cert_file\`` },
      { key: 'server_name', type: 'string', default: 'none', meaning: 'name to verify the server certificate against (SNI)' },
      { key: 'verify', type: 'boolean', default: 'true', meaning: 'verify the server certificate' },
    ],
  },
  {
    table: 'instance.hooks',
    heading: '[instance.hooks]',
    summary: 'commands run on an instance\'s transitions: argv arrays, no shell',
    keys: [
      { key: 'master', type: 'array of strings', default: 'none', meaning: 'run on becoming master' },
      { key: 'backup', type: 'array of strings', default: 'none', meaning: 'run on becoming backup' },
      { key: 'fault', type: 'array of strings', default: 'none', meaning: 'run on entering Fault' },
      { key: 'stop', type: 'array of strings', default: 'none', meaning: 'run when the instance stops' },
      { key: 'notify', type: 'array of strings', default: 'none', meaning: `run on every transition, with keepalived's arguments \`INSTANCE name state priority\`` },
      { key: 'client_reconfig', type: 'array of strings', default: 'none', meaning: `needs \`[instance.redis]\`; run on every host when the master moves, with Sentinel's client-reconfig-script arguments \`name role state from-ip from-port to-ip to-port\` (role \`leader\` on the new master, \`observer\` on the others; state \`failover\`), so existing Sentinel scripts work unchanged` },
      { key: 'timeout', type: 'duration', default: `\`"30s"\``, meaning: 'a hook still running after this long has its process group killed' },
    ],
    notes: `Hooks run after redkeep's own actions, one at a time per instance in transition order. The
environment has \`REDKEEP_INSTANCE\`, \`REDKEEP_STATE\`, \`REDKEEP_PREVIOUS_STATE\`, \`REDKEEP_PRIORITY\`,
\`REDKEEP_VIPS\`, \`REDKEEP_REDIS_ADDRESS\`, and \`REDKEEP_OLD_MASTER\` / \`REDKEEP_NEW_MASTER\`: the
master's Redis before and after the transition as \`ip:port\` (\`[ip]:port\` for IPv6; where the
members reach its Redis, as the Sentinel endpoint reports it, and \`peer_port\`; empty when
unknown). Exit status and stderr are logged. In strict mode (\`[agent] etcd\`) a VRRP master
waiting for the etcd lease runs its MASTER hooks once it holds the lease and its Redis is promoted.`,
  },
  {
    table: 'track',
    heading: '[[track]]',
    summary: 'health checks an instance can follow by name',
    keys: [
      { key: 'name', type: 'string', default: 'required', meaning: 'unique track name' },
      { key: 'type', type: 'string', default: 'required', meaning: `\`redis-ping\` (PING with its own timeout; a dropped connection fails at once), \`redis-role\` (INFO replication: the role must match the VRRP state once settled), \`exec\` (keepalived vrrp_script semantics: exit 0 is success; on timeout the process group is killed), \`file\` (keepalived track_file: the number in \`file\` times the weight is added to the priority at once, -254..254; with weight 0 any number but 0 is Fault; a missing file is 0; a file that does not hold a number keeps the last number and logs a warning)` },
      { key: 'interval', type: 'duration', default: `\`"1s"\``, meaning: 'time between checks' },
      { key: 'timeout', type: 'duration', default: `the interval, at most \`"1s"\``, meaning: 'a check slower than this fails' },
      { key: 'rise', type: 'integer', default: '1', meaning: `successes in a row to become OK (not for \`file\`)` },
      { key: 'fall', type: 'integer', default: '1', meaning: `failures in a row to fail (not for \`file\`)` },
      { key: 'weight', type: 'integer', default: `0 (\`file\`: 1)`, meaning: 'default weight (an instance may override): < 0 subtracted while failing, > 0 added while OK, 0 = Fault while failing' },
      { key: 'command', type: 'array of strings', default: '—', meaning: `\`exec\` only: argv array, no shell` },
      { key: 'file', type: 'path', default: '—', meaning: `\`file\` only: absolute path, e.g. \`"/run/redkeep/drain"\`; \`echo 100 > /run/redkeep/drain\` with \`weight = -1\` drains a host, \`rm\` undrains it` },
    ],
    notes: `Tracks start failed: an instance does not count a check as healthy before it has succeeded once.`,
  },
];

/** The data rules at length, for redkeep.toml(5); the README says each in a few lines. */
export const CONFIG_TOPICS: readonly ConfigTopicDoc[] = [
  {
    title: 'Members and quorum',
    text: `The members are configured (\`unicast_peers\`, or \`members\` in multicast; one list for all hosts
may include the host's own address). Only members' adverts count (others are dropped and counted
as \`not-a-member\`), only their Redis is read, sent the password or followed; nothing learned from
a packet or from someone's \`INFO\` becomes a peer.

Each member's Redis is polled on its own cadence (half an advert interval, 50..250 ms). A member
counts as reachable while it answered within \`isolation_timeout\` (default two advert intervals, at
least 200 ms; a refused connection counts: the host is up). Without a quorum (\`quorum\`, default a
majority of the members, this host included) an instance goes to Fault, so a minority never
promotes, and a Redis that is master refuses writes at once (\`min-replicas-to-write 10000\`:
clients get NOREPLICAS).

The bound: an isolated master stops acknowledging writes within \`isolation_timeout\` plus one
guard period (250 ms at 100 ms adverts, 2.25 s at 1 s adverts). This is shorter than the
Master_Down_Interval the others need before a successor exists (3 advert intervals plus
Skew_Time); check-config refuses an \`isolation_timeout\` that would break this. Once a master lost
its quorum, its writes stay refused until a replica acknowledges it again while no other member
advertises as master.`,
  },
  {
    title: 'Redis\' own backstop',
    text: `While a host may acknowledge writes (and on replicas, so that it is in force the moment one is
promoted) Redis keeps \`min-replicas-to-write\` at least \`quorum - 1\` and \`min-replicas-max-lag\` at
most 2 s: a master whose replicas go silent refuses writes by itself even while its agent is
frozen (within about 3 s). Stricter values of the operator's are kept; the values found at start
come back when the agent stops; a killed agent's refusal (10000) is recognised by the next one.`,
  },
  {
    title: 'Two hosts',
    text: `With two members the majority is both, so a master that loses its only peer refuses writes and
goes to Fault: it cannot tell the peer's crash from its own isolation. This is the price of never
having two writable masters. Two ways out:

- A witness: run \`redkeep witness\` on a third host (no Redis needed; it answers the members'
liveness reads, PING and INFO, on the Redis port; \`--password-file\` for AUTH) and list it in each
instance as \`witnesses = ["192.0.2.14"]\`. It votes: the survivor of a host crash keeps a quorum
(itself and the witness) and keeps taking writes, while a host cut off from both is a minority.
Redis' own backstop counts replicas only, so with a witness it asks for \`quorum - 1 - witnesses\`
replicas (none for two hosts): a master whose agent is frozen is then not stopped by Redis
itself, only by the new master's fence.
- \`quorum = 1\` to prefer availability: a partition can then leave two masters acknowledging
writes; the history rule decides which side's writes survive the heal.
- Strict mode (\`[agent] etcd\`) does not replace the witness: etcd decides which host may
acknowledge writes, not whether the survivor of a host crash may be master. With a witness and
strict mode, a master frozen with its lease is stopped by the fence deputy.`,
  },
  {
    title: 'Restart-empty',
    text: `When the master's Redis comes back restarted (new run_id) or empty, its agent fences it at once
with \`REPLICAOF 127.0.0.1 1\` (nothing listens there, so it answers NOMASTERLINK to any replica's
SYNC). Its instance goes to Fault (internal \`redis-safety\` track, weight 0) so a peer that has the
data takes the VIP, and the fence is lifted only after it has resynced from the new master.

The replicas' agents keep a connection to the master's Redis: the moment it drops, they fence
their own Redis too, before Redis' replication cron (once a second) can reconnect and full-sync
from a restarted, empty master. They follow again when that Redis is back with the same run_id,
or when another master is elected.`,
  },
  {
    title: 'Takeover from a live master',
    text: `When the old master's agent was killed, or a higher priority preempts it, the new master, before
promoting, pauses writes on the old master's Redis (\`CLIENT PAUSE WRITE\`), waits until its own
Redis has the old one's offset, fences the old one, unpauses, then promotes (at most 100 ms to
give up on an unreachable host, at most 500 ms to wait for the offset). A preempted master does
not point its Redis at the new master until that one has promoted. Afterwards the new master
fences the previous master's Redis if it still takes writes, and makes it a replica of its own
only where the history rule allows (never a blind REPLICAOF: that would full-sync it and replace
its data).`,
  },
  {
    title: 'Promotion reads the members first',
    text: `The moment VRRP elects a host, before its Redis becomes writable, its agent reads every member
that answered lately, fresh (at most 50 ms; a member silent for longer than \`isolation_timeout\`,
such as a crashed master, is not asked). The takeover is abandoned (priority 0, preempt stays as
configured) and nothing is fenced when fewer than a quorum answer, when a member's Redis holds a
history promoted from ours (elected while ours was cut off, whatever the offsets say), or when
one is ahead of ours in a history ours cannot take.

A member whose Redis is master with data ours may take (the master VRRP elected first, else the
newest history) is followed first and caught up from as above. If ours cannot catch up within
1.5 s (sync) plus 0.5 s (offset), the takeover is abandoned and writes resume there. With the
master gone, a member replica of our history that is ahead of ours (it received the master's last
bytes) is followed first until ours has its offset, so the most complete copy survives.

A member that was master and went silent only just now (the first moments of a partition, not a
crash noticed while the down timer ran) may still be taking writes: the takeover waits, adverts
going on, until it must have stopped (\`isolation_timeout\` plus one guard period after its last
answer). A crashed master silent for longer is not waited for at all. Any other member's Redis
that is master too is fenced just before ours is promoted, so that no two masters take writes
while VRRP settles. A router that loses the election during any of this (the winner's advert
answers ours at once) stops, having fenced nothing.`,
  },
  {
    title: 'Planned switchover',
    text: `\`redkeep switchover [--to HOST]\` on the master, and SIGTERM of the master's agent
(\`switchover_on_stop\`, default on): pause writes; wait until the target (or every online replica
the agent can reach) reports our offset; fence our Redis; unpause (paused clients get READONLY
and reconnect); then resign with priority 0, sent to the target alone with \`--to\`, so only it
starts its Skew_Time. A replica that is cut off is not waited for; should it win all the same,
its takeover catches up from our fenced Redis first.

Between redkeep hosts the successor does not wait its Skew_Time: once our Redis is fenced with it
caught up, its agent is designated through its own Redis (\`PUBLISH
__redkeep__:<vrid>:handover "designate FROM TO"\`: the Redis credentials only members have), and
its VRRP core, designated by the master it follows, takes over the moment that master's priority
0 arrives. Without \`--to\` (and on SIGTERM) the successor is the backup VRRP would elect (highest
effective priority, then highest address), when every other member's agent says its state and
priority (a channel it subscribes to on its own Redis, listed with \`PUBSUB CHANNELS\`). When one
cannot tell (a member out of reach, a keepalived peer, an older agent), nobody is designated, the
priority 0 goes to everyone and VRRP decides by Skew_Time. A designation alone changes nothing:
the successor's promotion makes every check it always makes (members read, quorum, histories,
the previous master fenced); the designation only spares a timer.

The new master's Redis takes writes once a replica follows it (\`min-replicas-to-write\`): it makes
the previous master's fenced Redis follow its own as soon as its promotion is done. The resigned
master keeps its VIPs until the new master says, on its own Redis, that it holds them (its Redis
promoted, its VIPs up and announced), or one advert interval after its first advert, so that
clients connecting meanwhile get an error at once instead of a dropped SYN. Then it closes the
client connections made through the VIPs (\`CLIENT KILL LADDR\`: clients reconnect at once, to the
new holder), releases them, and behaves as nopreempt until it is master again.

A switchover whose replicas do not catch up within 2 s is refused and changes nothing. If nobody
takes over, the old master takes its VIPs back and its Redis serves again (its data is the
newest). \`redkeep status\` counts the designations (\`hand-overs:\`).`,
  },
  {
    title: 'Replication history decides, not priority',
    text: `Before its Redis follows a master (REPLICAOF), an agent reads that master's Redis fresh and
follows it only if it has our history (\`master_replid\`) at or beyond our offset, or was promoted
from it (its \`master_replid2\` is our \`master_replid\`, or, through the promotions the agent saw in
the members' INFO, an id promoted from ours: Redis keeps one step only, the agent remembers the
lineage). It never follows a replica or an older history (a replica holds its master's newer
history, whatever its offset).

An unrelated history (no shared id, after two promotions elsewhere): a replica, or a master whose
history is not an elected one (it lost its quorum, or someone else promoted it), follows the
master VRRP elects, even one behind it in bytes (a cut-off side can take more writes than the
majority; they are the minority's). A master of its own elected history follows only one at or
beyond its offset (offsets go on across promotions).

A master whose agent promoted it, hearing a higher priority from a router whose Redis is the
older history (a master healing back from a partition), keeps its Redis master and makes the
stale one a replica of its own. Two backups that took over at the same moment (siblings of one
history): the elected one's history wins.

A master is superseded when it finds a member's Redis master, promoted from its own history,
while that member advertises as master, or finds its own Redis turned into a replica by someone
else (a peer took over while this agent was frozen). Then its Redis refuses writes at once, it
resigns (priority 0), its priority stays lowered until it has resynced as a replica, and drift
correction never promotes it again; only a new election does.

Nothing new goes on the wire: a keepalived router in the group sees ordinary adverts, priorities
and priority-0 resigns. keepalived routers have no Redis rules of their own, so mixed groups get
the history rules on the redkeep side only.`,
  },
  {
    title: 'Pauses',
    text: `An agent woken late (SIGSTOP, swap, a VM pause) as master, more than two advert intervals after
an advert was due, resigns instead of advertising: the backups may have taken over meanwhile, and
the woken side never reclaims the role by priority alone. A frozen master Redis fails its health
track, the VIP moves, and woken it refuses writes (the backstop) until its agent makes it follow
the new master.`,
  },
  {
    title: 'One-way loss',
    text: `A master that keeps hearing a lower-priority master for 4 advert intervals although it answers
each advert is the unheard side: it steps down and does not preempt that router until it is
master again (counted as \`unheardStepDowns\`). A master that can send nothing also loses its
quorum (its reads go unanswered) and refuses writes.`,
  },
  {
    title: 'Stale replica',
    text: `On a backup, the priority is lowered by \`guard_weight\` while its Redis is not in sync with the
master it follows (after an election, a restart of its Redis, or during a full resync: so it
never preempts with old data; after a full sync it counts as in sync only once the master lists
its first acknowledgement and its offset is seen moving on or at the master's: Redis starts
streaming only after an acknowledgement it is ready for, up to a second later), while its replication link has been down longer than
\`max_link_down\`, or while its offset stays more than \`max_lag\` bytes behind a reachable replica
that shares its replication history (\`master_replid\`/\`master_replid2\`; the master itself is not
compared, it is always ahead by what is in flight). It still takes over when no better peer
exists. The master it should follow is the one VRRP names, or, when VRRP names none (with preempt
on, a higher priority backup discards a lower master's adverts), a reachable peer whose Redis is
master.`,
  },
  {
    title: 'Starting up',
    text: `The guard starts failing (priority lowered) and clears at its first look, and not before the
peers it knows have been read once (at most 2 s): a host that reboots with old or empty data
hears the current master, resyncs from it, and only then (with preempt on) takes the VIP back, by
a takeover that first catches up from the old master.`,
  },
  {
    title: 'The guard\'s cadence',
    text: `The guard reads its own Redis every guard period (half an advert interval, 50..250 ms; every
25 ms while it waits to be in sync; at once when the connection to the master's Redis drops or
the VRRP state changes: a failover after a priority-0 advert takes tens of milliseconds, and the
verdict must be current by then). It reads the members' Redis with the same credentials and TLS
settings, on \`peer_port\`, at the address \`peer_addresses\` gives, else at the member's advert
address. The backups' connection to the master's Redis PINGs every 500 ms: a frozen or cut off
master counts as gone within a second, not when TCP gives up minutes later. VRRP adverts are
unchanged (keepalived-compatible): backups send none, so members' liveness comes from their
Redis, never from VRRP.`,
  },
  {
    title: 'Read VIP',
    text: `A second instance with \`serve = "read"\` (its own VRID and VIP) holds a read VIP. On each host it
is Fault unless its Redis is an in-sync replica of the write instance's master (read each guard
period, with the master's offset as the data guard read it, within \`max_lag\` bytes) or is that
master, and it is at priority 1 on the master. The election does the rest: the VIP sits on the
highest-priority in-sync replica and falls back to the master only when none qualifies. It moves
when its replica falls behind, stops answering or is promoted, and never changes a Redis role.
Status shows why (\`read VIP: ...\`), the metrics \`redkeep_read_serving{serving}\`.`,
  },
  {
    title: 'Sentinel endpoint',
    text: `With \`sentinel_address = "0.0.0.0:26379"\` in \`[agent]\` every agent answers the part of the
Sentinel protocol client libraries use, so ioredis, redis-py, Jedis, Lettuce or go-redis in
Sentinel mode find the master without a VIP (also where hosts share no L2 segment). List every
host's address as a sentinel; the master name is the instance name.

- \`SENTINEL get-master-addr-by-name\`, \`masters\`, \`master\`, \`replicas\` / \`slaves\`, \`sentinels\`
(the other agents), \`myid\`, \`ckquorum\`; \`PING\`, \`ROLE\`, \`INFO\`, \`HELLO\` (RESP2 and RESP3),
\`AUTH\`, \`CLIENT SETNAME\`/\`SETINFO\`, with the fields and flags real Sentinel returns.
- \`SUBSCRIBE +switch-master\` / \`PSUBSCRIBE *\`: \`+switch-master <name> <old-ip> <old-port>
<new-ip> <new-port>\` on each change of master, \`+sdown\`/\`-sdown\` for the master and the
replicas, \`+slave\` when one appears.
- It names a master only while the failover policy lets that master acknowledge writes: itself
while it is the VRRP master, its Redis is master and the data guard neither fences nor refuses
writes; another host while that is the VRRP master it hears and its Redis, read within three
guard periods, is master with the fresh replicas its write gate needs. Otherwise it answers nil
(clients ask again) and \`SENTINEL master\` flags the last master \`s_down,o_down\`. A master's Redis
is reported where the agents reach each other: its \`peer_addresses\` entry (else its advert
address) and \`peer_port\`.
- Commands that would change anything (\`SENTINEL FAILOVER\`, \`MONITOR\`, \`SET\`, ...) are refused:
failover is \`redkeep switchover\`, configuration is \`redkeep.toml\`.
- A client that does not read its replies is dropped at 1 MB pending; at most 1024 clients.`,
  },
  {
    title: 'Where the members\' Redis are',
    text: `A member is known by its advert address (\`members\`, \`unicast_peers\`, the source of its adverts),
and its Redis is reached there on \`peer_port\`, unless \`peer_addresses\` says otherwise: with
replication on a network of its own, the map gives each member's address on it. One mapping
serves every place an agent reaches a member's Redis or asks whom a Redis follows: \`REPLICAOF\`
targets (the replicas' \`master_host\` is the master's mapped address), the data guard's reads of
the members, fences, the takeover's catch-up, the switchover's hand-over and designation, and the
addresses the Sentinel endpoint and the hooks report.

Trust still comes from configuration: a \`master_host\` or a replica's address in someone's INFO
names a member only when it is the mapped address of a configured member. A master lists its
replicas by the address they connect from: each host must reach the others from its own mapped
address, or announce it with \`replica-announce-ip\`. A replica at an address no member maps to is
not waited for by a switchover. An instance whose advert source the map does not list does not
start (status and the log say why). VRRP stays on the advert network: cutting a backup off the
replication network alone leaves the VIP where it is (that backup loses its quorum and goes to
Fault until it is back; the master keeps its quorum through the others). See
examples/replication-network.toml.

IPv6 VRRP's advert sources are link-local (\`fe80::…\`), which a connection needs a zone for:
redis-server 7 answers \`REPLICAOF fe80::1 6379\` with "Invalid argument" and accepts
\`fe80::1%eth0\`. A link-local Redis address (an advert source, or a \`peer_addresses\` value without
one) gets the instance's interface as its zone, for \`REPLICAOF\` and for the agent's own
connections alike; INFO's \`master_host\` says it back with the zone, a master lists its replicas
without one, and both count as the same address.`,
  },
];
