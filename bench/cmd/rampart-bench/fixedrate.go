package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rampartnet/rampart/bench/harness"
)

var rxMissed = regexp.MustCompile(`RX-packets:\s+(\d+)\s+RX-missed:\s+(\d+)`)

// offered replays pcap through a veth pair at pps into either testpmd
// rxonly or the sensor (net_af_packet on the outside end), and returns
// sent, received and missed (the port's imissed: the kernel socket's
// drops).
func (e *env) offered(v veth, variant, tag, pcap string, pps, loops int, sensorExtra string) (map[string]float64, error) {
	limit := time.Duration(loops*16384/pps+30) * time.Second
	var sent, received, missed float64
	backlog0 := backlogDrops()
	if variant == "testpmd" {
		p, err := start(filepath.Join(e.work, "testpmd-"+tag+".log"), nil, "dpdk-testpmd",
			append(append([]string{fmt.Sprintf("--lcores=0@%d,1@%d", mainCore, workerCore)}, e.memArgs(512)...),
				"--no-pci", "--no-telemetry", "--file-prefix="+ealPrefix("rbtp-"+tag), "--vdev="+v.vdev(), "--",
				"--forward-mode=rxonly", "--nb-cores=1", "--burst=64", "--total-num-mbufs=16384", "--stats-period=1")...)
		if err != nil {
			return nil, err
		}
		defer p.stop(syscall.SIGINT, 5*time.Second)
		if _, ok := waitFor(20*time.Second, 100*time.Millisecond, func() bool { return rxMissed.MatchString(p.Output()) }); !ok {
			return nil, fmt.Errorf("testpmd %s: no port statistics within 20s; log %s", tag, p.log)
		}
		if sent, err = e.tcpreplayRun(v, tag, pcap, pps, loops, limit); err != nil {
			return nil, err
		}
		time.Sleep(2 * time.Second) // two statistics periods
		all := rxMissed.FindAllStringSubmatch(p.Output(), -1)
		last := all[len(all)-1]
		received, _ = strconv.ParseFloat(last[1], 64)
		missed, _ = strconv.ParseFloat(last[2], 64)
	} else {
		port := freePort()
		s, err := e.startSensor(tag, e.sensorDPDK(tag, v.vdev(), captureNetworks, port, 512, 8192, sensorExtra), fmt.Sprintf("127.0.0.1:%d", port), nil)
		if err != nil {
			return nil, err
		}
		defer s.stop()
		before, err := s.status()
		if err != nil {
			return nil, err
		}
		if sent, err = e.tcpreplayRun(v, tag, pcap, pps, loops, limit); err != nil {
			return nil, err
		}
		time.Sleep(time.Second)
		after, err := s.status()
		if err != nil {
			return nil, err
		}
		received = float64(workerPackets(after) - workerPackets(before))
		missed = float64(queueTotals(after).Missed - queueTotals(before).Missed)
	}
	lost := 0.0
	if sent > 0 {
		lost = max(0, sent-received) / sent * 100
	}
	return map[string]float64{"sent": sent, "received": received, "imissed": missed, "lost_pct": lost,
		"kernel_backlog_drops": float64(backlogDrops() - backlog0)}, nil
}

// backlogDrops is the kernel's count of frames dropped because a CPU's
// input backlog was full (/proc/net/softnet_stat, second column, all
// CPUs): where a veth's frames are lost when softirqs are starved.
func backlogDrops() uint64 {
	b, err := os.ReadFile("/proc/net/softnet_stat")
	if err != nil {
		return 0
	}
	var n uint64
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 1 {
			x, _ := strconv.ParseUint(f[1], 16, 64)
			n += x
		}
	}
	return n
}

// fixedRateDrops adds scenario 2's drop measurement at a fixed offered
// rate: tcpreplay on a veth pair, testpmd rxonly against the sensor.
func fixedRateDrops(e *env, r *harness.Result) {
	const pps = 100000
	secs, pairs := pick(e, 3, 10), pick(e, 2, 3)
	v, err := newVeth()
	if err != nil {
		r.Notes = append(r.Notes, "fixed-rate drops not measured: "+err.Error())
		return
	}
	defer cleanupNetns()
	pcap := filepath.Join(e.work, "veth-64.pcap")
	if err := writeTrace(pcap, 16384, 64); err != nil {
		r.Notes = append(r.Notes, "fixed-rate drops not measured: "+err.Error())
		return
	}
	loops := max(1, pps*secs/16384)
	r.Settings["fixed_rate"] = fmt.Sprintf("tcpreplay --pps=%d of %d × 16384 64-byte frames on a veth pair, received through net_af_packet", pps, loops)
	e.pairs(r, []group{{"veth-af_packet", 64}}, pairs, []string{"testpmd", "rampart"}, func(g group, variant, tag string) (map[string]float64, error) {
		return e.offered(v, variant, tag, pcap, pps, loops, "")
	})
}
