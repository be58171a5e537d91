package detect

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// notifier delivers events away from the detector goroutine: notify never
// blocks (a full queue drops the event and counts it).
type notifier interface {
	notify(Event)
	close()
	counters() *queue
}

// queue is a bounded event queue drained by workers; the base of each hook.
type queue struct {
	ch      chan Event
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	drain   time.Duration // how long close waits for the queue to empty
	once    sync.Once
	sent    atomic.Uint64
	failed  atomic.Uint64
	dropped atomic.Uint64
}

func newQueue(size, workers int, drain time.Duration, deliver func(context.Context, Event) bool) *queue {
	q := &queue{ch: make(chan Event, size), drain: drain}
	q.ctx, q.cancel = context.WithCancel(context.Background())
	for range workers {
		q.wg.Add(1)
		go func() {
			defer q.wg.Done()
			for e := range q.ch {
				if q.ctx.Err() != nil {
					q.dropped.Add(1)
					continue
				}
				if deliver(q.ctx, e) {
					q.sent.Add(1)
				} else {
					q.failed.Add(1)
				}
			}
		}()
	}
	return q
}

func (q *queue) notify(e Event) {
	select {
	case q.ch <- e:
	default:
		q.dropped.Add(1)
	}
}

func (q *queue) counters() *queue { return q }

// close lets the workers deliver what is queued for up to drain, then
// cancels what is left.
func (q *queue) close() {
	q.once.Do(func() {
		close(q.ch)
		done := make(chan struct{})
		go func() { q.wg.Wait(); close(done) }()
		t := time.NewTimer(q.drain)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
			q.cancel()
			<-done
		}
		q.cancel()
	})
}

// sleep waits d or until ctx ends, and reports whether it waited all of d.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
