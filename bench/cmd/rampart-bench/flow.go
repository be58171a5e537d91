package main

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rampartnet/rampart/bench/harness"
	"github.com/rampartnet/rampart/sensor/flow"
	"github.com/rampartnet/rampart/sensor/packet"
	"github.com/rampartnet/rampart/sensor/packet/packettest"
)

// recorder keeps every datagram sent to its loopback socket.
type recorder struct {
	conn *net.UDPConn
	dgs  chan []byte
}

func newRecorder() (*recorder, error) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	c.SetReadBuffer(4 << 20)
	r := &recorder{conn: c, dgs: make(chan []byte, 1<<16)}
	go func() {
		buf := make([]byte, 65536)
		for {
			n, err := c.Read(buf)
			if err != nil {
				close(r.dgs)
				return
			}
			select {
			case r.dgs <- append([]byte(nil), buf[:n]...):
			default:
			}
		}
	}()
	return r, nil
}

func (r *recorder) addr() string { return r.conn.LocalAddr().String() }

// collect closes the socket after quiet and returns what arrived.
func (r *recorder) collect(quiet time.Duration) [][]byte {
	time.Sleep(quiet)
	r.conn.Close()
	var out [][]byte
	for d := range r.dgs {
		out = append(out, d)
	}
	return out
}

// flowTrace: 30,000 one-packet flows (random source hosts and ports) to 10
// hosts.
func flowTrace(path string) error {
	var flows []packettest.Flow
	for i := 0; i < 10; i++ {
		flows = append(flows, packettest.Flow{Frame: packettest.Frame{Dst: netip.AddrFrom4([4]byte{10, 0, 0, byte(10 + i)}),
			Proto: packet.ProtoUDP, SrcPort: 1234, DstPort: 53, Payload: 64}, PPS: 3000, End: time.Second,
			SrcPrefix: netip.MustParsePrefix("10.9.0.0/16"), RandSrcPort: true})
	}
	return writeTimed(path, flows...)
}

// record makes the datagrams of each format from the same trace:
// softflowd for NetFlow v9 and IPFIX (from the file), pmacctd's sfprobe
// for sFlow (live, on the veth pair, every packet sampled).
func (e *env) record(trace string) (map[string][][]byte, error) {
	out := map[string][][]byte{}
	for _, v := range []struct{ name, ver string }{{"netflow-v9", "9"}, {"ipfix", "10"}} {
		rec, err := newRecorder()
		if err != nil {
			return nil, err
		}
		o, err := exec.Command("timeout", "60", "softflowd", "-r", trace, "-n", rec.addr(), "-v", v.ver, "-D", "-c", "none").CombinedOutput()
		dgs := rec.collect(500 * time.Millisecond)
		if err != nil {
			return nil, fmt.Errorf("softflowd -v %s: %v: %s", v.ver, err, tail(string(o), 300))
		}
		out[v.name] = dgs
	}
	vt, err := newVeth()
	if err != nil {
		return out, err
	}
	defer cleanupNetns()
	rec, err := newRecorder()
	if err != nil {
		return out, err
	}
	conf := filepath.Join(e.work, "pmacctd.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf("daemonize: false\npcap_interface: %s\nplugins: sfprobe\nsfprobe_receiver: %s\nsampling_rate: 1\nsfprobe_agentip: 127.0.0.1\n", vt.outside, rec.addr())), 0o644)
	pm, err := start(filepath.Join(e.work, "pmacctd.log"), nil, "pmacctd", "-f", conf)
	if err != nil {
		return out, err
	}
	time.Sleep(3 * time.Second) // it opens the interface
	_, err = e.tcpreplayRun(vt, "sflow", trace, 10000, 1, 30*time.Second)
	time.Sleep(2 * time.Second)
	pm.stop(syscall.SIGINT, 3*time.Second)
	out["sflow"] = rec.collect(200 * time.Millisecond)
	if err != nil {
		return out, err
	}
	if len(out["sflow"]) == 0 {
		return out, fmt.Errorf("pmacctd sfprobe exported nothing; log %s", pm.log)
	}
	return out, nil
}

type sumCounter struct{ packets uint64 }

func (c *sumCounter) Count(_ *packet.Header, p, _ uint64, _ int64) { c.packets += p }

// inProcess decodes dgs round and round for d through a collector:
// records per second.
func inProcess(proto string, dgs [][]byte, d time.Duration) (float64, float64, error) {
	protos, err := flow.ProtocolsOf(proto)
	if err != nil {
		return 0, 0, err
	}
	cfg := flow.DefaultConfig()
	cfg.Accounting = flow.AccountArrival
	c, err := flow.New(cfg, protos, &sumCounter{})
	if err != nil {
		return 0, 0, err
	}
	from := netip.MustParseAddrPort("127.0.0.1:9995")
	t0 := time.Now()
	n := 0
	for time.Since(t0) < d {
		for _, dg := range dgs {
			c.HandleDatagram(from, dg, time.Now().UnixNano())
		}
		n++
		c.Tick(time.Now().UnixNano())
	}
	el := time.Since(t0).Seconds()
	st := c.Stats()
	return float64(st.Records) / el, float64(st.Records) / float64(n) / float64(len(dgs)), nil
}

// pace sends dgs round and round to addr at rate datagrams/s for d.
func pace(addr string, dgs [][]byte, rate int, d time.Duration) (int, error) {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	t0 := time.Now()
	sent := 0
	for time.Since(t0) < d {
		due := int(time.Since(t0).Seconds() * float64(rate))
		for ; sent < due; sent++ {
			c.Write(dgs[sent%len(dgs)])
		}
		time.Sleep(200 * time.Microsecond)
	}
	return sent, nil
}

// plainReceiver counts datagrams on a loopback socket: what loopback
// delivers at a pace, the reference for the sensor's listener.
func plainReceiver(dgs [][]byte, rate int, d time.Duration) (sent, got int, err error) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return 0, 0, err
	}
	c.SetReadBuffer(4 << 20) // as large as rmem_max allows, like the sensor's listener
	var n atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65536)
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
			n.Add(1)
		}
	}()
	sent, err = pace(c.LocalAddr().String(), dgs, rate, d)
	time.Sleep(200 * time.Millisecond)
	c.Close()
	<-done
	return sent, int(n.Load()), err
}

