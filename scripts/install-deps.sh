#!/usr/bin/env bash
# Installs what Rampart needs on a fresh Debian 12 machine; skips what is there.
#   build: Go toolchain check, DPDK and libpcap headers for cgo
#   test:  the real peers the tests start: BGP daemons, flow exporters,
#          traffic generators and independent decoders; DuckDB from npm
#          (into .tools/duckdb) to read the Parquet snapshots
#   image: build plus what `make image` / `make image-test` use: mmdebstrap,
#          ext4 and vfat tools without mounting, extlinux, systemd-boot, qemu, OVMF
# Usage: scripts/install-deps.sh [build|test|image]   (default: test, which includes build)
set -euo pipefail

build_pkgs=(dpdk dpdk-dev libdpdk-dev pkg-config libpcap-dev gcc make)
test_pkgs=(tshark bird2 frr gobgpd softflowd fprobe pmacct hping3 tcpreplay netsniff-ng nfdump iproute2)
image_pkgs=(mmdebstrap debian-archive-keyring e2fsprogs fdisk mount extlinux syslinux-common
  dosfstools mtools systemd-boot-efi qemu-system-x86 qemu-utils ovmf zstd)

want=("${build_pkgs[@]}")
case "${1:-test}" in
  build) ;;
  test) want+=("${test_pkgs[@]}") ;;
  image) want+=("${image_pkgs[@]}") ;;
  *) echo "install-deps: unknown mode ${1} (build, test or image)" >&2; exit 2 ;;
esac
# Node from Debian unless a node with npm is there already (NodeSource's
# nodejs ships npm and conflicts with Debian's npm package).
[ "${1:-test}" = test ] && ! { command -v node && command -v npm; } >/dev/null && want+=(nodejs npm)

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  # The daemons are started by the tests that need them, never at install.
  policy=/usr/sbin/policy-rc.d
  added_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod +x "$policy"
    added_policy=1
  fi
  trap '[ $added_policy = 1 ] && $sudo rm -f "$policy"' EXIT
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v go >/dev/null; then
  [ -x /usr/local/go/bin/go ] || { echo "install-deps: Go 1.26 not found (expected /usr/local/go)" >&2; exit 1; }
fi
pkg-config --exists libdpdk || { echo "install-deps: pkg-config cannot find libdpdk" >&2; exit 1; }

# DuckDB for the Parquet snapshot test (analytics/duckdb_test.go): the npm
# package ships its engine, nothing is downloaded at test time.
duckdb_version=1.5.6-r.1
if [ "${1:-test}" = test ]; then
  root=$(cd "$(dirname "$0")/.." && pwd)
  pkg="$root/.tools/duckdb/node_modules/@duckdb/node-api/package.json"
  if ! grep -q "\"version\": \"$duckdb_version\"" "$pkg" 2>/dev/null; then
    echo "install-deps: installing @duckdb/node-api@$duckdb_version into .tools/duckdb"
    mkdir -p "$root/.tools/duckdb"
    npm install --prefix "$root/.tools/duckdb" --no-audit --no-fund --silent "@duckdb/node-api@$duckdb_version"
  fi
fi
