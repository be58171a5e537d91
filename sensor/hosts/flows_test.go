package hosts

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/rampartnet/rampart/sensor/packet"
)

func TestFlowCounting(t *testing.T) {
	type pkt struct {
		h  packet.Header
		at int64
	}
	in := func(sport uint16) packet.Header { return tcp(hdr("8.8.8.8", "10.0.0.1"), sport, 80, packet.TCPSyn) }
	idle := int64(testConfig().FlowIdleTimeout)
	frag := in(1)
	frag.Frag, frag.SrcPort, frag.DstPort = packet.FragLater, 0, 0
	tests := []struct {
		name    string
		pkts    []pkt
		wantIn  uint64 // new flows into 10.0.0.1
		wantOut uint64 // new flows out of 10.0.0.1
	}{
		{"one flow many packets", []pkt{{in(1), 0}, {in(1), 1}, {in(1), sec}}, 1, 0},
		{"three source ports", []pkt{{in(1), 0}, {in(2), 0}, {in(3), 0}, {in(2), 0}}, 3, 0},
		{"reply is an outgoing flow", []pkt{{in(1), 0}, {tcp(hdr("10.0.0.1", "8.8.8.8"), 80, 1, packet.TCPAck), 0}}, 1, 1},
		{"protocol is part of the tuple", []pkt{{in(1), 0}, {udp(hdr("8.8.8.8", "10.0.0.1"), 1, 80), 0}}, 2, 0},
		{"new again after idle timeout", []pkt{{in(1), 0}, {in(1), idle + sec}}, 2, 0},
		{"not new just before idle timeout", []pkt{{in(1), 0}, {in(1), idle - sec}}, 1, 0},
		{"refreshed by traffic", []pkt{{in(1), 0}, {in(1), idle / 2}, {in(1), idle}, {in(1), idle * 3 / 2}}, 1, 0},
		{"later fragments start no flow", []pkt{{frag, 0}, {frag, 0}}, 0, 0},
		{"v6 flows", []pkt{{tcp(hdr("2001:4860::1", "2001:db8::1"), 1, 80, 0), 0}, {tcp(hdr("2001:4860::1", "2001:db8::1"), 2, 80, 0), 0}}, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := mustNew(t, testConfig(), "10.0.0.0/24", "2001:db8::/32")
			var got Counters
			var gotOut Counters
			for _, p := range tt.pkts {
				tab.Count(&p.h, 1, 60, p.at)
				for _, d := range tab.Flush(nil) { // flushing between packets keeps flows across ticks
					addCounters(&got, &d.In)
					addCounters(&gotOut, &d.Out)
				}
			}
			if got.Flows != tt.wantIn || gotOut.Flows != tt.wantOut {
				t.Errorf("flows in %d out %d, want in %d out %d", got.Flows, gotOut.Flows, tt.wantIn, tt.wantOut)
			}
		})
	}
}

func TestFlowCountedForBothHosts(t *testing.T) {
	tab := mustNew(t, testConfig(), "10.0.0.0/24", "10.9.0.0/16")
	h := tcp(hdr("10.0.0.1", "10.9.0.1"), 1000, 22, packet.TCPSyn)
	tab.Count(&h, 1, 60, 0)
	tab.Count(&h, 1, 60, 0)
	got := byKey(tab.Flush(nil))
	if got[keyOf("::ffff:10.0.0.1")].Out.Flows != 1 || got[keyOf("::ffff:10.9.0.1")].In.Flows != 1 {
		t.Fatalf("got %v, want one outgoing flow for 10.0.0.1 and one incoming for 10.9.0.1", got)
	}
}

// flowError runs n distinct flows of k packets each, interleaved at
// random, all within the idle timeout, through a flow cache of size
// entries and through an exact map, and returns how many sightings the
// cache called new that the map did not (over) and the reverse (under).
func flowError(size, n, k int) (over, under int) {
	cache := newFlowCache(size, 30*time.Second)
	rng := rand.New(rand.NewPCG(uint64(n), uint64(size)))
	hs := make([]packet.Header, n)
	for i := range hs {
		h := &hs[i]
		h.Family, h.Proto = packet.IPv4, packet.ProtoTCP
		h.Src4, h.Dst4 = rng.Uint32(), 0x0a000000|rng.Uint32()&0xffff
		h.SrcPort, h.DstPort = uint16(rng.Uint32()), uint16(rng.IntN(1024))
	}
	seq := make([]int32, 0, n*k)
	for i := range n {
		for range k {
			seq = append(seq, int32(i))
		}
	}
	rng.Shuffle(len(seq), func(i, j int) { seq[i], seq[j] = seq[j], seq[i] })
	seen := make([]bool, n) // exact: every flow is new exactly once
	for j, i := range seq {
		now := int64(j) * 1000 // 1 Mpps: the whole run stays within the idle timeout up to 30M packets
		gotNew := cache.isNew(flowHash(&hs[i]), now) == 1
		switch {
		case gotNew && seen[i]:
			over++
		case !gotNew && !seen[i]:
			under++
		}
		seen[i] = true
	}
	return over, under
}

func TestFlowCacheError(t *testing.T) {
	tests := []struct {
		size, flows int
		maxErr      float64 // fraction of flows miscounted
	}{
		{1 << 20, 10_000, 0.0001},
		{1 << 20, 100_000, 0.001},
		{1 << 13, 1_000, 0.001},
	}
	for _, tt := range tests {
		over, under := flowError(tt.size, tt.flows, 4)
		if e := float64(over+under) / float64(tt.flows); e > tt.maxErr {
			t.Errorf("cache %d, %d flows: over %d under %d (%.4f%%), want <= %.4f%%", tt.size, tt.flows, over, under, 100*e, 100*tt.maxErr)
		}
	}
}

// BenchmarkFlowCacheError reports the flow cache's error over known
// workloads (n flows of 4 packets, shuffled, all live): over% is flows
// counted again after their entry was pushed out, under% flows missed.
func BenchmarkFlowCacheError(b *testing.B) {
	for _, bc := range []struct {
		name        string
		size, flows int
	}{
		{"cache1M/flows10K", 1 << 20, 10_000},
		{"cache1M/flows100K", 1 << 20, 100_000},
		{"cache1M/flows500K", 1 << 20, 500_000},
		{"cache1M/flows1M", 1 << 20, 1_000_000},
		{"cache2M/flows1M", 1 << 21, 1_000_000},
		{"cache4M/flows1M", 1 << 22, 1_000_000},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var over, under int
			for b.Loop() {
				over, under = flowError(bc.size, bc.flows, 4)
			}
			b.ReportMetric(100*float64(over)/float64(bc.flows), "over%")
			b.ReportMetric(100*float64(under)/float64(bc.flows), "under%")
		})
	}
}
