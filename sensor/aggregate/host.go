package aggregate

import (
	"github.com/rampartnet/rampart/sensor/hosts"
)

// A tracked host's state is split by when a tick touches it, each part in its
// own array of the page (table.go): applying a delta touches hostMeta and the
// totals, closing a tick touches hostMark and hostWin (and the peak for
// hosts with traffic in it), and the all-time peak is folded in only when a
// new peak epoch starts. The window itself lives in the tick logs; a host
// keeps only the running sums over it, so an idle host costs nothing per tick.

// hostMeta is what applying a delta reads and writes, besides the totals.
type hostMeta struct {
	key      hosts.Key
	lastTick int64                 // last tick with traffic
	entry    uint32                // its entry in the open tick's log, when lastTick is the open tick
	groups   [MaxPartitions]uint16 // group per partition, resolved when first seen
}

// hostWin is the window sums, read and written at each close that changes
// them: 128 bytes, two whole lines (see page).
type hostWin struct {
	sum sums
}

// hostMark is what closing a tick checks first for every changed host. It is
// not in hostWin, where it would make each window visit touch a third line.
type hostMark struct {
	mark  int64  // last tick this host was in the changed list
	epoch uint32 // peak epoch the peak belongs to
}

// The peak (highest window sums since the start of its epoch) is raised at
// every close of a tick with traffic of the host; the all-time peak is the
// higher of it and the peaks of earlier epochs, which mark folds into
// maxPeak when the host's first tick of a new epoch closes. So a busy tick
// raises one set of counts, not two.

// HostView reads one host in place. It is valid only inside the callback
// that received it; copy what you keep (Stats does).
type HostView struct {
	a *Aggregator
	e uint32
}

// Key is the host's address.
func (v HostView) Key() hosts.Key { return v.a.t.at(v.e).key }

// Totals are the host's counters since it was first seen.
func (v HostView) Totals(d Dir) hosts.Counters { return v.a.t.tot(v.e)[d] }

// Rate is the per-second rate of s over the window that ended with the last
// closed tick (bits per second for BPS).
func (v HostView) Rate(d Dir, s Series) uint64 {
	return v.a.perSec.rate(s, v.a.t.win(v.e).sum[d][seriesSlot[s]])
}

// Peak is the highest Rate of s at any tick close since ResetPeaks.
func (v HostView) Peak(d Dir, s Series) uint64 {
	if v.a.t.mark(v.e).epoch != v.a.epoch {
		return v.a.stalePeak(v.a.t.win(v.e), d, s)
	}
	return v.a.perSec.rate(s, v.a.t.peak(v.e).slot(d, seriesSlot[s]))
}

// MaxPeak is the highest Rate of s at any tick close since the host was first seen.
func (v HostView) MaxPeak(d Dir, s Series) uint64 {
	i := seriesSlot[s]
	return v.a.perSec.rate(s, max(v.a.t.peak(v.e).slot(d, i), v.a.t.maxPeak(v.e).slot(d, i)))
}

// Group is the host's group in partition p, or -1 when it is in none.
func (v HostView) Group(p int) int {
	g := int(v.a.t.at(v.e).groups[p])
	if g >= len(v.a.parts[p].groups)-1 {
		return -1
	}
	return g
}

// LastSeen is the end of the last tick in which the host had traffic (ns).
func (v HostView) LastSeen() int64 { return v.a.t.at(v.e).lastTick * v.a.tickNs }

// HostStats is a copy of one host's state.
type HostStats struct {
	Key      hosts.Key
	Totals   [NumDirs]hosts.Counters
	Rates    [NumDirs][NumSeries]uint64
	Peaks    [NumDirs][NumSeries]uint64 // since ResetPeaks
	MaxPeaks [NumDirs][NumSeries]uint64 // since first seen
	LastSeen int64
}

// Stats copies the host's state.
func (v HostView) Stats() HostStats {
	st := HostStats{Key: v.Key(), Totals: *v.a.t.tot(v.e), LastSeen: v.LastSeen()}
	for d := range NumDirs {
		for s := range NumSeries {
			st.Rates[d][s] = v.Rate(d, s)
			st.Peaks[d][s] = v.Peak(d, s)
			st.MaxPeaks[d][s] = v.MaxPeak(d, s)
		}
	}
	return st
}
