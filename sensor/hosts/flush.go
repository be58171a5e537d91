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
	var x byte
	for ; i < len(t.touched4) && room > 0; i++ {
		// Hosts are listed in the order of their first packet, so their
		// lines are scattered: load one flushLookahead hosts ahead, and its
		// miss overlaps the emits between.
		if j := i + flushLookahead; j < len(t.touched4) {
			x += byte(t.host4(t.touched4[j])[dirIn].packets[Total])
		}
		a := t.touched4[i]
		dst, room = emit(dst, room, t.host4(a), key4(a))
	}
	t.sink += x
	t.touched4 = t.touched4[:copy(t.touched4, t.touched4[i:])]
	if len(t.touched4) != 0 {
		return dst, false
	}
	i, x = 0, 0
	for ; i < len(t.touched6) && room > 0; i++ {
		if j := i + flushLookahead; j < len(t.touched6) {
			x += byte(t.hosts6.slots[t.touched6[j]].c[dirIn].packets[Total])
		}
		s := &t.hosts6.slots[t.touched6[i]]
		dst, room = emit(dst, room, &s.c, key6(s.key))
	}
	t.touched6 = t.touched6[:copy(t.touched6, t.touched6[i:])]
	t.sink += x
	return dst, len(t.touched6) == 0
}

// emit hands off and resets hc; a host listed twice (after a spill) has
// nothing left the second time and takes no room.
func emit(dst []Delta, room int, hc *hostCounters, k Key) ([]Delta, int) {
	if !hc.pending() {
		return dst, room
	}
	n := len(dst)
	if n == cap(dst) {
		dst = append(dst, Delta{})
	}
	// Every field written once, in place: a composite literal would be
	// built on the stack and copied.
	dst = dst[:n+1]
	d := &dst[n]
	d.Key = k
	hc[dirIn].export(&d.In)
	hc[dirOut].export(&d.Out)
	*hc = hostCounters{}
	return dst, room - 1
}

// flushLookahead is how many hosts ahead flush loads a host's counters.
const flushLookahead = 8

// host4 returns the counters of listed IPv4 host a: its block exists.
func (t *Table) host4(a uint32) *hostCounters {
	n := t.v4.lookup(a)
	off := a - n.first
	return &n.blocks[off>>8][off&0xff]
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
