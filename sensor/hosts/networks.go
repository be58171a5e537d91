package hosts

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
)

// minIPv4Bits keeps the block-pointer slice of one prefix at most 65536
// pointers (512 KiB, a /8).
const minIPv4Bits = 8

// normalize masks the prefixes, unmaps ::ffff:0:0/96 ones to IPv4, sorts
// them and drops those inside another, so that each address belongs to at
// most one (CIDR prefixes either nest or are disjoint).
func normalize(nets []netip.Prefix) (v4, v6 []netip.Prefix, err error) {
	all := make([]netip.Prefix, 0, len(nets))
	for _, p := range nets {
		if !p.IsValid() {
			return nil, nil, fmt.Errorf("monitored network %v is not a valid prefix", p)
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		p = p.Masked()
		if p.Addr().Is4() && p.Bits() < minIPv4Bits {
			return nil, nil, fmt.Errorf("monitored network %v is shorter than /%d: split it", p, minIPv4Bits)
		}
		all = append(all, p)
	}
	slices.SortFunc(all, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
	for _, p := range all {
		out := &v6
		if p.Addr().Is4() {
			out = &v4
		}
		if n := len(*out); n > 0 && (*out)[n-1].Contains(p.Addr()) {
			continue
		}
		*out = append(*out, p)
	}
	return v4, v6, nil
}

// v4Block is the counters of 256 consecutive IPv4 hosts (32 KiB).
type v4Block [256]hostCounters

// v4Net is one monitored IPv4 prefix: host first+i is blocks[i>>8][i&255].
type v4Net struct {
	first, last uint32
	blocks      []*v4Block // allocated on first touch
}

// v4Index finds the monitored prefix of an address: top has one entry per
// /16, either 0 (none), the index+1 of the prefix covering the whole /16,
// or groupBit|g when several longer prefixes share it: groups[g] is their
// range in nets, searched by bisection.
type v4Index struct {
	top    *[1 << 16]uint32
	nets   []v4Net
	groups []v4Group
}

type v4Group struct{ start, end uint32 }

const groupBit = 1 << 31

func newV4Index(prefixes []netip.Prefix) v4Index {
	x := v4Index{top: new([1 << 16]uint32), nets: make([]v4Net, len(prefixes))}
	for i, p := range prefixes {
		first := binary.BigEndian.Uint32(p.Addr().AsSlice())
		size := uint64(1) << (32 - p.Bits())
		n := &x.nets[i]
		n.first, n.last = first, first+uint32(size-1)
		n.blocks = make([]*v4Block, (size+255)/256)
		if p.Bits() <= 16 {
			for s := first >> 16; s <= n.last>>16; s++ {
				x.top[s] = uint32(i) + 1
			}
			continue
		}
		s := first >> 16
		if g := len(x.groups) - 1; x.top[s] == groupBit|uint32(g) {
			x.groups[g].end = uint32(i) + 1
			continue
		}
		x.top[s] = groupBit | uint32(len(x.groups))
		x.groups = append(x.groups, v4Group{uint32(i), uint32(i) + 1})
	}
	return x
}

// lookup returns the monitored prefix containing a, or nil.
func (x *v4Index) lookup(a uint32) *v4Net {
	e := x.top[a>>16]
	if e < groupBit {
		if e == 0 {
			return nil
		}
		return &x.nets[e-1]
	}
	return x.group(a, e)
}

// group searches the prefixes sharing the /16 of a; e is its top entry.
func (x *v4Index) group(a, e uint32) *v4Net {
	g := x.groups[e&^groupBit]
	lo, hi := g.start, g.end // first net with first > a is at lo
	for lo < hi {
		m := (lo + hi) / 2
		if x.nets[m].first <= a {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == g.start || a > x.nets[lo-1].last {
		return nil
	}
	return &x.nets[lo-1]
}

// u128 is an IPv6 address as two big-endian halves, comparable in order.
type u128 struct{ hi, lo uint64 }

func addr6(a *[16]byte) u128 {
	return u128{binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(a[8:])}
}

func (a u128) less(b u128) bool { return a.hi < b.hi || a.hi == b.hi && a.lo < b.lo }

// v6Ranges is the monitored IPv6 prefixes as sorted disjoint ranges.
type v6Ranges struct{ first, last []u128 }

func newV6Ranges(prefixes []netip.Prefix) v6Ranges {
	var r v6Ranges
	for _, p := range prefixes {
		a := p.Addr().As16()
		first := addr6(&a)
		var mask u128 // host bits
		switch b := p.Bits(); {
		case b == 0:
			mask = u128{^uint64(0), ^uint64(0)}
		case b <= 64:
			mask = u128{^uint64(0) >> b, ^uint64(0)}
		case b < 128:
			mask = u128{0, ^uint64(0) >> (b - 64)}
		}
		r.first = append(r.first, first)
		r.last = append(r.last, u128{first.hi | mask.hi, first.lo | mask.lo})
	}
	return r
}

func (r *v6Ranges) contains(a u128) bool {
	lo, hi := 0, len(r.first) // first range starting after a is at lo
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if a.less(r.first[m]) {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo > 0 && !r.last[lo-1].less(a)
}
