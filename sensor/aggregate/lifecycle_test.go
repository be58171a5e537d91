package aggregate

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/rampartnet/rampart/internal/validate"
	"github.com/rampartnet/rampart/sensor/hosts"
	"github.com/rampartnet/rampart/sensor/ring"
)

func TestIdleExpiry(t *testing.T) {
	// 1 s window, 2 s idle expiry = 20 ticks; the sweep covers the slab every
	// 20/8 = 2 ticks, so a host goes 20 to 22 ticks after its last traffic.
	a := mustNew(t, testConfig(time.Second, 2*time.Second), Options{})
	step(a, 1, []hosts.Delta{inDelta(1, 10, 64), inDelta(2, 10, 64)})
	var n int64 = 1
	for ; n < 15; n++ {
		step(a, n+1, []hosts.Delta{inDelta(2, 10, 64)})
	}
	for ; n < 21; n++ { // host 1 last seen in tick 1
		if _, ok := hostStats(t, a, 1); !ok {
			t.Fatalf("host 1 gone after tick %d, idle for %d ticks only", n, n-1)
		}
		step(a, n+1)
	}
	for ; n < 23; n++ {
		step(a, n+1)
	}
	if _, ok := hostStats(t, a, 1); ok {
		t.Fatalf("host 1 still tracked after tick %d", n)
	}
	if st, ok := hostStats(t, a, 2); !ok || st.Rates[In][PPS] != 20 {
		t.Fatalf("host 2 (last seen in tick 15, window 14-23) = %+v, %v; want 20 pps", st.Rates[In], ok)
	}
	if s := a.Stats(); s.HostsExpired != 1 || s.Hosts != 1 {
		t.Fatalf("stats %+v, want 1 expired, 1 left", s)
	}
	// Expired hosts come back fresh, reusing their slab entry.
	step(a, n+1, []hosts.Delta{inDelta(3, 1, 64)})
	if st, ok := hostStats(t, a, 3); !ok || st.Totals[In].Packets[hosts.Total] != 1 || a.t.used != 2 {
		t.Fatalf("host 3 = %+v %v, slab %d; want 1 packet in a reused entry", st.Totals[In], ok, a.t.used)
	}
}

func TestQuietTicksSkipped(t *testing.T) {
	a := mustNew(t, testConfig(time.Second, 2*time.Second), Options{})
	step(a, 1, []hosts.Delta{inDelta(1, 10, 64)})
	step(a, 2, []hosts.Delta{inDelta(2, 10, 64)})
	// An hour of nothing: the window drains tick by tick, then the rest is one step.
	step(a, 36000, []hosts.Delta{inDelta(3, 10, 64)})
	s := a.Stats()
	if s.TicksClosed+s.TicksSkipped != 36000 || s.TicksClosed > 20 {
		t.Fatalf("closed %d skipped %d, want 36000 in all, few closed", s.TicksClosed, s.TicksSkipped)
	}
	if s.Hosts != 1 || s.HostsExpired != 2 {
		t.Fatalf("hosts %d expired %d, want 1 and 2", s.Hosts, s.HostsExpired)
	}
	if st, _ := hostStats(t, a, 3); st.Rates[In][PPS] != 10 || st.LastSeen != 36000*tickNs {
		t.Fatalf("host 3 rate %d last seen %d", st.Rates[In][PPS], st.LastSeen)
	}
}

func TestHostBoundAndGroups(t *testing.T) {
	cfg := testConfig(time.Second, time.Minute)
	cfg.MaxHosts = 3
	// Networks by the last byte: 0-9 "a", 10-19 "b", anything else no group.
	nets := Partition{Name: "network", Groups: []string{"a", "b"}, Of: func(k hosts.Key) int {
		if v := int(k[15]); v < 20 {
			return v / 10
		}
		return -1
	}}
	calls := 0
	hg := Partition{Name: "hostgroup", Groups: []string{"odd"}, Of: func(k hosts.Key) int {
		calls++
		return int(k[15]&1) - 1 // odd hosts in group 0, even in none
	}}
	a := mustNew(t, cfg, Options{Partitions: []Partition{nets, hg}})
	for n := int64(1); n <= 10; n++ {
		step(a, n, []hosts.Delta{inDelta(1, 10, 100), inDelta(12, 20, 100), inDelta(30, 40, 100), inDelta(2, 1, 100)})
	}
	s := a.Stats()
	if s.Hosts != 3 || s.HostsDropped != 10 {
		t.Fatalf("hosts %d dropped %d, want 3 and 10", s.Hosts, s.HostsDropped)
	}
	if _, ok := hostStats(t, a, 2); ok {
		t.Fatal("host 2 tracked beyond max_hosts")
	}
	if calls != 3+10 {
		t.Fatalf("hostgroup classifier called %d times, want once per tracked host and once per dropped delta", calls)
	}
	type row struct {
		part, name string
		hosts      int
		pps, total uint64
	}
	var got []row
	for _, g := range a.Groups() {
		got = append(got, row{g.Partition, g.Name, g.Hosts, g.Rates[In][PPS], g.Totals[In].Packets[hosts.Total]})
	}
	want := []row{
		{"network", "a", 1, 110, 110}, // host 1 plus dropped host 2
		{"network", "b", 1, 200, 200},
		{"network", "", 1, 400, 400},
		{"hostgroup", "odd", 1, 100, 100},
		{"hostgroup", "", 2, 610, 610},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("groups\n got %+v\nwant %+v", got, want)
	}
	tot := a.Total()
	if tot.Hosts != 3 || tot.Rates[In][PPS] != 710 || tot.Totals[In].Packets[hosts.Total] != 710 || tot.Rates[In][BPS] != 710*800 {
		t.Fatalf("total %+v", tot)
	}
	var groups [][2]int
	a.Range(func(v HostView) bool {
		groups = append(groups, [2]int{v.Group(0), v.Group(1)})
		return true
	})
	if want := [][2]int{{0, 0}, {1, -1}, {-1, -1}}; !reflect.DeepEqual(groups, want) {
		t.Fatalf("host groups %v, want %v", groups, want)
	}
}

