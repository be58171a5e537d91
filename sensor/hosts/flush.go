package hosts

import "encoding/binary"

// Flush appends one Delta per host counted since the last flush to dst,
// resets those hosts and returns dst. Keys are IPv4 hosts mapped into IPv6
// (::ffff:a.b.c.d) and IPv6 hosts masked to ipv6_prefix_len. A key appears
// more than once only after Stats.Spills grew: consumers add Deltas. Flush
// allocates only when dst lacks capacity; its cost follows the hosts
// touched, not the table size.
func (t *Table) Flush(dst []Delta) []Delta {
	dst, _ = t.flush(dst, -1)
	return dst
}

// FlushRoom is Flush into dst's spare capacity only, so that a worker can
// write deltas straight into a hand-off batch: it reports whether every
// host went out. Hosts that did not fit stay listed with their counts,
// which keep growing until a later call emits them.
func (t *Table) FlushRoom(dst []Delta) ([]Delta, bool) {
	return t.flush(dst, cap(dst)-len(dst))
}

// flush emits at most room Deltas (all when room < 0).
func (t *Table) flush(dst []Delta, room int) ([]Delta, bool) {
	if room < 0 {
		room = len(t.spill) + len(t.touched4) + len(t.touched6)
	}
	n := min(room, len(t.spill))
	dst = append(dst, t.spill[:n]...)
	room -= n
	t.spill = t.spill[:copy(t.spill, t.spill[n:])]
	if len(t.spill) != 0 {
		return dst, false
	}
	i := 0
	for ; i < len(t.touched4) && room > 0; i++ {
		a := t.touched4[i]
		n := t.v4.lookup(a)
		off := a - n.first
		dst, room = emit(dst, room, &n.blocks[off>>8][off&0xff], key4(a))
	}
	t.touched4 = t.touched4[:copy(t.touched4, t.touched4[i:])]
	if len(t.touched4) != 0 {
		return dst, false
	}
	i = 0
	for ; i < len(t.touched6) && room > 0; i++ {
		s := &t.hosts6.slots[t.touched6[i]]
		dst, room = emit(dst, room, &s.c, key6(s.key))
	}
	t.touched6 = t.touched6[:copy(t.touched6, t.touched6[i:])]
	return dst, len(t.touched6) == 0
}

// emit hands off and resets hc; a host listed twice (after a spill) has
// nothing left the second time and takes no room.
func emit(dst []Delta, room int, hc *hostCounters, k Key) ([]Delta, int) {
	if !hc.pending() {
		return dst, room
	}
	dst = append(dst, Delta{Key: k})
	d := &dst[len(dst)-1]
	hc[dirIn].export(&d.In)
	hc[dirOut].export(&d.Out)
	*hc = hostCounters{}
	return dst, room - 1
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
