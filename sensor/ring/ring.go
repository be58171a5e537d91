// Package ring hands tick batches from a worker to the aggregator: a bounded
// single-producer single-consumer ring with no locks and no allocation, and a
// Pipe of two such rings that recycles a fixed set of batches.
package ring

import (
	"fmt"
	"sync/atomic"
)

// cacheLine is the padding unit that keeps producer and consumer state apart.
const cacheLine = 64

// Ring is a bounded FIFO for exactly one producer goroutine (Push) and one
// consumer goroutine (Peek, Pop). The producer publishes a slot with a store to
// tail that the consumer loads before reading the slot, and the consumer frees
// a slot with a store to head that the producer loads before reusing it; Go's
// atomics give those loads and stores acquire/release order.
type Ring[T any] struct {
	_ [cacheLine]byte
	// Producer's line: the index it writes and its last view of head.
	tail       atomic.Uint64
	headCached uint64
	_          [cacheLine - 16]byte
	// Consumer's line: the index it writes and its last view of tail.
	head       atomic.Uint64
	tailCached uint64
	_          [cacheLine - 16]byte
	// Read-only after New.
	buf  []T
	mask uint64
	_    [cacheLine - 32]byte
}

// New returns a ring holding at least capacity items (rounded up to a power of two).
func New[T any](capacity int) *Ring[T] {
	if capacity < 1 {
		panic(fmt.Sprintf("ring: capacity must be > 0, got %d", capacity))
	}
	n := 1
	for n < capacity {
		n <<= 1
	}
	return &Ring[T]{buf: make([]T, n), mask: uint64(n - 1)}
}

// Cap is the number of items the ring holds when full.
func (r *Ring[T]) Cap() int { return len(r.buf) }

// Len is the number of items in the ring; exact only when neither side is moving.
func (r *Ring[T]) Len() int { return int(r.tail.Load() - r.head.Load()) }

// Push appends v and reports true, or reports false when the ring is full.
// Producer only.
func (r *Ring[T]) Push(v T) bool {
	t := r.tail.Load()
	if t-r.headCached == uint64(len(r.buf)) {
		r.headCached = r.head.Load()
		if t-r.headCached == uint64(len(r.buf)) {
			return false
		}
	}
	r.buf[t&r.mask] = v
	r.tail.Store(t + 1)
	return true
}

// Peek returns the oldest item without removing it. Consumer only.
func (r *Ring[T]) Peek() (T, bool) {
	h := r.head.Load()
	if h == r.tailCached {
		r.tailCached = r.tail.Load()
		if h == r.tailCached {
			var zero T
			return zero, false
		}
	}
	return r.buf[h&r.mask], true
}

// Pop removes and returns the oldest item. Consumer only.
func (r *Ring[T]) Pop() (T, bool) {
	v, ok := r.Peek()
	if !ok {
		return v, false
	}
	h := r.head.Load()
	var zero T
	r.buf[h&r.mask] = zero // drop the reference before the producer may reuse the slot
	r.head.Store(h + 1)
	return v, true
}
