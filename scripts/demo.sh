#!/usr/bin/env bash
# The README's demo command: set up, then show redkeep electing, failing over and decoding.
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "setting up (Debian packages, pnpm, dependencies, build)..."
bash scripts/setup.sh >"$log" 2>&1 || { cat "$log"; exit 1; }
node scripts/dist/demo/sim-failover.js
echo
echo "== redkeep decode of a capture from keepalived 2.2.7 (advert, gratuitous ARPs, priority-0 on stop)"
node agent/bin/redkeep.js decode test/vectors/keepalived-2.2.7/v2-none-mcast-with-garp-and-shutdown.pcap
