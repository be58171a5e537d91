#!/usr/bin/env bash
# Builds the Rampart appliance disk image (make image):
#   bin/appliance/rampart.raw    GPT disk: an ESP with systemd-boot (UEFI) and
#                                an ext4 root with extlinux (BIOS)
#   bin/appliance/rampart.qcow2  the same disk, compressed, for VMs
#   bin/appliance/build-report.txt  sizes and times
# from Debian 12 (mmdebstrap), the kernel, DPDK 22.11 runtime libraries, the
# rampart binary and images/rootfs/ (units, scripts, default config).
#
# Environment: IMAGE_OUT (default bin/appliance), IMAGE_WORK (scratch, default
# .cache/image), IMAGE_MIRROR (default http://deb.debian.org), IMAGE_HUGEPAGES
# (2 MiB pages reserved on the kernel command line, default 512).
# IMAGE_REUSE_ROOTFS=1 (development) keeps the last root file system and only
# copies images/rootfs/ and the binary into it again before making the disk.
# Needs root (mmdebstrap --mode=root, a loop mount for extlinux).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
export PATH="/usr/local/go/bin:$PATH"

out=${IMAGE_OUT:-bin/appliance}
work=${IMAGE_WORK:-.cache/image}
mirror=${IMAGE_MIRROR:-http://deb.debian.org}
hugepages=${IMAGE_HUGEPAGES:-512}
label=rampart-root
version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)

[ "$(id -u)" -eq 0 ] || { echo "images/build.sh: needs root (mmdebstrap --mode=root, loop mount)" >&2; exit 1; }

t0=$(date +%s)
mkdir -p "$out" "$work"
out=$(realpath "$out")
work=$(realpath "$work")
rootfs=$work/rootfs
mnt=$work/mnt
loop=""

cleanup() {
	mountpoint -q "$mnt" 2>/dev/null && umount "$mnt"
	[ -n "$loop" ] && losetup -d "$loop" 2>/dev/null
	return 0
}
trap cleanup EXIT

step() { echo "image: $*"; }

# 1. The binary: the default (DPDK) build, stripped.
step "building rampart $version"
go build -trimpath -ldflags "-s -w -X main.version=$version" -o "$work/rampart" ./cmd/rampart

# 2. The root file system.
packages=(
	systemd-sysv udev kmod dbus systemd-timesyncd initramfs-tools zstd linux-image-amd64
	openssh-server iproute2 pciutils procps less nano util-linux fdisk e2fsprogs dosfstools cloud-guest-utils
	# DPDK 22.11 runtime: what the binary links, the mempool driver, the PCI
	# bus and the poll-mode drivers of common NICs (virtio for VMs).
	libnuma1 libbsd0 libfdt1
	librte-eal23 librte-ethdev23 librte-mbuf23 librte-mempool23 librte-ring23 librte-net23
	librte-kvargs23 librte-telemetry23 librte-meter23 librte-mempool-ring23 librte-bus-pci23
	librte-net-virtio23 librte-net-vmxnet3-23 librte-net-e1000-23 librte-net-igc23
	librte-net-ixgbe23 librte-net-i40e23 librte-net-iavf23 librte-net-ice23
)
dpkgopts=()
while IFS= read -r line; do
	dpkgopts+=(--dpkgopt="$line")
done < <(grep -E '^path-(ex|in)clude=' images/dpkg-excludes.conf)

