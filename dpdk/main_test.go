//go:build !nodpdk

package dpdk

import (
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/rampartnet/rampart/dpdk/dpdktest"
)

// One EAL per test binary: TestMain starts it with these devices.
var (
	testPrefix = fmt.Sprintf("rampart-dpdk-test-%d", os.Getpid())
	testFrames = dpdktest.MixedFrames(300) // one.pcap
	queueA     = dpdktest.MixedFrames(70)  // a.pcap
	queueB     = dpdktest.MixedFrames(130) // b.pcap
	testDir    string
)

const (
	pcapBad  = "net_pcap0" // one queue; setups that fail before configure keep it
	childEnv = "RAMPART_DPDK_CHILD"
)

var devSeq atomic.Int32

// freshPort hotplugs a new vdev of driver with args and opens it.
func freshPort(t *testing.T, driver, args string, cfg PortConfig) *Port {
	t.Helper()
	name := fmt.Sprintf("%s%d", driver, 100+devSeq.Add(1))
	if err := ProbeDevice(name + args); err != nil {
		t.Fatal(err)
	}
	p, err := OpenPort(name, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func pcapArgs(files ...string) string {
	s := ""
	for _, f := range files {
		s += ",rx_pcap=" + filepath.Join(testDir, f)
	}
	return s
}

func TestMain(m *testing.M) {
	if c := os.Getenv(childEnv); c != "" {
		os.Exit(runChild(c))
	}
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	var err error
	if testDir, err = os.MkdirTemp("", "rampart-dpdk-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(testDir)
	files := map[string][][]byte{"one.pcap": testFrames, "a.pcap": queueA, "b.pcap": queueB}
	for name, frames := range files {
		if err := dpdktest.WritePcap(filepath.Join(testDir, name), frames); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	// Only pcapBad is probed at init; tests that consume a device probe a
	// fresh one (freshPort), so that -count=N works.
	err = InitEAL(EALOptions{
		NoHuge: true, MemoryMB: 256, FilePrefix: testPrefix,
		VDevs: []string{pcapBad + ",rx_pcap=" + filepath.Join(testDir, "a.pcap")},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(filepath.Join("/var/run/dpdk", testPrefix))
	code := m.Run()
	if err := CleanupEAL(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return code
}
