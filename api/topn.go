package api

import (
	"container/heap"
	"slices"
)

// TopN keeps the n largest values offered, in O(log n) per offer and O(n)
// memory, so ranking every host never copies the host table.
type TopN[T any] struct {
	n    int
	less func(a, b T) bool // a ranks below b
	h    minHeap[T]
}

// NewTopN keeps at most n items ranked by less (a ranks below b).
func NewTopN[T any](n int, less func(a, b T) bool) *TopN[T] {
	return &TopN[T]{n: n, less: less, h: minHeap[T]{less: less}}
}

// Offer considers v.
func (t *TopN[T]) Offer(v T) {
	switch {
	case t.n <= 0:
	case len(t.h.items) < t.n:
		heap.Push(&t.h, v)
	case t.less(t.h.items[0], v):
		t.h.items[0] = v
		heap.Fix(&t.h, 0)
	}
}

// Sorted returns the items kept, highest first.
func (t *TopN[T]) Sorted() []T {
	out := slices.Clone(t.h.items)
	slices.SortStableFunc(out, func(a, b T) int {
		switch {
		case t.less(b, a):
			return -1
		case t.less(a, b):
			return 1
		}
		return 0
	})
	return out
}

type minHeap[T any] struct {
	items []T
	less  func(a, b T) bool
}

func (h *minHeap[T]) Len() int           { return len(h.items) }
func (h *minHeap[T]) Less(i, j int) bool { return h.less(h.items[i], h.items[j]) }
func (h *minHeap[T]) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *minHeap[T]) Push(x any)         { h.items = append(h.items, x.(T)) }
func (h *minHeap[T]) Pop() any {
	v := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return v
}
