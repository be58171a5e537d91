//go:build !nodpdk

package dpdk

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// EAL initialises once per process, so its failures are tested in child
// processes: the test binary re-executed with childEnv naming the case.
// Each case gets prefix as its own file prefix, except same-prefix, which
// is handed the parent's.
var childCases = map[string]func(prefix string) error{
	"ok": func(prefix string) error {
		if err := InitEAL(EALOptions{NoHuge: true, MemoryMB: 64, FilePrefix: prefix}); err != nil {
			return err
		}
		return CleanupEAL()
	},
	"bad-arg": func(prefix string) error {
		return InitEAL(EALOptions{NoHuge: true, MemoryMB: 64, FilePrefix: prefix, Extra: []string{"--bogus-flag"}})
	},
	"same-prefix": func(prefix string) error {
		return InitEAL(EALOptions{NoHuge: true, MemoryMB: 64, FilePrefix: prefix})
	},
	"no-hugepages": func(prefix string) error {
		return InitEAL(EALOptions{MemoryMB: 64, FilePrefix: prefix})
	},
	"bad-vdev": func(prefix string) error {
		return InitEAL(EALOptions{NoHuge: true, MemoryMB: 64, FilePrefix: prefix, VDevs: []string{"net_bogus0,x=1"}})
	},
	"missing-pci": func(prefix string) error {
		if err := InitEAL(EALOptions{NoHuge: true, MemoryMB: 64, FilePrefix: prefix, PCIAllow: []string{"0000:99:1f.7"}}); err != nil {
			return fmt.Errorf("init: %w", err)
		}
		defer CleanupEAL()
		_, err := OpenPort("0000:99:1f.7", PortConfig{RxQueues: 1})
		return err
	},
}

func runChild(name string) int {
	prefix := os.Getenv("RAMPART_DPDK_PREFIX")
	if name != "same-prefix" {
		prefix += "-" + name
		defer os.RemoveAll(filepath.Join("/var/run/dpdk", prefix))
	}
	err := childCases[name](prefix)
	if err != nil {
		fmt.Printf("\nERR: %v\n", err)
		return 3
	}
	fmt.Printf("\nOK\n")
	return 0
}

func runChildCase(t *testing.T, name string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+name, "RAMPART_DPDK_PREFIX="+testPrefix)
	out, _ := cmd.CombinedOutput()
	code := cmd.ProcessState.ExitCode()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1], code
}

func TestEALFailuresInChildProcess(t *testing.T) {
	hugepages := checkHugepages("/sys/kernel/mm/hugepages", "/proc/mounts") == nil
	cases := []struct {
		name     string
		wantCode int
		want     []string
		skip     bool
	}{
		{"ok", 0, []string{"OK"}, false},
		{"bad-arg", 3, []string{"invalid EAL arguments", "--bogus-flag"}, false},
		{"same-prefix", 3, []string{fmt.Sprintf("file prefix %q is in use by another DPDK process", testPrefix)}, false},
		{"no-hugepages", 3, []string{"no free hugepages", "no_huge"}, hugepages},
		{"bad-vdev", 3, []string{"names no known driver", "net_bogus0"}, false},
		{"missing-pci", 3, []string{`port "0000:99:1f.7" not found`}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.skip {
				t.Skip("this machine has hugepages")
			}
			t.Parallel()
			last, code := runChildCase(t, c.name)
			t.Logf("child %s: exit %d: %s", c.name, code, last)
			if code != c.wantCode {
				t.Errorf("exit code %d, want %d; last line %q", code, c.wantCode, last)
			}
			for _, w := range c.want {
				if !strings.Contains(last, w) {
					t.Errorf("got %q, want it to contain %q", last, w)
				}
			}
		})
	}
}
