package hosts

import (
	"net/netip"
	"testing"
	"time"

	"github.com/rampartnet/rampart/sensor/packet"
)

// testConfig is small enough for fast tests: 64 KiB of flow cache, 256
// IPv6 slots.
func testConfig() Config {
	c := DefaultConfig()
	c.FlowCacheSize = 1 << 13
	c.IPv6Capacity = 256
	return c
}

func mustNew(t testing.TB, cfg Config, nets ...string) *Table {
	t.Helper()
	tab, err := New(cfg, parsePrefixes(nets))
	if err != nil {
		t.Fatalf("New(%v): %v", nets, err)
	}
	return tab
}

func parsePrefixes(nets []string) []netip.Prefix {
	var ps []netip.Prefix
	for _, n := range nets {
		ps = append(ps, netip.MustParsePrefix(n))
	}
	return ps
}

// hdr builds a header between two addresses of one family; the zero
// protocol fields make a plain IP packet.
func hdr(src, dst string) packet.Header {
	s, d := netip.MustParseAddr(src), netip.MustParseAddr(dst)
	var h packet.Header
	if s.Is4() {
		h.Family = packet.IPv4
		h.Src4, h.Dst4 = be32(s.As4()), be32(d.As4())
	} else {
		h.Family = packet.IPv6
		h.Src6, h.Dst6 = s.As16(), d.As16()
	}
	return h
}

func be32(a [4]byte) uint32 {
	return uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
}

func tcp(h packet.Header, sport, dport uint16, flags uint8) packet.Header {
	h.Proto, h.SrcPort, h.DstPort, h.TCPFlags = packet.ProtoTCP, sport, dport, flags
	return h
}

func udp(h packet.Header, sport, dport uint16) packet.Header {
	h.Proto, h.SrcPort, h.DstPort = packet.ProtoUDP, sport, dport
	return h
}

func keyOf(addr string) Key {
	return Key(netip.MustParseAddr(addr).As16())
}

// byKey sums deltas per key (a key may appear twice after a spill).
func byKey(ds []Delta) map[Key]Delta {
	m := make(map[Key]Delta)
	for _, d := range ds {
		acc := m[d.Key]
		acc.Key = d.Key
		addCounters(&acc.In, &d.In)
		addCounters(&acc.Out, &d.Out)
		m[d.Key] = acc
	}
	return m
}

func addCounters(dst, src *Counters) {
	for m := range NumMetrics {
		dst.Packets[m] += src.Packets[m]
		dst.Bytes[m] += src.Bytes[m]
	}
	dst.Flows += src.Flows
}

const sec = int64(time.Second)
