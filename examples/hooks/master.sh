#!/bin/sh
# Runs when this host became master of an instance, after the VIP is up and the local Redis
# accepts writes. An example: tell a monitoring system. A hook that fails or times out is
# logged and counted (redkeep_hook_failures_total); it never undoes the transition.
set -eu
logger -t redkeep-master "${REDKEEP_INSTANCE}: master on $(hostname), Redis ${REDKEEP_REDIS_ADDRESS:-none}, VIPs ${REDKEEP_VIPS}"
