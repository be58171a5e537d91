package hosts

import (
	"testing"

	"github.com/rampartnet/rampart/sensor/packet"
)

func TestDirection(t *testing.T) {
	nets := []string{"10.0.0.0/24", "192.168.0.0/16", "2001:db8::/32"}
	tests := []struct {
		name    string
		h       packet.Header
		in, out string // host counted incoming / outgoing, "" for none
		other   bool
	}{
		{"incoming v4", hdr("8.8.8.8", "10.0.0.5"), "10.0.0.5", "", false},
		{"outgoing v4", hdr("10.0.0.5", "8.8.8.8"), "", "10.0.0.5", false},
		{"both v4", hdr("10.0.0.5", "192.168.7.9"), "192.168.7.9", "10.0.0.5", false},
		{"neither v4", hdr("8.8.8.8", "1.1.1.1"), "", "", true},
		{"just outside v4", hdr("8.8.8.8", "10.0.1.0"), "", "", true},
		{"incoming v6", hdr("2001:4860::8888", "2001:db8::1"), "2001:db8::1", "", false},
		{"outgoing v6", hdr("2001:db8::1", "2001:4860::8888"), "", "2001:db8::1", false},
		{"both v6", hdr("2001:db8::1", "2001:db8:ffff::2"), "2001:db8:ffff::2", "2001:db8::1", false},
		{"neither v6", hdr("2001:4860::8888", "2001:db9::1"), "", "", true},
		{"not IP", packet.Header{}, "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := mustNew(t, testConfig(), nets...)
			tab.Count(&tt.h, 2, 300, 0)
			got := byKey(tab.Flush(nil))
			want := 0
			for _, c := range []struct {
				host string
				dir  int
			}{{tt.in, dirIn}, {tt.out, dirOut}} {
				if c.host == "" {
					continue
				}
				want++
				d := got[mapped(c.host)]
				cs := [2]Counters{d.In, d.Out}
				if cs[c.dir].Packets[Total] != 2 || cs[c.dir].Bytes[Total] != 300 {
					t.Errorf("host %s dir %d: %+v, want 2 packets 300 bytes", c.host, c.dir, cs[c.dir])
				}
				if cs[c.dir^1].Packets[Total] != 0 {
					t.Errorf("host %s counted in the wrong direction: %+v", c.host, d)
				}
			}
			if len(got) != want {
				t.Errorf("flushed %d hosts %v, want %d", len(got), got, want)
			}
			s := tab.Stats()
			if tt.other != (s.OtherPackets == 2 && s.OtherBytes == 300) || !tt.other && s.OtherPackets != 0 {
				t.Errorf("other = %d packets %d bytes, want other=%v", s.OtherPackets, s.OtherBytes, tt.other)
			}
		})
	}
}

// mapped is the Key of an address as Flush writes it.
func mapped(addr string) Key {
	return keyOf(addr)
}

