#!/usr/bin/env bash
# Install what the live tier runs, on Debian or Ubuntu: the servers from Debian's packages and the
# Toxiproxy server from its Go module, built into the git-ignored tools/ folder. Idempotent: what
# is already there is left alone. It prints what it did; it fails, saying why, without apt or Go.
#
# Debian's packages start their own system services on the standard ports; lockstep never uses
# those: the live harness starts private servers on its own ports.
set -euo pipefail
cd "$(dirname "$0")/.."

TOXIPROXY_MODULE=github.com/Shopify/toxiproxy/v2/cmd/server
TOXIPROXY_VERSION=v2.5.0
PACKAGES=(redis-server etcd-server zookeeper postgresql mariadb-server iproute2)

need() {
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "install-servers: '$1' is missing: $2" >&2
    exit 1
  fi
}
need apt-get "this script installs Debian packages (Debian or Ubuntu only)"
need dpkg-query "this script checks Debian packages (Debian or Ubuntu only)"
need go "the Toxiproxy server is built from its Go module: install Go (https://go.dev/dl) first"

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-servers: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-servers: Debian packages already installed: ${PACKAGES[*]}"
fi

mkdir -p tools
if [ -x tools/toxiproxy-server ] && [ "$(cat tools/toxiproxy-server.version 2>/dev/null)" = "$TOXIPROXY_VERSION" ]; then
  echo "install-servers: tools/toxiproxy-server $TOXIPROXY_VERSION already built"
else
  echo "install-servers: building toxiproxy-server $TOXIPROXY_VERSION from its Go module"
  rm -rf tools/.gobin
  GOBIN="$PWD/tools/.gobin" go install "$TOXIPROXY_MODULE@$TOXIPROXY_VERSION"
  mv tools/.gobin/server tools/toxiproxy-server
  rm -rf tools/.gobin
  echo "$TOXIPROXY_VERSION" > tools/toxiproxy-server.version
fi

echo "install-servers: ready"
for binary in redis-server etcd postgres mariadbd; do
  printf '  %-14s %s\n' "$binary" "$(command -v "$binary" || ls /usr/lib/postgresql/*/bin/"$binary" 2>/dev/null | head -n 1 || echo '(not on PATH)')"
done
printf '  %-14s %s\n' zookeeper "$(ls /usr/share/java/zookeeper.jar 2>/dev/null || echo '(missing)')"
printf '  %-14s %s\n' toxiproxy "$PWD/tools/toxiproxy-server"
