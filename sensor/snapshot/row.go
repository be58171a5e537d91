// Package snapshot copies the aggregator's per-host counters every snapshot
// interval into reusable batches for a consumer (the Arrow writer), without
// ever blocking the aggregator: a busy consumer costs a dropped snapshot,
// counted, never a stalled tick.
package snapshot

import (
	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/hosts"
)

// Row is one host over one snapshot interval.
type Row struct {
	Key hosts.Key
	// Group indexes Batch.Groups, or is -1 when the host is in no group.
	Group int32
	// Counts are the interval's traffic: totals at its end minus totals at
	// its start (a host first seen in the interval counts from zero).
	Counts [aggregate.NumDirs]hosts.Counters
	// Peaks are the highest per-second window rates at any tick close in the
	// interval (bits per second for BPS). The window reaches back one window
	// length before the interval start.
	Peaks [aggregate.NumDirs][aggregate.NumSeries]uint64
}

// Batch is one snapshot: the rows of the hosts with traffic in [Start, End).
type Batch struct {
	Start, End int64 // ns since the epoch, multiples of the interval
	// Groups names the groups of the configured partition, by Row.Group.
	Groups []string
	Rows   []Row
	// Dropped is how many snapshots the collector dropped since it started,
	// as of this one.
	Dropped uint64
}

// Active reports whether the row had any traffic in its interval.
func (r *Row) Active() bool {
	return r.Counts[aggregate.In].Packets[hosts.Total]|r.Counts[aggregate.Out].Packets[hosts.Total] != 0
}
