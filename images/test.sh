#!/usr/bin/env bash
# Boots the appliance image in qemu (TCG, -cpu max) and checks it over the
# serial console (make image-test): see images/boottest. Once per firmware:
# SeaBIOS (extlinux; then a second boot of the configured disk) and OVMF
# (systemd-boot). The image is never modified (the guest writes to an
# overlay in IMAGE_TEST_WORK/<firmware>). Each firmware's run is bounded by
# IMAGE_TEST_TIMEOUT; qemu is killed by PID on failure.
#
# Environment: IMAGE (default bin/appliance/rampart.qcow2), IMAGE_TEST_WORK
# (default .cache/image-test), IMAGE_TEST_FIRMWARE (default "bios uefi"),
# IMAGE_TEST_TIMEOUT (seconds per firmware run, default 900), IMAGE_TEST_FRAMES
# (default 3000).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

image=${IMAGE:-bin/appliance/rampart.qcow2}
work=${IMAGE_TEST_WORK:-.cache/image-test}
timeout_s=${IMAGE_TEST_TIMEOUT:-900}
[ -e "$image" ] || { echo "image-test: $image not found; run make image first" >&2; exit 1; }
mkdir -p "$work"
go build -o "$work/boottest" ./images/boottest
for fw in ${IMAGE_TEST_FIRMWARE:-bios uefi}; do
	# The reboot of the configured machine is checked once (BIOS): it does
	# not depend on the firmware and costs a boot under TCG.
	reboot=false
	[ "$fw" = bios ] && reboot=true
	# timeout is the outer bound should the driver itself hang; the driver
	# stops at its own -timeout first and kills qemu.
	timeout --kill-after=30 $((timeout_s + 60)) "$work/boottest" -image "$image" -firmware "$fw" -reboot=$reboot \
		-work "$work/$fw" -timeout "${timeout_s}s" -frames "${IMAGE_TEST_FRAMES:-3000}"
done
