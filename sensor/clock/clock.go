// Package clock is the sensor's source of time: the wall clock when live, and
// a clock set from packet timestamps on replay, so that a replay closes the
// same ticks and detects the same attacks on every run.
package clock

import (
	"sync/atomic"
	"time"
)

// Clock tells the time in nanoseconds since the Unix epoch.
type Clock interface {
	Now() int64
}

// Wall is the system clock.
type Wall struct{}

// Now returns the system time.
func (Wall) Now() int64 { return time.Now().UnixNano() }

// Manual is a clock moved by its owner, e.g. to each packet's timestamp on
// replay. It never goes backwards: an out-of-order packet does not rewind it.
// It is safe for one goroutine to Advance while others call Now. Advance costs
// an atomic load, plus a store when time moves; a replay worker may call it
// once per burst with the burst's latest timestamp.
type Manual struct {
	ns atomic.Int64
}

// NewManual returns a Manual clock reading start.
func NewManual(start int64) *Manual {
	m := &Manual{}
	m.ns.Store(start)
	return m
}

// Now returns the latest time the clock was advanced to.
func (m *Manual) Now() int64 { return m.ns.Load() }

// Advance moves the clock to ns if ns is later than the current reading and
// returns the reading afterwards.
func (m *Manual) Advance(ns int64) int64 {
	// Only the owner advances, so a load and a store need no compare-and-swap.
	if cur := m.ns.Load(); ns <= cur {
		return cur
	}
	m.ns.Store(ns)
	return ns
}

// TickEnd returns the end of the tick that contains ns, for ticks of tick
// nanoseconds aligned on the epoch: ns lies in [end-tick, end). Every worker and
// the aggregator use it, so they agree on tick boundaries without talking.
func TickEnd(ns, tick int64) int64 {
	q := ns / tick
	if ns%tick < 0 {
		q-- // floor for times before the epoch
	}
	return (q + 1) * tick
}
