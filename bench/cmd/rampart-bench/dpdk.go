package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/rampartnet/rampart/api"
	"github.com/rampartnet/rampart/bench/harness"
	"github.com/rampartnet/rampart/dpdk/dpdktest"
	"github.com/rampartnet/rampart/sensor/pcapfile"
)

// The cores: EAL main lcores and generators on 0, the measured worker on 1
// (a generator forwards on core 0, crosswise, so the two never share).
const mainCore, workerCore = 0, 1

// ealPrefixes are the EAL file prefixes this harness gave out: their
// runtime directories are removed at the end, however it ends.
var (
	ealMu       sync.Mutex
	ealPrefixes []string
)

func ealPrefix(p string) string {
	ealMu.Lock()
	defer ealMu.Unlock()
	ealPrefixes = append(ealPrefixes, p)
	return p
}

func removeEALDirs() {
	ealMu.Lock()
	defer ealMu.Unlock()
	for _, p := range ealPrefixes {
		os.RemoveAll("/var/run/dpdk/" + p)
	}
	ealPrefixes = nil
}

// mbufs: net_pcap's infinite_rx holds the whole pcap in the pool.
const pcapMbufs = 32767

// memArgs are EAL's memory arguments.
func (e *env) memArgs(mb int) []string {
	if e.huge {
		return []string{"--huge-unlink", "-m", strconv.Itoa(mb)}
	}
	return []string{"--no-huge", "-m", strconv.Itoa(mb)}
}

// imix is the simple IMIX: 7 × 64, 4 × 570, 1 × 1518 bytes (mean 353.8).
var imix = []int{64, 64, 64, 64, 64, 64, 64, 570, 570, 570, 570, 1518}

