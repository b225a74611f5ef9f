// Strict mode: an etcd lease decides who may acknowledge writes. Off unless `[agent] etcd` is set.
// VRRP still elects the master and moves the VIP (keepalived-compatible, unchanged); the lease is
// one more guard on top of the embedded ones (quorum, history, write gate): a host may run a
// writable Redis only while VRRP made it master AND it holds the instance's lease.
// Pure, like the VRRP core: events in (the clock, VRRP state, our Redis' INFO, what etcd answered),
// decisions out (writes allowed or refused, step down, the next etcd request); the shell
// (agent/src/etcd/) talks to etcd and applies the decisions through the existing write gate and
// priority paths. No timers, no sockets, no wall clock.
//
// Keys, under `prefix` (default "/redkeep/"), per VRRP instance:
// - <prefix><instance>/leader, attached to the holder's lease (etcd deletes it when the lease
//   expires or is revoked): JSON { holder: agent name, advert: advert address, redis: "host:port",
//   history: [{ replId, offset }, ...] newest first }. The term is the key's create_revision
//   (etcd-assigned, grows with every acquisition): a fencing token that two holders never share.
// - <prefix><instance>/history, no lease (it must outlive a holder that died): JSON
//   { holder, term, history: [...] }, the same history, written in the acquire transaction and
//   by the holder after renews (only while its leader key is still on its lease). A new holder
//   reads it to check the history rule even after the old lease is gone.
// The history is the chain of Redis replication ids the holders wrote under: entry i was
// promoted from entry i+1 (offsets go on across promotions); bounded to HISTORY_LIMIT entries.
//
// TTL: `lease_ttl`, default the instance's Master_Down_Interval rounded up to whole seconds, at
// least 2 s (etcd's leases have whole-second TTLs and etcd raises shorter ones to its minimum,
// 1.5 election timeouts). The TTL the core uses is the one etcd granted, never the one asked.
//
// Renew: a keep-alive every ttl/3 after the START of the last successful one; a failed or timed-out
// renew is retried at once (each request has a timeout the shell enforces). A renew answered
// "lease not found" means etcd expired it: lost at once.
//
// Fence deadline, on this host's monotonic clock only (never etcd's clock, never the wall clock):
// etcd extends a lease by its TTL when it RECEIVES a keep-alive, which is after we sent it, and a
// leader change only ever extends leases. So with S = the local time at which the last successful
// renew (or the acquire) was STARTED, rates of both clocks within 1 ± maxDrift of real time, and
// `applyMs` the time the shell needs to close Redis' write gate:
//     fenceAtMs = S + (1 - maxDrift) * (ttl / (1 + maxDrift) - applyMs)
// is reached, and the gate closed, before etcd can expire the lease. At fenceAtMs writes are
// refused (min-replicas-to-write to REFUSE_ALL, as every guard does), then the instance steps down
// (its priority lowered like the data guard's, `guard_weight`; the VIP moves to a backup). The
// step-down latch clears once etcd answers us again.
//
// Acquire (a VRRP master without the lease): read leader and history; if the leader key exists and
// is not ours, wait (writes refused, no step-down: the old holder fences itself before its lease
// ends, and the key disappears with it). When it is absent: check the history rule (our Redis'
// INFO covers the newest history entry: same replid at or beyond its offset, or promoted from it
// after all of it, or descending from it through the recorded chain; `coversHistory`, built on
// history.ts' succeeds/divergedBytes/Lineage), then one transaction: "leader key absent (create
// revision 0) and history unchanged (its mod revision as read)" -> grant lease, put leader on it,
// put history. Anything else answered -> read again. Until the transaction succeeded the write
// gate refuses (Redis may already be promoted: it is a master that accepts nothing). A history
// check that fails steps down (priority lowered: a host whose data covers it should win).
//
// Release: a holder that stops being VRRP master refuses writes at once; it revokes the lease only
// after the shell reports the gate closed (`gate-closed`), so the next holder never starts while our
// Redis can still acknowledge. A crashed holder releases nothing: its lease expires after the TTL,
// so failover after a host crash takes max(Master_Down_Interval, the rest of the TTL).
//
// Losing etcd (no answer for longer than the TTL), `on_loss`:
// - "fence" (default): no writer without a lease. The holder fences at fenceAtMs and steps down;
//   nobody writes until etcd answers. Guarantee: at most one host acknowledges writes at any instant
//   (given the drift bound), whatever the partition; availability needs etcd.
// - "keep": the holder keeps writing after its deadline (Redis stays writable, it does not step
//   down), and no other host may start writing without the lease. This CANNOT be made safe if etcd
//   is lost by the holder alone: the lease expires, a host that reaches etcd and wins VRRP acquires
//   it. What protects the data then is what protects it without etcd: VRRP keeps the VIP on the
//   holder while it advertises, and the embedded rules (member quorum, the takeover's catch-up and
//   fence of the old Redis, the history rule) stop a cut-off holder. Guarantee: the embedded one
//   for the current writer, the lease's for every new writer.
// - "embedded": while etcd is lost, the lease guard stands aside and the embedded rules alone
//   decide, for the holder and for a new master alike (writes go on through a failover without
//   etcd); once etcd answers, a master must acquire the lease again (or fence and step down if
//   someone else holds it). Guarantee: the embedded one while etcd is lost.
// A host cannot tell "etcd is down" from "etcd is cut off from me"; each choice is a trade between
// those two cases, stated above, not a detection.

export {};
