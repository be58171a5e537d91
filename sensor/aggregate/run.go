package aggregate

import (
	"context"
	"sync"
	"time"

	"github.com/rampartnet/rampart/sensor/ring"
)

// runner is the state of the Run loop, owned by its goroutine.
type runner struct {
	a        *Aggregator
	lateness int64
	wake     chan struct{}
	done     []bool // worker delivered the open tick (Final) or moved past it
	stalled  []bool // worker missed a tick's deadline; not waited for until it sends again
}

// Start runs the aggregator on its own goroutine until Stop or ctx ends:
// it takes batches from Options.Pipes and closes each tick once every worker
// has delivered it (its Final batch, or a batch of a later tick).
//
// Lateness: a tick not complete by its end plus cfg.Lateness on Options.Clock
// is closed without the missing workers (Stats.TicksLate). Those workers are
// then stalled: later ticks close without waiting for them (but not before
// their end on the clock), until they send again. Whatever they send late is
// counted in the open tick, never dropped (Stats.BatchesLate).
func (a *Aggregator) Start(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	r := &runner{
		a:        a,
		lateness: a.lateness,
		wake:     make(chan struct{}, 1),
		done:     make([]bool, len(a.pipes)),
		stalled:  make([]bool, len(a.pipes)),
	}
	for _, p := range a.pipes {
		p.SetWake(r.wake)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	a.stop = func() { cancel(); wg.Wait() }
	go func() {
		defer wg.Done()
		r.loop(ctx)
	}()
}

// Stop ends Run: it drains every pipe in tick order and closes the open tick.
// Stop the workers first (after their last Final batch) so nothing is left behind.
func (a *Aggregator) Stop() {
	if a.stop != nil {
		a.stop()
		a.stop = nil
	}
}

func (r *runner) loop(ctx context.Context) {
	poll := time.NewTicker(max(time.Duration(r.a.tickNs)/4, time.Millisecond))
	defer poll.Stop()
	for {
		for r.step() {
		}
		select {
		case <-ctx.Done():
			r.drain()
			return
		case <-r.wake:
		case <-poll.C:
		}
	}
}

// step applies what has arrived for the open tick and closes it when it is
// complete or late. It reports whether anything happened.
func (r *runner) step() bool {
	a := r.a
	if !a.started {
		first, ok := r.earliest()
		if !ok {
			return false
		}
		a.begin(first)
	}
	progress := false
	complete, anyStalled := true, false
	for w, p := range a.pipes {
		for !r.done[w] {
			b := p.Peek()
			if b == nil {
				break
			}
			t := a.tickOf(b.TickEnd)
			if t > a.open {
				r.done[w] = true
				break
			}
			p.Pop()
			r.stalled[w] = false
			final := b.Final && t == a.open
			a.Apply(b)
			p.Recycle(b)
			progress = true
			r.done[w] = final
		}
		if !r.done[w] {
			if r.stalled[w] {
				anyStalled = true
			} else {
				complete = false
			}
		}
	}
	end := a.open * a.tickNs
	now := a.clock.Now()
	switch {
	case complete && (!anyStalled || now >= end):
	case now >= end+r.lateness:
		for w := range r.done {
			if !r.done[w] && !r.stalled[w] {
				r.stalled[w] = true
			}
		}
		a.mu.Lock()
		a.stats.TicksLate++
		a.mu.Unlock()
	default:
		return progress
	}
	target := a.open
	if next, ok := r.earliest(); ok && !anyStalled && next-1 > target {
		target = next - 1 // every worker is past these ticks
	}
	a.advance(target)
	clear(r.done)
	return true
}

// earliest is the lowest tick at the head of any pipe.
func (r *runner) earliest() (int64, bool) {
	var first int64
	found := false
	for _, p := range r.a.pipes {
		if b := p.Peek(); b != nil {
			if t := r.a.tickOf(b.TickEnd); !found || t < first {
				first, found = t, true
			}
		}
	}
	return first, found
}

// drain applies every batch left, in tick order across pipes, then closes the open tick.
func (r *runner) drain() {
	a := r.a
	for {
		var next *ring.Pipe
		var first int64
		for _, p := range a.pipes {
			if b := p.Peek(); b != nil {
				if t := a.tickOf(b.TickEnd); next == nil || t < first {
					next, first = p, t
				}
			}
		}
		if next == nil {
			break
		}
		b := next.Pop()
		a.Apply(b)
		next.Recycle(b)
	}
	if a.started {
		a.advance(a.open)
	}
}
