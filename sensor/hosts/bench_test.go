package hosts

import (
	"math/rand/v2"
	"net/netip"
	"sort"
	"strconv"
	"syscall"
	"testing"

	"github.com/rampartnet/rampart/sensor/packet"
)

// randomHeaders returns n packets from random outside sources to random
// hosts of a monitored set: TCP and UDP with random ports, some SYNs.
func randomHeaders(rng *rand.Rand, n int, dst func(h *packet.Header)) []packet.Header {
	hs := make([]packet.Header, n)
	for i := range hs {
		h := &hs[i]
		dst(h)
		if h.Family == packet.IPv4 {
			h.Src4 = 0x08000000 | rng.Uint32()&0x00ffffff
		} else {
			h.Src6 = [16]byte{0x26, 0x00}
			h.Src6[15], h.Src6[14] = byte(rng.Uint32()), byte(rng.Uint32())
		}
		h.Proto = packet.ProtoUDP
		if rng.IntN(2) == 0 {
			h.Proto, h.TCPFlags = packet.ProtoTCP, uint8(rng.IntN(32))
		}
		h.SrcPort, h.DstPort = uint16(rng.Uint32()), uint16(rng.IntN(1024))
	}
	return hs
}

// benchCount counts hs round and round in bursts of 64, as a worker
// would, with or without Prefetch first; ns/op is per packet.
func benchCount(b *testing.B, tab *Table, hs []packet.Header, prefetch bool) {
	for i := range hs { // pre-warm: blocks, slots and flows exist
		tab.Count(&hs[i], 1, 64, 0)
	}
	const burst = 64
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	now, off := int64(0), 0
	for b.Loop() {
		bs := hs[off : off+burst]
		if prefetch {
			tab.Prefetch(bs)
		}
		for i := range bs {
			tab.Count(&bs[i], 1, 64, now)
		}
		now += 1000
		if off += burst; off == len(hs) {
			off = 0
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*burst), "ns/pkt")
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N*burst), "cpu-ns/pkt")
	if s := tab.Stats(); s.V4Full+s.V6Full != 0 {
		b.Fatalf("table overflowed: %+v", s)
	}
}

// cpuTime is the process's CPU time in ns. On a shared machine it is
// steadier than wall time, which also counts time spent descheduled.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkCount is one packet counted, steady state.
func BenchmarkCount(b *testing.B) {
	for _, bc := range []struct {
		name         string
		hosts, flows int
		flowCache    int
		prefetch     bool
	}{
		{"v4-slash16", 1 << 16, 1 << 18, 1 << 20, false},
		{"v4-slash16-prefetch", 1 << 16, 1 << 18, 1 << 20, true},
		// In cache: the cost of the instructions alone.
		{"v4-cached-256-hosts", 1 << 8, 1 << 10, 1 << 12, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.FlowCacheSize = bc.flowCache
			tab := mustNew(b, cfg, "10.1.0.0/16")
			rng := rand.New(rand.NewPCG(1, 2))
			hs := randomHeaders(rng, bc.flows, func(h *packet.Header) {
				h.Family, h.Dst4 = packet.IPv4, 0x0a010000|uint32(rng.IntN(bc.hosts))
			})
			benchCount(b, tab, hs, bc.prefetch)
		})
	}
	for _, prefetch := range []bool{false, true} {
		name := "v6-1M-hosts"
		if prefetch {
			name += "-prefetch"
		}
		b.Run(name, func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.IPv6Capacity = 1 << 21 // 1M hosts at half load
			tab := mustNew(b, cfg, "2001:db8::/32")
			rng := rand.New(rand.NewPCG(3, 4))
			hosts := make([][16]byte, 1<<20)
			for i := range hosts {
				hosts[i] = [16]byte{0x20, 0x01, 0x0d, 0xb8}
				for j := 4; j < 16; j++ {
					hosts[i][j] = byte(rng.Uint32())
				}
			}
			hs := randomHeaders(rng, 1<<20, func(h *packet.Header) {
				h.Family, h.Dst6 = packet.IPv6, hosts[rng.IntN(len(hosts))]
			})
			benchCount(b, tab, hs, prefetch)
		})
	}
}

