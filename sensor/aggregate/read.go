package aggregate

import (
	"github.com/rampartnet/rampart/sensor/hosts"
	"github.com/rampartnet/rampart/sensor/ring"
)

// Range calls fn for every tracked host, in slab order (deterministic for a
// given input), until fn returns false. It holds the read lock throughout.
func (a *Aggregator) Range(fn func(HostView) bool) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	for e := range a.t.used {
		if a.t.at(e).lastTick == freeTick {
			continue
		}
		if !fn(HostView{a: a, e: e}) {
			return
		}
	}
}

// Lookup calls fn with host k and reports whether k is tracked.
func (a *Aggregator) Lookup(k hosts.Key, fn func(HostView)) bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	e, ok := a.t.find(&k, a.t.hash(&k))
	if ok {
		fn(HostView{a: a, e: e})
	}
	return ok
}

// Total is the state of all hosts together, tracked or not.
func (a *Aggregator) Total() GroupStats {
	a.mu.RLock()
	defer a.mu.RUnlock()
	tick := a.allTick()
	return a.groupStats(&a.all, &tick, "", "")
}

// Groups lists every group of every partition; each partition ends with its
// Ungrouped entry (Name "").
func (a *Aggregator) Groups() []GroupStats {
	a.mu.RLock()
	defer a.mu.RUnlock()
	var out []GroupStats
	for p := range a.parts {
		ps := &a.parts[p]
		for g := range ps.groups {
			name := ""
			if g < len(ps.names) {
				name = ps.names[g]
			}
			out = append(out, a.groupStats(&ps.groups[g], &ps.groups[g].tick, ps.name, name))
		}
	}
	return out
}

// Stats returns the aggregator's counters and the sum of the workers'.
func (a *Aggregator) Stats() Stats {
	a.mu.RLock()
	defer a.mu.RUnlock()
	st := a.stats
	st.Hosts = a.t.live
	for i := range a.workers {
		st.Workers.Add(&a.workers[i])
	}
	return st
}

// WorkerStats returns the counters worker w sent so far.
func (a *Aggregator) WorkerStats(w int) ring.Stats {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if w < 0 || w >= len(a.workers) {
		return ring.Stats{}
	}
	return a.workers[w]
}

// ResetPeaks starts a new peak interval: Peak then reports the highest rates
// of ticks closed after this call. It costs O(groups), not O(hosts): hosts
// move to the new interval lazily. Owner only (e.g. from OnTick).
func (a *Aggregator) ResetPeaks() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.epoch++
	a.resetTick = a.open - 1
	for p := range a.parts {
		for g := range a.parts[p].groups {
			a.parts[p].groups[g].peak = sums{}
		}
	}
	a.all.peak = sums{}
}

// stalePeak is the interval peak of a host untouched since ResetPeaks: its
// rate has not moved since, so it is that rate once a tick has closed.
func (a *Aggregator) stalePeak(w *hostWin, d Dir, s Series) uint64 {
	if a.open-1 > a.resetTick {
		return a.perSec.rate(s, w.sum[d][seriesSlot[s]])
	}
	return 0
}
