package aggregate

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"unsafe"

	"github.com/rampartnet/rampart/sensor/hosts"
)

// pageBits sizes the pages of the host slab: hosts never move once placed, so
// views stay valid, and memory grows a page at a time.
const (
	pageBits = 12
	pageSize = 1 << pageBits
	pageMask = pageSize - 1
)

// page holds the state of pageSize hosts split by when it is touched (see
// host.go), so each pass over the hosts of a tick streams only what it needs.
type page struct {
	meta  [pageSize]hostMeta
	tot   [pageSize][NumDirs]hosts.Counters
	win   [pageSize]hostWin // 64-byte aligned: the arrays before it are whole lines
	mark  [pageSize]hostMark
	peak  [pageSize]counts // see host.go
	maxPk [pageSize]counts // all-time peak of earlier epochs
}

// Each host's window sums are two whole lines (a page is page-aligned).
var (
	_ = [1]struct{}{}[unsafe.Sizeof(hostWin{})-128]
	_ = [1]struct{}{}[unsafe.Offsetof(page{}.win)%64]
)

// table holds the tracked hosts: a slab of host entries in pages and an
// open-addressing index (linear probing, load <= 1/2, backward-shift delete)
// whose slots hold the high 32 bits of the key's hash and the entry number
// plus one, so a probe compares keys only when the hash bits match.
type table struct {
	pages []*page
	used  uint32   // entries ever handed out (slab high-water mark)
	free  []uint32 // entries to reuse
	live  int

	slots    []uint64
	slotBits uint
	k0, k1   uint64 // hash keys; random so traffic cannot aim at collisions
}

func newTable() *table {
	t := &table{k0: rand.Uint64() | 1, k1: rand.Uint64() | 1}
	t.resize(10)
	return t
}

func (t *table) at(i uint32) *hostMeta { return &t.pages[i>>pageBits].meta[i&pageMask] }

func (t *table) tot(i uint32) *[NumDirs]hosts.Counters { return &t.pages[i>>pageBits].tot[i&pageMask] }

func (t *table) win(i uint32) *hostWin { return &t.pages[i>>pageBits].win[i&pageMask] }

func (t *table) mark(i uint32) *hostMark { return &t.pages[i>>pageBits].mark[i&pageMask] }

func (t *table) peak(i uint32) *counts { return &t.pages[i>>pageBits].peak[i&pageMask] }

func (t *table) maxPeak(i uint32) *counts { return &t.pages[i>>pageBits].maxPk[i&pageMask] }

func (t *table) hash(k *hosts.Key) uint64 {
	a := binary.LittleEndian.Uint64(k[:8])
	b := binary.LittleEndian.Uint64(k[8:])
	hi, lo := bits.Mul64(a^t.k0, b^t.k1)
	hi, lo = bits.Mul64(hi^lo^0x9e3779b97f4a7c15, t.k0)
	return hi ^ lo
}

func (t *table) home(tag uint32) uint64 { return uint64(tag) >> (32 - t.slotBits) }

// find returns the entry of k.
func (t *table) find(k *hosts.Key, h uint64) (uint32, bool) {
	return t.findFrom(k, h, t.slots[t.home(uint32(h>>32))])
}

// findFrom is find given the content s of k's home slot.
func (t *table) findFrom(k *hosts.Key, h, s uint64) (uint32, bool) {
	tag := uint32(h >> 32)
	mask := uint64(len(t.slots) - 1)
	for i := t.home(tag); ; {
		if s == 0 {
			return 0, false
		}
		if uint32(s>>32) == tag {
			if e := uint32(s) - 1; t.at(e).key == *k {
				return e, true
			}
		}
		i = (i + 1) & mask
		s = t.slots[i]
	}
}

// insert adds k, known to be absent, and returns its zeroed entry.
func (t *table) insert(k *hosts.Key, h uint64) uint32 {
	if 2*(t.live+1) > len(t.slots) {
		t.resize(t.slotBits + 1)
	}
	var e uint32
	if n := len(t.free); n > 0 {
		e = t.free[n-1]
		t.free = t.free[:n-1]
	} else {
		e = t.used
		if int(e>>pageBits) == len(t.pages) {
			t.pages = append(t.pages, new(page))
		}
		t.used++
	}
	t.at(e).key = *k
	t.live++
	t.place(uint64(uint32(h>>32))<<32 | uint64(e+1))
	return e
}

func (t *table) place(s uint64) {
	mask := uint64(len(t.slots) - 1)
	i := t.home(uint32(s >> 32))
	for t.slots[i] != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = s
}

// remove deletes entry e and zeroes it for reuse.
func (t *table) remove(e uint32) {
	hp := t.at(e)
	mask := uint64(len(t.slots) - 1)
	tag := uint32(t.hash(&hp.key) >> 32)
	i := t.home(tag)
	for uint32(t.slots[i]) != e+1 {
		i = (i + 1) & mask
	}
	// Shift later members of the probe run back over the hole.
	for j := i; ; {
		j = (j + 1) & mask
		s := t.slots[j]
		if s == 0 {
			break
		}
		k := t.home(uint32(s >> 32))
		if (i <= j && i < k && k <= j) || (i > j && (i < k || k <= j)) {
			continue // s's home is after the hole: it stays
		}
		t.slots[i] = s
		i = j
	}
	t.slots[i] = 0
	*hp = hostMeta{}
	*t.tot(e) = [NumDirs]hosts.Counters{}
	*t.win(e) = hostWin{}
	*t.mark(e) = hostMark{}
	*t.peak(e) = counts{}
	*t.maxPeak(e) = counts{}
	t.free = append(t.free, e)
	t.live--
}

func (t *table) resize(slotBits uint) {
	old := t.slots
	t.slots = make([]uint64, 1<<slotBits)
	t.slotBits = slotBits
	for _, s := range old {
		if s != 0 {
			t.place(s)
		}
	}
}