// writeTrace writes n frames to n hosts of 10.0.0.0/8 (frame i to host
// 10.0.0.0 + i), all of size, or cycling through imix for size 0, as a
// classic pcap with microsecond timestamps one apart from now (a live
// sensor on a pcap source runs on packet time: it must be near the wall
// clock).
func writeTrace(path string, hosts, size int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	pw, err := pcapfile.NewWriter(w, pcapfile.WriterOptions{Snaplen: 65535})
	if err != nil {
		f.Close()
		return err
	}
	t0 := time.Now().UnixMicro()
	for i := 0; i < hosts; i++ {
		s := size
		if size == 0 {
			s = imix[i%len(imix)]
		}
		fr := hostFrame(s, i)
		if err := pw.WritePacket((t0+int64(i))*1000, uint32(len(fr)), fr); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// hostFrame is dpdktest.UDPFrame to host 10.0.0.0 + i (beyond the /16 it
// stays in).
func hostFrame(size, i int) []byte {
	b := dpdktest.UDPFrame(size, i, uint32(i))
	ip := b[14:34]
	ip[17], ip[18], ip[19] = byte(i>>16), byte(i>>8), byte(i)
	ip[10], ip[11] = 0, 0
	var sum uint32
	for j := 0; j < 20; j += 2 {
		sum += uint32(ip[j])<<8 | uint32(ip[j+1])
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	ip[10], ip[11] = byte(^uint16(sum)>>8), byte(^uint16(sum))
	return b
}

var rxPPS = regexp.MustCompile(`Rx-pps:\s+(\d+)`)

// testpmdRx runs dpdk-testpmd --forward-mode=rxonly on vdev for warm-up
// plus secs seconds: the median of its per-second Rx-pps, in Mpps.
func (e *env) testpmdRx(tag, vdev string, secs int) (float64, error) {
	p, err := start(filepath.Join(e.work, "testpmd-"+tag+".log"), nil, "dpdk-testpmd",
		append(append([]string{fmt.Sprintf("--lcores=0@%d,1@%d", mainCore, workerCore)}, e.memArgs(512)...),
			"--no-pci", "--no-telemetry", "--file-prefix="+ealPrefix("rbtp-"+tag), "--vdev="+vdev, "--",
			"--forward-mode=rxonly", "--nb-cores=1", "--burst=64", fmt.Sprintf("--total-num-mbufs=%d", pcapMbufs),
			"--stats-period=1")...)
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll("/var/run/dpdk/rbtp-" + tag)
	deadline := time.Now().Add(time.Duration(secs+15) * time.Second)
	var rates []float64
	for time.Now().Before(deadline) && len(rates) < secs+2 {
		time.Sleep(250 * time.Millisecond)
		rates = rates[:0]
		for _, m := range rxPPS.FindAllStringSubmatch(p.Output(), -1) {
			x, _ := strconv.ParseFloat(m[1], 64)
			rates = append(rates, x/1e6)
		}
		if p.wait(0) {
			break
		}
	}
	p.stop(syscall.SIGINT, 5*time.Second)
	if len(rates) < 3 {
		return 0, fmt.Errorf("testpmd rxonly %s: %d rate lines; log %s", tag, len(rates), p.log)
	}
	// The first two seconds are start-up and warm-up.
	rates = rates[2:min(len(rates), secs+2)]
	return harness.Median(rates), nil
}

// rxbenchResult is what bench/capture/rxbench prints.
type rxbenchResult struct {
	Mpps    float64 `json:"mpps"`
	IMissed uint64  `json:"imissed"`
}

// rxbenchRx runs Rampart's receive-and-free loop (bench/capture/rxbench)
// in mode (burst or capture) on vdev: the median of its per-second rates,
// in Mpps.
func (e *env) rxbenchRx(tag, vdev, mode string, secs int) (float64, error) {
	p, err := start(filepath.Join(e.work, "rxbench-"+tag+".log"), nil, e.rxbench,
		"-vdev", vdev, fmt.Sprintf("-no-huge=%v", !e.huge), "-memory", "512", "-mbufs", strconv.Itoa(pcapMbufs),
		"-main-core", strconv.Itoa(mainCore), "-worker-core", strconv.Itoa(workerCore), "-seconds", strconv.Itoa(secs),
		"-mode", mode, "-file-prefix", ealPrefix("rbrx-"+tag))
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll("/var/run/dpdk/rbrx-" + tag)
	if !p.wait(time.Duration(secs+30) * time.Second) {
		p.stop(syscall.SIGINT, 5*time.Second)
		return 0, fmt.Errorf("rxbench %s: no result within %ds; log %s", tag, secs+30, p.log)
	}
	p.stop(syscall.SIGINT, time.Second)
	var r rxbenchResult
	for _, line := range splitLines(p.Output()) {
		if json.Unmarshal([]byte(line), &r) == nil && r.Mpps > 0 {
			return r.Mpps, nil
		}
	}
	return 0, fmt.Errorf("rxbench %s: no result; log %s", tag, p.log)
}

// generator is a dpdk-testpmd on the server side of a memif socket,
// forwarding on core 0: mode txonly (one flow) or flowgen (flows).
func (e *env) generator(tag, sock, mode string, size, flows int) (*proc, error) {
	args := append(append([]string{fmt.Sprintf("--lcores=0@%d,1@%d", workerCore, mainCore)}, e.memArgs(512)...),
		"--no-pci", "--no-telemetry", "--file-prefix="+ealPrefix("rbgen-"+tag), "--vdev=net_memif0,role=server,socket="+sock, "--",
		"--forward-mode="+mode, fmt.Sprintf("--txpkts=%d", size), "--nb-cores=1", "--total-num-mbufs=16384", "--burst=64",
		"--stats-period=1")
	if mode == "flowgen" {
		args = append(args, fmt.Sprintf("--flowgen-flows=%d", flows))
	}
	p, err := start(filepath.Join(e.work, "gen-"+tag+".log"), nil, "dpdk-testpmd", args...)
	if err != nil {
		return nil, err
	}
	time.Sleep(1500 * time.Millisecond) // EAL start-up before the client connects
	return p, nil
}

func (e *env) stopGenerator(p *proc, tag string) {
	p.stop(syscall.SIGINT, 3*time.Second)
	os.RemoveAll("/var/run/dpdk/rbgen-" + tag)
}

// freePort is a free TCP port on 127.0.0.1.
func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 18179
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// sensorDPDK is the sensor's configuration for one DPDK port on one
// pinned worker, plus extra YAML sections.
func (e *env) sensorDPDK(tag, vdev, networks string, apiPort, memMB, mbufs int, extra string) string {
	return fmt.Sprintf(`sensor_id: bench
networks: %s
api: { listen: "127.0.0.1:%d" }
capture:
  source: dpdk
  dpdk:
    ports: [{device: %q, queues: 1}]
    workers: [%d]
    main_core: %d
    burst: 64
    no_huge: %v
    memory_mb: %d
    mempool_size: %d
    file_prefix: %s
%s`, networks, apiPort, vdev, workerCore, mainCore, !e.huge, memMB, mbufs, ealPrefix("rbs-"+tag), extra)
}

// runningSensor is a `rampart sensor` with its API address.
type runningSensor struct {
	p   *proc
	api string
	tag string
}

// startSensor writes cfg and starts the sensor with JSON logs; lines gets
// its log lines if not nil. It waits (bounded) for the API to answer.
func (e *env) startSensor(tag, cfg, apiAddr string, lines chan<- string, wrap ...string) (*runningSensor, error) {
	path := filepath.Join(e.work, "sensor-"+tag+".yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	args := append(append([]string{}, wrap...), e.rampart, "sensor", "--config", path, "--log-format", "json")
	p, err := start(filepath.Join(e.work, "sensor-"+tag+".log"), lines, args[0], args[1:]...)
	if err != nil {
		return nil, err
	}
	s := &runningSensor{p: p, api: apiAddr, tag: tag}
	if apiAddr == "" {
		return s, nil
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if p.wait(0) {
			return nil, fmt.Errorf("sensor %s exited: %v; log %s:\n%s", tag, p.err, p.log, tail(p.Output(), 2000))
		}
		if _, err := s.status(); err == nil {
			return s, nil
		}
	}
	s.stop()
	return nil, fmt.Errorf("sensor %s: API %s not answering within 30s; log %s", tag, apiAddr, p.log)
}

func (s *runningSensor) stop() {
	s.p.stop(syscall.SIGINT, 15*time.Second)
	os.RemoveAll("/var/run/dpdk/rbs-" + s.tag)
}

var httpc = &http.Client{Timeout: 10 * time.Second}

func (s *runningSensor) status() (api.Status, error) {
	var st api.Status
	resp, err := httpc.Get("http://" + s.api + "/api/v1/status")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("status: HTTP %d", resp.StatusCode)
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// sample is what the sensor received over secs seconds after warmup,
// from the port's own counters (read live; the workers' counts reach the
// API only with their tick batches, late when the aggregator is behind):
// the mean rate in Mpps, each second's rate, and the receive drops
// (imissed) and mbuf shortfalls over the whole time.
type sample struct {
	Mpps, Missed, NoMbuf float64
	Rates                []float64
	Hosts                int
}

func (s *runningSensor) sample(warmup time.Duration, secs int) (sample, error) {
	time.Sleep(warmup)
	first, err := s.status()
	if err != nil {
		return sample{}, err
	}
	start := time.Now()
	prev, prevAt := first, start
	var out sample
	for i := 0; i < secs; i++ {
		time.Sleep(time.Second)
		st, err := s.status()
		if err != nil {
			return out, err
		}
		now := time.Now()
		out.Rates = append(out.Rates, float64(queueTotals(st).Packets-queueTotals(prev).Packets)/now.Sub(prevAt).Seconds()/1e6)
		prev, prevAt = st, now
	}
	q0, q1 := queueTotals(first), queueTotals(prev)
	out.Mpps = float64(q1.Packets-q0.Packets) / prevAt.Sub(start).Seconds() / 1e6
	out.Missed, out.NoMbuf = float64(q1.Missed-q0.Missed), float64(q1.NoMbuf-q0.NoMbuf)
	out.Hosts = prev.Aggregator.Hosts
	return out, nil
}

func workerPackets(st api.Status) uint64 {
	var n uint64
	for _, w := range st.Workers {
		n += w.Packets
	}
	return n
}

func queueTotals(st api.Status) api.QueueStats {
	var q api.QueueStats
	for _, x := range st.Queues {
		q.Packets += x.Packets
		q.Missed += x.Missed
		q.NoMbuf += x.NoMbuf
	}
	return q
}

func splitLines(s string) []string {
	var out []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\n' {
			i++
		}
		out = append(out, s[:i])
		if i < len(s) {
			i++
		}
		s = s[i:]
	}
	return out
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
