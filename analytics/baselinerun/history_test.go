package baselinerun

import (
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/rampartnet/rampart/analytics"
	"github.com/rampartnet/rampart/baseline"
	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/hostgroup"
	"github.com/rampartnet/rampart/sensor/hosts"
	"github.com/rampartnet/rampart/sensor/snapshot"
	"github.com/rampartnet/rampart/sensor/thresholdfile"
)

func ptr(v float64) *float64 { return &v }

// history is a generated multi-day history written as snapshot files.
type history struct {
	syn    *baseline.Synth
	dir    string
	groups []hostgroup.Config
	cfg    baseline.Config
}

// Hosts 0..9 are in group "big" (by prefix), the others in "default".
const bigHosts = 10

func groupOf(h int) int {
	if h < bigHosts {
		return 0
	}
	return 1
}

// synthRow is host h's interval i as the sensor would write it; pk is left
// as the reader gives it back (whole units).
func synthRow(syn *baseline.Synth, h, i int, pk []float64) (snapshot.Row, bool) {
	attack := syn.Row(h, i, pk)
	r := snapshot.Row{Key: hosts.Key(syn.Key(h)), Group: int32(groupOf(h))}
	SetPeaks(&r, pk)
	for d := range aggregate.NumDirs {
		r.Counts[d].Packets[0] = uint64(pk[int(d)*PerDir] * 300)
	}
	peaks(&r, pk)
	return r, attack
}

var day0 = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

