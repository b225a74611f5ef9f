#!/usr/bin/env bash
# The README's demo command: set up, then three agents in a namespace lab elect a master and fail
# over; then the same on a simulated LAN, and a keepalived capture decoded. Needs root (namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "setting up (Debian packages, pnpm, dependencies, build)..."
bash scripts/setup.sh >"$log" 2>&1 || { cat "$log"; exit 1; }
echo
echo "#### three agents on a namespace LAN (real packets, VRRPv3 every 100 ms)"
node scripts/dist/demo/lab-failover.js
echo
echo "#### the same election on the simulated LAN the property tests use"
node scripts/dist/demo/sim-failover.js
echo
echo "#### redkeep decode of a capture from keepalived 2.2.7 (advert, gratuitous ARPs, priority-0 on stop)"
node agent/bin/redkeep.js decode test/vectors/keepalived-2.2.7/v2-none-mcast-with-garp-and-shutdown.pcap
