// Package dpdksrc is the capture.Source over DPDK ports: one receive queue
// per worker, each worker pinned to its own core.
package dpdksrc

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/rampartnet/rampart/dpdk"
	"github.com/rampartnet/rampart/internal/validate"
	"github.com/rampartnet/rampart/sensor/capture"
)

// Config is the capture.dpdk section.
type Config struct {
	// Ports to capture from, each a PCI address or a vdev string.
	Ports []PortConfig `yaml:"ports"`
	// Workers are the cores of the poll-mode workers, one per receive
	// queue, in port order then queue order.
	Workers []int `yaml:"workers"`
	// MainCore runs EAL's main lcore and its control threads; it must not
	// be a worker core.
	MainCore      int  `yaml:"main_core"`
	Burst         int  `yaml:"burst"`          // packets per receive call
	RxDescriptors int  `yaml:"rx_descriptors"` // ring size per queue
	MempoolSize   int  `yaml:"mempool_size"`   // mbufs per port; 0 sizes it from the queues
	MempoolCache  int  `yaml:"mempool_cache"`  // per-worker mempool cache
	MemoryMB      int  `yaml:"memory_mb"`      // memory EAL reserves
	NoHuge        bool `yaml:"no_huge"`        // run without hugepages (slower; tests)
	// FilePrefix names DPDK's runtime files; unique per DPDK process.
	FilePrefix  string   `yaml:"file_prefix"`
	Promiscuous bool     `yaml:"promiscuous"`
	EALArgs     []string `yaml:"eal_args"` // extra EAL arguments, verbatim
}

// PortConfig is one port.
type PortConfig struct {
	Device string `yaml:"device"` // "0000:03:00.0" or "net_pcap0,rx_pcap=x.pcap"
	Queues int    `yaml:"queues"`
}

// DefaultConfig has no ports: the operator names them.
func DefaultConfig() Config {
	return Config{
		Workers:       nil,
		MainCore:      0,
		Burst:         64,
		RxDescriptors: 1024,
		MempoolCache:  256,
		MemoryMB:      1024,
		FilePrefix:    "rampart",
		Promiscuous:   true,
	}
}

// Hooks for tests: the machine's cores and PCI devices.
var (
	allowedCores = capture.AllowedCores
	pciPresent   = func(addr string) bool {
		_, err := os.Stat(filepath.Join("/sys/bus/pci/devices", addr))
		return err == nil
	}
)

// ealOwned are EAL flags the config sets itself; eal_args must not repeat them.
var ealOwned = map[string]string{
	"--file-prefix": "file_prefix", "-m": "memory_mb", "--socket-mem": "memory_mb", "--no-huge": "no_huge",
	"--huge-unlink": "no_huge", "-l": "workers and main_core", "-c": "workers and main_core",
	"--lcores": "workers and main_core", "--main-lcore": "main_core", "--vdev": "ports",
	"-a": "ports", "--allow": "ports", "-b": "ports", "--block": "ports", "--no-pci": "ports",
	"--proc-type": "file_prefix", "--in-memory": "no_huge",
}

// Validate reports every impossible setting before EAL starts.
func (c *Config) Validate(p validate.Path) {
	totalQueues := c.validatePorts(p)
	c.validateCores(p, totalQueues)
	validate.Range(p, "burst", c.Burst, 1, dpdk.MaxBurst)
	if d := c.RxDescriptors; d < 64 || d > 16384 || d&(d-1) != 0 {
		p.Fieldf("rx_descriptors", "must be a power of two between 64 and 16384, got %d", d)
	}
	validate.Range(p, "mempool_cache", c.MempoolCache, 0, 512)
	if c.MempoolSize != 0 {
		for i, port := range c.Ports {
			if need := dpdk.MempoolMin(port.Queues, c.RxDescriptors, c.Burst); c.MempoolSize < need && port.Queues > 0 {
				p.Fieldf("mempool_size", "%d mbufs cannot fill port %d's %d queues of %d descriptors plus a burst each: need >= %d (or 0 to size it)",
					c.MempoolSize, i, port.Queues, c.RxDescriptors, need)
				break
			}
		}
	}
	if need := c.memoryNeedMB(); c.MemoryMB < need {
		p.Fieldf("memory_mb", "must be >= %d for the mempools of these ports, got %d", need, c.MemoryMB)
	}
	switch {
	case c.FilePrefix == "":
		p.Fieldf("file_prefix", "must not be empty (two DPDK processes with the same prefix collide)")
	case strings.ContainsAny(c.FilePrefix, "/ \t"):
		p.Fieldf("file_prefix", "must not contain '/' or spaces, got %q", c.FilePrefix)
	}
	for i, a := range c.EALArgs {
		flag, _, _ := strings.Cut(a, "=")
		if key, ok := ealOwned[flag]; ok {
			p.At("eal_args").Index(i).Errorf("%q is set from %s; use that key", a, key)
		}
	}
}

