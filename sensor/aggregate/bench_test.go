package aggregate

import (
	"runtime"
	"testing"
	"time"

	"github.com/rampartnet/rampart/sensor/hosts"
	"github.com/rampartnet/rampart/sensor/ring"
)

// benchBatches splits deltas for hosts [0, n) into batches of 4096, as a
// worker's pipe would carry them.
func benchBatches(n, offset int) []*ring.Batch {
	var bs []*ring.Batch
	for i := 0; i < n; i += 4096 {
		b := &ring.Batch{Deltas: make([]hosts.Delta, 0, 4096)}
		for j := i; j < min(i+4096, n); j++ {
			d := inDelta(uint32(j+offset), 10, 100)
			d.Out.Packets[hosts.Total], d.Out.Bytes[hosts.Total] = 2, 120
			b.Deltas = append(b.Deltas, d)
		}
		bs = append(bs, b)
	}
	bs[len(bs)-1].Final = true
	return bs
}

func benchTick(b *testing.B, tracked, touched int) {
	cfg := DefaultConfig()
	a := mustNew(b, cfg, Options{Partitions: []Partition{{Name: "net", Groups: []string{"a", "b"}, Of: func(k hosts.Key) int { return int(k[13] & 1) }}}})
	all := benchBatches(tracked, 0)
	hot := benchBatches(touched, 0)
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	n := int64(1)
	tick := func(bs []*ring.Batch) {
		for _, x := range bs {
			x.TickEnd = n * tickNs
			a.Apply(x)
		}
		a.CloseTick(n * tickNs)
		n++
	}
	// Every host tracked and the window full of traffic: the memory worst case.
	for range a.buckets + 1 {
		tick(all)
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	// Then the steady state of the benchmark's traffic: the busy ticks have
	// left the window.
	for range a.buckets + 1 {
		tick(hot)
	}
	mem := float64(after.HeapAlloc-before.HeapAlloc) / float64(tracked)
	// The floor runs between the ticks, so both see the same machine.
	fl := newFloor(touched, int(a.buckets))
	for range a.buckets + 1 {
		fl.tick(hot)
	}
	b.ReportAllocs()
	b.ResetTimer()
	// The split between applying and closing shows where a tick's time goes.
	var applyNs, closeNs, floorNs time.Duration
	for b.Loop() {
		b.StopTimer()
		start := time.Now()
		fl.tick(hot)
		floorNs += time.Since(start)
		b.StartTimer()
		start = time.Now()
		for _, x := range hot {
			x.TickEnd = n * tickNs
			a.Apply(x)
		}
		mid := time.Now()
		a.CloseTick(n * tickNs)
		n++
		applyNs += mid.Sub(start)
		closeNs += time.Since(mid)
	}
	b.ReportMetric(float64(applyNs.Nanoseconds())/float64(b.N), "apply-ns/op")
	b.ReportMetric(float64(closeNs.Nanoseconds())/float64(b.N), "close-ns/op")
	b.ReportMetric(float64(floorNs.Nanoseconds())/float64(b.N), "floor-ns/op")
	b.ReportMetric(float64((applyNs+closeNs).Nanoseconds())/float64(floorNs.Nanoseconds()), "x-floor")
	b.ReportMetric(float64(touched), "hosts/tick")
	b.ReportMetric(mem, "B/host")
}

func BenchmarkTick1MActive(b *testing.B)     { benchTick(b, 1<<20, 1<<20) }
func BenchmarkTick1MTracked10K(b *testing.B) { benchTick(b, 1<<20, 10_000) }
