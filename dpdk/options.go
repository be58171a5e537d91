package dpdk

import (
	"fmt"
	"strconv"
	"strings"
)

// EALOptions are the Environment Abstraction Layer settings of the process.
// EAL initialises once per process, so these are fixed for its life.
type EALOptions struct {
	// Lcores is the --lcores map, e.g. "0@0,1@1". Empty lets EAL use every
	// core of the process affinity mask.
	Lcores string
	// MemoryMB is the memory EAL reserves at start (-m); 0 is EAL's default.
	MemoryMB int
	// NoHuge runs on ordinary pages (--no-huge); without it free hugepages
	// and a hugetlbfs mount are required.
	NoHuge bool
	// FilePrefix names the process's runtime files (--file-prefix). Two
	// processes with the same prefix collide, so it is required.
	FilePrefix string
	// PCIAllow is the PCI allow-list (-a). Empty disables the PCI bus
	// (--no-pci) so EAL never grabs a NIC it was not given.
	PCIAllow []string
	// VDevs are virtual devices (--vdev), e.g. "net_pcap0,rx_pcap=x.pcap".
	VDevs []string
	// Telemetry keeps EAL's telemetry socket; off by default.
	Telemetry bool
	// Extra arguments are appended verbatim.
	Extra []string
}

// Args returns the EAL argument vector (without the program name).
func (o EALOptions) Args() ([]string, error) {
	if o.FilePrefix == "" {
		return nil, fmt.Errorf("dpdk: file prefix is required (two DPDK processes with the same prefix collide)")
	}
	if strings.ContainsAny(o.FilePrefix, "/ ") {
		return nil, fmt.Errorf("dpdk: file prefix %q must not contain '/' or spaces", o.FilePrefix)
	}
	if o.MemoryMB < 0 {
		return nil, fmt.Errorf("dpdk: memory must be >= 0 MB, got %d", o.MemoryMB)
	}
	args := []string{"--file-prefix=" + o.FilePrefix, "--proc-type=primary"}
	if o.Lcores != "" {
		args = append(args, "--lcores="+o.Lcores)
	}
	if o.MemoryMB > 0 {
		args = append(args, "-m", strconv.Itoa(o.MemoryMB))
	}
	if o.NoHuge {
		args = append(args, "--no-huge")
	} else {
		// Without it hugepage files outlive the process and starve the next one.
		args = append(args, "--huge-unlink")
	}
	if len(o.PCIAllow) == 0 {
		args = append(args, "--no-pci")
	}
	for _, a := range o.PCIAllow {
		args = append(args, "-a", a)
	}
	for _, v := range o.VDevs {
		args = append(args, "--vdev="+v)
	}
	if !o.Telemetry {
		args = append(args, "--no-telemetry")
	}
	return append(args, o.Extra...), nil
}

// DeviceName is the ethdev name EAL gives a device string: the part of a
// vdev string before its first comma, or a PCI address in full
// domain:bus:device.function form.
func DeviceName(dev string) string {
	name, _, _ := strings.Cut(dev, ",")
	if IsPCIAddress(name) && strings.Count(name, ":") == 1 {
		return "0000:" + name
	}
	return name
}

// IsPCIAddress reports whether s looks like [domain:]bus:device.function.
func IsPCIAddress(s string) bool {
	parts := strings.Split(s, ":")
	if len(parts) == 3 {
		if !isHex(parts[0], 4) {
			return false
		}
		parts = parts[1:]
	}
	if len(parts) != 2 || !isHex(parts[0], 2) {
		return false
	}
	dev, fn, ok := strings.Cut(parts[1], ".")
	return ok && isHex(dev, 2) && len(fn) == 1 && fn[0] >= '0' && fn[0] <= '7'
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
