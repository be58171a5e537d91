package hosts

import "encoding/binary"

// Flush appends one Delta per host counted since the last flush to dst,
// resets those hosts and returns dst. Keys are IPv4 hosts mapped into IPv6
// (::ffff:a.b.c.d) and IPv6 hosts masked to ipv6_prefix_len. A key appears
// more than once only after Stats.Spills grew: consumers add Deltas. Flush
// allocates only when dst lacks capacity; its cost follows the hosts
// touched, not the table size.
func (t *Table) Flush(dst []Delta) []Delta {
	dst = append(dst, t.spill...)
	t.spill = t.spill[:0]
	for _, a := range t.touched4 {
		n := t.v4.lookup(a)
		off := a - n.first
		dst = emit(dst, &n.blocks[off>>8][off&0xff], key4(a))
	}
	t.touched4 = t.touched4[:0]
	for _, i := range t.touched6 {
		s := &t.hosts6.slots[i]
		dst = emit(dst, &s.c, key6(s.key))
	}
	t.touched6 = t.touched6[:0]
	return dst
}

// emit hands off and resets hc; a host listed twice (after a spill) has
// nothing left the second time.
func emit(dst []Delta, hc *hostCounters, k Key) []Delta {
	if !hc.pending() {
		return dst
	}
	dst = append(dst, Delta{Key: k})
	d := &dst[len(dst)-1]
	hc[dirIn].export(&d.In)
	hc[dirOut].export(&d.Out)
	*hc = hostCounters{}
	return dst
}

// key4 maps IPv4 host a into IPv6 (::ffff:a.b.c.d).
func key4(a uint32) Key {
	var k Key
	k[10], k[11] = 0xff, 0xff
	binary.BigEndian.PutUint32(k[12:], a)
	return k
}

func key6(a u128) Key {
	var k Key
	binary.BigEndian.PutUint64(k[:8], a.hi)
	binary.BigEndian.PutUint64(k[8:], a.lo)
	return k
}
