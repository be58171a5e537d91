package aggregate

import (
	"github.com/rampartnet/rampart/sensor/hosts"
)

// Partition divides hosts into groups, e.g. by monitored network or by
// hostgroup. Of is called once per host, when it is first seen (and for each
// delta of a host not tracked because max_hosts was reached); its answer is
// cached. An answer outside [0, len(Groups)) puts the host in no group: its
// traffic is then counted in the partition's Ungrouped totals.
type Partition struct {
	Name   string
	Groups []string
	Of     func(hosts.Key) int
}

// groupState is the totals and window of a group, or of all hosts. Groups
// are few, so they keep dense per-tick buckets.
type groupState struct {
	hosts   int // tracked hosts in the group
	totals  [NumDirs]hosts.Counters
	tick    [NumDirs]hosts.Counters // the open tick
	ring    []sums                  // one bucket per tick of the window
	sum     sums
	peak    sums // since ResetPeaks
	maxPeak sums // since start
}

type partState struct {
	name   string
	names  []string
	of     func(hosts.Key) int
	groups []groupState // one per group, then Ungrouped
}

func newGroupState(buckets int) groupState {
	return groupState{ring: make([]sums, buckets)}
}

func (g *groupState) add(d *hosts.Delta) { addBoth(&g.tick, d) }

// close moves the open tick t into the window.
func (g *groupState) close(t int64) {
	var b sums
	for d := range NumDirs {
		c := &g.tick[d]
		copy(b[d][:hosts.NumMetrics], c.Packets[:])
		b[d][slotFlows] = c.Flows
		b[d][slotBytes] = c.Bytes[hosts.Total]
		addCounters(&g.totals[d], c)
	}
	g.tick = [NumDirs]hosts.Counters{}
	slot := &g.ring[t%int64(len(g.ring))]
	for d := range NumDirs {
		for i := range numSlots {
			g.sum[d][i] += b[d][i] - slot[d][i]
			g.peak[d][i] = max(g.peak[d][i], g.sum[d][i])
			g.maxPeak[d][i] = max(g.maxPeak[d][i], g.sum[d][i])
		}
	}
	*slot = b
}

// quiet reports a group with nothing in its window or open tick.
func (g *groupState) quiet() bool {
	return g.sum == sums{} && g.tick == [NumDirs]hosts.Counters{}
}

// GroupStats is a copy of the state of one group, or of all hosts.
type GroupStats struct {
	Partition string // "" for all hosts
	Name      string // "" for all hosts and for Ungrouped
	Hosts     int    // hosts tracked now
	Totals    [NumDirs]hosts.Counters
	Rates     [NumDirs][NumSeries]uint64
	Peaks     [NumDirs][NumSeries]uint64 // since ResetPeaks
	MaxPeaks  [NumDirs][NumSeries]uint64 // since start
}

// groupStats copies g, whose open tick is tick.
func (a *Aggregator) groupStats(g *groupState, tick *[NumDirs]hosts.Counters, part, name string) GroupStats {
	st := GroupStats{Partition: part, Name: name, Hosts: g.hosts, Totals: g.totals}
	addCounters(&st.Totals[In], &tick[In]) // like host totals, include the open tick
	addCounters(&st.Totals[Out], &tick[Out])
	for d := range NumDirs {
		for s := range NumSeries {
			i := seriesSlot[s]
			st.Rates[d][s] = a.perSec.rate(s, g.sum[d][i])
			st.Peaks[d][s] = a.perSec.rate(s, g.peak[d][i])
			st.MaxPeaks[d][s] = a.perSec.rate(s, g.maxPeak[d][i])
		}
	}
	return st
}
