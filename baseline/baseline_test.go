package baseline

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/rampartnet/rampart/internal/validate"
)

func lognormal(rng *rand.Rand, n int, mu, sigma float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = math.Exp(mu + sigma*rng.NormFloat64())
	}
	return v
}

func TestQuantileAccuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, c := range []struct {
		name string
		vals []float64
	}{
		{"lognormal pps", lognormal(rng, 20000, 8, 1)},
		{"heavy tail", lognormal(rng, 20000, 3, 2)},
		{"uniform bps", func() []float64 {
			v := make([]float64, 5000)
			for i := range v {
				v[i] = 1e6 + rng.Float64()*9e6
			}
			return v
		}()},
	} {
		m := NewModel(2048) // no collapsing: accuracy everywhere
		for _, v := range c.vals {
			m.Add(v)
		}
		sorted := slices.Sorted(slices.Values(c.vals))
		for _, q := range []float64{0.5, 0.9, 0.95, 0.99, 0.999} {
			rank := q * float64(len(sorted)-1)
			lo, hi := sorted[int(math.Floor(rank))], sorted[int(math.Ceil(rank))]
			got := m.Quantile(q)
			if got < lo*(1-RelativeAccuracy) || got > hi*(1+RelativeAccuracy) {
				t.Errorf("%s q%v: got %v, exact %v..%v (±%v)", c.name, q, got, lo, hi, RelativeAccuracy)
			}
		}
	}
}

func TestCollapsedModelKeepsHighQuantiles(t *testing.T) {
	// Peaks over 6 decades: the default bins cannot span them, the lowest
	// collapse, and the quantiles thresholds use stay accurate.
	rng := rand.New(rand.NewPCG(2, 2))
	vals := lognormal(rng, 20000, 5, 3)
	m := NewModel(DefaultMaxBins)
	for _, v := range vals {
		m.Add(v)
	}
	sorted := slices.Sorted(slices.Values(vals))
	for _, q := range []float64{0.99, 0.999} {
		rank := q * float64(len(sorted)-1)
		lo, hi := sorted[int(math.Floor(rank))], sorted[int(math.Ceil(rank))]
		if got := m.Quantile(q); got < lo*(1-RelativeAccuracy) || got > hi*(1+RelativeAccuracy) {
			t.Errorf("q%v: got %v, exact %v..%v", q, got, lo, hi)
		}
	}
}

func TestMergeIsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	a, b := lognormal(rng, 7000, 6, 1), lognormal(rng, 3000, 7, 0.5)
	ma, mb, all := NewModel(DefaultMaxBins), NewModel(DefaultMaxBins), NewModel(DefaultMaxBins)
	for _, v := range a {
		ma.Add(v)
		all.Add(v)
	}
	for _, v := range b {
		mb.Add(v)
		all.Add(v)
	}
	if err := ma.Merge(mb); err != nil {
		t.Fatal(err)
	}
	if ma.Count() != all.Count() {
		t.Fatalf("merged count %v, want %v", ma.Count(), all.Count())
	}
	for q := 0.0; q <= 1; q += 0.005 {
		if got, want := ma.Quantile(q), all.Quantile(q); got != want {
			t.Fatalf("q%v: merged %v, single %v", q, got, want)
		}
	}
}

var flat = func(g, s int) float64 { return 1e6 + float64(g)*1000 + float64(s) }

func key(i int) Key {
	var k Key
	k[10], k[11], k[15] = 0xff, 0xff, byte(i)
	return k
}

func TestFallbackChain(t *testing.T) {
	p := Params{Quantile: 0.5, K: 2, MinSamples: 10, GroupMinSamples: 30}
	l := NewLearner([]Params{p}, DefaultMaxBins)
	learn := func(host, group, n int, peak float64) {
		for range n {
			l.Learn(key(host), group, []float64{peak}, false)
		}
	}
	// Group 1: host 1 warm (10 samples of 100); host 2 cold (5 of 300);
	// pooled 15 < 30: group cold, host 2 gets the static threshold.
	learn(1, 1, 10, 100)
	learn(2, 1, 5, 300)
	l.Recompute(flat)
	type check struct {
		host, group int
		want        float64
		src         Source
	}
	checks := []check{
		{1, 1, 200, SourceHost},
		{2, 1, flat(1, 0), SourceStatic},
		{9, 1, flat(1, 0), SourceStatic}, // unknown host, cold group
		{9, 7, 42, SourceStatic},         // unknown group
	}
	verify := func() {
		t.Helper()
		for _, c := range checks {
			v, src := l.Threshold(key(c.host), c.group, 0, map[bool]float64{true: 42, false: flat(c.group, 0)}[c.group == 7])
			if math.Abs(v-c.want) > c.want*RelativeAccuracy || src != c.src {
				t.Errorf("host %d group %d: %v from %v, want %v from %v", c.host, c.group, v, src, c.want, c.src)
			}
		}
	}
	verify()
	// 20 more pooled samples of 100 warm the group: median 100 → 200; host
	// 2 (still 5 samples) and unknown hosts of group 1 now use it.
	learn(3, 1, 20, 100)
	l.Recompute(flat)
	checks[1] = check{2, 1, 200, SourceGroup}
	checks[2] = check{9, 1, 200, SourceGroup}
	verify()
}

