package aggregate

import (
	"testing"
	"time"

	"github.com/rampartnet/rampart/sensor/hosts"
)

// A flood at 3x a threshold shows at 3x in TickRate after one tick, while
// the 1 s window rate needs a third of the window to get there.
func TestTickRate(t *testing.T) {
	a := mustNew(t, testConfig(time.Second, time.Minute), Options{})
	tickRate := func(s Series) (rate, window uint64) {
		a.Lookup(key(1), func(v HostView) { rate, window = v.TickRate(In, s), v.Rate(In, s) })
		return
	}
	step(a, 1, []hosts.Delta{inDelta(1, 300, 100)}) // 300 packets in 100 ms
	for _, tc := range []struct {
		s                Series
		wantTick, wantWn uint64
	}{
		{PPS, 3000, 300},
		{SYNPPS, 3000, 300},
		{BPS, 3000 * 100 * 8, 300 * 100 * 8},
		{FlowsPS, 300, 30},
		{UDPPPS, 0, 0},
	} {
		if got, win := tickRate(tc.s); got != tc.wantTick || win != tc.wantWn {
			t.Errorf("after 1 tick %v: TickRate %d (want %d), Rate %d (want %d)", tc.s, got, tc.wantTick, win, tc.wantWn)
		}
	}
	step(a, 2, []hosts.Delta{inDelta(1, 100, 100)})
	if got, _ := tickRate(PPS); got != 1000 {
		t.Errorf("after tick 2: TickRate = %d, want 1000", got)
	}
	step(a, 3, nil) // no traffic in tick 3
	if got, win := tickRate(PPS); got != 0 || win != 400 {
		t.Errorf("after an idle tick: TickRate = %d (want 0), Rate = %d (want 400)", got, win)
	}
}
