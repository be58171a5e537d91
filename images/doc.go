// Package images builds the bootable appliance image (Debian 12 root
// filesystem, kernel, DPDK runtime, the rampart binary and its systemd unit)
// and boots it in qemu to prove it counts frames sent into its NIC.
package images