// scenarioFlow: flow records per second, in process and over loopback.
func scenarioFlow(e *env) (*harness.Result, error) {
	r := e.result("5-flow", "Flow ingestion: records/s from recorded NetFlow v9, IPFIX and sFlow")
	secs, pairs := pick(e, 3, 5), pick(e, 2, 3)
	r.Settings["trace"] = "30,000 one-packet UDP flows to 10 hosts; NetFlow v9 and IPFIX recorded from softflowd -r, sFlow from pmacctd sfprobe (sampling 1) on a veth pair fed by tcpreplay"
	r.Settings["seconds_per_run"] = fmt.Sprint(secs)
	r.Settings["in_process"] = "flow.Collector (arrival accounting) decoding the recorded datagrams round and round into a summing counter, one goroutine"
	r.Settings["loopback"] = "datagrams paced over 127.0.0.1 for 1 s at 5k, 7.5k, 11k ... (× 1.5) up to 320k datagrams/s, stopping at the first pace of which less than 95 % arrives decoded, to `rampart sensor` (capture.source none, one flow listener) and, as the reference, to a plain UDP socket that only counts; lossless_records_per_s is the highest pace that passed, in records (the ladder is loopback's own limit on this machine: the kernel's receive buffer cannot be raised here)"
	trace := filepath.Join(e.work, "flows.pcap")
	if err := flowTrace(trace); err != nil {
		return r, err
	}
	recorded, err := e.record(trace)
	if err != nil {
		r.Notes = append(r.Notes, "recording: "+err.Error())
	}
	for _, f := range []string{"netflow-v9", "ipfix", "sflow"} {
		dgs := recorded[f]
		if len(dgs) == 0 {
			continue
		}
		proto := flow.ProtoNetFlow
		if f == "sflow" {
			proto = flow.ProtoSFlow
		}
		var perDg float64
		for i := 1; i <= pairs; i++ {
			rps, pd, err := inProcess(proto, dgs, time.Duration(secs)*time.Second)
			if err != nil {
				return r, err
			}
			perDg = pd
			e.sawLoad()
			r.Runs = append(r.Runs, harness.Run{Group: f + " in-process", Variant: "rampart", Pair: i, Metrics: map[string]float64{"records_per_s": rps}})
			e.logf("%s in-process: %.0f records/s (%.1f per datagram)", f, rps, pd)
		}
		r.Settings["records_per_datagram_"+f] = fmt.Sprintf("%.1f (%d datagrams)", perDg, len(dgs))
		e.pairs(r, []group{{source: f + " loopback", size: -1}}, pairs, []string{"udp-socket", "rampart"}, func(g group, variant, tag string) (map[string]float64, error) {
			if variant == "udp-socket" {
				return ladder(perDg, func(rate int) (float64, float64, error) {
					sent, got, err := plainReceiver(dgs, rate, time.Second)
					return float64(got) / float64(max(sent, 1)), float64(got) * perDg, err
				})
			}
			return e.flowSensor(tag, proto, dgs, perDg)
		})
	}
	r.Summary = harness.Summarize(r.Runs, "udp-socket", "records_per_s", "lossless_records_per_s")
	r.Charts = []harness.Chart{
		{Kind: "bars", Metric: "records_per_s", Title: "Flow records per second in process", Unit: "records/s", File: "5-flow-records.png"},
		{Kind: "bars", Metric: "lossless_records_per_s", Title: "Flow records/s over loopback, highest pace with >= 95 % received", Unit: "records/s", File: "5-flow-loopback.png"},
	}
	for _, f := range []string{"netflow-v9", "ipfix", "sflow"} {
		if s, ok := r.Find(f+" in-process", "records_per_s", "rampart"); ok {
			met := s.Median >= 1e6
			r.Headlines = append(r.Headlines, harness.Headline{Name: f + " records/s, in process, one goroutine", Value: harness.Num(s.Median), Target: "≥ 1M", Met: &met})
		}
		if s, ok := r.Find(f+" loopback", "lossless_records_per_s", "rampart"); ok && s.Ratio != nil {
			r.Headlines = append(r.Headlines, harness.Headline{Name: f + " records/s over loopback, highest pace with ≥ 95 % decoded",
				Value: fmt.Sprintf("%s (%.2f of a plain socket's)", harness.Num(s.Median), *s.Ratio)})
		}
	}
	return r, nil
}

