#!/usr/bin/env bash
# Builds the Debian package dist/redkeep_<version>_amd64.deb, offline, from this checkout.
# usage: bash scripts/package.sh [--version V] [--out DIR]
#   --version V  package version (default: agent/package.json's "version", the one place it is set)
#   --out DIR    where the .deb goes (default: dist/)
# The package brings everything the agent needs at run time: the Node.js runtime this checkout
# builds with (copied to /usr/lib/redkeep/node), the bundled agent, its few external modules and
# the native addon. Nothing that only the tests use (keepalived, tcpdump, redis-server...) is a
# dependency. Layout:
#   /usr/bin/redkeep                          runs /usr/lib/redkeep/node /usr/lib/redkeep/bin/redkeep.js
#   /usr/lib/redkeep/                         node, bin/, dist/redkeep.cjs, node_modules/
#   /lib/systemd/system/redkeep.service       the unit (examples/redkeep.service)
#   /usr/lib/sysusers.d/redkeep.conf          the system user redkeep
#   /etc/redkeep/redkeep.toml                 conffile: examples/redkeep.toml, commented out
#   /usr/share/man/man8/redkeep.8.gz, man5/redkeep.toml.5.gz, bash completion, docs
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT_DIR=$PWD

VERSION=
OUT=dist
while (($#)); do
  case $1 in
    --version) VERSION=${2:?--version needs a value}; shift 2 ;;
    --out) OUT=${2:?--out needs a value}; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "package.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$VERSION" ] || VERSION=$(node -p "require('./agent/package.json').version")
if ! [[ $VERSION =~ ^[0-9][A-Za-z0-9.+~-]*$ ]]; then echo "package.sh: not a Debian version: $VERSION" >&2; exit 2; fi
ARCH=$(dpkg --print-architecture)
if [ "$ARCH" != amd64 ]; then echo "package.sh: builds amd64 packages only (this is $ARCH)" >&2; exit 1; fi
NODE_BIN=$(node -p 'process.execPath')
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]')
# The runtime is copied as it is: it must not need a shared libnode or anything a plain Debian 12
# host lacks (its C and C++ runtime are the package's Depends).
if ldd "$NODE_BIN" | grep -Eq 'libnode|not found'; then
  echo "package.sh: $NODE_BIN needs libraries a host may not have (a shared libnode?):" >&2
  ldd "$NODE_BIN" >&2
  exit 1
fi
if [ "$NODE_MAJOR" -lt 20 ]; then echo "package.sh: needs Node.js 20 or later to bundle (found $(node -v))" >&2; exit 1; fi

# The build: bash scripts/setup.sh does it on a fresh machine.
NATIVE=packages/afpacket/build/Release/afpacket.node
for f in agent/dist/redkeep.cjs "$NATIVE" scripts/dist/docs/gen-docs.js; do
  if [ ! -f "$f" ]; then echo "package.sh: $f is missing: run bash scripts/setup.sh (or pnpm run build) first" >&2; exit 1; fi
done

