package hosts

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/rampartnet/rampart/sensor/packet"
)

// model counts like Table, written the obvious way: exact maps, netip.
type model struct {
	nets      []netip.Prefix
	prefixLen int
	idleUnits int64
	hosts     map[Key]*Delta
	flows     map[flowKey]int64 // last seen, flow clock units
	other     uint64
}

type flowKey struct {
	src, dst     netip.Addr
	proto        uint8
	sport, dport uint16
}

func addrOf(h *packet.Header, src bool) netip.Addr {
	if h.Family == packet.IPv4 {
		a := h.Dst4
		if src {
			a = h.Src4
		}
		return netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)})
	}
	if src {
		return netip.AddrFrom16(h.Src6)
	}
	return netip.AddrFrom16(h.Dst6)
}

func (m *model) key(a netip.Addr) (Key, bool) {
	for _, n := range m.nets {
		if n.Contains(a) {
			if a.Is6() {
				a = netip.PrefixFrom(a, m.prefixLen).Masked().Addr()
			}
			return Key(a.As16()), true
		}
	}
	return Key{}, false
}

func (m *model) count(h *packet.Header, p, b uint64, now int64) {
	if p == 0 {
		return
	}
	src, dst := addrOf(h, true), addrOf(h, false)
	sk, sIn := m.key(src)
	dk, dIn := m.key(dst)
	if !sIn && !dIn {
		m.other += p
		return
	}
	var flow uint64
	if h.Frag != packet.FragLater {
		fk := flowKey{src, dst, h.Proto, h.SrcPort, h.DstPort}
		u := now >> flowClockShift
		if last, ok := m.flows[fk]; !ok || u-last >= m.idleUnits {
			flow = 1
		}
		m.flows[fk] = u
	}
	var metrics []Metric
	switch {
	case h.Proto == packet.ProtoTCP:
		metrics = append(metrics, TCP)
		if h.Frag != packet.FragLater && h.TCPFlags&packet.TCPSyn != 0 && h.TCPFlags&packet.TCPAck == 0 {
			metrics = append(metrics, SYN)
		}
	case h.Proto == packet.ProtoUDP:
		metrics = append(metrics, UDP)
	case h.Family == packet.IPv4 && h.Proto == packet.ProtoICMP, h.Family == packet.IPv6 && h.Proto == packet.ProtoICMPv6:
		metrics = append(metrics, ICMP)
	}
	if h.Frag != packet.FragNone {
		metrics = append(metrics, Frag)
	}
	add := func(k Key, out bool) {
		d := m.hosts[k]
		if d == nil {
			d = &Delta{Key: k}
			m.hosts[k] = d
		}
		c := &d.In
		if out {
			c = &d.Out
		}
		for _, mt := range append(metrics, Total) {
			c.Packets[mt] += p
			c.Bytes[mt] += b
		}
		c.Flows += flow
	}
	if dIn {
		add(dk, false)
	}
	if sIn {
		add(sk, true)
	}
}

func TestTableMatchesModel(t *testing.T) {
	nets := []string{"10.0.0.0/16", "10.1.2.0/24", "192.168.1.16/28", "2001:db8::/32", "2001:db8:ff:1::/64"}
	pool := []string{
		"10.0.0.1", "10.0.3.200", "10.0.255.255", "10.1.2.3", "10.1.3.1", "192.168.1.17", "192.168.1.32", "8.8.8.8", "1.1.1.1",
		"2001:db8::1", "2001:db8::2", "2001:db8:0:1::1", "2001:db8:ff:1::9", "2001:db9::1", "2001:4860::8888",
	}
	for _, prefixLen := range []int{128, 64} {
		cfg := testConfig()
		cfg.IPv6PrefixLen = prefixLen
		cfg.FlowIdleTimeout = 2 * time.Second
		cfg.FlowCacheSize = 1 << 16 // far more than the flows here: the cache is exact
		tab := mustNew(t, cfg, nets...)
		m := model{nets: parsePrefixes(nets), prefixLen: prefixLen, idleUnits: int64(tab.flows.idle), hosts: map[Key]*Delta{}, flows: map[flowKey]int64{}}
		rng := rand.New(rand.NewPCG(1, uint64(prefixLen)))
		var v4, v6 []netip.Addr
		for _, s := range pool {
			if a := netip.MustParseAddr(s); a.Is4() {
				v4 = append(v4, a)
			} else {
				v6 = append(v6, a)
			}
		}
		now := int64(0)
		var out []Delta
		for i := range 20_000 {
			addrs := v4
			if rng.IntN(2) == 0 {
				addrs = v6
			}
			h := hdr(addrs[rng.IntN(len(addrs))].String(), addrs[rng.IntN(len(addrs))].String())
			h.Proto = []uint8{packet.ProtoTCP, packet.ProtoUDP, packet.ProtoICMP, packet.ProtoICMPv6, 47}[rng.IntN(5)]
			h.TCPFlags = uint8(rng.IntN(64))
			h.Frag = packet.Frag(rng.IntN(3))
			if h.Frag != packet.FragLater && (h.Proto == packet.ProtoTCP || h.Proto == packet.ProtoUDP) {
				h.SrcPort, h.DstPort = uint16(rng.IntN(3)), uint16(rng.IntN(2))
			}
			p, b := uint64(rng.IntN(4)), uint64(rng.IntN(3000))
			now += rng.Int64N(int64(300 * time.Millisecond))
			if i%2 == 0 { // Prefetch must change nothing
				tab.Prefetch([]packet.Header{h})
			}
			tab.Count(&h, p, b, now)
			m.count(&h, p, b, now)
			if rng.IntN(200) == 0 || i == 19_999 {
				out = tab.Flush(out[:0])
				got := byKey(out)
				if len(got) != len(m.hosts) {
					t.Fatalf("/%d packet %d: flushed %d hosts, model has %d", prefixLen, i, len(got), len(m.hosts))
				}
				for k, want := range m.hosts {
					if got[k] != *want {
						t.Fatalf("/%d packet %d: host %v\n got %+v\nwant %+v", prefixLen, i, netip.AddrFrom16(k), got[k], *want)
					}
				}
				clear(m.hosts)
				if s := tab.Stats(); s.OtherPackets != m.other {
					t.Fatalf("/%d: other packets %d, model %d", prefixLen, s.OtherPackets, m.other)
				}
			}
		}
	}
}
