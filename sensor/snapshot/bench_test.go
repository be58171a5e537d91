package snapshot

import (
	"testing"

	"github.com/rampartnet/rampart/sensor/hosts"
)

// BenchmarkCollect1M is one snapshot walk over 1M hosts that all had
// traffic: the time the aggregator goroutine is held per interval.
func BenchmarkCollect1M(b *testing.B) {
	const n = 1 << 20
	r := newRig(b, n)
	ds := make([]hosts.Delta, n)
	for i := range ds {
		ds[i] = traffic(0, 1+i%100)
		ds[i].Key[12], ds[i].Key[13], ds[i].Key[14], ds[i].Key[15] = 10, byte(i>>16), byte(i>>8), byte(i)
	}
	bt := &Batch{}
	traffic := func() {
		r.n++
		r.agg.Apply(batchOf(r.n, ds))
		r.agg.CloseTick(r.n * tickNs)
	}
	traffic()
	r.col.walk(r.agg, bt) // first walk: every host is new
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		traffic()
		bt.Rows = bt.Rows[:0]
		b.StartTimer()
		r.col.walk(r.agg, bt)
		r.agg.ResetPeaks()
	}
	if len(bt.Rows) != n {
		b.Fatalf("%d rows, want %d", len(bt.Rows), n)
	}
}