// BenchmarkCountBaseline is the floor to compare BenchmarkCount with on a
// given machine: packets and bytes per destination in a flat array (the
// "per-host pkts/bytes in a Go array" loop of the design notes), same
// headers and bursts as v4-slash16.
func BenchmarkCountBaseline(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	hs := randomHeaders(rng, 1<<18, func(h *packet.Header) {
		h.Family, h.Dst4 = packet.IPv4, 0x0a010000|uint32(rng.IntN(1<<16))
	})
	var arr [1 << 16][2]uint64
	const burst = 64
	b.ResetTimer()
	cpu0 := cpuTime()
	off := 0
	for b.Loop() {
		for _, h := range hs[off : off+burst] {
			c := &arr[h.Dst4&0xffff]
			c[0]++
			c[1] += 64
		}
		if off += burst; off == len(hs) {
			off = 0
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*burst), "ns/pkt")
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N*burst), "cpu-ns/pkt")
}

// BenchmarkFlush hands off a tick of 64K touched IPv4 hosts; ns/host is
// the cost per touched host.
func BenchmarkFlush(b *testing.B) {
	tab := mustNew(b, DefaultConfig(), "10.1.0.0/16")
	hs := make([]packet.Header, 1<<16)
	for i := range hs {
		hs[i] = tcp(hdr("8.8.8.8", "10.1.0.0"), uint16(i), 80, packet.TCPSyn)
		hs[i].Dst4 |= uint32(i)
	}
	buf := make([]Delta, 0, len(hs))
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		for i := range hs {
			tab.Count(&hs[i], 1, 64, 0)
		}
		b.StartTimer()
		buf = tab.Flush(buf[:0])
	}
	if len(buf) != len(hs) {
		b.Fatalf("flushed %d hosts, want %d", len(buf), len(hs))
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(hs)), "ns/host")
}

// sortedRanges is the alternative to v4Index that BenchmarkLookup4
// compares against: bisection over all prefixes.
type sortedRanges struct{ first, last []uint32 }

func (r *sortedRanges) lookup(a uint32) int {
	i := sort.Search(len(r.first), func(i int) bool { return r.first[i] > a }) - 1
	if i < 0 || a > r.last[i] {
		return -1
	}
	return i
}

// BenchmarkLookup4 finds the monitored prefix of random addresses, a
// quarter of them inside, with the /16 index and with bisection.
func BenchmarkLookup4(b *testing.B) {
	for _, n := range []int{1, 4, 64, 1024} {
		var nets []netip.Prefix
		for i := range n { // n /24s spread over 10.0.0.0/8
			nets = append(nets, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i * 251), byte(i >> 8), 0}), 24))
		}
		v4, _, err := normalize(nets)
		if err != nil {
			b.Fatal(err)
		}
		x := newV4Index(v4)
		var r sortedRanges
		for _, nt := range x.nets {
			r.first, r.last = append(r.first, nt.first), append(r.last, nt.last)
		}
		rng := rand.New(rand.NewPCG(5, 6))
		addrs := make([]uint32, 1<<16)
		for i := range addrs {
			addrs[i] = x.nets[rng.IntN(len(x.nets))].first | rng.Uint32()&0xff
			if i%4 != 0 {
				addrs[i] = rng.Uint32()
			}
		}
		b.Run("index/"+strconv.Itoa(n), func(b *testing.B) {
			found := 0
			for i := 0; b.Loop(); i++ {
				if x.lookup(addrs[i&0xffff]) != nil {
					found++
				}
			}
			sinkInt = found
		})
		b.Run("bisect/"+strconv.Itoa(n), func(b *testing.B) {
			found := 0
			for i := 0; b.Loop(); i++ {
				if r.lookup(addrs[i&0xffff]) >= 0 {
					found++
				}
			}
			sinkInt = found
		})
	}
}

var sinkInt int