func TestMetrics(t *testing.T) {
	base4 := hdr("8.8.8.8", "10.0.0.1")
	base6 := hdr("2001:4860::1", "2001:db8::1")
	with := func(h packet.Header, edit func(*packet.Header)) packet.Header { edit(&h); return h }
	tests := []struct {
		name string
		h    packet.Header
		want []Metric // besides Total
	}{
		{"other proto", with(base4, func(h *packet.Header) { h.Proto = 47 }), nil},
		{"tcp ack", tcp(base4, 1, 80, packet.TCPAck), []Metric{TCP}},
		{"tcp syn", tcp(base4, 1, 80, packet.TCPSyn), []Metric{TCP, SYN}},
		{"tcp syn ack", tcp(base4, 1, 80, packet.TCPSyn|packet.TCPAck), []Metric{TCP}},
		{"udp", udp(base4, 1, 53), []Metric{UDP}},
		{"icmp", with(base4, func(h *packet.Header) { h.Proto = packet.ProtoICMP }), []Metric{ICMP}},
		{"icmpv6 in v4 is not icmp", with(base4, func(h *packet.Header) { h.Proto = packet.ProtoICMPv6 }), nil},
		{"icmpv6", with(base6, func(h *packet.Header) { h.Proto = packet.ProtoICMPv6 }), []Metric{ICMP}},
		{"icmp in v6 is not icmp", with(base6, func(h *packet.Header) { h.Proto = packet.ProtoICMP }), nil},
		{"udp v6", udp(base6, 1, 53), []Metric{UDP}},
		{"first fragment syn", with(tcp(base4, 1, 80, packet.TCPSyn), func(h *packet.Header) { h.Frag = packet.FragFirst }), []Metric{TCP, SYN, Frag}},
		{"later fragment tcp", with(base4, func(h *packet.Header) { h.Proto, h.Frag, h.TCPFlags = packet.ProtoTCP, packet.FragLater, packet.TCPSyn }), []Metric{TCP, Frag}},
		{"later fragment udp v6", with(base6, func(h *packet.Header) { h.Proto, h.Frag = packet.ProtoUDP, packet.FragLater }), []Metric{UDP, Frag}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := mustNew(t, testConfig(), "10.0.0.0/8", "2001:db8::/32")
			tab.Count(&tt.h, 3, 200, 0)
			tab.Count(&tt.h, 1, 50, 0)
			ds := tab.Flush(nil)
			if len(ds) != 1 {
				t.Fatalf("flushed %d deltas, want 1", len(ds))
			}
			var want Counters
			want.Packets[Total], want.Bytes[Total] = 4, 250
			for _, m := range tt.want {
				want.Packets[m], want.Bytes[m] = 4, 250
			}
			want.Flows = ds[0].In.Flows // flows have their own tests
			if ds[0].In != want {
				t.Errorf("In = %+v, want %+v", ds[0].In, want)
			}
			if ds[0].Out != (Counters{}) {
				t.Errorf("Out = %+v, want zero", ds[0].Out)
			}
		})
	}
}

func TestFlushKeysAndReset(t *testing.T) {
	cfg := testConfig()
	cfg.IPv6PrefixLen = 64
	tab := mustNew(t, cfg, "10.1.2.0/24", "2001:db8::/48")
	h4 := hdr("10.1.2.3", "8.8.8.8")
	h6 := hdr("2001:4860::1", "2001:db8:0:7:aaaa::1")
	tab.Count(&h4, 1, 100, 0)
	tab.Count(&h6, 1, 100, 0)

	got := byKey(tab.Flush(nil))
	k4, k6 := keyOf("::ffff:10.1.2.3"), keyOf("2001:db8:0:7::")
	if len(got) != 2 || got[k4].Out.Packets[Total] != 1 || got[k6].In.Packets[Total] != 1 {
		t.Fatalf("first flush = %v, want keys %x (out 1) and %x (in 1)", got, k4, k6)
	}
	if ds := tab.Flush(nil); len(ds) != 0 {
		t.Fatalf("second flush with no traffic = %v, want none", ds)
	}
	// Counting again after a flush starts from zero, and the buffer is reused.
	tab.Count(&h4, 2, 10, sec)
	buf := make([]Delta, 0, 4)
	ds := tab.Flush(buf[:0])
	if len(ds) != 1 || ds[0].Key != k4 || ds[0].Out.Packets[Total] != 2 || ds[0].Out.Bytes[Total] != 10 || &ds[0] != &buf[:1][0] {
		t.Fatalf("third flush = %+v, want only %x with 2 packets 10 bytes in the caller's buffer", ds, k4)
	}
}

func TestIPv6PrefixAggregation(t *testing.T) {
	for _, tt := range []struct {
		prefixLen int
		hosts     int
	}{{128, 3}, {64, 2}} {
		cfg := testConfig()
		cfg.IPv6PrefixLen = tt.prefixLen
		tab := mustNew(t, cfg, "2001:db8::/32")
		for _, dst := range []string{"2001:db8:1:1::1", "2001:db8:1:1::2", "2001:db8:1:2::1"} {
			h := udp(hdr("2001:4860::1", dst), 1000, 53)
			tab.Count(&h, 1, 100, 0)
		}
		got := byKey(tab.Flush(nil))
		if len(got) != tt.hosts {
			t.Errorf("/%d: %d hosts %v, want %d", tt.prefixLen, len(got), got, tt.hosts)
		}
		if tt.prefixLen == 64 && got[keyOf("2001:db8:1:1::")].In.Packets[UDP] != 2 {
			t.Errorf("/64: 2001:db8:1:1::/64 = %+v, want 2 UDP packets", got[keyOf("2001:db8:1:1::")])
		}
		if s := tab.Stats(); s.V6Entries != tt.hosts {
			t.Errorf("/%d: V6Entries = %d, want %d", tt.prefixLen, s.V6Entries, tt.hosts)
		}
	}
}