STAGE=$(mktemp -d "${TMPDIR:-/tmp}/redkeep-deb.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
R=$STAGE/root
LIB=$R/usr/lib/redkeep
mkdir -p "$LIB/bin" "$LIB/dist" "$LIB/node_modules/@redkeep/afpacket/build/Release" "$R/usr/bin" \
  "$R/lib/systemd/system" "$R/usr/lib/sysusers.d" "$R/etc/redkeep" "$R/usr/share/man/man8" "$R/usr/share/man/man5" \
  "$R/usr/share/bash-completion/completions" "$R/usr/share/doc/redkeep/examples" "$R/DEBIAN"

# The runtime and the agent.
install -m 0755 "$NODE_BIN" "$LIB/node"
install -m 0644 agent/bin/redkeep.js agent/bin/package.json "$LIB/bin/"
install -m 0644 agent/dist/redkeep.cjs "$LIB/dist/"
printf '{ "name": "redkeep", "version": "%s", "private": true, "type": "commonjs" }\n' "$VERSION" > "$LIB/package.json"
install -m 0644 "$NATIVE" "$LIB/node_modules/@redkeep/afpacket/build/Release/"
printf '{ "name": "@redkeep/afpacket", "version": "%s", "private": true, "exports": { "./native": "./build/Release/afpacket.node" } }\n' "$VERSION" \
  > "$LIB/node_modules/@redkeep/afpacket/package.json"
# The bundle loads these from node_modules (agent/bundle-external.json, which bundle.mjs reads too).
EXTERNAL=$(node -p "require('./agent/bundle-external.json').packages.join(' ')")
# shellcheck disable=SC2086
node scripts/debian/copy-modules.mjs agent "$LIB/node_modules" $EXTERNAL
cat > "$R/usr/bin/redkeep" <<'EOF'
#!/bin/sh
# redkeep with the Node.js runtime it was packaged with.
exec /usr/lib/redkeep/node /usr/lib/redkeep/bin/redkeep.js "$@"
EOF
chmod 0755 "$R/usr/bin/redkeep"
# The bundle's version is the package's: `redkeep --version` reads the package.json next to it.
"$LIB/node" "$LIB/bin/redkeep.js" --version >/dev/null

# systemd, the user, the configuration.
install -m 0644 examples/redkeep.service "$R/lib/systemd/system/redkeep.service"
install -m 0644 scripts/debian/sysusers.conf "$R/usr/lib/sysusers.d/redkeep.conf"
{
  echo "# redkeep configuration: the example below, commented out. Uncomment and edit it (see"
  echo "# redkeep.toml(5) and /usr/share/doc/redkeep/examples/), check it with"
  echo "#   redkeep check-config"
  echo "# then start the agent: systemctl start redkeep (it is enabled; it starts at boot once valid)."
  echo "#"
  sed 's/^/# /; s/ *$//' examples/redkeep.toml
} > "$R/etc/redkeep/redkeep.toml"
chmod 0640 "$R/etc/redkeep/redkeep.toml"
chmod 0750 "$R/etc/redkeep"
echo /etc/redkeep/redkeep.toml > "$R/DEBIAN/conffiles"

# Documentation: man pages and completion come from the same source as --help and the README.
node scripts/dist/docs/gen-docs.js --out "$STAGE/docs" >/dev/null
gzip -9n -c "$STAGE/docs/redkeep.8" > "$R/usr/share/man/man8/redkeep.8.gz"
gzip -9n -c "$STAGE/docs/redkeep.toml.5" > "$R/usr/share/man/man5/redkeep.toml.5.gz"
install -m 0644 "$STAGE/docs/redkeep.bash-completion" "$R/usr/share/bash-completion/completions/redkeep"
install -m 0644 LICENSE "$R/usr/share/doc/redkeep/copyright"
install -m 0644 examples/*.toml examples/redis.conf "$R/usr/share/doc/redkeep/examples/"
cp -r examples/hooks examples/prometheus examples/grafana "$R/usr/share/doc/redkeep/examples/"

# Maintainer scripts and control.
install -m 0755 scripts/debian/postinst scripts/debian/prerm scripts/debian/postrm "$R/DEBIAN/"
SIZE=$(du -sk --exclude=DEBIAN "$R" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@SIZE@/$SIZE/" scripts/debian/control.in > "$R/DEBIAN/control"
find "$R" -type d -exec chmod 0755 {} +
chmod 0750 "$R/etc/redkeep"

mkdir -p "$OUT"
DEB=$OUT/redkeep_${VERSION}_${ARCH}.deb
# zstd is quick to build and to unpack; dpkg reads it since Debian 12.
dpkg-deb --root-owner-group -Zzstd -z9 --build "$R" "$DEB" >/dev/null
echo "package.sh: $DEB ($(du -h "$DEB" | cut -f1))"
