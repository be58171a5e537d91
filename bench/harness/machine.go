package harness

import (
	"bufio"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
)

// ReadMachine describes this machine; hugepages says whether the scenario
// runs on them.
func ReadMachine(hugepages bool) Machine {
	m := Machine{Cores: runtime.NumCPU(), Hugepages: hugepages}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			n, _ := strconv.Atoi(f[1])
			switch f[0] {
			case "MemTotal:":
				m.MemTotalMB = n / 1024
			case "HugePages_Total:":
				m.HugepagesTotal = n
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	m.LoadAvg = LoadAvg()
	return m
}

// LoadAvg is /proc/loadavg's three averages (zeros if unreadable).
func LoadAvg() [3]float64 {
	var la [3]float64
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		f := strings.Fields(string(b))
		for i := 0; i < 3 && i < len(f); i++ {
			la[i], _ = strconv.ParseFloat(f[i], 64)
		}
	}
	return la
}

// ReadVersions asks git, go, pkg-config and bird; what is missing stays
// empty.
func ReadVersions() Versions {
	v := Versions{
		Rampart: firstLine("git", "describe", "--tags", "--always", "--dirty"),
		Go:      runtime.Version(),
		DPDK:    firstLine("pkg-config", "--modversion", "libdpdk"),
	}
	// bird prints "BIRD version 2.0.12" on stderr.
	if out, err := exec.Command("bird", "--version").CombinedOutput(); err == nil || len(out) > 0 {
		v.BIRD = strings.TrimPrefix(strings.TrimSpace(string(out)), "BIRD version ")
	}
	return v
}

func firstLine(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return ""
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}
