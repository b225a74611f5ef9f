#!/usr/bin/env bash
# The README's demo command: set up, then three Redis hosts with redkeep in a namespace lab: a
# client writes through the VIP, the master host crashes, a planned switchover follows; status
# before and after, the write gap, and that no acknowledged write was lost. Then the same election
# on a simulated LAN, and a keepalived capture decoded. Needs root (namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "setting up (Debian packages, pnpm, dependencies, build)..."
bash scripts/setup.sh >"$log" 2>&1 || { cat "$log"; exit 1; }
echo
echo "#### three Redis hosts with redkeep on a namespace LAN (real packets, real redis-server, VRRPv3 every 100 ms)"
node scripts/dist/demo/redis-failover.js
echo
echo "#### the same election on the simulated LAN the property tests use"
node scripts/dist/demo/sim-failover.js
echo
echo "#### redkeep decode of a capture from keepalived 2.2.7 (advert, gratuitous ARPs, priority-0 on stop)"
node agent/bin/redkeep.js decode test/vectors/keepalived-2.2.7/v2-none-mcast-with-garp-and-shutdown.pcap