t1=$(date +%s)
if [ "${IMAGE_REUSE_ROOTFS:-0}" = 1 ] && [ -x "$rootfs/usr/bin/rampart" ]; then
	step "reusing $rootfs (IMAGE_REUSE_ROOTFS=1)"
	cp -r --preserve=mode images/rootfs/. "$rootfs/"
	install -m 0755 "$work/rampart" "$rootfs/usr/bin/rampart"
	rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/lib/apt/lists/*
else
	step "root file system (mmdebstrap, ${#packages[@]} packages)"
	rm -rf "$rootfs"
	# Sources come from the arguments, never stdin (make may give a pipe).
	mmdebstrap --mode=root --variant=minbase \
		--include="$(IFS=,; echo "${packages[*]}")" \
		"${dpkgopts[@]}" \
		--essential-hook='mkdir -p "$1/etc/initramfs-tools/conf.d"' \
		--essential-hook="cp $repo/images/rootfs/etc/kernel-img.conf $repo/images/rootfs/etc/fstab \"\$1/etc/\"" \
		--essential-hook="cp $repo/images/rootfs/etc/initramfs-tools/conf.d/rampart.conf \"\$1/etc/initramfs-tools/conf.d/\"" \
		--customize-hook="cp -r --preserve=mode $repo/images/rootfs/. \"\$1/\"" \
		--customize-hook="install -m 0755 \"$work/rampart\" \"\$1/usr/bin/rampart\"" \
		--customize-hook="install -D -m 0644 $repo/README.md \"\$1/usr/share/doc/rampart/README.md\"" \
		--customize-hook='chroot "$1" systemctl enable rampart-firstboot.service rampart.service systemd-networkd.service' \
		--customize-hook='rm -f "$1"/etc/ssh/ssh_host_* "$1/var/lib/dbus/machine-id"; echo uninitialized >"$1/etc/machine-id"' \
		--customize-hook='chroot "$1" chage -d 0 root' \
		--customize-hook='rm -rf "$1"/var/log/*.log "$1"/var/cache/debconf/*-old "$1"/tmp/* "$1"/var/tmp/*' \
		--customize-hook='rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/cache/apt/*.bin "$1"/var/lib/apt/lists/*' \
		bookworm "$rootfs" \
		"deb $mirror/debian bookworm main" \
		"deb $mirror/debian bookworm-updates main" \
		"deb $mirror/debian-security bookworm-security main" </dev/null
fi
t2=$(date +%s)

kernel=$(basename "$(readlink -f "$rootfs/boot/vmlinuz")")
[ -e "$rootfs/boot/$kernel" ] || { echo "image: no kernel in $rootfs/boot" >&2; exit 1; }
cmdline="root=LABEL=$label ro console=tty0 console=ttyS0,115200n8 default_hugepagesz=2M hugepagesz=2M hugepages=$hugepages intel_iommu=on iommu=pt"
mkdir -p "$rootfs/boot/extlinux" "$rootfs/boot/efi"
cat >"$rootfs/boot/extlinux/extlinux.conf" <<EOF
# Rampart appliance boot loader (BIOS). The kernel command line reserves the
# DPDK hugepages; rampart.yaml's capture.dpdk.memory_mb must fit in them.
# UEFI boots the same command line from the ESP (/boot/efi/loader/entries/).
SERIAL 0 115200
DEFAULT rampart
PROMPT 0
TIMEOUT 20
LABEL rampart
  LINUX /boot/vmlinuz
  INITRD /boot/initrd.img
  APPEND $cmdline
EOF

# 3. The disk, GPT, bootable both ways:
#   BIOS: syslinux's gptmbr.bin in the MBR boots the partition marked
#         LegacyBIOSBootable, the ext4 root, with extlinux in /boot/extlinux.
#   UEFI: systemd-boot as the removable-media loader EFI/BOOT/BOOTX64.EFI on
#         a vfat ESP (built by mkfs.vfat + mtools, never mounted here), with
#         the kernel and initrd beside it.
# The root partition has room to spare; the first boot grows it to fill
# whatever disk the image is written to.
esp_mb=128
used_mb=$(du -sm "$rootfs" | cut -f1)
root_mb=$(( (used_mb * 5 / 4 + 256 + 63) / 64 * 64 ))
disk_mb=$(( 1 + esp_mb + root_mb + 1 ))
raw=$work/rampart.raw
step "disk: ${esp_mb} MiB ESP, ${used_mb} MiB of files in a ${root_mb} MiB ext4 root"
rm -f "$raw"
truncate -s "${disk_mb}M" "$raw"
sfdisk -q "$raw" <<EOF
label: gpt
start=2048, size=${esp_mb}MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="esp"
size=${root_mb}MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="$label", attrs="LegacyBIOSBootable"
EOF
root_off=$(( (1 + esp_mb) * 1024 * 1024 ))

esp=$work/esp.img
rm -f "$esp"
mkfs.vfat -C -F 32 -n ESP "$esp" $((esp_mb * 1024)) >/dev/null
mmd -i "$esp" ::/EFI ::/EFI/BOOT ::/loader ::/loader/entries ::/rampart
mcopy -i "$esp" /usr/lib/systemd/boot/efi/systemd-bootx64.efi ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$esp" "$rootfs/boot/$kernel" ::/rampart/vmlinuz
mcopy -i "$esp" "$rootfs/boot/$(basename "$(readlink -f "$rootfs/boot/initrd.img")")" ::/rampart/initrd.img
printf 'default rampart.conf\ntimeout 2\nconsole-mode keep\n' | mcopy -i "$esp" - ::/loader/loader.conf
printf 'title Rampart appliance\nlinux /rampart/vmlinuz\ninitrd /rampart/initrd.img\noptions %s\n' "$cmdline" |
	mcopy -i "$esp" - ::/loader/entries/rampart.conf
dd if="$esp" of="$raw" bs=1M seek=1 conv=notrunc status=none
rm -f "$esp"

# extlinux reads ext4 without the newer features.
mkfs.ext4 -q -F -L "$label" -O '^64bit,^metadata_csum_seed,^orphan_file' \
	-E offset=$root_off -d "$rootfs" "$raw" "${root_mb}M"
loop=$(losetup -f --show -o $root_off --sizelimit $((root_mb * 1024 * 1024)) "$raw")
mkdir -p "$mnt"
mount "$loop" "$mnt"
extlinux --install "$mnt/boot/extlinux" 2>&1 | { grep -v 'geometry\|harmless' || true; } | sed 's/^/image: extlinux: /'
umount "$mnt"
e2fsck -fn "$loop" >"$work/e2fsck.log" 2>&1 || { cat "$work/e2fsck.log" >&2; exit 1; }
losetup -d "$loop"
loop=""
dd if=/usr/lib/EXTLINUX/gptmbr.bin of="$raw" bs=440 count=1 conv=notrunc status=none
t3=$(date +%s)

step "compressed qcow2"
qemu-img convert -c -O qcow2 "$raw" "$work/rampart.qcow2"
mv "$raw" "$out/rampart.raw"
mv "$work/rampart.qcow2" "$out/rampart.qcow2"
t4=$(date +%s)

raw_mb=$(( $(stat -c %s "$out/rampart.raw") / 1024 / 1024 ))
raw_used_mb=$(( $(du -k "$out/rampart.raw" | cut -f1) / 1024 ))
qcow_mb=$(( $(stat -c %s "$out/rampart.qcow2") / 1024 / 1024 ))
modules_mb=$(du -sm "$rootfs/usr/lib/modules" | cut -f1)
tee "$out/build-report.txt" <<EOF
rampart appliance $version, kernel $kernel, built $(date -u +%Y-%m-%dT%H:%M:%SZ)
root file system: ${used_mb} MiB of files (kernel modules ${modules_mb} MiB)
rampart.raw:   ${raw_mb} MiB (${raw_used_mb} MiB allocated; ESP ${esp_mb} MiB, root ${root_mb} MiB)
rampart.qcow2: ${qcow_mb} MiB (compressed)
build time: $((t4 - t0)) s (mmdebstrap $((t2 - t1)) s, disk $((t3 - t2)) s, qcow2 $((t4 - t3)) s)
EOF
