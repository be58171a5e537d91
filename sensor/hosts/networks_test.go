package hosts

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// TestV4IndexMatchesContains checks the /16 index and its groups against
// netip over hundreds of random (nested, overlapping, adjacent) prefixes.
func TestV4IndexMatchesContains(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var nets []netip.Prefix
	for range 400 { // mostly long prefixes in two /14s, a few /15 and /16
		a := netip.AddrFrom4([4]byte{10 + byte(rng.IntN(2))*6, byte(rng.IntN(4)), byte(rng.IntN(256)), byte(rng.IntN(256))})
		bits := 20 + rng.IntN(13)
		if rng.IntN(100) == 0 {
			a = netip.AddrFrom4([4]byte{10 + byte(rng.IntN(2))*6, byte(rng.IntN(16)), 0, 0})
			bits = 15 + rng.IntN(2)
		}
		nets = append(nets, netip.PrefixFrom(a, bits).Masked())
	}
	v4, v6, err := normalize(nets)
	if err != nil || len(v6) != 0 || len(v4) < 150 {
		t.Fatalf("normalize: %v, %d IPv4 %d IPv6, want >= 150 IPv4 left after merging", err, len(v4), len(v6))
	}
	x := newV4Index(v4)
	for range 100_000 {
		a := rng.Uint32()
		if rng.IntN(2) == 0 {
			a = (0x0a000000 + rng.Uint32N(2)*0x06000000) | rng.Uint32()&0x03ffffff
		}
		addr := netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)})
		var want netip.Prefix
		for _, p := range v4 {
			if p.Contains(addr) {
				want = p
			}
		}
		n := x.lookup(a)
		switch {
		case n == nil && want.IsValid():
			t.Fatalf("%v: not found, want %v", addr, want)
		case n != nil && !want.IsValid():
			t.Fatalf("%v: found %08x-%08x, want none", addr, n.first, n.last)
		case n != nil && n.first != be32(want.Addr().As4()):
			t.Fatalf("%v: found %08x, want %v", addr, n.first, want)
		}
	}
}

func TestV6RangesMatchContains(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	rand16 := func() [16]byte {
		a := [16]byte{0x20, 0x01, 0x0d, 0xb8, byte(rng.IntN(4))}
		for i := 5; i < 16; i++ {
			a[i] = byte(rng.Uint32())
		}
		return a
	}
	var nets []netip.Prefix
	for range 200 {
		nets = append(nets, netip.PrefixFrom(netip.AddrFrom16(rand16()), 44+rng.IntN(85)).Masked())
	}
	_, v6, err := normalize(nets)
	if err != nil || len(v6) < 100 {
		t.Fatalf("normalize: %v, %d IPv6 left, want >= 100", err, len(v6))
	}
	r := newV6Ranges(v6)
	inside := 0
	for range 50_000 {
		b := rand16()
		if rng.IntN(2) == 0 { // near a prefix
			p := v6[rng.IntN(len(v6))].Addr().As16()
			copy(b[:8+rng.IntN(8)], p[:])
		}
		addr := netip.AddrFrom16(b)
		want := false
		for _, p := range v6 {
			want = want || p.Contains(addr)
		}
		if got := r.contains(addr6(&b)); got != want {
			t.Fatalf("%v: contains = %v, want %v", addr, got, want)
		}
		if want {
			inside++
		}
	}
	if inside < 5_000 || inside > 45_000 {
		t.Fatalf("%d of 50000 addresses inside: the test needs both kinds", inside)
	}
}
