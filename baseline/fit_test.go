package baseline

import (
	"math"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/rampartnet/rampart/internal/validate"
)

func TestConfigParams(t *testing.T) {
	var c Config
	doc := `
quantile: 0.995
k: 4
metrics:
  mbps: {floor: 10}
  pps: {floor: 1000, k: 5}
hostgroups:
  web:
    k: 2
    hour_of_day: true
    metrics:
      pps: {quantile: 0.9}
`
	c = DefaultConfig()
	if err := yaml.Unmarshal([]byte(doc), &c); err != nil {
		t.Fatal(err)
	}
	p := validate.New()
	c.Validate(p)
	c.GroupNames(p, []string{"web", "default"})
	if err := p.Err(); err != nil {
		t.Fatal(err)
	}
	def := DefaultParams()
	for _, tc := range []struct {
		group, metric string
		want          Params
	}{
		{"default", "flows", Params{0.995, 4, 0, def.MaxChange, def.MinSamples, def.GroupMinSamples, false, 0}},
		{"default", "mbps", Params{0.995, 4, 10, def.MaxChange, def.MinSamples, def.GroupMinSamples, false, 0}},
		{"default", "pps", Params{0.995, 5, 1000, def.MaxChange, def.MinSamples, def.GroupMinSamples, false, 0}},
		{"web", "pps", Params{0.9, 2, 1000, def.MaxChange, def.MinSamples, def.GroupMinSamples, true, 0}},
		{"web", "syn_pps", Params{0.995, 2, 0, def.MaxChange, def.MinSamples, def.GroupMinSamples, true, 0}},
	} {
		if got := c.Params(tc.group, tc.metric); got != tc.want {
			t.Errorf("%s/%s: %+v, want %+v", tc.group, tc.metric, got, tc.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		want []string
	}{
		{"quantile: 1.5", []string{"baseline.quantile: must be in (0, 1], got 1.5"}},
		{"metrics: {ppps: {k: 2}}", []string{"baseline.metrics.ppps: unknown metric"}},
		{"metrics: {pps: {k: -1}}", []string{"baseline.metrics.pps.k: must be > 0, got -1"}},
		{"hostgroups: {dns: {min_samples: 0}}", []string{
			"baseline.hostgroups.dns.min_samples: must be >= 1, got 0",
			"baseline.hostgroups.dns: no hostgroup of this name"}},
		{"hostgroups: {default: {metrics: {mbps: {floor: -3, max_change: -1}}}}", []string{
			"baseline.hostgroups.default.metrics.mbps.floor: must be >= 0, got -3",
			"baseline.hostgroups.default.metrics.mbps.max_change: must be >= 0, got -1"}},
	} {
		c := DefaultConfig()
		if err := yaml.Unmarshal([]byte(tc.doc), &c); err != nil {
			t.Fatal(err)
		}
		p := validate.New()
		c.Validate(p.At("baseline"))
		c.GroupNames(p.At("baseline"), []string{"default"})
		err := p.Err()
		if err == nil {
			t.Errorf("%s: accepted", tc.doc)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v; want %q", tc.doc, err, w)
			}
		}
	}
}

// staticAll thresholds series 0 and 1 at 1000 and 50 for every group.
func staticAll(k Key, g, s int) (float64, bool) {
	switch s {
	case 0:
		return 1000, true
	case 1:
		return 50, true
	}
	return 0, false
}

func TestFitExclusionAndFallback(t *testing.T) {
	p := Params{Quantile: 0.5, K: 2, MinSamples: 10, GroupMinSamples: 15}
	f := NewFit(3, func(g, s int) Params { return p }, staticAll, DefaultMaxBins)
	for range 10 {
		if f.Add(key(1), 0, 0, []float64{100, 10, 7}) {
			t.Fatal("benign interval called an attack")
		}
	}
	// Over the static pps threshold: left out of every series.
	if !f.Add(key(1), 0, 0, []float64{5000, 10, 7}) {
		t.Fatal("interval over the static threshold not called an attack")
	}
	for range 6 {
		f.Add(key(2), 0, 0, []float64{300, 20, 7})
	}
	if f.Rows != 17 || f.Learned != 16 {
		t.Fatalf("rows %d learned %d, want 17, 16", f.Rows, f.Learned)
	}
	h := f.Hosts[key(1)]
	if h.Series[0].Attacks != 1 || h.Series[0].AttackHi != 5000 || h.Series[0].Count() != 10 || h.Series[2] != nil {
		t.Fatalf("host 1: %+v %+v", h.Series[0], h.Series[2])
	}
	th := f.Thresholds(nil)
	near := func(a, b float64) bool { return math.Abs(a-b) <= b*RelativeAccuracy }
	for _, c := range []struct {
		host, s int
		want    float64
		src     Source
	}{
		{1, 0, 200, SourceHost},
		{2, 0, 200, SourceGroup}, // 6 < 10 samples; group pooled 16 ≥ 15, median 100
		{3, 0, 200, SourceGroup}, // unknown host
		{1, 2, math.Inf(1), SourceStatic},
	} {
		v, src := th.Of(key(c.host), 0, c.s, AllDay)
		if !(near(v, c.want) || v == c.want) || src != c.src {
			t.Errorf("host %d series %d: %v %v, want %v %v", c.host, c.s, v, src, c.want, c.src)
		}
	}
	// A candidate with k=5 moves every learned threshold; the group stays.
	th5 := f.Thresholds(func(g, s int, p Params) Params { p.K = 5; return p })
	if v, _ := th5.Of(key(1), 0, 0, AllDay); !near(v, 500) {
		t.Errorf("k=5: %v, want 500", v)
	}
	// Group warm-up not reached: host 2 falls back to static.
	p.GroupMinSamples = 100
	if v, src := f.Thresholds(nil).Of(key(2), 0, 0, AllDay); v != 1000 || src != SourceStatic {
		t.Errorf("cold group: %v %v, want the static 1000", v, src)
	}
}

func TestHourOfDayProfile(t *testing.T) {
	p := Params{Quantile: 0.99, K: 1, MinSamples: 24 * 10, GroupMinSamples: 24 * 10, HourOfDay: true}
	inf := func(Key, int, int) (float64, bool) { return math.Inf(1), true }
	f := NewFit(1, func(g, s int) Params { return p }, inf, DefaultMaxBins)
	for day := range 20 {
		for hr := range Hours {
			v := 100.0
			if hr >= 8 && hr < 20 {
				v = 1000
			}
			f.Add(key(1), 0, hr, []float64{v + float64(day)})
		}
	}
	th := f.Thresholds(nil)
	night, _ := th.Of(key(1), 0, 0, 3)
	day, _ := th.Of(key(1), 0, 0, 12)
	all, _ := th.Of(key(1), 0, 0, AllDay)
	if night > 130 || day < 1000 || all < 1000 {
		t.Fatalf("night %v day %v all %v: want ~119, ~1019, ~1019", night, day, all)
	}
	p.HourOfDay = false
	if v, _ := f.Thresholds(nil).Of(key(1), 0, 0, 3); v < 1000 {
		t.Fatalf("without hour-of-day the night threshold is %v, want the whole day's", v)
	}
}

func TestClamp(t *testing.T) {
	p := Params{MaxChange: 0.2}
	for _, c := range []struct{ prev, v, want float64 }{
		{0, 500, 500}, {math.Inf(1), 500, 500}, {1000, 500, 800}, {1000, 2000, 1200}, {1000, 1100, 1100},
	} {
		if got := p.Clamp(c.prev, c.v); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("Clamp(%v, %v) = %v, want %v", c.prev, c.v, got, c.want)
		}
	}
}