func newHistory(t testing.TB, nhosts, days int, interval time.Duration) *history {
	t.Helper()
	n := int(time.Duration(days) * 24 * time.Hour / interval)
	// The first hosts are the largest (30000 pps down to 3000, Zipf), in
	// their own group as big servers are; the others Pareto-sized.
	sizes := make([]float64, bigHosts)
	for h := range sizes {
		sizes[h] = 30000 / float64(h+1)
	}
	syn := baseline.NewSynth(baseline.SynthConfig{
		Seed: 42, Hosts: nhosts, Start: day0.UnixNano(), Interval: int64(interval), Intervals: n,
		MinPPS: 200, Alpha: 1.1, MaxPPS: 5000, Sizes: sizes, Noise: 0.25, Night: 0.2,
		Bursts: 0.003, BurstMax: 2, Attacks: 14, AttackLen: 6, AttackFactor: 8, AttackMin: 3000,
	})
	dir := t.TempDir()
	w, err := analytics.New(zerolog.Nop(), analytics.Config{Dir: dir, Interval: interval}, "edge-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	pk := make([]float64, baseline.SynthSeries)
	for i := range n {
		start := day0.Add(time.Duration(i) * interval)
		b := &snapshot.Batch{Start: start.UnixNano(), End: start.Add(interval).UnixNano(), Groups: []string{"big", "default"}}
		for h := range nhosts {
			r, _ := synthRow(syn, h, i, pk)
			b.Rows = append(b.Rows, r)
		}
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	// Static thresholds as an operator sets them by guesswork: above the
	// largest benign peaks of each group, so they never fire falsely.
	static := func(pps float64) hostgroup.Thresholds {
		return hostgroup.Thresholds{In: hostgroup.Limits{PPS: ptr(pps), Mbps: ptr(pps * 900 * 8 / 1e6), SYNPPS: ptr(pps / 10), UDPPPS: ptr(pps / 2), Flows: ptr(pps / 5)}}
	}
	groups := []hostgroup.Config{
		{Name: "big", Prefixes: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/28")}, Thresholds: static(200000)},
		{Name: hostgroup.DefaultName, Thresholds: static(25000)},
	}
	one, day, pooled := 1.0, int(24*time.Hour/interval), 3*int(24*time.Hour/interval)
	cfg := baseline.DefaultConfig()
	cfg.Metrics = map[string]baseline.Settings{"pps": {Floor: ptr(100)}, "syn_pps": {Floor: ptr(20)}}
	cfg.MinSamples, cfg.GroupMinSamples, cfg.MaxChange = &day, &pooled, &one
	return &history{syn: syn, dir: dir, groups: groups, cfg: cfg}
}

func (h *history) run(t testing.TB, opts Options) *Run {
	t.Helper()
	opts.Dir, opts.Hostgroups, opts.Baseline = h.dir, h.groups, h.cfg
	r, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.FitHistory(); err != nil {
		t.Fatal(err)
	}
	return r
}

// limitsOf resolves host h's thresholds from a thresholds file over the
// configured ones, the way the sensor applies the file: host entry, then
// group entry, then configuration, key by key.
func (h *history) limitsOf(f *thresholdfile.File, host int) []float64 {
	t := h.groups[groupOf(host)].Thresholds
	if f != nil {
		t = overlay(t, f.Groups[h.groups[groupOf(host)].Name])
		if ht, ok := f.Addrs()[netip.AddrFrom16(h.syn.Key(host)).Unmap()]; ok {
			t = overlay(t, ht)
		}
	}
	out := make([]float64, NumSeries)
	for s := range out {
		out[s] = math.Inf(1)
		if v := *Limit(&t, s); v != nil {
			out[s] = *v
		}
	}
	return out
}

func TestTunedThresholdsOnGeneratedHistory(t *testing.T) {
	const hosts, days = 120, 4
	h := newHistory(t, hosts, days, 10*time.Minute)
	r := h.run(t, Options{})
	n := days * 24 * 6
	if r.Intervals != n || r.Fit.Rows != n*hosts {
		t.Fatalf("read %d intervals, %d rows; want %d, %d", r.Intervals, r.Fit.Rows, n, n*hosts)
	}
	rep := r.Report()
	doc := rep.Tune("test")
	path := filepath.Join(t.TempDir(), "thresholds.yaml")
	data, err := doc.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	tuned, err := thresholdfile.Load(path) // what the sensor loads
	if err != nil {
		t.Fatal(err)
	}
	if len(tuned.Hosts) != hosts || len(tuned.Groups) != 2 {
		t.Fatalf("tuned file has %d hosts and %d groups, want %d and 2", len(tuned.Hosts), len(tuned.Groups), hosts)
	}
	// Replay the generated rows (not the files) against the static and the
	// tuned thresholds.
	type score struct{ benign, falseIv, attackIv, caughtIv int }
	var static, learned score
	caughtAttack := make([]bool, len(h.syn.Attacks))
	staticAttack := make([]bool, len(h.syn.Attacks))
	pk := make([]float64, baseline.SynthSeries)
	for host := range hosts {
		sl, tl := h.limitsOf(nil, host), h.limitsOf(tuned, host)
		for i := range n {
			_, attack := synthRow(h.syn, host, i, pk)
			for _, c := range []struct {
				lim []float64
				sc  *score
				hit []bool
			}{{sl, &static, staticAttack}, {tl, &learned, caughtAttack}} {
				fired := baseline.Exceeds(pk, c.lim)
				switch {
				case !attack:
					c.sc.benign++
					if fired {
						c.sc.falseIv++
					}
				default:
					c.sc.attackIv++
					if fired {
						c.sc.caughtIv++
						for ai, a := range h.syn.Attacks {
							if a.Host == host && i >= a.First && i < a.End {
								c.hit[ai] = true
							}
						}
					}
				}
			}
		}
	}
	t.Logf("static:  %d/%d benign intervals alerted, %d/%d attack intervals caught", static.falseIv, static.benign, static.caughtIv, static.attackIv)
	t.Logf("learned: %d/%d benign intervals alerted, %d/%d attack intervals caught", learned.falseIv, learned.benign, learned.caughtIv, learned.attackIv)
	// The false-alert budget: the generator's benign bursts (0.3 % of
	// intervals, up to 2x) may fire at most one benign interval in 1000.
	if budget := learned.benign / 1000; learned.falseIv > budget {
		t.Errorf("tuned thresholds fired on %d benign intervals, budget %d", learned.falseIv, budget)
	}
	for ai, a := range h.syn.Attacks {
		if !caughtAttack[ai] {
			t.Errorf("attack %d (host %d size %.0f, +%.0f pps, intervals %d..%d) not caught by the tuned thresholds",
				ai, a.Host, h.syn.Size[a.Host], a.PPS, a.First, a.End)
		}
	}
	if learned.caughtIv != learned.attackIv {
		t.Errorf("tuned thresholds caught %d of %d attack intervals", learned.caughtIv, learned.attackIv)
	}
	missedByStatic := 0
	for _, hit := range staticAttack {
		if !hit {
			missedByStatic++
		}
	}
	if missedByStatic == 0 {
		t.Errorf("the static thresholds catch every attack: the history does not show what learning adds")
	}
	// Attacks over a static threshold were left out of learning.
	for _, a := range h.syn.Attacks {
		pk := make([]float64, baseline.SynthSeries)
		synthRow(h.syn, a.Host, a.First, pk)
		if baseline.Exceeds(pk, h.limitsOf(nil, a.Host)) {
			if got := r.Fit.Hosts[h.syn.Key(a.Host)].Series[0].Attacks; got < a.End-a.First {
				t.Errorf("host %d: %d intervals left out, want at least the attack's %d", a.Host, got, a.End-a.First)
			}
		}
	}
}

func TestWhatIfMatchesBruteForce(t *testing.T) {
	const hosts, days = 60, 4
	h := newHistory(t, hosts, days, 20*time.Minute)
	attacks := map[string]int{}
	for _, c := range []struct {
		name    string
		hourly  bool
		outlier float64
	}{{"whole day", false, 0}, {"hour of day", true, 0}, {"outliers", false, 10}} {
		t.Run(c.name, func(t *testing.T) {
			h.cfg.HourOfDay, h.cfg.Outlier = &c.hourly, &c.outlier
			attacks[c.name] = whatIfBruteForce(t, h, hosts, days)
		})
	}
	// The outlier rule finds the attacks below the static thresholds.
	if attacks["outliers"] <= attacks["whole day"] {
		t.Errorf("attack intervals: %d with the outlier rule, %d without", attacks["outliers"], attacks["whole day"])
	}
}

func whatIfBruteForce(t *testing.T, h *history, hosts, days int) (attackIntervals int) {
	r := h.run(t, Options{})
	th := r.Fit.Thresholds(nil)
	night, _ := th.Of(h.syn.Key(0), 0, 0, 2)
	day, _ := th.Of(h.syn.Key(0), 0, 0, 14)
	if profiled := night < day/2; profiled != *h.cfg.HourOfDay {
		t.Fatalf("host 0 in.pps at 02:00 %v, at 14:00 %v: hour-of-day %v", night, day, *h.cfg.HourOfDay)
	}
	cands := append(DefaultCandidates(), Candidate{Name: "floors", Floor: map[string]float64{"": 5000, "mbps": 50}})
	outs, ws, err := r.WhatIf(cands, 5)
	if err != nil {
		t.Fatal(err)
	}
	n := days * 24 * 3
	pk := make([]float64, baseline.SynthSeries)
	for ci, w := range ws {
		var alerts, alertIv, falseIv, attackIv, caught int
		fired := map[int]bool{}
		for host := range hosts {
			static := h.limitsOf(nil, host)
			prev := false
			for i := range n {
				synthRow(h.syn, host, i, pk)
				attack := baseline.Exceeds(pk, static)
				for s, v := range pk {
					if cut, _, _ := w.Th.Outliers(h.syn.Key(host), s); v > cut {
						attack = true
					}
				}
				hour := day0.Add(time.Duration(i) * 20 * time.Minute).Hour()
				over := false
				for s, v := range pk {
					if th, _ := w.Th.Of(h.syn.Key(host), groupOf(host), s, hour); v > th {
						over = true
					}
				}
				if attack {
					attackIv++
				}
				if over {
					alertIv++
					if attack {
						caught++
					} else {
						falseIv++
					}
					if !prev {
						alerts++
					}
					fired[host] = true
				}
				prev = over
			}
		}
		o := outs[ci]
		if o.Alerts != alerts || o.AlertIntervals != alertIv || o.FalseIntervals != falseIv ||
			o.AttackIntervals != attackIv || o.Caught != caught || o.HostsFired != len(fired) {
			t.Errorf("%s: what-if %d alerts %d intervals %d false %d/%d caught %d hosts; brute force %d %d %d %d/%d %d",
				o.Candidate, o.Alerts, o.AlertIntervals, o.FalseIntervals, o.Caught, o.AttackIntervals, o.HostsFired,
				alerts, alertIv, falseIv, caught, attackIv, len(fired))
		}
		attackIntervals = o.AttackIntervals
		if o.Alerts == 0 || o.AttackIntervals == 0 {
			t.Errorf("%s: nothing to count (%d alerts, %d attack intervals)", o.Candidate, o.Alerts, o.AttackIntervals)
		}
	}
	// A higher k never alerts more.
	for i := 1; i+1 < len(outs)-1; i++ {
		if cands[i].Quantile != nil && cands[i+1].Quantile != nil && *cands[i].Quantile == *cands[i+1].Quantile &&
			outs[i+1].AlertIntervals > outs[i].AlertIntervals {
			t.Errorf("%s alerts more than %s", outs[i+1].Candidate, outs[i].Candidate)
		}
	}
	return attackIntervals
}

func TestSinceAndGroup(t *testing.T) {
	h := newHistory(t, 20, 3, 30*time.Minute)
	r := h.run(t, Options{Since: 24 * time.Hour, Group: "big"})
	// The newest interval starts at 71:30; a day back from it is 47:30.
	if r.Intervals != 49 || r.Fit.Rows != 49*bigHosts {
		t.Fatalf("read %d intervals, %d rows; want 49, %d", r.Intervals, r.Fit.Rows, 49*bigHosts)
	}
	for k, hf := range r.Fit.Hosts {
		if r.GroupName(hf.Group) != "big" {
			t.Errorf("host %v of group %s read with --group big", k, r.GroupName(hf.Group))
		}
	}
	if _, err := New(Options{Dir: h.dir, Hostgroups: h.groups, Group: "nope"}); err == nil {
		t.Error("unknown --group accepted")
	}
}

func TestClampAgainstCurrentFile(t *testing.T) {
	h := newHistory(t, 20, 3, 30*time.Minute)
	half := 0.5
	h.cfg.MaxChange = &half
	k := h.syn.Key(15)
	ip := netip.AddrFrom16(k).Unmap().String()
	cur := &thresholdfile.File{Version: thresholdfile.Version, Hosts: map[string]hostgroup.Thresholds{
		ip: {In: hostgroup.Limits{PPS: ptr(1e6)}}}}
	data, err := cur.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if cur, err = thresholdfile.Parse(data); err != nil {
		t.Fatal(err)
	}
	unclamped := h.run(t, Options{}).Report()
	clamped := h.run(t, Options{Current: cur}).Report()
	find := func(rep *Report) SeriesReport {
		for _, hr := range rep.Hosts {
			if hr.IP == ip {
				return hr.Series[0]
			}
		}
		t.Fatalf("host %s not in report", ip)
		return SeriesReport{}
	}
	u, c := find(unclamped), find(clamped)
	if u.Source != "host" || float64(u.Recommended) > 5e5 {
		t.Fatalf("unclamped %+v: want a host threshold well below 1e6", u)
	}
	if c.Recommended != 5e5 || c.Current != 1e6 {
		t.Fatalf("clamped: recommended %v current %v, want 5e5 (half of the file's 1e6)", c.Recommended, c.Current)
	}
}