// ladder paces at 5k, 7.5k, 11k ... (× 1.5) up to 320k datagrams/s for a
// second each until less than 95 % arrives: the highest pace that passed,
// in datagrams and records per second (0 if none did).
func ladder(perDg float64, try func(rate int) (delivered, recordsPerS float64, err error)) (map[string]float64, error) {
	best, bestRecs := 0, 0.0
	for rate := 5000; rate <= 320000; rate = rate * 3 / 2 {
		frac, recs, err := try(rate)
		if err != nil {
			return nil, err
		}
		if frac < 0.95 {
			break
		}
		best, bestRecs = rate, recs
	}
	return map[string]float64{"lossless_datagrams_per_s": float64(best), "lossless_records_per_s": bestRecs}, nil
}

// flowSensor runs the sensor with one flow listener and climbs the ladder
// against it, counting what it decoded from its status API.
func (e *env) flowSensor(tag, proto string, dgs [][]byte, perDg float64) (map[string]float64, error) {
	port, listen := freePort(), freePort()
	cfg := fmt.Sprintf(`sensor_id: bench-flow
networks: [10.0.0.0/8]
api: { listen: "127.0.0.1:%d" }
capture: { source: none }
flow:
  accounting: arrival
  listeners: [{listen: "127.0.0.1:%d", protocol: %s}]
`, port, listen, proto)
	s, err := e.startSensor(tag, cfg, fmt.Sprintf("127.0.0.1:%d", port), nil)
	if err != nil {
		return nil, err
	}
	defer s.stop()
	totals := func() (uint64, uint64, error) {
		st, err := s.status()
		var recs, dg uint64
		for _, f := range st.Flows {
			recs += f.Records
			dg += f.Datagrams
		}
		return recs, dg, err
	}
	return ladder(perDg, func(rate int) (float64, float64, error) {
		r0, d0, err := totals()
		if err != nil {
			return 0, 0, err
		}
		sent, err := pace(fmt.Sprintf("127.0.0.1:%d", listen), dgs, rate, time.Second)
		if err != nil {
			return 0, 0, err
		}
		time.Sleep(time.Second) // the last datagrams decoded and counted
		r1, d1, err := totals()
		return float64(d1-d0) / float64(max(sent, 1)), float64(r1 - r0), err
	})
}