func TestFloorAndAttackExclusion(t *testing.T) {
	p := Params{Quantile: 0.99, K: 1.5, Floor: 500, MinSamples: 5, GroupMinSamples: 5}
	l := NewLearner([]Params{p, p}, DefaultMaxBins)
	for range 50 {
		l.Learn(key(1), 0, []float64{100, 1000}, false)
	}
	for range 50 { // an attack at 100x: left out
		l.Learn(key(1), 0, []float64{1e4, 1e5}, true)
	}
	l.Recompute(flat)
	if m := l.Model(key(1), 0); m.Count() != 50 {
		t.Fatalf("learned %v intervals, want 50 (attacks excluded)", m.Count())
	}
	if v, _ := l.Threshold(key(1), 0, 0, 0); v != 500 {
		t.Fatalf("series 0: %v, want the floor 500 (1.5 × 100 is below it)", v)
	}
	if v, _ := l.Threshold(key(1), 0, 1, 0); math.Abs(v-1500) > 1500*RelativeAccuracy {
		t.Fatalf("series 1: %v, want 1.5 × 1000", v)
	}
}

func TestClampPerPeriod(t *testing.T) {
	p := Params{Quantile: 0.5, K: 1, MaxChange: 0.25, MinSamples: 1, GroupMinSamples: 1}
	l := NewLearner([]Params{p}, DefaultMaxBins)
	for range 100 {
		l.Learn(key(1), 0, []float64{1000}, false)
	}
	l.Recompute(flat)
	prev, _ := l.Threshold(key(1), 0, 0, 0)
	// Traffic grows 10x for good: the threshold follows at most 25 % a period.
	for period := range 20 {
		for range 100 {
			l.Learn(key(1), 0, []float64{10000}, false)
		}
		l.Recompute(flat)
		v, _ := l.Threshold(key(1), 0, 0, 0)
		if v > prev*1.25*(1+1e-12) || v < prev {
			t.Fatalf("period %d: %v after %v: more than 25 %% or backwards", period, v, prev)
		}
		prev = v
	}
	if math.Abs(prev-10000) > 10000*RelativeAccuracy {
		t.Fatalf("after 20 periods: %v, want ~10000", prev)
	}
}

func TestLearnerMerge(t *testing.T) {
	p := Params{Quantile: 0.9, K: 1, MinSamples: 1, GroupMinSamples: 1}
	rng := rand.New(rand.NewPCG(4, 4))
	a, b, both := NewLearner([]Params{p}, DefaultMaxBins), NewLearner([]Params{p}, DefaultMaxBins), NewLearner([]Params{p}, DefaultMaxBins)
	for i := range 2000 {
		h, v := rng.IntN(20), math.Exp(4+rng.NormFloat64())
		if i%2 == 0 {
			a.Learn(key(h), h%3, []float64{v}, false)
		} else {
			b.Learn(key(h), h%3, []float64{v}, false)
		}
		both.Learn(key(h), h%3, []float64{v}, false)
	}
	if err := a.Merge(b); err != nil {
		t.Fatal(err)
	}
	a.Recompute(flat)
	both.Recompute(flat)
	for h := range 20 {
		va, _ := a.Threshold(key(h), h%3, 0, 0)
		vb, _ := both.Threshold(key(h), h%3, 0, 0)
		if va != vb {
			t.Fatalf("host %d: merged %v, single %v", h, va, vb)
		}
	}
}

func TestParamsValidate(t *testing.T) {
	bad := Params{Quantile: 1.5, K: 0, Floor: -1, MaxChange: math.NaN(), MinSamples: 0, GroupMinSamples: -2}
	p := validate.New()
	bad.Validate(p.At("baseline"))
	err := p.Err()
	if err == nil {
		t.Fatal("bad params accepted")
	}
	for _, key := range []string{"quantile", "k", "floor", "max_change", "min_samples", "group_min_samples"} {
		if !strings.Contains(err.Error(), "baseline."+key) {
			t.Errorf("no error for %s in %v", key, err)
		}
	}
	good := DefaultParams()
	p = validate.New()
	good.Validate(p)
	if err := p.Err(); err != nil {
		t.Fatal(err)
	}
}
