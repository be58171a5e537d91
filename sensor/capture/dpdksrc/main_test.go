//go:build !nodpdk

package dpdksrc

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/rampartnet/rampart/dpdk/dpdktest"
)

// One EAL per test binary, started through the Source under test.
var (
	testSrc    *Source
	testPrefix = fmt.Sprintf("rampart-dpdksrc-test-%d", os.Getpid())
	pcapQueues = [][][]byte{dpdktest.MixedFrames(250), dpdktest.MixedFrames(90)}
)

const childEnv = "RAMPART_DPDKSRC_CHILD"

// testConfig has net_pcap0 with two queues (one pcap file each) and
// net_null0 with one. Workers share core 1 or 0: the machine may have two
// cores, so tests bypass Validate's one-core-per-worker rule.
func testConfig(dir, prefix string) Config {
	cfg := DefaultConfig()
	cfg.NoHuge, cfg.MemoryMB, cfg.FilePrefix = true, 256, prefix
	cfg.RxDescriptors = 512
	cfg.Ports = []PortConfig{
		{Device: "net_pcap0,rx_pcap=" + filepath.Join(dir, "a.pcap") + ",rx_pcap=" + filepath.Join(dir, "b.pcap"), Queues: 2},
		{Device: "net_null0", Queues: 1},
	}
	core := 1
	if cores, _ := allowedCores(); len(cores) < 2 {
		core = cores[0]
	}
	cfg.Workers = []int{core, core, core}
	return cfg
}

func TestMain(m *testing.M) {
	if c := os.Getenv(childEnv); c != "" {
		os.Exit(runChild(c))
	}
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "rampart-dpdksrc-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	for i, name := range []string{"a.pcap", "b.pcap"} {
		if err := dpdktest.WritePcap(filepath.Join(dir, name), pcapQueues[i]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	defer os.RemoveAll(filepath.Join("/var/run/dpdk", testPrefix))
	testSrc = &Source{cfg: testConfig(dir, testPrefix)}
	if err := testSrc.Start(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	if err := testSrc.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop:", err)
		return 1
	}
	return code
}