func TestFitMerge(t *testing.T) {
	p := Params{Quantile: 0.9, K: 1, MinSamples: 1, GroupMinSamples: 1}
	syn := NewSynth(SynthConfig{Seed: 9, Hosts: 20, Interval: 1e9, Intervals: 200, MinPPS: 100, Alpha: 1.2, MaxPPS: 1e6, Noise: 0.3, Night: 0.3})
	params := func(g, s int) Params { return p }
	a, b, both := NewFit(SynthSeries, params, staticAll, DefaultMaxBins), NewFit(SynthSeries, params, staticAll, DefaultMaxBins), NewFit(SynthSeries, params, staticAll, DefaultMaxBins)
	peaks := make([]float64, SynthSeries)
	for i := range 200 {
		for h := range 20 {
			syn.Row(h, i, peaks)
			if (h+i)%2 == 0 {
				a.Add(syn.Key(h), h%2, 0, peaks)
			} else {
				b.Add(syn.Key(h), h%2, 0, peaks)
			}
			both.Add(syn.Key(h), h%2, 0, peaks)
		}
	}
	if err := a.Merge(b); err != nil {
		t.Fatal(err)
	}
	ta, tb := a.Thresholds(nil), both.Thresholds(nil)
	for h := range 20 {
		for s := range 2 {
			va, _ := ta.Of(syn.Key(h), h%2, s, AllDay)
			vb, _ := tb.Of(syn.Key(h), h%2, s, AllDay)
			if va != vb {
				t.Fatalf("host %d series %d: merged %v, single %v", h, s, va, vb)
			}
		}
	}
	if a.Rows != both.Rows || a.Learned != both.Learned {
		t.Fatalf("merged rows %d/%d, single %d/%d", a.Rows, a.Learned, both.Rows, both.Learned)
	}
}

