#!/usr/bin/env bash
# A throw-away machine with a real systemd as its PID 1, for tests of the Debian package and the
# unit. The box has its own PID, mount, network, UTS, IPC and cgroup namespaces; its root is an
# overlay of / whose upper layer is a tmpfs, so whatever it does (tmpfiles emptying /tmp, dpkg -i,
# services it starts) is gone when it stops and never touches the machine. Units that would reach
# outside or start unrelated daemons are masked: udev, tmpfiles, networking, and every service and
# timer the machine's packages enabled (redis-server, keepalived, prometheus, postgresql...).
# The box's network is the named network namespace NETNS when given (e.g. a lab host's, with its
# interfaces and addresses), or else an empty one of its own (the caller adds interfaces).
#
# usage: systemd-box.sh start DIR NAME [NETNS]
#                                        boot a box named NAME (also its hostname); state in DIR
#        systemd-box.sh exec DIR CMD...  run CMD inside the box (as root, at its /)
#        systemd-box.sh pid DIR          the PID (seen from here) of the box's systemd
#        systemd-box.sh stop DIR         kill the box and remove its state
# NEVER run systemd on the machine's real root: this script exists so that it never happens.
set -euo pipefail

cmd=${1:?usage: systemd-box.sh start|exec|pid|stop DIR ...}
D=${2:?DIR missing}
shift 2

cgroup_dir() { echo "/sys/fs/cgroup/unified/redkeep-box-$(basename "$D")"; }

case $cmd in
start)
  NAME=${1:?NAME missing}
  NETNS=${2:-}
  if [ -n "$NETNS" ]; then
    [ -e "/run/netns/$NETNS" ] || { echo "systemd-box: no network namespace $NETNS" >&2; exit 2; }
    NET=(nsenter "--net=/run/netns/$NETNS" unshare)
  else
    NET=(unshare --net)
  fi
  [[ $NAME =~ ^[a-z][a-z0-9-]{0,30}$ ]] || { echo "systemd-box: bad name $NAME" >&2; exit 2; }
  mkdir -p "$D"
  if [ -e "$D.pid" ]; then echo "systemd-box: $D is in use" >&2; exit 1; fi
  # The box's own cgroup, the root of its cgroup namespace: its systemd manages that subtree only.
  CG=$(cgroup_dir)
  mkdir -p "$CG"
  # shellcheck disable=SC2016
  setsid bash -c '
    echo $$ > "$1/cgroup.procs"
    shift
    exec "$@"' box "$CG" "${NET[@]}" --mount --pid --fork --uts --ipc --cgroup --propagation private bash -c '
    set -e
    D=$1; NAME=$2; R=$D/root
    # This process becomes PID 1 of the box (exec below); /proc is still that of the machine,
    # so it tells the PID the machine sees.
    read -r self _ < /proc/self/stat
    echo "$self" > "$D.pid.new"
    mount -t tmpfs -o mode=0755 tmpfs "$D"
    mkdir -p "$D/upper" "$D/work" "$R"
    mount -t overlay overlay -o "lowerdir=/,upperdir=$D/upper,workdir=$D/work" "$R"
    mount -t proc proc "$R/proc"
    mount -t sysfs sysfs "$R/sys"
    mount -t cgroup2 cgroup2 "$R/sys/fs/cgroup"
    mount --rbind /dev "$R/dev"
    mount -t tmpfs tmpfs "$R/run"
    mount -t tmpfs tmpfs "$R/tmp"
    hostname "$NAME"
    echo "$NAME" > "$R/etc/hostname"
    S=$R/etc/systemd/system
    mask() { ln -sf /dev/null "$S/$1"; }
    for w in "$S"/*.target.wants/*; do [ -e "$w" ] || [ -L "$w" ] || continue; mask "$(basename "$w")"; done
    for u in systemd-udevd.service systemd-udev-trigger.service systemd-udev-settle.service systemd-udevd-control.socket \
             systemd-udevd-kernel.socket systemd-tmpfiles-setup.service systemd-tmpfiles-setup-dev.service \
             systemd-tmpfiles-clean.timer systemd-tmpfiles-clean.service systemd-networkd.service networking.service \
             systemd-logind.service getty@tty1.service serial-getty@ttyS0.service console-getty.service \
             systemd-timesyncd.service systemd-resolved.service apt-daily.timer apt-daily-upgrade.timer \
             e2scrub_all.timer fstrim.timer man-db.timer logrotate.timer systemd-random-seed.service \
             redis-server.service redis-sentinel.service keepalived.service prometheus.service \
             prometheus-node-exporter.service etcd.service postgresql.service; do mask "$u"; done
    exec chroot "$R" /lib/systemd/systemd --system --unit=multi-user.target' box "$D" "$NAME" > "$D.log" 2>&1 < /dev/null &
  for _ in $(seq 1 100); do
    p=$(cat "$D.pid.new" 2>/dev/null || true)
    [ -n "$p" ] && [ "$(cat /proc/"$p"/comm 2>/dev/null)" = systemd ] && break
    p=; sleep 0.1
  done
  if [ -z "${p:-}" ]; then echo "systemd-box: systemd did not start (see $D.log)" >&2; exit 1; fi
  mv "$D.pid.new" "$D.pid"
  # Booted: the system manager answers and has reached its target (or degraded).
  for _ in $(seq 1 150); do
    s=$(nsenter -t "$p" -m -p -u -i -n -C -r -w systemctl is-system-running 2>/dev/null || true)
    case $s in running|degraded) break ;; esac
    sleep 0.1
  done
  echo "systemd box $NAME up: pid $p ($s)"
  ;;
exec)
  p=$(cat "$D.pid")
  exec nsenter -t "$p" -m -p -u -i -n -C -r -w "$@"
  ;;
pid)
  cat "$D.pid"
  ;;
stop)
  if [ -f "$D.pid" ]; then
    p=$(cat "$D.pid")
    kill -9 "$p" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    rm -f "$D.pid"
  fi
  # The cgroups the box's systemd made, deepest first (empty once its processes are gone).
  CG=$(cgroup_dir)
  if [ -d "$CG" ]; then
    for _ in $(seq 1 50); do
      find "$CG" -depth -type d -exec rmdir {} + 2>/dev/null || true
      [ -d "$CG" ] || break
      sleep 0.1
    done
  fi
  rmdir "$D" 2>/dev/null || true
  rm -f "$D.log"
  ;;
*)
  echo "systemd-box: unknown command $cmd" >&2; exit 2 ;;
esac
