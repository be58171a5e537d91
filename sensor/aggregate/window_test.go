package aggregate

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/rampartnet/rampart/sensor/hosts"
)

// TestRatesOverWindow feeds one host a packet count per tick and checks its
// rates after every close against the window sum scaled to one second.
func TestRatesOverWindow(t *testing.T) {
	rep := func(v uint64, n int) []uint64 {
		s := make([]uint64, n)
		for i := range s {
			s[i] = v
		}
		return s
	}
	cat := func(parts ...[]uint64) []uint64 {
		var s []uint64
		for _, p := range parts {
			s = append(s, p...)
		}
		return s
	}
	tests := []struct {
		name    string
		window  time.Duration
		perTick []uint64
		// wantLast is the expected PPS after the last tick, stated by hand.
		wantLast uint64
	}{
		{"steady 100/tick is 1000 pps", time.Second, rep(100, 10), 1000},
		{"still 1000 pps past the window", time.Second, rep(100, 25), 1000},
		{"drops to zero one window after traffic stops", time.Second, cat(rep(100, 10), rep(0, 10)), 0},
		{"half gone half a window later", time.Second, cat(rep(100, 10), rep(0, 5)), 500},
		{"burst of one tick", time.Second, cat(rep(0, 3), []uint64{700}, rep(0, 4)), 700},
		{"window of one tick scales by ten", 100 * time.Millisecond, []uint64{5, 7, 9}, 90},
		{"half-second window doubles", 500 * time.Millisecond, rep(100, 8), 1000},
		{"three-second window divides", 3 * time.Second, rep(10, 40), 100},
		{"three-second window partly filled", 3 * time.Second, rep(10, 5), 16}, // 50 / 3, floored
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := mustNew(t, testConfig(tt.window, time.Minute), Options{})
			w := int(tt.window / time.Duration(tickNs))
			for n, pkts := range tt.perTick {
				var ds []hosts.Delta
				if pkts > 0 {
					ds = append(ds, inDelta(1, pkts, 64))
				}
				step(a, int64(n+1), ds)
				var sum uint64
				for j := max(0, n-w+1); j <= n; j++ {
					sum += tt.perTick[j]
				}
				want := sum * uint64(time.Second) / uint64(tt.window)
				st, ok := hostStats(t, a, 1)
				if !ok {
					if sum > 0 {
						t.Fatalf("tick %d: host not tracked", n+1)
					}
					continue
				}
				if got := st.Rates[In][PPS]; got != want {
					t.Fatalf("tick %d: pps = %d, want %d", n+1, got, want)
				}
				if got, want := st.Rates[In][BPS], sum*64*8*uint64(time.Second)/uint64(tt.window); got != want {
					t.Fatalf("tick %d: bps = %d, want %d", n+1, got, want)
				}
				if got := st.Rates[In][SYNPPS]; got != want {
					t.Fatalf("tick %d: syn pps = %d, want %d", n+1, got, want)
				}
				if st.Rates[In][UDPPPS] != 0 || st.Rates[Out][PPS] != 0 {
					t.Fatalf("tick %d: udp/out rates not zero: %+v", n+1, st.Rates)
				}
			}
			st, _ := hostStats(t, a, 1)
			if st.Rates[In][PPS] != tt.wantLast {
				t.Fatalf("final pps = %d, want %d", st.Rates[In][PPS], tt.wantLast)
			}
			var total uint64
			for _, p := range tt.perTick {
				total += p
			}
			if st.Totals[In].Packets[hosts.Total] != total || st.Totals[In].Bytes[hosts.Total] != 64*total {
				t.Fatalf("totals %+v, want %d packets", st.Totals[In], total)
			}
		})
	}
}

func TestPeaks(t *testing.T) {
	a := mustNew(t, testConfig(time.Second, time.Minute), Options{})
	// Ticks 1-10: 100/tick (peak 1000 at tick 10). Ticks 11-20: 50/tick.
	n := int64(0)
	for ; n < 20; n++ {
		pk := uint64(100)
		if n >= 10 {
			pk = 50
		}
		step(a, n+1, []hosts.Delta{inDelta(1, pk, 100)})
	}
	st, _ := hostStats(t, a, 1)
	if st.Rates[In][PPS] != 500 || st.Peaks[In][PPS] != 1000 || st.MaxPeaks[In][PPS] != 1000 {
		t.Fatalf("rate %d peak %d max %d, want 500 1000 1000", st.Rates[In][PPS], st.Peaks[In][PPS], st.MaxPeaks[In][PPS])
	}
	if st.Peaks[In][BPS] != 1000*100*8 {
		t.Fatalf("peak bps = %d, want %d", st.Peaks[In][BPS], 1000*100*8)
	}

	// A new interval: untouched hosts keep their rate as the interval peak
	// once a tick has closed; before that the interval has no peak.
	a.ResetPeaks()
	if st, _ := hostStats(t, a, 1); st.Peaks[In][PPS] != 0 || st.MaxPeaks[In][PPS] != 1000 {
		t.Fatalf("after reset: peak %d max %d, want 0 1000", st.Peaks[In][PPS], st.MaxPeaks[In][PPS])
	}
	n++
	step(a, n) // host 1 not touched: its oldest 50 leaves the window
	if st, _ := hostStats(t, a, 1); st.Rates[In][PPS] != 450 || st.Peaks[In][PPS] != 450 {
		t.Fatalf("first tick after reset: rate %d peak %d, want 450 450", st.Rates[In][PPS], st.Peaks[In][PPS])
	}
	for range 3 {
		n++
		step(a, n)
	}
	if st, _ := hostStats(t, a, 1); st.Rates[In][PPS] != 300 || st.Peaks[In][PPS] != 450 {
		t.Fatalf("decaying: rate %d peak %d, want 300 450", st.Rates[In][PPS], st.Peaks[In][PPS])
	}

	// A host that never changes across a reset: its rate is its peak.
	b := mustNew(t, testConfig(time.Second, time.Minute), Options{})
	step(b, 1, []hosts.Delta{inDelta(2, 30, 100)})
	b.ResetPeaks()
	if st, _ := hostStats(t, b, 2); st.Peaks[In][PPS] != 0 {
		t.Fatalf("no tick since reset: peak %d, want 0", st.Peaks[In][PPS])
	}
	step(b, 2)
	step(b, 3)
	if st, _ := hostStats(t, b, 2); st.Peaks[In][PPS] != 30 || st.Rates[In][PPS] != 30 {
		t.Fatalf("stale host: rate %d peak %d, want 30 30", st.Rates[In][PPS], st.Peaks[In][PPS])
	}
	step(b, 4, []hosts.Delta{inDelta(2, 10, 100)})
	if st, _ := hostStats(t, b, 2); st.Peaks[In][PPS] != 40 {
		t.Fatalf("stale host touched: peak %d, want 40", st.Peaks[In][PPS])
	}
	if g := b.Total(); g.Peaks[In][PPS] != 40 || g.MaxPeaks[In][PPS] != 40 {
		t.Fatalf("total peaks %d %d, want 40 40", g.Peaks[In][PPS], g.MaxPeaks[In][PPS])
	}
}