func TestNestedAndManyPrefixes(t *testing.T) {
	// Nested prefixes merge (a host is counted once); many small prefixes
	// in one /16 go through the grouped lookup.
	nets := []string{"10.0.0.0/16", "10.0.5.0/24", "172.16.0.0/28", "172.16.0.64/26", "172.16.9.1/32", "2001:db8::/32", "2001:db8:1::/48"}
	tab := mustNew(t, testConfig(), nets...)
	tests := []struct {
		addr string
		in   bool
	}{
		{"10.0.5.1", true}, {"10.0.200.1", true}, {"10.1.0.0", false},
		{"172.16.0.15", true}, {"172.16.0.16", false}, {"172.16.0.63", false}, {"172.16.0.64", true},
		{"172.16.0.127", true}, {"172.16.0.128", false}, {"172.16.9.1", true}, {"172.16.9.2", false}, {"172.15.255.255", false},
		{"2001:db8:1::1", true}, {"2001:db9::1", false},
	}
	for _, tt := range tests {
		ext := "8.8.8.8"
		if tt.addr[0] == '2' {
			ext = "2001:4860::1"
		}
		h := hdr(ext, tt.addr)
		tab.Count(&h, 1, 1, 0)
		got := byKey(tab.Flush(nil))
		if counted := got[keyOf(tt.addr)].In.Packets[Total] == 1 && len(got) == 1; counted != tt.in {
			t.Errorf("%s: counted=%v (%v), want %v", tt.addr, counted, got, tt.in)
		}
	}
}

func TestIPv4TableFull(t *testing.T) {
	cfg := testConfig()
	cfg.MaxIPv4Blocks = 2
	tab := mustNew(t, cfg, "10.0.0.0/8")
	for _, dst := range []string{"10.0.0.1", "10.0.0.2", "10.0.1.1", "10.0.2.1", "10.0.2.2"} {
		h := hdr("8.8.8.8", dst)
		tab.Count(&h, 3, 10, 0)
	}
	// Both inside, one of them in a new block: the other host still counts.
	h := hdr("10.0.0.1", "10.0.3.1")
	tab.Count(&h, 1, 10, 0)
	got := byKey(tab.Flush(nil))
	if len(got) != 3 || got[keyOf("::ffff:10.0.0.1")].Out.Packets[Total] != 1 {
		t.Errorf("flushed %v, want 10.0.0.1, 10.0.0.2 and 10.0.1.1 only", got)
	}
	s := tab.Stats()
	if s.V4Blocks != 2 || s.V4Full != 7 || s.OtherPackets != 0 {
		t.Errorf("stats %+v, want 2 blocks, 7 packets dropped as full, none other", s)
	}
}

