#!/usr/bin/env bash
# Installs what Rampart needs on a fresh Debian 12 machine; skips what is there.
#   build: Go toolchain check, DPDK and libpcap headers for cgo
#   test:  the real peers the tests start: BGP daemons, flow exporters,
#          traffic generators and independent decoders
# Usage: scripts/install-deps.sh [build|test]   (default: test, which includes build)
set -euo pipefail

build_pkgs=(dpdk dpdk-dev libdpdk-dev pkg-config libpcap-dev gcc make)
test_pkgs=(tshark bird2 frr gobgpd softflowd fprobe pmacct hping3 tcpreplay netsniff-ng nfdump iproute2)

want=("${build_pkgs[@]}")
[ "${1:-test}" = test ] && want+=("${test_pkgs[@]}")

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
