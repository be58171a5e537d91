package aggregate

import (
	"github.com/rampartnet/rampart/sensor/hosts"
	"github.com/rampartnet/rampart/sensor/ring"
)

// floor is the reference a tick is measured against: the counter arithmetic
// the model itself asks for, on arrays laid out like the aggregator's (a
// delta read, the totals added, a log entry written; at close the old entry
// subtracted from the window sums and the new one added and raised into the
// peak), in host order, with no index, no host metadata, no groups. What a
// tick costs above it is bookkeeping; the floor itself is what the model
// (26 64-bit totals, 16 window sums, 16 peaks per host) costs on this
// machine's memory.
type floor struct {
	tot  [][NumDirs]hosts.Counters
	win  []hostWin
	peak []counts
	logs [][]logEntry // W+1, as the aggregator's
	t    int
}

func newFloor(n, buckets int) *floor {
	f := &floor{
		tot:  make([][NumDirs]hosts.Counters, n),
		win:  make([]hostWin, n),
		peak: make([]counts, n),
		logs: make([][]logEntry, buckets+1),
	}
	for i := range f.logs {
		f.logs[i] = make([]logEntry, 0, n)
	}
	return f
}

// tick applies the batches as one tick and closes it.
func (f *floor) tick(bs []*ring.Batch) {
	cur := f.logs[f.t%len(f.logs)][:0]
	e := uint32(0)
	for _, b := range bs {
		for i := range b.Deltas {
			d := &b.Deltas[i]
			addBoth(&f.tot[e], d)
			cur = cur[:len(cur)+1]
			le := &cur[len(cur)-1]
			le.host = e
			le.c.set(d)
			e++
		}
	}
	f.logs[f.t%len(f.logs)] = cur
	f.t++
	old := f.logs[f.t%len(f.logs)] // the tick leaving the window
	for i := range old {
		f.win[old[i].host].sum.sub(&old[i].c)
	}
	f.logs[f.t%len(f.logs)] = old[:0]
	for i := range cur {
		h := cur[i].host
		f.win[h].sum.addRaise(&cur[i].c, &f.peak[h])
	}
}
