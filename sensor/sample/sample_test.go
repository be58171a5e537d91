package sample

import (
	"math"
	"net/netip"
	"testing"

	"github.com/rampartnet/rampart/sensor/hosts"
	"github.com/rampartnet/rampart/sensor/packet"
)

func v4(src, dst string) packet.Header {
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	return packet.Header{
		Family: packet.IPv4, Proto: packet.ProtoUDP,
		Src4: uint32(s[0])<<24 | uint32(s[1])<<16 | uint32(s[2])<<8 | uint32(s[3]),
		Dst4: uint32(d[0])<<24 | uint32(d[1])<<16 | uint32(d[2])<<8 | uint32(d[3]),
	}
}

func v6(src, dst string) packet.Header {
	return packet.Header{Family: packet.IPv6, Proto: packet.ProtoTCP,
		Src6: netip.MustParseAddr(src).As16(), Dst6: netip.MustParseAddr(dst).As16()}
}

func key(addr string) hosts.Key {
	return hosts.Key(netip.MustParseAddr(addr).As16())
}

func TestSamplerRate(t *testing.T) {
	for _, rate := range []uint32{1, 2, 64, 1000} {
		const n = 1_000_000
		s := NewSampler(rate, n, 42)
		h := v4("192.0.2.1", "198.51.100.7")
		for i := 0; i < n; i++ {
			s.Offer(&h, 64, int64(i))
		}
		want := float64(n) / float64(rate)
		got := float64(s.Pending())
		// Gaps are i.i.d. with mean rate and variance < rate^2/3: the count
		// is within 5 sigma of n/rate with overwhelming probability.
		sigma := math.Sqrt(want) + 1
		if math.Abs(got-want) > 5*sigma {
			t.Errorf("rate %d: kept %v of %d, want %v ± %v", rate, got, n, want, 5*sigma)
		}
	}
}

func TestSamplerOffAndCap(t *testing.T) {
	h := v4("192.0.2.1", "198.51.100.7")
	off := NewSampler(0, 10, 1)
	for i := 0; i < 100; i++ {
		off.Offer(&h, 64, 0)
	}
	if off.Pending() != 0 {
		t.Errorf("rate 0 kept %d samples", off.Pending())
	}
	all := NewSampler(1, 10, 1)
	for i := 0; i < 25; i++ {
		all.Offer(&h, 64, int64(i))
	}
	if all.Pending() != 10 || all.Missed() != 15 {
		t.Errorf("pending %d missed %d, want 10 and 15", all.Pending(), all.Missed())
	}
	got := all.Take(nil)
	if len(got) != 10 || got[9].TimeNs != 9 || all.Pending() != 0 {
		t.Errorf("Take = %d records (last at %d), pending after %d", len(got), got[len(got)-1].TimeNs, all.Pending())
	}
}

func TestSamplerDoesNotAllocate(t *testing.T) {
	s := NewSampler(4, 1024, 7)
	h := v4("192.0.2.1", "198.51.100.7")
	dst := make([]Record, 0, 1024)
	allocs := testing.AllocsPerRun(100, func() {
		for i := 0; i < 1000; i++ {
			s.Offer(&h, 64, int64(i))
		}
		dst = s.Take(dst[:0])
	})
	if allocs != 0 {
		t.Errorf("Offer+Take allocate %v times per run", allocs)
	}
}

func TestStoreForHost(t *testing.T) {
	s := NewStore(4)
	a := v4("192.0.2.1", "198.51.100.7")
	b := v4("198.51.100.7", "192.0.2.9")
	c := v6("2001:db8::1", "2001:db8:100::5:6")
	s.Add([]Record{{Header: a, TimeNs: 1}, {Header: b, TimeNs: 2}, {Header: c, TimeNs: 3}})
	for _, tc := range []struct {
		name  string
		key   hosts.Key
		dir   Dir
		since int64
		p6    int
		want  []int64 // TimeNs of the records expected
	}{
		{"v4 in", key("::ffff:198.51.100.7"), In, 0, 128, []int64{1}},
		{"v4 out", key("::ffff:198.51.100.7"), Out, 0, 128, []int64{2}},
		{"since filters old", key("::ffff:198.51.100.7"), In, 2, 128, nil},
		{"v6 /128", key("2001:db8:100::5:6"), In, 0, 128, []int64{3}},
		{"v6 /64", key("2001:db8:100::"), In, 0, 64, []int64{3}},
		{"v6 /128 key does not match /64", key("2001:db8:100::"), In, 0, 128, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := s.ForHost(nil, tc.key, tc.dir, tc.since, tc.p6)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d records, want %d", len(got), len(tc.want))
			}
			for i, w := range tc.want {
				if got[i].TimeNs != w {
					t.Errorf("record %d at %d, want %d", i, got[i].TimeNs, w)
				}
			}
		})
	}
}

func TestStoreOverwritesOldest(t *testing.T) {
	s := NewStore(3)
	h := v4("192.0.2.1", "198.51.100.7")
	for i := int64(1); i <= 5; i++ {
		s.Add([]Record{{Header: h, TimeNs: i}})
	}
	got := s.ForHost(nil, key("::ffff:198.51.100.7"), In, 0, 128)
	if s.Len() != 3 || len(got) != 3 || got[0].TimeNs != 3 || got[2].TimeNs != 5 {
		t.Errorf("Len %d, records %+v: want the 3 newest, oldest first", s.Len(), got)
	}
	NewStore(0).Add([]Record{{}}) // a zero-size store keeps nothing, without panicking
}

func TestStoreRange(t *testing.T) {
	s := NewStore(3)
	h := v4("192.0.2.1", "198.51.100.7")
	for i := int64(1); i <= 5; i++ {
		s.Add([]Record{{Header: h, TimeNs: i}})
	}
	var got []int64
	s.Range(4, func(r *Record) { got = append(got, r.TimeNs) })
	if len(got) != 2 || got[0] != 4 || got[1] != 5 {
		t.Errorf("Range(4) visited %v, want [4 5] oldest first", got)
	}
}