func TestWorkersMergeAndLateBatches(t *testing.T) {
	a := mustNew(t, testConfig(time.Second, time.Minute), Options{})
	// Two workers see the same host in the same tick: one window entry.
	step(a, 1, []hosts.Delta{inDelta(1, 30, 64)}, []hosts.Delta{inDelta(1, 70, 64), inDelta(2, 5, 64)})
	if st, _ := hostStats(t, a, 1); st.Rates[In][PPS] != 100 {
		t.Fatalf("merged pps = %d, want 100", st.Rates[In][PPS])
	}
	if a.logLen != 2 {
		t.Fatalf("log entries = %d, want 2 (one per host)", a.logLen)
	}
	// Worker 1 is late with tick 2: tick 3's batch from worker 0 closes tick 2
	// first, and the late batch counts in tick 3.
	a.Apply(batchOf(0, 3, inDelta(1, 10, 64)))
	a.Apply(batchOf(1, 2, inDelta(1, 20, 64)))
	a.CloseTick(3 * tickNs)
	st, _ := hostStats(t, a, 1)
	if st.Rates[In][PPS] != 130 || st.Totals[In].Packets[hosts.Total] != 130 {
		t.Fatalf("pps %d total %d, want 130 130", st.Rates[In][PPS], st.Totals[In].Packets[hosts.Total])
	}
	s := a.Stats()
	if s.BatchesLate != 1 || s.TicksClosed != 3 {
		t.Fatalf("stats %+v, want 1 late batch, 3 ticks", s)
	}
	if w := a.WorkerStats(1); w.Packets != 1 {
		t.Fatalf("worker 1 stats %+v, want the 1 packet it reported", w)
	}
}

// TestPeaksMatchModel checks Peak and MaxPeak after every close against
// their definitions, over random traffic and random ResetPeaks: the peak is
// the highest window sum at a close since the last reset (none before a
// tick has closed), the all-time peak the highest at any close.
func TestPeaksMatchModel(t *testing.T) {
	const hostsN, ticks, w = 6, 300, 10
	a := mustNew(t, testConfig(time.Second, time.Hour), Options{})
	rng := rand.New(rand.NewPCG(7, 8))
	var hist [hostsN][ticks + 1]uint64
	var peak, maxPeak [hostsN]uint64
	resets := 0
	for n := 1; n <= ticks; n++ {
		var ds []hosts.Delta
		for h := range hostsN {
			// Bursty: each host is idle for stretches, so some go untouched
			// across resets and some peaks fall in an earlier epoch.
			if rng.IntN(4) == 0 {
				hist[h][n] = rng.Uint64N(100) + 1
				ds = append(ds, inDelta(uint32(h), hist[h][n], 100))
			}
		}
		step(a, int64(n), ds)
		for h := range hostsN {
			var sum uint64
			for j := max(1, n-w+1); j <= n; j++ {
				sum += hist[h][j]
			}
			peak[h], maxPeak[h] = max(peak[h], sum), max(maxPeak[h], sum)
			st, ok := hostStats(t, a, uint32(h))
			if !ok {
				continue // not seen yet
			}
			if st.Peaks[In][PPS] != peak[h] || st.MaxPeaks[In][PPS] != maxPeak[h] || st.MaxPeaks[In][BPS] != maxPeak[h]*100*8 {
				t.Fatalf("tick %d host %d after %d resets: peak %d max %d (bps %d), want %d %d",
					n, h, resets, st.Peaks[In][PPS], st.MaxPeaks[In][PPS], st.MaxPeaks[In][BPS], peak[h], maxPeak[h])
			}
		}
		if rng.IntN(7) == 0 {
			a.ResetPeaks()
			resets++
			peak = [hostsN]uint64{}
		}
	}
	if resets < 20 {
		t.Fatalf("only %d resets: the test did not exercise epochs", resets)
	}
}
