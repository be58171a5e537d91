package dpdksrc

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/rampartnet/rampart/dpdk"
	"github.com/rampartnet/rampart/internal/validate"
)

// fakeMachine makes Validate see cores 0-3 and one PCI device.
func fakeMachine(t *testing.T) {
	t.Helper()
	oldCores, oldPCI := allowedCores, pciPresent
	allowedCores = func() ([]int, error) { return []int{0, 1, 2, 3}, nil }
	pciPresent = func(addr string) bool { return addr == "0000:03:00.0" }
	t.Cleanup(func() { allowedCores, pciPresent = oldCores, oldPCI })
}

func goodConfig() Config {
	c := DefaultConfig()
	c.Ports = []PortConfig{{Device: "0000:03:00.0", Queues: 2}, {Device: "net_pcap0,rx_pcap=/x.pcap", Queues: 1}}
	c.Workers = []int{1, 2, 3}
	return c
}

func validationErrors(c Config) []string {
	p := validate.New().At("capture").At("dpdk")
	c.Validate(p)
	var errs validate.Errors
	if !errors.As(p.Err(), &errs) {
		return nil
	}
	out := make([]string, len(errs))
	for i, e := range errs {
		out[i] = e.Error()
	}
	return out
}

func TestValidate(t *testing.T) {
	fakeMachine(t)
	cases := []struct {
		name   string
		change func(c *Config)
		want   []string
	}{
		{"good", func(c *Config) {}, nil},
		{"no ports", func(c *Config) { c.Ports = nil; c.Workers = nil }, []string{
			"capture.dpdk.ports: at least one port is required"}},
		{"zero queues", func(c *Config) { c.Ports[1].Queues = 0; c.Workers = []int{1, 2} }, []string{
			"capture.dpdk.ports[1].queues: must be between 1 and 16, got 0"}},
		{"more workers than cores", func(c *Config) { c.Ports[0].Queues = 3; c.Workers = []int{1, 2, 3, 4} }, []string{
			"capture.dpdk.workers: has 4 cores but the process may use only 4 cores [0 1 2 3], one of them main_core",
			"capture.dpdk.workers[3]: core 4 is not in the process's CPU affinity mask [0 1 2 3]"}},
		{"workers != queues", func(c *Config) { c.Workers = []int{1, 2} }, []string{
			"capture.dpdk.workers: has 2 cores for 3 receive queues; give one core per queue"}},
		{"worker on main core, duplicate", func(c *Config) { c.Workers = []int{0, 2, 2} }, []string{
			"capture.dpdk.workers[0]: core 0 is main_core, where EAL's control threads run",
			"capture.dpdk.workers[2]: core 2 is also workers[1]"}},
		{"main core outside mask", func(c *Config) { c.MainCore = 9 }, []string{
			"capture.dpdk.main_core: core 9 is not in the process's CPU affinity mask [0 1 2 3]"}},
		{"unknown and duplicate ports", func(c *Config) {
			c.Ports = []PortConfig{{Device: "0000:04:00.0", Queues: 1}, {Device: "eth0", Queues: 1}, {Device: "03:00.0", Queues: 1}}
		}, []string{
			`capture.dpdk.ports[0].device: PCI device "0000:04:00.0" does not exist on this machine`,
			`capture.dpdk.ports[1].device: must be a PCI address (0000:03:00.0) or a vdev string (net_pcap0,rx_pcap=FILE), got "eth0"`}},
		{"duplicate vdev", func(c *Config) {
			c.Ports = []PortConfig{{Device: "net_null0", Queues: 1}, {Device: "net_null0,size=64", Queues: 2}}
		}, []string{`capture.dpdk.ports[1].device: "net_null0" is also ports[0]`}},
		{"burst and ring", func(c *Config) { c.Burst = 513; c.RxDescriptors = 1000 }, []string{
			"capture.dpdk.burst: must be between 1 and 512, got 513",
			"capture.dpdk.rx_descriptors: must be a power of two between 64 and 16384, got 1000"}},
		{"zero burst", func(c *Config) { c.Burst = 0 }, []string{"capture.dpdk.burst: must be between 1 and 512, got 0"}},
		{"mempool too small", func(c *Config) { c.MempoolSize = 1000 }, []string{
			"capture.dpdk.mempool_size: 1000 mbufs cannot fill port 0's 2 queues of 1024 descriptors plus a burst each: need >= 2176 (or 0 to size it)"}},
		{"memory too small", func(c *Config) { c.MemoryMB = 32 }, []string{"capture.dpdk.memory_mb: must be >= 79 for the mempools of these ports, got 32"}},
		{"file prefix", func(c *Config) { c.FilePrefix = "a/b" }, []string{`capture.dpdk.file_prefix: must not contain '/' or spaces, got "a/b"`}},
		{"empty file prefix", func(c *Config) { c.FilePrefix = "" }, []string{"capture.dpdk.file_prefix: must not be empty (two DPDK processes with the same prefix collide)"}},
		{"eal args repeat owned flags", func(c *Config) { c.EALArgs = []string{"--log-level=lib.eal:debug", "--file-prefix=x", "--no-huge"} }, []string{
			`capture.dpdk.eal_args[1]: "--file-prefix=x" is set from file_prefix; use that key`,
			`capture.dpdk.eal_args[2]: "--no-huge" is set from no_huge; use that key`}},
	}
	for _, c := range cases {
		cfg := goodConfig()
		c.change(&cfg)
		got := validationErrors(cfg)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got  %q\n want %q", c.name, got, c.want)
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	fakeMachine(t)
	if _, err := New(DefaultConfig()); err == nil || !strings.Contains(err.Error(), "at least one port") {
		t.Errorf("New(DefaultConfig()) = %v, want the missing ports named", err)
	}
	if _, err := New(goodConfig()); err != nil {
		t.Errorf("New(goodConfig()) = %v", err)
	}
}

func TestEALOptions(t *testing.T) {
	cfg := goodConfig()
	cfg.EALArgs = []string{"--log-level=8"}
	got := cfg.ealOptions()
	want := dpdk.EALOptions{
		Lcores: "0@0,1@1,2@2,3@3", MemoryMB: 1024, FilePrefix: "rampart",
		PCIAllow: []string{"0000:03:00.0"}, VDevs: []string{"net_pcap0,rx_pcap=/x.pcap"},
		Extra: []string{"--log-level=8"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ealOptions() = %+v, want %+v", got, want)
	}
}
