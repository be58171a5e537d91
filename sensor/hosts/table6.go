package hosts

import (
	"math"
	"time"
	"unsafe"
)

// maxProbe bounds the slots one IPv6 lookup visits (linear probing). An
// entry is only ever placed within maxProbe of its home slot, and slots
// never become empty again, so a lookup may stop at maxProbe or at the
// first empty slot.
const maxProbe = 64

const emptySlot = math.MinInt64

// v6Slot is one IPv6 host (or /64): 152 bytes.
type v6Slot struct {
	key  u128  // masked to the configured prefix length
	last int64 // nowNs of the host's last count; emptySlot if never used
	c    hostCounters
}

// v6Table is an open-addressing hash of IPv6 hosts with a fixed number of
// slots. An idle slot (untouched for the idle timeout, counts flushed) is
// reused by the next new host probing past it.
type v6Table struct {
	slots   []v6Slot
	mask    uint64
	loMask  uint64 // keeps the low half of an address: 0 for /64 hosts
	idle    int64
	used    int
	evicted uint64
}

func newV6Table(capacity, prefixLen int, idle time.Duration) *v6Table {
	slots := make([]v6Slot, capacity)
	adviseHuge(unsafe.Pointer(unsafe.SliceData(slots)), uintptr(capacity)*unsafe.Sizeof(v6Slot{}))
	t := &v6Table{
		slots:  slots,
		mask:   uint64(capacity - 1),
		loMask: ^uint64(0),
		idle:   idle.Nanoseconds(),
	}
	if prefixLen == 64 {
		t.loMask = 0
	}
	for i := range t.slots { // first touch, after adviseHuge
		t.slots[i].last = emptySlot
	}
	return t
}

// find returns the slot index of the host of address a, inserting it if
// new, or -1 when no slot within maxProbe is free or idle.
func (t *v6Table) find(a u128, nowNs int64) int {
	a.lo &= t.loMask
	i := t.homeOf(a)
	victim := -1
	for range maxProbe {
		s := &t.slots[i]
		if s.last == emptySlot {
			if victim < 0 {
				victim = int(i)
			}
			break
		}
		if s.key == a {
			s.last = nowNs
			return int(i)
		}
		if victim < 0 && nowNs-s.last >= t.idle && !s.c.pending() {
			victim = int(i)
		}
		i = (i + 1) & t.mask
	}
	if victim < 0 {
		return -1
	}
	s := &t.slots[victim]
	if s.last == emptySlot {
		t.used++
	} else {
		t.evicted++
	}
	*s = v6Slot{key: a, last: nowNs}
	return victim
}

// homeOf is the index of the first slot a lookup of key k (masked to the
// prefix length) visits.
func (t *v6Table) homeOf(k u128) uint64 { return wymix(k.hi^wyp0, k.lo^wyp1) & t.mask }

// home is the first slot a lookup of address a visits.
func (t *v6Table) home(a u128) *v6Slot {
	a.lo &= t.loMask
	return &t.slots[t.homeOf(a)]
}
