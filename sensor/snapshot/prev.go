package snapshot

import (
	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/hosts"
)

// prevEntry is a host's totals at the previous snapshot.
type prevEntry struct {
	key hosts.Key
	tot [aggregate.NumDirs]hosts.Counters
	pos uint32 // position in the walk that last saw it
	gen uint32 // walk that last saw it
}

// prevTable keeps each tracked host's totals at the previous snapshot in a
// slab, indexed by a map. The aggregator's Range visits hosts in slab order,
// which changes only where hosts come and go, so the previous walk's order
// predicts the next host and the map is consulted only around changes.
// It holds at most the hosts of the last walk: hosts the aggregator no
// longer tracks are dropped at the end of each walk.
type prevTable struct {
	index map[hosts.Key]uint32
	slab  []prevEntry
	free  []uint32
	order []uint32 // slab entries in the order of the last walk
	next  []uint32 // the walk in progress
	gen   uint32
	hit   int // cursor into order
}

func newPrevTable() prevTable {
	return prevTable{index: make(map[hosts.Key]uint32)}
}

func (p *prevTable) begin() {
	p.gen++
	p.hit = 0
	p.next = p.next[:0]
}

// get returns k's entry, a zeroed new one when k was not in the last walk.
func (p *prevTable) get(k *hosts.Key) *prevEntry {
	var i uint32
	if p.hit < len(p.order) && p.slab[p.order[p.hit]].key == *k {
		i = p.order[p.hit]
		p.hit++
	} else if j, ok := p.index[*k]; ok {
		i = j
		if p.slab[i].gen != p.gen { // not yet seen in this walk: resync the cursor
			p.hit = int(p.slab[i].pos) + 1
		}
	} else {
		if n := len(p.free); n > 0 {
			i = p.free[n-1]
			p.free = p.free[:n-1]
		} else {
			i = uint32(len(p.slab))
			p.slab = append(p.slab, prevEntry{})
		}
		p.slab[i] = prevEntry{key: *k}
		p.index[*k] = i
	}
	e := &p.slab[i]
	e.pos, e.gen = uint32(len(p.next)), p.gen
	p.next = append(p.next, i)
	return e
}

// end drops the hosts the walk did not see.
func (p *prevTable) end() {
	for _, i := range p.order {
		if e := &p.slab[i]; e.gen != p.gen {
			delete(p.index, e.key)
			*e = prevEntry{}
			p.free = append(p.free, i)
		}
	}
	p.order, p.next = p.next, p.order
}

func (p *prevTable) len() int { return len(p.index) }

// sub sets out to cur minus prev. Totals only grow while the aggregator
// tracks a host, so a smaller total means the host was forgotten and came
// back: it then counts from zero.
func sub(out, cur, prev *hosts.Counters) {
	if cur.Packets[hosts.Total] < prev.Packets[hosts.Total] || cur.Bytes[hosts.Total] < prev.Bytes[hosts.Total] || cur.Flows < prev.Flows {
		*out = *cur
		return
	}
	for m := range hosts.NumMetrics {
		out.Packets[m] = cur.Packets[m] - prev.Packets[m]
		out.Bytes[m] = cur.Bytes[m] - prev.Bytes[m]
	}
	out.Flows = cur.Flows - prev.Flows
}