func TestChangedHosts(t *testing.T) {
	a := mustNew(t, testConfig(300*time.Millisecond, time.Minute), Options{})
	var changed [][]uint32
	a.onTick = func(tk Tick) {
		var ids []uint32
		tk.Changed(func(v HostView) bool {
			k := v.Key()
			ids = append(ids, uint32(k[15]))
			return true
		})
		slices.Sort(ids)
		changed = append(changed, ids)
		if tk.NumChanged() != len(ids) {
			t.Errorf("NumChanged %d, visited %d", tk.NumChanged(), len(ids))
		}
	}
	step(a, 1, []hosts.Delta{inDelta(1, 1, 64), inDelta(2, 1, 64)})
	step(a, 2, []hosts.Delta{inDelta(2, 1, 64)}, []hosts.Delta{inDelta(2, 1, 64)})
	step(a, 3)
	step(a, 4, []hosts.Delta{inDelta(3, 1, 64)}) // tick 1 leaves the window
	step(a, 5, []hosts.Delta{inDelta(2, 1, 64)}) // tick 2 leaves, 2 is back
	step(a, 6)
	want := [][]uint32{{1, 2}, {2}, nil, {1, 2, 3}, {2}, nil}
	if !reflect.DeepEqual(changed, want) {
		t.Fatalf("changed per tick %v, want %v", changed, want)
	}
}

// TestDeterministic runs the same random traffic through two aggregators
// (with different hash keys) and expects identical hosts, in the same order.
func TestDeterministic(t *testing.T) {
	run := func() ([]HostStats, GroupStats, Stats) {
		cfg := testConfig(time.Second, 3*time.Second)
		cfg.MaxHosts = 400
		a := mustNew(t, cfg, Options{Partitions: []Partition{{Name: "p", Groups: []string{"x", "y"}, Of: func(k hosts.Key) int { return int(k[15] % 3) }}}})
		rng := rand.New(rand.NewPCG(1, 2))
		for n := int64(1); n <= 200; n++ {
			var perWorker [3][]hosts.Delta
			for range rng.IntN(200) {
				w := rng.IntN(3)
				d := inDelta(rng.Uint32N(600), rng.Uint64N(1000), 64+rng.Uint64N(1400))
				d.Out.Packets[hosts.UDP] = rng.Uint64N(50)
				perWorker[w] = append(perWorker[w], d)
			}
			step(a, n*(1+n%2), perWorker[:]...) // every other tick jumps ahead
			if n%17 == 0 {
				a.ResetPeaks()
			}
		}
		var hs []HostStats
		a.Range(func(v HostView) bool { hs = append(hs, v.Stats()); return true })
		return hs, a.Total(), a.Stats()
	}
	h1, t1, s1 := run()
	h2, t2, s2 := run()
	if s1.TickDuration.Count() != s2.TickDuration.Count() || s1.TickDuration.Count() == 0 {
		t.Errorf("ticks timed: %d and %d", s1.TickDuration.Count(), s2.TickDuration.Count())
	}
	s1.TickDuration, s2.TickDuration = TickHistogram{}, TickHistogram{} // wall time, not a result
	if len(h1) == 0 || s1.HostsExpired == 0 || s1.HostsDropped == 0 {
		t.Fatalf("test traffic too tame: %d hosts, stats %+v", len(h1), s1)
	}
	if !reflect.DeepEqual(h1, h2) || !reflect.DeepEqual(t1, t2) || !reflect.DeepEqual(s1, s2) {
		t.Fatal("two runs over the same input differ")
	}
}

