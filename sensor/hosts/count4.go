package hosts

import "github.com/rampartnet/rampart/sensor/packet"

// count4 is Count for IPv4. Its common path (prefixes of /16 or shorter,
// blocks in place, host already counted this tick) is inlined, both
// directions written out: calls and stack temporaries cost more here than
// the counting does.
func (t *Table) count4(h *packet.Header, p, b uint64, nowNs int64) {
	full := t.full4
	dst, de := t.fast4(h.Dst4)
	if dst == nil && de != 0 {
		dst = t.slow4(de, h.Dst4, p)
	}
	src, se := t.fast4(h.Src4)
	if src == nil && se != 0 {
		src = t.slow4(se, h.Src4, p)
	}
	if dst == nil && src == nil {
		if t.full4 == full {
			t.otherPackets += p
			t.otherBytes += b
		}
		return
	}
	var flow uint32
	if h.Frag != packet.FragLater {
		flow = t.flows.isNew(flowHash4(h), nowNs)
	}
	c := classify(h, l4v4)
	if dst != nil {
		if d := &dst[dirIn]; d.fits(p, b) && d.packets[Total] != 0 {
			d.add(c, uint32(p), uint32(b), flow)
		} else {
			t.add4Slow(dst, h.Dst4, dirIn, c, p, b, flow)
		}
	}
	if src != nil {
		if d := &src[dirOut]; d.fits(p, b) && d.packets[Total] != 0 {
			d.add(c, uint32(p), uint32(b), flow)
		} else {
			t.add4Slow(src, h.Src4, dirOut, c, p, b, flow)
		}
	}
}

// fast4 returns the counters of IPv4 host a if its prefix is /16 or
// shorter and its block is allocated, and a's top index entry (0: a is not
// monitored).
func (t *Table) fast4(a uint32) (*hostCounters, uint32) {
	e := t.v4.top[a>>16]
	if e-1 < groupBit-1 {
		n := &t.v4.nets[e-1]
		off := a - n.first
		if blk := n.blocks[off>>8]; blk != nil {
			return &blk[off&0xff], e
		}
	}
	return nil, e
}

// slow4 is fast4's other cases: a longer prefix, a block to allocate.
func (t *Table) slow4(e, a uint32, p uint64) *hostCounters {
	if e >= groupBit {
		return t.host4Slow(t.v4.group(a, e), a, p)
	}
	return t.host4Slow(&t.v4.nets[e-1], a, p)
}

// host4Slow returns the counters of IPv4 host a in prefix n (nil: none),
// allocating its block, or nil when max_ipv4_blocks is reached (then p
// counts in full4).
func (t *Table) host4Slow(n *v4Net, a uint32, p uint64) *hostCounters {
	if n == nil {
		return nil
	}
	off := a - n.first
	blk := n.blocks[off>>8]
	if blk == nil {
		if blk = t.newBlock4(n, off>>8); blk == nil {
			t.full4 += p
			return nil
		}
	}
	return &blk[off&0xff]
}

// newBlock4 allocates block i of n, or returns nil at max_ipv4_blocks. It
// also grows touched4 to hold every host of every block, so that appending
// a touched host never allocates.
func (t *Table) newBlock4(n *v4Net, i uint32) *v4Block {
	if t.blocks4 >= t.maxBlk4 {
		return nil
	}
	blk := new(v4Block)
	n.blocks[i] = blk
	t.blocks4++
	if need := t.blocks4 * len(blk); cap(t.touched4) < need {
		grown := make([]uint32, len(t.touched4), max(need, 2*cap(t.touched4)))
		copy(grown, t.touched4)
		t.touched4 = grown
	}
	return blk
}

// add4Slow is the first count of a tick into one direction of IPv4 host
// a (it lists the host as touched), or a count that could wrap.
func (t *Table) add4Slow(hc *hostCounters, a uint32, dir int, c class, p, b uint64, flow uint32) {
	d := &hc[dir&1]
	if !d.fits(p, b) && t.spillHost(hc, key4(a), dir, c, p, b, flow) {
		return
	}
	if hc.untouched(dir) {
		t.touched4 = append(t.touched4, a)
	}
	d.add(c, uint32(p), uint32(b), flow)
}

// flowHash4 fingerprints the 5-tuple of an IPv4 packet.
func flowHash4(h *packet.Header) uint64 {
	ports := uint64(h.SrcPort)<<16 | uint64(h.DstPort) | uint64(h.Proto)<<32
	return wymix(uint64(h.Src4)<<32|uint64(h.Dst4)^wyp0, ports^wyp1)
}