func (c *Config) validatePorts(p validate.Path) int {
	if len(c.Ports) == 0 {
		p.Fieldf("ports", "at least one port is required")
	}
	seen := map[string]int{}
	total := 0
	for i, port := range c.Ports {
		pp := p.At("ports").Index(i)
		name := dpdk.DeviceName(port.Device)
		switch {
		case port.Device == "":
			pp.Fieldf("device", "must be a PCI address or a vdev string, got \"\"")
		case dpdk.IsPCIAddress(name):
			if !pciPresent(name) {
				pp.Fieldf("device", "PCI device %q does not exist on this machine", port.Device)
			}
		case !strings.HasPrefix(name, "net_") || len(name) <= len("net_"):
			pp.Fieldf("device", "must be a PCI address (0000:03:00.0) or a vdev string (net_pcap0,rx_pcap=FILE), got %q", port.Device)
		}
		if j, dup := seen[name]; dup && port.Device != "" {
			pp.Fieldf("device", "%q is also ports[%d]", name, j)
		}
		seen[name] = i
		validate.Range(pp, "queues", port.Queues, 1, dpdk.MaxQueueStats)
		total += max(port.Queues, 0)
	}
	return total
}

func (c *Config) validateCores(p validate.Path, totalQueues int) {
	cores, err := allowedCores()
	if err != nil {
		p.Fieldf("workers", "cannot read the CPU affinity mask: %v", err)
		return
	}
	allowed := map[int]bool{}
	for _, core := range cores {
		allowed[core] = true
	}
	if len(c.Workers) != totalQueues {
		p.Fieldf("workers", "has %d cores for %d receive queues; give one core per queue", len(c.Workers), totalQueues)
	}
	if len(c.Workers) > len(cores)-1 {
		p.Fieldf("workers", "has %d cores but the process may use only %d cores %v, one of them main_core", len(c.Workers), len(cores), cores)
	}
	if !allowed[c.MainCore] {
		p.Fieldf("main_core", "core %d is not in the process's CPU affinity mask %v", c.MainCore, cores)
	}
	seen := map[int]int{}
	for i, core := range c.Workers {
		wp := p.At("workers").Index(i)
		switch {
		case !allowed[core]:
			wp.Errorf("core %d is not in the process's CPU affinity mask %v", core, cores)
		case core == c.MainCore:
			wp.Errorf("core %d is main_core, where EAL's control threads run", core)
		}
		if j, dup := seen[core]; dup {
			wp.Errorf("core %d is also workers[%d]", core, j)
		}
		seen[core] = i
	}
}

// memoryNeedMB estimates EAL memory for the mempools: mbufs of ~2.5 KB
// (2176 bytes of data room plus headers) and 64 MB for EAL itself.
func (c *Config) memoryNeedMB() int {
	const mbufBytes = 2560
	total := 0
	for _, port := range c.Ports {
		if port.Queues <= 0 {
			continue
		}
		n := c.MempoolSize
		if n == 0 {
			n = dpdk.MempoolSizeFor(port.Queues, c.RxDescriptors, c.Burst, c.MempoolCache)
		}
		total += n
	}
	return 64 + (total*mbufBytes+(1<<20)-1)>>20
}

// ealOptions turns the config into EAL's options. EAL gets the worker
// cores as lcores too, so that its control threads stay on main_core.
func (c *Config) ealOptions() dpdk.EALOptions {
	o := dpdk.EALOptions{
		MemoryMB: c.MemoryMB, NoHuge: c.NoHuge, FilePrefix: c.FilePrefix,
		Extra: c.EALArgs,
	}
	lcores := []string{fmt.Sprintf("0@%d", c.MainCore)}
	for i, core := range c.Workers {
		lcores = append(lcores, fmt.Sprintf("%d@%d", i+1, core))
	}
	o.Lcores = strings.Join(lcores, ",")
	for _, port := range c.Ports {
		if dpdk.IsPCIAddress(dpdk.DeviceName(port.Device)) {
			o.PCIAllow = append(o.PCIAllow, port.Device)
		} else {
			o.VDevs = append(o.VDevs, port.Device)
		}
	}
	return o
}
