#!/bin/sh
# A keepalived-compatible notify hook: redkeep calls it as keepalived does,
#   notify.sh INSTANCE <name> <MASTER|BACKUP|FAULT|STOP> <priority>
# after it has moved the VIP and set the Redis role. The environment also has REDKEEP_INSTANCE,
# REDKEEP_STATE, REDKEEP_PREVIOUS_STATE, REDKEEP_PRIORITY, REDKEEP_VIPS and
# REDKEEP_REDIS_ADDRESS. It must not start Redis failovers of its own: redkeep has done that.
set -eu
type="$1" name="$2" state="$3" priority="${4:-}"
logger -t redkeep-notify "$type $name is now $state (priority $priority, VIPs ${REDKEEP_VIPS:-?}, was ${REDKEEP_PREVIOUS_STATE:-?})"
