package ring

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/rampartnet/rampart/sensor/hosts"
)

func TestRingFIFOAndBounds(t *testing.T) {
	tests := []struct {
		name     string
		capacity int
		wantCap  int
	}{
		{"one", 1, 1},
		{"power of two", 8, 8},
		{"rounded up", 5, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New[int](tt.capacity)
			if r.Cap() != tt.wantCap {
				t.Fatalf("Cap() = %d, want %d", r.Cap(), tt.wantCap)
			}
			next, want := 0, 0
			// Several laps so indices wrap the buffer.
			for lap := 0; lap < 3; lap++ {
				for i := 0; i < r.Cap(); i++ {
					if !r.Push(next) {
						t.Fatalf("lap %d: Push %d failed with Len %d", lap, next, r.Len())
					}
					next++
				}
				if r.Push(-1) {
					t.Fatalf("lap %d: Push into a full ring succeeded", lap)
				}
				if r.Len() != r.Cap() {
					t.Fatalf("lap %d: Len() = %d, want %d", lap, r.Len(), r.Cap())
				}
				if v, ok := r.Peek(); !ok || v != want {
					t.Fatalf("lap %d: Peek() = %d, %v, want %d", lap, v, ok, want)
				}
				for i := 0; i < r.Cap(); i++ {
					v, ok := r.Pop()
					if !ok || v != want {
						t.Fatalf("lap %d: Pop() = %d, %v, want %d", lap, v, ok, want)
					}
					want++
				}
				if _, ok := r.Pop(); ok {
					t.Fatalf("lap %d: Pop from an empty ring succeeded", lap)
				}
			}
		})
	}
}

func TestRingConcurrentSums(t *testing.T) {
	const n = 200000
	r := New[uint64](16)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := uint64(1); i <= n; {
			if r.Push(i) {
				i++
			} else {
				runtime.Gosched()
			}
		}
	}()
	var sum, count, last uint64
	deadline := time.Now().Add(20 * time.Second)
	for count < n {
		v, ok := r.Pop()
		if !ok {
			if time.Now().After(deadline) {
				t.Fatalf("only %d of %d items after 20s", count, n)
			}
			runtime.Gosched()
			continue
		}
		if v != last+1 {
			t.Fatalf("popped %d after %d: order broken", v, last)
		}
		last = v
		sum += v
		count++
	}
	wg.Wait()
	if want := uint64(n) * (n + 1) / 2; sum != want {
		t.Fatalf("sum = %d, want %d", sum, want)
	}
}

// TestPipeConcurrent runs a worker and an aggregator goroutine through a small
// pipe. The worker never waits: when no batch is free it keeps its counts and
// sends them with a later tick, so the packet sums must match exactly.
func TestPipeConcurrent(t *testing.T) {
	const ticks = 20000
	p := NewPipe(3, 4, 8)
	wake := make(chan struct{}, 1)
	p.SetWake(wake)
	deadline := time.Now().Add(20 * time.Second)

	var sent, skipped uint64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var pending Stats
		send := func(b *Batch, tick int64) {
			b.TickEnd, b.Final = tick, true
			b.Deltas = append(b.Deltas, hosts.Delta{In: hosts.Counters{Packets: [hosts.NumMetrics]uint64{pending.Packets}}})
			b.Stats = pending
			pending = Stats{}
			p.Send(b)
		}
		for tick := int64(1); tick <= ticks; tick++ {
			pending.Packets += uint64(tick % 7)
			sent += uint64(tick % 7)
			if b := p.Get(); b != nil {
				send(b, tick)
			} else {
				pending.FlushesSkipped++
				skipped++
			}
			if tick%4 == 0 {
				runtime.Gosched() // let the consumer drain now and then
			}
		}
		// At shutdown only, wait for a free batch to carry what is left.
		for time.Now().Before(deadline) {
			if b := p.Get(); b != nil {
				send(b, ticks+1)
				return
			}
			runtime.Gosched()
		}
	}()

	var got Stats
	var deltaPkts uint64
	lastTick := int64(0)
	for lastTick != ticks+1 {
		if time.Now().After(deadline) {
			t.Fatalf("no final batch after %d ticks", lastTick)
		}
		b := p.Pop()
		if b == nil {
			runtime.Gosched()
			continue
		}
		if b.Worker != 3 {
			t.Fatalf("batch from worker %d, want 3", b.Worker)
		}
		if b.TickEnd <= lastTick {
			t.Fatalf("tick %d after %d: order broken", b.TickEnd, lastTick)
		}
		lastTick = b.TickEnd
		for _, d := range b.Deltas {
			deltaPkts += d.In.Packets[hosts.Total]
		}
		got.Add(&b.Stats)
		p.Recycle(b)
	}
	wg.Wait()
	if deltaPkts != sent || got.Packets != sent {
		t.Fatalf("received %d packets in deltas and %d in stats, sent %d", deltaPkts, got.Packets, sent)
	}
	if got.FlushesSkipped != skipped {
		t.Fatalf("FlushesSkipped = %d, want %d", got.FlushesSkipped, skipped)
	}
	t.Logf("%d of %d ticks found no free batch", skipped, ticks)
}

func TestPipeGetExhaustsAndResets(t *testing.T) {
	p := NewPipe(1, 2, 4)
	a, b := p.Get(), p.Get()
	if a == nil || b == nil {
		t.Fatal("Get returned nil with free batches")
	}
	if p.Get() != nil {
		t.Fatal("Get returned a third batch from a pipe of two")
	}
	a.TickEnd, a.Final = 7, true
	a.Deltas = append(a.Deltas, hosts.Delta{})
	a.Stats.Packets = 9
	p.Send(a)
	got := p.Pop()
	if got != a || got.TickEnd != 7 || !got.Final || len(got.Deltas) != 1 {
		t.Fatalf("Pop() = %+v, want the batch sent", got)
	}
	p.Recycle(got)
	c := p.Get()
	if c != a {
		t.Fatal("Get did not return the recycled batch")
	}
	if c.TickEnd != 0 || c.Final || len(c.Deltas) != 0 || c.Room() != 4 || c.Stats != (Stats{}) {
		t.Fatalf("recycled batch not reset: %+v", c)
	}
}

func TestRingNoAllocs(t *testing.T) {
	r := New[*Batch](4)
	b := &Batch{}
	if n := testing.AllocsPerRun(1000, func() {
		r.Push(b)
		r.Pop()
	}); n != 0 {
		t.Fatalf("Push+Pop allocated %v times per run", n)
	}
	p := NewPipe(0, 2, 16)
	p.SetWake(make(chan struct{}, 1))
	if n := testing.AllocsPerRun(1000, func() {
		b := p.Get()
		b.Final = true
		p.Send(b)
		p.Recycle(p.Pop())
	}); n != 0 {
		t.Fatalf("Get+Send+Pop+Recycle allocated %v times per run", n)
	}
}

func BenchmarkPipeRoundTrip(b *testing.B) {
	p := NewPipe(0, 2, 16)
	b.ReportAllocs()
	for b.Loop() {
		x := p.Get()
		x.Final = true
		p.Send(x)
		p.Recycle(p.Pop())
	}
}
