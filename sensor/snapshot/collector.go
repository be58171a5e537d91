package snapshot

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/hosts"
)

// Config is what a Collector needs.
type Config struct {
	// Interval between snapshots, a multiple of the aggregator's tick.
	Interval time.Duration
	// Partition names the aggregator partition whose groups Row.Group
	// indexes (the sensor's "hostgroup"); "" or an unknown name gives -1.
	Partition string
}

// Stats are a Collector's counters; safe to read from any goroutine.
type Stats struct {
	Snapshots uint64        // handed to the consumer
	Dropped   uint64        // not handed over: the consumer was busy
	Rows      uint64        // rows in the last snapshot handed over
	Hosts     uint64        // hosts whose previous totals are kept
	LastCopy  time.Duration // time the last walk held the aggregator goroutine
}

// batches is how many batches circulate: one the consumer works on, one
// waiting in the channel or being filled.
const batches = 2

// Collector turns the aggregator's running totals into per-interval rows.
// OnTick runs on the aggregator goroutine; the consumer reads Batches and
// gives each batch back with Release once done with it.
type Collector struct {
	iv       int64
	partName string
	part     int
	groups   []string
	resolved bool

	out  chan *Batch
	free chan *Batch

	primed bool
	start  int64 // start of the interval being collected
	next   int64 // when the next snapshot is due

	prev prevTable

	snapshots, dropped, rows, hosts atomic.Uint64
	lastCopy                        atomic.Int64
}

// NewCollector returns a Collector; tick is the aggregator's tick.
func NewCollector(cfg Config, tick time.Duration) (*Collector, error) {
	switch {
	case cfg.Interval <= 0:
		return nil, fmt.Errorf("snapshot: interval must be > 0, got %v", cfg.Interval)
	case tick <= 0:
		return nil, fmt.Errorf("snapshot: tick must be > 0, got %v", tick)
	case cfg.Interval%tick != 0:
		return nil, fmt.Errorf("snapshot: interval must be a multiple of the aggregator tick (%v), got %v", tick, cfg.Interval)
	}
	c := &Collector{
		iv:       int64(cfg.Interval),
		partName: cfg.Partition,
		part:     -1,
		out:      make(chan *Batch, 1),
		free:     make(chan *Batch, batches),
		prev:     newPrevTable(),
	}
	for range batches {
		c.free <- &Batch{}
	}
	return c, nil
}

// Batches delivers the snapshots; the consumer must Release each one.
func (c *Collector) Batches() <-chan *Batch { return c.out }

// Release gives a batch back for reuse.
func (c *Collector) Release(b *Batch) {
	b.Rows = b.Rows[:0]
	select {
	case c.free <- b:
	default: // not one of ours: the pool is full
	}
}

// Stats returns the counters.
func (c *Collector) Stats() Stats {
	return Stats{
		Snapshots: c.snapshots.Load(),
		Dropped:   c.dropped.Load(),
		Rows:      c.rows.Load(),
		Hosts:     c.hosts.Load(),
		LastCopy:  time.Duration(c.lastCopy.Load()),
	}
}

// OnTick is called on the aggregator goroutine after each tick closes. At
// each interval boundary it walks every tracked host once and starts a new
// peak interval (it must be the only caller of agg.ResetPeaks). The first
// boundary only records where totals stand, so every snapshot covers one
// whole interval.
func (c *Collector) OnTick(t aggregate.Tick, agg *aggregate.Aggregator) {
	if !c.resolved {
		c.resolve(agg)
	}
	if !c.primed && c.next == 0 {
		c.next = t.End - t.End%c.iv + c.iv
		return
	}
	if t.End < c.next {
		return
	}
	at := t.End - t.End%c.iv
	begin := time.Now()
	var b *Batch
	if c.primed {
		select {
		case b = <-c.free:
		default: // the consumer holds every batch
			c.dropped.Add(1)
		}
	}
	c.walk(agg, b)
	agg.ResetPeaks()
	c.lastCopy.Store(int64(time.Since(begin)))
	c.hosts.Store(uint64(c.prev.len()))
	start := c.start
	c.start, c.next = at, at+c.iv
	if !c.primed {
		c.primed = true
		return
	}
	if b == nil {
		return
	}
	if len(b.Rows) == 0 { // nothing happened: no file to write
		c.Release(b)
		return
	}
	b.Start, b.End, b.Groups, b.Dropped = start, at, c.groups, c.dropped.Load()
	rows := uint64(len(b.Rows))
	select {
	case c.out <- b:
		c.snapshots.Add(1)
		c.rows.Store(rows)
	default: // the consumer has not taken the last one yet
		c.dropped.Add(1)
		c.Release(b)
	}
}

// walk updates the previous totals of every host and, when b is not nil,
// appends a row for each host with traffic since the last walk.
func (c *Collector) walk(agg *aggregate.Aggregator, b *Batch) {
	c.prev.begin()
	if n := c.prev.len(); b != nil && cap(b.Rows) < n {
		// Grow once, to about the hosts tracked, rather than by appends.
		b.Rows = make([]Row, 0, n+n/8)
	}
	var cur [aggregate.NumDirs]hosts.Counters
	agg.Range(func(v aggregate.HostView) bool {
		k := v.Key()
		e := c.prev.get(&k)
		cur[aggregate.In], cur[aggregate.Out] = v.Totals(aggregate.In), v.Totals(aggregate.Out)
		if b != nil && (cur[aggregate.In].Packets[hosts.Total] != e.tot[aggregate.In].Packets[hosts.Total] ||
			cur[aggregate.Out].Packets[hosts.Total] != e.tot[aggregate.Out].Packets[hosts.Total]) {
			b.Rows = append(b.Rows, Row{Key: k, Group: -1})
			r := &b.Rows[len(b.Rows)-1]
			for d := range aggregate.NumDirs {
				sub(&r.Counts[d], &cur[d], &e.tot[d])
				for s := range aggregate.NumSeries {
					r.Peaks[d][s] = v.Peak(d, s)
				}
			}
			if c.part >= 0 {
				r.Group = int32(v.Group(c.part))
			}
		}
		e.tot = cur
		return true
	})
	c.prev.end()
}

// resolve finds the partition's index and group names; partitions are
// fixed when the aggregator is built.
func (c *Collector) resolve(agg *aggregate.Aggregator) {
	c.resolved = true
	if c.partName == "" {
		return
	}
	part, last := -1, "\x00"
	for _, g := range agg.Groups() {
		if g.Partition != last {
			last = g.Partition
			part++
		}
		if g.Partition != c.partName {
			continue
		}
		c.part = part
		if g.Name != "" {
			c.groups = append(c.groups, g.Name)
		}
	}
}