func TestApplyAndCloseNoAllocs(t *testing.T) {
	a := mustNew(t, testConfig(time.Second, time.Minute), Options{Partitions: []Partition{{Name: "p", Groups: []string{"x"}, Of: func(hosts.Key) int { return 0 }}}})
	ds := make([]hosts.Delta, 1000)
	for i := range ds {
		ds[i] = inDelta(uint32(i), 5, 100)
	}
	n := int64(1)
	// Warm up: every host known, every log at its working size.
	for ; n <= 12; n++ {
		step(a, n, ds)
	}
	// Batches come preallocated from the pipes in production; so here.
	b0, b1 := &ring.Batch{Worker: 0, Final: true}, &ring.Batch{Worker: 1, Final: true}
	if allocs := testing.AllocsPerRun(50, func() {
		b0.TickEnd, b0.Deltas = n*tickNs, ds[:500]
		b1.TickEnd, b1.Deltas = n*tickNs, ds[500:]
		a.Apply(b0)
		a.Apply(b1)
		a.CloseTick(n * tickNs)
		n++
	}); allocs != 0 {
		t.Fatalf("apply + close allocated %v times per tick", allocs)
	}
}

func TestTableRemoveKeepsProbeRuns(t *testing.T) {
	tb := newTable()
	tb.k0, tb.k1 = 1, 1 // weak keys: long probe runs
	rng := rand.New(rand.NewPCG(3, 4))
	live := map[hosts.Key]uint32{}
	for i := range 20000 {
		k := key(rng.Uint32N(5000))
		h := tb.hash(&k)
		e, ok := tb.find(&k, h)
		if want, in := live[k]; ok != in || (ok && e != want) {
			t.Fatalf("op %d: find(%v) = %d, %v; want %d, %v", i, k[12:], e, ok, want, in)
		}
		if ok && rng.IntN(2) == 0 {
			tb.remove(e)
			tb.at(e).lastTick = freeTick
			delete(live, k)
		} else if !ok {
			live[k] = tb.insert(&k, h)
		}
	}
	if tb.live != len(live) {
		t.Fatalf("live = %d, want %d", tb.live, len(live))
	}
	for k, want := range live {
		if e, ok := tb.find(&k, tb.hash(&k)); !ok || e != want {
			t.Fatalf("find(%v) = %d, %v after removals; want %d", k[12:], e, ok, want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	ok := DefaultConfig()
	tests := []struct {
		name string
		edit func(*Config)
		want []string
	}{
		{"default", func(*Config) {}, nil},
		{"tick too short", func(c *Config) { c.Tick = time.Microsecond; c.Window = time.Microsecond },
			[]string{"aggregate.tick: must be between 1ms and 10s, got 1µs"}},
		{"window not a multiple", func(c *Config) { c.Window = 250 * time.Millisecond },
			[]string{"aggregate.window: must be a multiple of tick (100ms), got 250ms"}},
		{"window too long", func(c *Config) { c.Tick = 10 * time.Millisecond; c.Window = 10 * time.Second },
			[]string{"aggregate.window: must be at most 600 ticks (6s), got 10s"}},
		{"everything wrong", func(c *Config) { c.Window = 0; c.MaxHosts = 0; c.IdleExpiry = -1; c.Lateness = -time.Second },
			[]string{
				"aggregate.window: must be > 0, got 0s",
				"aggregate.max_hosts: must be between 1 and 67108864, got 0",
				"aggregate.idle_expiry: must be longer than window (0s), got -1ns",
				"aggregate.lateness: must be between 0s and 1m0s, got -1s",
			}},
		{"idle not past window", func(c *Config) { c.IdleExpiry = time.Second },
			[]string{"aggregate.idle_expiry: must be longer than window (1s), got 1s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			p := validate.New()
			c.Validate(p.At("aggregate"))
			var got []string
			var errs validate.Errors
			if errors.As(p.Err(), &errs) {
				for _, e := range errs {
					got = append(got, e.Error())
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("errors\n got %q\nwant %q", got, tt.want)
			}
			if _, err := New(c, Options{}); (err == nil) != (tt.want == nil) {
				t.Fatalf("New error = %v, want error: %v", err, tt.want != nil)
			}
		})
	}
	if _, err := New(ok, Options{Partitions: []Partition{{Name: "x"}}}); err == nil || fmt.Sprint(err) != `aggregate: partition 0 ("x") has no classifier` {
		t.Fatalf("New with a nil classifier: %v", err)
	}
}

func TestTickHistogram(t *testing.T) {
	var h TickHistogram
	for _, d := range []time.Duration{0, time.Millisecond, time.Millisecond + 1, 70 * time.Millisecond, 3 * time.Second} {
		h.observe(d)
	}
	want := [len(TickBuckets) + 1]uint64{0: 2, 1: 1, 6: 1, len(TickBuckets): 1}
	if h.Counts != want || h.Count() != 5 || h.Max != 3*time.Second {
		t.Errorf("histogram %+v, want counts %v", h, want)
	}
}
