package api

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestTopN(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct{ n, items int }{{0, 10}, {1, 10}, {5, 3}, {20, 1000}, {7, 7}} {
		vals := make([]int, tc.items)
		top := NewTopN(tc.n, func(a, b int) bool { return a < b })
		for i := range vals {
			vals[i] = rng.IntN(100)
			top.Offer(vals[i])
		}
		slices.Sort(vals)
		slices.Reverse(vals)
		want := vals[:min(tc.n, len(vals))]
		if got := top.Sorted(); !slices.Equal(got, want) {
			t.Errorf("n=%d of %d: got %v, want %v", tc.n, tc.items, got, want)
		}
	}
}

func BenchmarkTopN(b *testing.B) {
	vals := make([]uint64, 100_000)
	for i := range vals {
		vals[i] = uint64(i*7919) % 1_000_003
	}
	b.ReportAllocs()
	for b.Loop() {
		top := NewTopN(20, func(a, b uint64) bool { return a < b })
		for _, v := range vals {
			top.Offer(v)
		}
		_ = top.Sorted()
	}
}