func TestOutlierExclusion(t *testing.T) {
	inf := func(Key, int, int) (float64, bool) { return math.Inf(1), true } // no static threshold ever fires
	for _, c := range []struct {
		outlier  float64
		want     float64 // the learned threshold, ±1 %
		outliers float64
		attack   bool
	}{
		{0, 3 * 5000, 0, false}, // the attack is learned: p99 is its peak
		{10, 3 * 149, 5, true},  // left out: p99 of the benign peaks 100..149
	} {
		p := Params{Quantile: 0.99, K: 3, MinSamples: 10, GroupMinSamples: 10, Outlier: c.outlier}
		f := NewFit(1, func(g, s int) Params { return p }, inf, DefaultMaxBins)
		for i := range 100 {
			f.Add(key(1), 0, 0, []float64{100 + float64(i%50)})
		}
		for range 5 {
			f.Add(key(1), 0, 0, []float64{5000})
		}
		th := f.Thresholds(nil)
		v, _ := th.Of(key(1), 0, 0, AllDay)
		if math.Abs(v-c.want) > c.want*2*RelativeAccuracy {
			t.Errorf("outlier %v: threshold %v, want %v", c.outlier, v, c.want)
		}
		cut, n, kept := th.Outliers(key(1), 0)
		if n != c.outliers || (c.outlier > 0 && (math.Abs(kept-149) > 149*RelativeAccuracy || math.Abs(cut-10*th.fit.Hosts[key(1)].Series[0].Quantile(0.5)) > 1e-9)) {
			t.Errorf("outlier %v: cut %v, %v outliers, kept max %v", c.outlier, cut, n, kept)
		}
		if got := th.Attack(&Row{Key: key(1), Peaks: []float64{5000}}); got != c.attack {
			t.Errorf("outlier %v: 5000 an attack: %v, want %v", c.outlier, got, c.attack)
		}
		if th.Attack(&Row{Key: key(1), Peaks: []float64{140}}) {
			t.Errorf("outlier %v: a benign peak called an attack", c.outlier)
		}
	}
}

func TestGroupLearnerUsesGroupParams(t *testing.T) {
	c := DefaultConfig()
	one, two := 1, 2.0
	c.MinSamples, c.GroupMinSamples = &one, &one
	c.Hostgroups = map[string]GroupConfig{"web": {Settings: Settings{K: &two}}}
	names := []string{"web", "default"}
	l := NewGroupLearner(1, func(g, s int) Params {
		name := ""
		if g >= 0 && g < len(names) {
			name = names[g]
		}
		return c.Params(name, Metrics[s])
	}, DefaultMaxBins)
	for range 100 {
		l.Learn(key(1), 0, []float64{100}, false)
		l.Learn(key(2), 1, []float64{100}, false)
	}
	l.Recompute(func(g, s int) float64 { return 1e9 })
	web, _ := l.Threshold(key(1), 0, 0, 0)
	def, _ := l.Threshold(key(2), 1, 0, 0)
	if math.Abs(web-200) > 200*RelativeAccuracy || math.Abs(def-300) > 300*RelativeAccuracy {
		t.Fatalf("web %v (want k=2 → 200), default %v (want k=3 → 300)", web, def)
	}
}
