package sensor

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/rampartnet/rampart/internal/logging/logtest"
	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/capture"
	"github.com/rampartnet/rampart/sensor/detect"
	"github.com/rampartnet/rampart/sensor/flow"
	"github.com/rampartnet/rampart/sensor/hostgroup"
	"github.com/rampartnet/rampart/sensor/hosts"
	"github.com/rampartnet/rampart/sensor/packet"
	"github.com/rampartnet/rampart/sensor/packet/packettest"
)

var (
	victim = netip.MustParseAddr("198.51.100.10")
	peer   = netip.MustParseAddr("203.0.113.5")
	t0     = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC).UnixNano()
)

func testConfig(t testing.TB) Config {
	t.Helper()
	cfg := Config{
		Capture:    DefaultCaptureConfig(),
		Counters:   hosts.DefaultConfig(),
		Aggregate:  aggregate.DefaultConfig(),
		Networks:   []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("2001:db8:100::/48")},
		Hostgroups: []hostgroup.Config{hostgroup.Default()},
		Flow:       flow.DefaultConfig(),
		Detection:  detect.DefaultConfig(),
	}
	cfg.Counters.FlowCacheSize = 1 << 12
	cfg.Counters.IPv6Capacity = 1 << 10
	return cfg
}

func writeTrace(t testing.TB, pkts []packettest.Timed) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "trace.pcap")
	if err := packettest.WritePcap(path, pkts); err != nil {
		t.Fatal(err)
	}
	return path
}

// inPackets is the incoming packet total of host a.
func inPackets(agg *aggregate.Aggregator, a netip.Addr) uint64 {
	var n uint64
	agg.Lookup(hosts.Key(a.As16()), func(v aggregate.HostView) { n = v.Totals(aggregate.In).Packets[hosts.Total] })
	return n
}

// The live sensor over a pcap source ends at EOF with every packet counted,
// and stops in order with nothing left running.
func TestSensorLivePcapSource(t *testing.T) {
	trace := packettest.Generate(t0, 1,
		packettest.Flow{Frame: packettest.Frame{Src: peer, Dst: victim, Proto: packet.ProtoUDP, SrcPort: 53, DstPort: 999}, PPS: 10000, End: time.Second},
	)
	cfg := testConfig(t)
	cfg.Capture.Source = SourcePcap
	cfg.Capture.Pcap.Files = []string{writeTrace(t, trace)}
	s, err := New(cfg, Options{Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	ticks := 0
	s.opts.OnTick = func(aggregate.Tick, *sampleStore) { ticks++ }
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.Done():
		if !errors.Is(err, capture.ErrEOF) {
			t.Fatalf("Done = %v, want EOF", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("pcap source did not end")
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if got := inPackets(s.Aggregator(), victim); got != uint64(len(trace)) {
		t.Errorf("victim in packets = %d, want %d", got, len(trace))
	}
	if ticks == 0 {
		t.Error("OnTick never ran")
	}
}

// A flow-only sensor counts records into the hosts and its log shows that
// traffic: in the summaries' rates and apart from capture in the totals.
func TestSensorFlowListener(t *testing.T) {
	cfg := testConfig(t)
	cfg.Capture.Source = SourceNone
	cfg.Flow.Listeners = []flow.ListenerConfig{{Listen: "127.0.0.1:0", Protocol: "netflow"}}
	var logs logtest.Buffer
	s, err := New(cfg, Options{Log: zerolog.New(&logs), SummaryEvery: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	addr := s.flows.Addrs()[0]
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Paced: loopback drops datagrams at flood rates.
	const datagrams = 20
	for i := 0; i < datagrams; i++ {
		if _, err := conn.Write(netflowV5(uint32(i), time.Now(), 50)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Wait (bounded) until every record reached the aggregator.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && inPackets(s.Aggregator(), victim) < datagrams*50 {
		time.Sleep(20 * time.Millisecond)
	}
	if got := inPackets(s.Aggregator(), victim); got != datagrams*50 {
		t.Errorf("victim in packets = %d, want %d", got, datagrams*50)
	}
	// The summary after the records reached the aggregator shows them.
	var shown map[string]any
	for deadline := time.Now().Add(5 * time.Second); shown == nil && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, rec := range logs.Records(t, "traffic summary") {
			if rec["pps"].(float64) > 0 {
				shown = rec
			}
		}
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if shown == nil {
		t.Error("no traffic summary showed the flow records' packets")
	} else if shown["flow_pps"] != shown["pps"] {
		t.Errorf("summary %v: flow_pps differs from pps with flows the only source", shown)
	}
	if st := s.FlowStats(); len(st) != 1 || st[0].Records != datagrams {
		t.Errorf("flow stats = %+v, want %d records", st, datagrams)
	}
	totals := logs.Records(t, "sensor totals")
	if len(totals) != 1 || totals[0]["flow_packets"] != float64(datagrams*50) || totals[0]["packets"] != 0.0 {
		t.Errorf("sensor totals = %v, want flow_packets %d and no captured packets", totals, datagrams*50)
	}
}

func TestSensorRejectsNoneWithoutListeners(t *testing.T) {
	cfg := testConfig(t)
	cfg.Capture.Source = SourceNone
	if _, err := New(cfg, Options{}); err == nil {
		t.Fatal("New accepted capture.source none without flow listeners")
	}
}
