package aggregate

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rampartnet/rampart/sensor/clock"
	"github.com/rampartnet/rampart/sensor/hosts"
	"github.com/rampartnet/rampart/sensor/ring"
)

// TestRunWithStalledWorker runs two workers into a running aggregator on a
// manual clock. Worker 1 stops sending half-way; the aggregator must keep
// closing ticks (late) and lose no packet.
func TestRunWithStalledWorker(t *testing.T) {
	const ticks = 300
	clk := clock.NewManual(0)
	pipes := []*ring.Pipe{ring.NewPipe(0, 4, 4), ring.NewPipe(1, 4, 4)}
	cfg := testConfig(time.Second, time.Minute)
	var closed []int64
	a := mustNew(t, cfg, Options{Clock: clk, Pipes: pipes, OnTick: func(tk Tick) { closed = append(closed, tk.End) }})
	a.Start(context.Background())

	sent := [2]uint64{}
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var pending uint64
			last := int64(ticks)
			if w == 1 {
				last = ticks / 2
			}
			deadline := time.Now().Add(10 * time.Second)
			for n := int64(1); n <= last || pending > 0; n++ {
				if n > last && time.Now().After(deadline) {
					t.Errorf("worker %d could not flush %d packets", w, pending)
					return
				}
				if w == 0 {
					clk.Advance(n * tickNs) // worker 0's packets drive time
				}
				if n <= last {
					pending += 3
					sent[w] += 3
				}
				b := pipes[w].Get()
				if b == nil {
					time.Sleep(50 * time.Microsecond)
					continue // counts stay pending for a later tick
				}
				b.TickEnd, b.Final = n*tickNs, true
				b.Deltas = append(b.Deltas, inDelta(uint32(w), pending, 100))
				pending = 0
				pipes[w].Send(b)
				if n%8 == 0 {
					time.Sleep(100 * time.Microsecond)
				}
			}
		}()
	}
	wg.Wait()
	clk.Advance((ticks + 10) * tickNs)
	a.Stop()

	for w := range 2 {
		st, ok := hostStats(t, a, uint32(w))
		if !ok || st.Totals[In].Packets[hosts.Total] != sent[w] {
			t.Fatalf("worker %d: host totals %d (tracked %v), sent %d", w, st.Totals[In].Packets[hosts.Total], ok, sent[w])
		}
	}
	s := a.Stats()
	if s.TicksLate == 0 {
		t.Fatalf("no late tick with worker 1 stalled: %+v", s)
	}
	if n := len(closed); n == 0 || int64(n) != int64(s.TicksClosed) {
		t.Fatalf("OnTick called %d times, TicksClosed %d", n, s.TicksClosed)
	}
	for i := 1; i < len(closed); i++ {
		if closed[i] <= closed[i-1] {
			t.Fatalf("tick %d closed after tick %d", closed[i], closed[i-1])
		}
	}
	t.Logf("stats %+v", s)
}
