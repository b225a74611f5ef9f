#!/usr/bin/env bash
# Everything a fresh machine needs before redkeep builds and its tests run: Debian packages,
# pnpm, dependencies (native addons compiled against the installed Node headers), and a build.
# Idempotent: re-running it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests and the demo use: namespaces (iproute2), ping, captures (tcpdump) and
# keepalived for interoperability tests, redis-server for the Redis tests, systemd for
# `systemd-analyze verify` of the unit (nothing is started), util-linux for setpriv (the
# non-root test), nftables for one-way packet loss (this kernel has no netem), redis-sentinel and
# python3-redis (redis-py) to compare the Sentinel endpoint with real Sentinel and a foreign client,
# prometheus for its promtool (`check rules`, `test rules` on examples/prometheus; the server is
# not started), man-db and groff for the man pages (rendered and looked up in the package test),
# etcd-server and etcd-client (etcdctl) for strict mode's tests (a 3-member etcd cluster in
# namespaces; the packaged service is not started), openssl for the throw-away CA and
# certificates of the etcd-over-TLS test.
# systemd also boots, as PID 1 of throw-away boxes, for the package test (scripts/systemd-box.sh).
APT_PACKAGES=(iproute2 iputils-ping tcpdump keepalived redis-server redis-sentinel python3-redis systemd util-linux nftables prometheus man-db groff-base etcd-server etcd-client openssl)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  # Installing a daemon must not start it here: tests start their own, in namespaces.
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  $SUDO rm -f /usr/sbin/policy-rc.d
fi

if ! command -v pnpm >/dev/null 2>&1; then
  echo "setup: installing pnpm"
  npm install -g pnpm@12 >/dev/null
fi

# node-gyp cannot download Node headers here; use the ones installed with Node.
if [ -f /usr/include/node/node.h ]; then export npm_config_nodedir=/usr; fi

pnpm install --frozen-lockfile --reporter=append-only
pnpm run build
