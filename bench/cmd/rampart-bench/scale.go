package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rampartnet/rampart/bench/harness"
)

// rssMB is a process's resident memory.
// settledRSS starts the sensor, waits (bounded) until its host count
// reaches want or stops growing for three seconds, and returns its
// resident memory and host count.
func (e *env) settledRSS(tag, cfg, apiAddr string, want int) (float64, float64, error) {
	s, err := e.startSensor(tag, cfg, apiAddr, nil)
	if err != nil {
		return 0, 0, err
	}
	defer s.stop()
	// With millions of hosts an aggregator tick takes seconds, and the count
	// stands still while one runs: wait longer before calling it settled.
	stillFor, limit := 3+want/(2<<20), 120+want/100_000
	last, still := -1, 0
	for i := 0; i < limit && still < stillFor; i++ {
		time.Sleep(time.Second)
		st, err := s.status()
		if err != nil {
			continue // busy with millions of hosts: ask again (bounded by the loop)
		}
		if st.Aggregator.Hosts >= want {
			last = st.Aggregator.Hosts
			break
		}
		if st.Aggregator.Hosts == last {
			still++
		} else {
			still = 0
		}
		last = st.Aggregator.Hosts
	}
	time.Sleep(2 * time.Second)
	return rssMB(s.p.cmd.Process.Pid), float64(last), nil
}

func rssMB(pid int) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// scenarioScale: throughput with the worker cores this machine allows,
// and the sensor's memory per tracked host.
func scenarioScale(e *env) (*harness.Result, error) {
	r := e.result("6-scale", "Scale: memory per tracked host (and worker cores)")
	sizes := pick(e, []int{65536, 1 << 20}, []int{65536, 1 << 20, 4 << 20, 16 << 20})
	// A whole /8 (16M hosts) took 14.8 GB of RSS when measured (2026-12-04):
	// leave it out where it cannot fit, and project it instead.
	if sizes[len(sizes)-1] == 16<<20 && r.Machine.MemTotalMB < 20<<10 {
		sizes = sizes[:len(sizes)-1]
	}
	r.Settings["source"] = "capture.source pcap (no DPDK, so no mbufs in the memory), a file of N 64-byte frames to N hosts of 10.0.0.0/8 replayed in a loop; reference: the same with a one-host file"
	r.Settings["memory"] = "VmRSS of `rampart sensor` once the aggregator tracks all N hosts (or its count stopped growing for 3 s plus 1 s per 2M hosts), minus the reference's; per host = difference / hosts"
	r.Settings["sizes"] = fmt.Sprint(sizes)
	one := filepath.Join(e.work, "hosts-1.pcap")
	if err := writeTrace(one, 1, 64); err != nil {
		return r, err
	}
	for _, n := range sizes {
		pcap := filepath.Join(e.work, fmt.Sprintf("hosts-%d.pcap", n))
		if err := writeTrace(pcap, n, 64); err != nil {
			return r, err
		}
		for _, variant := range []string{"one-host", "n-hosts"} {
			tag := fmt.Sprintf("mem%d-%s", n, variant)
			file := pcap
			if variant == "one-host" {
				file = one
			}
			port := freePort()
			cfg := fmt.Sprintf("sensor_id: bench\nnetworks: %s\napi: { listen: \"127.0.0.1:%d\" }\ncapture: { source: pcap, pcap: { files: [%q], loops: 0 } }\n%s",
				captureNetworks, port, file, hostsConfig(n))
			want := n
			if variant == "one-host" {
				want = 1
			}
			rss, hosts, err := e.settledRSS(tag, cfg, fmt.Sprintf("127.0.0.1:%d", port), want)
			e.sawLoad()
			if err != nil {
				r.Notes = append(r.Notes, fmt.Sprintf("%d hosts, %s: %v", n, variant, err))
				e.logf("memory %d %s: %v", n, variant, err)
				continue
			}
			e.logf("memory %d %s: %.0f MB RSS, %.0f hosts", n, variant, rss, hosts)
			r.Runs = append(r.Runs, harness.Run{Group: fmt.Sprintf("%s hosts", harness.Num(float64(n))), Variant: variant, Pair: 1,
				Metrics: map[string]float64{"rss_mb": rss, "hosts": hosts}})
		}
		os.Remove(pcap)
	}
	// Bytes per host from each size's pair.
	var perHost []harness.Run
	for i := 0; i+1 < len(r.Runs); i++ {
		a, b := r.Runs[i], r.Runs[i+1]
		if a.Group == b.Group && a.Variant == "one-host" && b.Variant == "n-hosts" && b.Metrics["hosts"] > a.Metrics["hosts"] {
			bpH := (b.Metrics["rss_mb"] - a.Metrics["rss_mb"]) * (1 << 20) / (b.Metrics["hosts"] - a.Metrics["hosts"])
			perHost = append(perHost, harness.Run{Group: a.Group, Variant: "per-host", Pair: 1, Metrics: map[string]float64{"bytes_per_host": bpH}})
			r.Headlines = append(r.Headlines, harness.Headline{Name: "sensor memory per tracked IPv4 host, " + a.Group, Value: fmt.Sprintf("%.0f B", bpH)})
		}
	}
	// The marginal cost between successive sizes: fixed structures that
	// the first hosts touch (flow cache, index pages) cancel out.
	var prev *harness.Run
	for i := range r.Runs {
		if run := r.Runs[i]; run.Variant == "n-hosts" {
			if prev != nil && run.Metrics["hosts"] > prev.Metrics["hosts"] {
				bpH := (run.Metrics["rss_mb"] - prev.Metrics["rss_mb"]) * (1 << 20) / (run.Metrics["hosts"] - prev.Metrics["hosts"])
				g := prev.Group + " → " + run.Group
				perHost = append(perHost, harness.Run{Group: g, Variant: "marginal", Pair: 1, Metrics: map[string]float64{"bytes_per_host": bpH}})
				r.Headlines = append(r.Headlines, harness.Headline{Name: "sensor memory per added IPv4 host, " + g, Value: fmt.Sprintf("%.0f B", bpH)})
			}
			prev = &r.Runs[i]
		}
	}
	r.Runs = append(r.Runs, perHost...)
	r.Summary = harness.Summarize(r.Runs, "")
	r.Notes = append(r.Notes,
		"RSS is what the operator pays: it includes the Go heap's headroom (GOGC=100) and structures sized by configuration that the first hosts touch (flow cache, aggregator tables), which is why the per-host figure at 64K hosts is the largest; the marginal row is the cost of each further host.",
		"Two worker cores cannot be measured on this 2-core machine: the DPDK configuration keeps main_core (EAL's control threads) off the workers, so at most one worker runs here. The one-worker numbers are scenario 2's.")
	// 16M hosts not measured: project them from the marginal cost.
	if len(perHost) > 0 && sizes[len(sizes)-1] < 16<<20 {
		if m := perHost[len(perHost)-1]; m.Variant == "marginal" {
			gb := m.Metrics["bytes_per_host"] * (16 << 20) / (1 << 30)
			r.Headlines = append(r.Headlines, harness.Headline{Name: "16M hosts, projected from the marginal cost (not measured)", Value: fmt.Sprintf("%.0f GB", gb)})
			r.Notes = append(r.Notes, fmt.Sprintf("16M hosts are not measured in this run: at the marginal %.0f B per host they need about %.0f GB (this machine: %d MiB). `make bench-full` measures 64K, 1M, 4M and, with 20 GiB of memory or more, 16M.",
				m.Metrics["bytes_per_host"], gb, r.Machine.MemTotalMB))
		}
	}
	return r, nil
}