func TestIPv6CapacityAndEviction(t *testing.T) {
	cfg := testConfig()
	cfg.IPv6Capacity = 64
	tab := mustNew(t, cfg, "2001:db8::/32")
	host := func(i int) packet.Header {
		h := hdr("2001:4860::1", "2001:db8::")
		h.Dst6[14], h.Dst6[15] = byte(i>>8), byte(i)
		return h
	}
	idle := int64(cfg.IPv6IdleTimeout)
	const n = 200
	for i := range n {
		h := host(i)
		tab.Count(&h, 1, 100, 0)
	}
	s := tab.Stats()
	if s.V6Entries != 64 || s.V6Full != n-64 || s.V6Evicted != 0 {
		t.Fatalf("after %d hosts in 64 slots: %+v, want 64 entries, %d full, 0 evicted", n, s, n-64)
	}
	// Pending counts pin their slots even after the idle timeout.
	h := host(1000)
	tab.Count(&h, 1, 100, 2*idle)
	if s := tab.Stats(); s.V6Full != n-64+1 || s.V6Evicted != 0 {
		t.Fatalf("unflushed idle slots were reused: %+v", s)
	}
	if got := len(tab.Flush(nil)); got != 64 {
		t.Fatalf("flushed %d hosts, want 64", got)
	}
	// Flushed but not yet idle: still full.
	tab.Count(&h, 1, 100, idle-1)
	if s := tab.Stats(); s.V6Full != n-64+2 || s.V6Evicted != 0 {
		t.Fatalf("slots reused before the idle timeout: %+v", s)
	}
	// Flushed and idle: new hosts take the slots of old ones. Up to
	// maxProbe of them always find one: a probe window holds fewer pending.
	const fresh = maxProbe
	for i := range fresh {
		h := host(500 + i)
		tab.Count(&h, 1, 100, 2*idle)
	}
	s = tab.Stats()
	if s.V6Entries != 64 || s.V6Evicted != fresh || s.V6Full != n-64+2 {
		t.Fatalf("after idle: %+v, want 64 entries, %d evicted, no more full", s, fresh)
	}
	got := byKey(tab.Flush(nil))
	if len(got) != fresh {
		t.Fatalf("flushed %d hosts, want %d", len(got), fresh)
	}
	for i := range fresh {
		h := host(500 + i)
		if got[Key(h.Dst6)].In.Packets[Total] != 1 {
			t.Fatalf("host %d after eviction: %+v, want 1 packet", 500+i, got[Key(h.Dst6)])
		}
	}
	// A known host is found in its slot, however idle, and evicts nobody.
	h = host(500)
	tab.Count(&h, 1, 100, 10*idle)
	if s := tab.Stats(); s.V6Evicted != fresh {
		t.Fatalf("returning host evicted itself: %+v", s)
	}
}

func TestSpillBeforeWrap(t *testing.T) {
	tab := mustNew(t, testConfig(), "10.0.0.0/24")
	h := udp(hdr("8.8.8.8", "10.0.0.1"), 1, 53)
	const big = 3 << 30 // two of these wrap 32 bits
	tab.Count(&h, 10, big, 0)
	tab.Count(&h, 10, big, 0)
	tab.Count(&h, 5, 1<<40, 0) // alone too large for a tick counter
	tab.Count(&h, 1, 1, 0)
	ds := tab.Flush(nil)
	got := byKey(ds)[keyOf("::ffff:10.0.0.1")].In
	wantBytes := uint64(2*big + 1<<40 + 1)
	if got.Packets[Total] != 26 || got.Bytes[Total] != wantBytes || got.Bytes[UDP] != wantBytes || got.Flows != 1 {
		t.Fatalf("sum of deltas %+v, want 26 packets, %d bytes total and UDP, 1 flow", got, wantBytes)
	}
	if s := tab.Stats(); s.Spills != 2 {
		t.Errorf("Spills = %d, want 2", s.Spills)
	}
	if ds := tab.Flush(nil); len(ds) != 0 {
		t.Errorf("after flush: %v, want nothing", ds)
	}
}

// A host counted in both directions is listed once per tick and goes out
// once, whichever direction came first, with both directions' counts.
func TestBothDirectionsListedOnce(t *testing.T) {
	tab := mustNew(t, testConfig(), "10.0.0.0/24", "2001:db8::/32")
	for _, host := range []string{"10.0.0.5", "2001:db8::5"} {
		outside := "8.8.8.8"
		if host[0] == '2' {
			outside = "2001:4860::8888"
		}
		in, out := hdr(outside, host), hdr(host, outside)
		for tick, order := range [][]*packet.Header{{&in, &out, &in}, {&out, &in, &out, &out}} {
			wantIn, wantOut := uint64(0), uint64(0)
			for _, h := range order {
				tab.Count(h, 1, 100, int64(tick)*sec)
				if h == &in {
					wantIn++
				} else {
					wantOut++
				}
			}
			// Listed once: the touched lists are sized for one entry per host.
			if n := len(tab.touched4) + len(tab.touched6); n != 1 {
				t.Errorf("%s tick %d: on the touched lists %d times, want once", host, tick, n)
			}
			ds := tab.Flush(nil)
			if len(ds) != 1 || ds[0].Key != keyOf(host) || ds[0].In.Packets[Total] != wantIn || ds[0].Out.Packets[Total] != wantOut {
				t.Errorf("%s tick %d: flushed %+v, want one delta with in %d out %d", host, tick, ds, wantIn, wantOut)
			}
		}
	}
}
