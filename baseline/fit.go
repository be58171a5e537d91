package baseline

import (
	"fmt"
	"math"
	"slices"
)

// Hours of a day, and the index of the whole-day value in per-hour arrays.
const (
	Hours   = 24
	AllDay  = Hours
	perHour = Hours + 1
)

// Static is the threshold in force for series s of host k in group g, and
// whether s is thresholded at all. Only thresholded series are learned.
type Static func(k Key, g, s int) (float64, bool)

// SeriesFit is what a history taught about one series of a host or group.
type SeriesFit struct {
	Model    *Model
	Hours    []*Model // per hour of day (UTC) when the params ask for it
	Max      float64  // highest peak learned
	Attacks  int      // intervals left out as attacks
	AttackHi float64  // highest peak left out
}

func (sf *SeriesFit) add(hour int, v float64, maxBins int) {
	if sf.Model == nil {
		sf.Model = NewModel(maxBins)
	}
	sf.Model.Add(v)
	sf.Max = max(sf.Max, v)
	if sf.Hours != nil && hour >= 0 && hour < Hours {
		if sf.Hours[hour] == nil {
			sf.Hours[hour] = NewModel(maxBins)
		}
		sf.Hours[hour].Add(v)
	}
}

// Count is how many peaks the series learned.
func (sf *SeriesFit) Count() float64 {
	if sf == nil || sf.Model == nil {
		return 0
	}
	return sf.Model.Count()
}

// Quantile of the learned peaks, 0 when none.
func (sf *SeriesFit) Quantile(q float64) float64 {
	if sf == nil || sf.Model == nil {
		return 0
	}
	return sf.Model.Quantile(q)
}

// HostFit is one host's history.
type HostFit struct {
	Group  int
	Static []float64    // threshold in force per series; +Inf: not thresholded
	Series []*SeriesFit // nil for a series not thresholded
}

// GroupFit pools its hosts' learned peaks per series.
type GroupFit struct {
	Series []*SeriesFit
}

// Fit is a history fitted offline: per host and thresholded series a model
// of its per-second peaks (and one per hour of day where asked), pooled per
// group. An interval in which any of a host's peaks exceeded the threshold
// in force is an attack: it is counted but not learned.
type Fit struct {
	series  int
	params  func(g, s int) Params
	static  Static
	maxBins int
	Hosts   map[Key]*HostFit
	// Groups are the hosts' models merged per group (exact for sketches),
	// built by Pool; each host counts in the group it was last seen in.
	Groups  map[int]*GroupFit
	pooled  bool
	Rows    int // intervals seen
	Learned int // intervals learned (not attacks)
}

// NewFit fits series series, with params(g, s) for group g and thresholds
// in force from static.
func NewFit(series int, params func(g, s int) Params, static Static, maxBins int) *Fit {
	return &Fit{series: series, params: params, static: static, maxBins: maxBins,
		Hosts: map[Key]*HostFit{}, Groups: map[int]*GroupFit{}}
}

// Params is series s's parameters in group g.
func (f *Fit) Params(g, s int) Params { return f.params(g, s) }

func (f *Fit) newSeries(g int) []*SeriesFit {
	out := make([]*SeriesFit, f.series)
	for s := range out {
		out[s] = &SeriesFit{}
		if f.params(g, s).HourOfDay {
			out[s].Hours = make([]*Model, Hours)
		}
	}
	return out
}

// Host returns host k's fit, creating it for group g.
func (f *Fit) Host(k Key, g int) *HostFit {
	h := f.Hosts[k]
	if h != nil && h.Group == g {
		return h
	}
	if h == nil {
		h = &HostFit{Series: make([]*SeriesFit, f.series)}
		f.Hosts[k] = h
	}
	// First sight, or the host moved group (reconfiguration): the
	// thresholds in force are the new group's.
	h.Group = g
	h.Static = make([]float64, f.series)
	for s := range h.Static {
		v, ok := f.static(k, g, s)
		if !ok {
			v = math.Inf(1)
		} else if h.Series[s] == nil {
			h.Series[s] = &SeriesFit{}
			if f.params(g, s).HourOfDay {
				h.Series[s].Hours = make([]*Model, Hours)
			}
		}
		h.Static[s] = v
	}
	return h
}

func (f *Fit) group(g int) *GroupFit {
	gf := f.Groups[g]
	if gf == nil {
		gf = &GroupFit{Series: f.newSeries(g)}
		f.Groups[g] = gf
	}
	return gf
}

// Exceeds reports whether any peak is above its limit.
func Exceeds(peaks, limits []float64) bool {
	for s, v := range peaks[:min(len(peaks), len(limits))] {
		if v > limits[s] {
			return true
		}
	}
	return false
}

// Add learns one interval of host k in group g: peaks[s] per series,
// hour the interval's hour of day (UTC). It returns whether the interval
// was an attack (left out).
func (f *Fit) Add(k Key, g, hour int, peaks []float64) (attack bool) {
	h := f.Host(k, g)
	f.Rows++
	if Exceeds(peaks, h.Static) {
		for s, sf := range h.Series {
			if sf != nil && s < len(peaks) {
				sf.Attacks++
				sf.AttackHi = max(sf.AttackHi, peaks[s])
			}
		}
		return true
	}
	f.Learned++
	f.pooled = false
	for s, sf := range h.Series {
		if sf == nil || s >= len(peaks) {
			continue
		}
		sf.add(hour, peaks[s], f.maxBins)
	}
	return false
}

// Pool (re)builds the group models from the host models: merging once
// at the end costs a few bins per host instead of a second sketch update
// per learned peak.
func (f *Fit) Pool() error {
	if f.pooled {
		return nil
	}
	f.Groups = map[int]*GroupFit{}
	for _, h := range f.Hosts {
		gf := f.group(h.Group)
		if err := mergeSeries(f, gf.Series, h.Series); err != nil {
			return err
		}
	}
	f.pooled = true
	return nil
}

// Attack reports whether host k's interval would be an attack (as Add
// decides), without learning it.
func (f *Fit) Attack(k Key, g int, peaks []float64) bool {
	return Exceeds(peaks, f.Host(k, g).Static)
}

// Merge adds o's history (the same hosts and groups seen elsewhere, e.g.
// by another sensor) to f.
func (f *Fit) Merge(o *Fit) error {
	for k, oh := range o.Hosts {
		h := f.Host(k, oh.Group)
		if err := mergeSeries(f, h.Series, oh.Series); err != nil {
			return err
		}
	}
	f.pooled = false
	f.Rows += o.Rows
	f.Learned += o.Learned
	return nil
}

func mergeSeries(f *Fit, dst, src []*SeriesFit) error {
	for s := range min(len(dst), len(src)) {
		d, o := dst[s], src[s]
		if d == nil || o == nil {
			continue
		}
		if o.Model != nil {
			if d.Model == nil {
				d.Model = NewModel(f.maxBins)
			}
			if err := d.Model.Merge(o.Model); err != nil {
				return err
			}
		}
		for hr := range min(len(d.Hours), len(o.Hours)) {
			if o.Hours[hr] == nil {
				continue
			}
			if d.Hours[hr] == nil {
				d.Hours[hr] = NewModel(f.maxBins)
			}
			if err := d.Hours[hr].Merge(o.Hours[hr]); err != nil {
				return err
			}
		}
		d.Max, d.AttackHi, d.Attacks = max(d.Max, o.Max), max(d.AttackHi, o.AttackHi), d.Attacks+o.Attacks
	}
	return nil
}

// Learned is max(Floor, K × the Quantile of m).
func (p *Params) Learned(m *Model) float64 { return p.learned(m) }

// Clamp moves from prev toward v by at most MaxChange; prev <= 0 or
// infinite (no previous threshold) leaves v as is.
func (p *Params) Clamp(prev, v float64) float64 {
	if prev <= 0 || math.IsInf(prev, 0) || math.IsNaN(prev) {
		return v
	}
	return p.clamp(published{v: prev, set: true}, v, SourceHost).v
}

// Adjust changes the configured params of series s in group g into a
// candidate's (what-if); nil keeps them.
type Adjust func(g, s int, p Params) Params

// Thresholds are one setting's learned thresholds over a Fit: per host,
// series and hour of day (index AllDay: the whole day).
type Thresholds struct {
	fit    *Fit
	adjust Adjust
	hosts  map[Key]*hostTh
	groups map[int]*hostTh
}

type hostTh struct {
	v   [][perHour]float64 // per series; +Inf: none
	src []Source
	// Per series, hosts only: peaks above cut are outliers (attacks);
	// outliers is how many were learned, kept the highest peak below cut.
	cut, outliers, kept []float64
}

// Thresholds derives every host's and group's thresholds under adjust.
func (f *Fit) Thresholds(adjust Adjust) *Thresholds {
	if err := f.Pool(); err != nil {
		panic(fmt.Sprintf("baseline: pooling models of one mapping: %v", err)) // same accuracy everywhere: cannot fail
	}
	t := &Thresholds{fit: f, adjust: adjust, hosts: make(map[Key]*hostTh, len(f.Hosts)), groups: map[int]*hostTh{}}
	for g, gf := range f.Groups {
		th := &hostTh{v: make([][perHour]float64, f.series), src: make([]Source, f.series)}
		for s, sf := range gf.Series {
			p := t.params(g, s)
			th.v[s] = hourly(sf, &p, float64(p.GroupMinSamples), nil, math.Inf(1))
			th.src[s] = SourceGroup
			if math.IsInf(th.v[s][AllDay], 1) {
				th.src[s] = SourceStatic
			}
		}
		t.groups[g] = th
	}
	for k, h := range f.Hosts {
		th := &hostTh{v: make([][perHour]float64, f.series), src: make([]Source, f.series),
			cut: make([]float64, f.series), outliers: make([]float64, f.series), kept: make([]float64, f.series)}
		var gth *hostTh
		if gt := t.groups[h.Group]; gt != nil {
			gth = gt
		}
		for s := range f.series {
			p := t.params(h.Group, s)
			var fallback *[perHour]float64
			if gth != nil && gth.src[s] == SourceGroup {
				fallback = &gth.v[s]
			}
			th.cut[s] = math.Inf(1)
			if sf := h.Series[s]; sf != nil {
				th.kept[s] = sf.Max
				if med := sf.Quantile(0.5); p.Outlier > 0 && med > 0 {
					th.cut[s] = p.Outlier * med
					n, hi := sf.Model.Below(th.cut[s])
					th.outliers[s], th.kept[s] = sf.Count()-n, hi
				}
			}
			th.v[s] = hourly(h.Series[s], &p, float64(p.MinSamples), fallback, th.cut[s])
			switch {
			case h.Series[s] == nil:
				th.src[s], th.v[s] = SourceStatic, fill(math.Inf(1))
			case h.Series[s].Count() >= float64(p.MinSamples):
				th.src[s] = SourceHost
			case fallback != nil:
				th.src[s] = SourceGroup
			default:
				th.src[s], th.v[s] = SourceStatic, fill(h.Static[s])
			}
		}
		t.hosts[k] = th
	}
	return t
}

func (t *Thresholds) params(g, s int) Params {
	p := t.fit.params(g, s)
	if t.adjust != nil {
		p = t.adjust(g, s, p)
	}
	return p
}

func fill(v float64) (out [perHour]float64) {
	for i := range out {
		out[i] = v
	}
	return out
}

// hourly is a series' learned thresholds per hour and for the whole day,
// or fallback (+Inf when nil) where the history is too short. Peaks above
// cut are left out.
func hourly(sf *SeriesFit, p *Params, need float64, fallback *[perHour]float64, cut float64) [perHour]float64 {
	out := fill(math.Inf(1))
	if fallback != nil {
		out = *fallback
	}
	if sf == nil || sf.Count() < need {
		return out
	}
	learned := func(m *Model) float64 { return max(p.Floor, p.K*m.QuantileBelow(p.Quantile, cut)) }
	out = fill(learned(sf.Model))
	if p.HourOfDay && sf.Hours != nil {
		for hr, m := range sf.Hours {
			if m != nil && m.Count() >= max(1, need/Hours) {
				out[hr] = learned(m)
			}
		}
	}
	return out
}

// Attack reports whether a host interval is an attack: over a threshold
// in force (as Fit.Add decides) or, with Params.Outlier, a peak over the
// host's outlier cut.
func (t *Thresholds) Attack(r *Row) bool {
	if t.fit.Attack(r.Key, r.Group, r.Peaks) {
		return true
	}
	if th := t.hosts[r.Key]; th != nil {
		return Exceeds(r.Peaks, th.cut)
	}
	return false
}

// Outliers is, for series s of host k, the outlier cut (+Inf: none), how
// many learned peaks were above it, and the highest peak below it.
func (t *Thresholds) Outliers(k Key, s int) (cut, n, kept float64) {
	if th := t.hosts[k]; th != nil {
		return th.cut[s], th.outliers[s], th.kept[s]
	}
	return math.Inf(1), 0, 0
}

// Of is series s's threshold for host k of group g at hour (AllDay: the
// whole day's), and where it came from. Unknown hosts get their group's,
// else the static threshold; +Inf means none.
func (t *Thresholds) Of(k Key, g, s, hour int) (float64, Source) {
	if hour < 0 || hour > AllDay {
		hour = AllDay
	}
	if th := t.hosts[k]; th != nil {
		return th.v[s][hour], th.src[s]
	}
	if th := t.groups[g]; th != nil && th.src[s] == SourceGroup {
		return th.v[s][hour], SourceGroup
	}
	if v, ok := t.fit.static(k, g, s); ok {
		return v, SourceStatic
	}
	return math.Inf(1), SourceStatic
}

// Group is series s's pooled threshold of group g at hour, or +Inf and
// false when the group's history is too short.
func (t *Thresholds) Group(g, s, hour int) (float64, bool) {
	if hour < 0 || hour > AllDay {
		hour = AllDay
	}
	if th := t.groups[g]; th != nil && th.src[s] == SourceGroup {
		return th.v[s][hour], true
	}
	return math.Inf(1), false
}

// Row is one host interval as a what-if sees it.
type Row struct {
	Key   Key
	Group int
	Start int64 // interval start, ns
	Hour  int   // of day, UTC
	Peaks []float64
}

// WhatIf counts what one setting's thresholds would have fired over a
// history, fed in time order. An alert is a run of consecutive intervals
// of one host with a peak over its threshold; intervals Thresholds.Attack
// calls attacks are the ones it should fire on.
type WhatIf struct {
	Th       *Thresholds
	interval int64

	Alerts          int         // runs of consecutive alerting intervals per host
	AlertIntervals  int         // host intervals over a threshold
	FalseIntervals  int         // of them, not attacks
	AttackIntervals int         // host intervals the Fit calls attacks
	Caught          int         // of them, over a threshold
	SmallestCaught  []float64   // per series: the lowest peak over its threshold in an attack interval (+Inf: none)
	HostAlerts      map[Key]int // alerts per host that fired
	last            map[Key]int64
}

// NewWhatIf counts for th over intervals of the given length (ns).
func NewWhatIf(th *Thresholds, interval int64) *WhatIf {
	w := &WhatIf{Th: th, interval: max(interval, 1), HostAlerts: map[Key]int{}, last: map[Key]int64{},
		SmallestCaught: make([]float64, th.fit.series)}
	for s := range w.SmallestCaught {
		w.SmallestCaught[s] = math.Inf(1)
	}
	return w
}

// Observe counts one host interval.
func (w *WhatIf) Observe(r *Row) {
	attack := w.Th.Attack(r)
	if attack {
		w.AttackIntervals++
	}
	fired := false
	for s, v := range r.Peaks {
		th, _ := w.Th.Of(r.Key, r.Group, s, r.Hour)
		if v > th {
			fired = true
			if attack {
				w.SmallestCaught[s] = min(w.SmallestCaught[s], v)
			}
		}
	}
	if !fired {
		return
	}
	w.AlertIntervals++
	if attack {
		w.Caught++
	} else {
		w.FalseIntervals++
	}
	idx := r.Start / w.interval
	if last, ok := w.last[r.Key]; !ok || idx != last+1 {
		w.Alerts++
		w.HostAlerts[r.Key]++
	}
	w.last[r.Key] = idx
}

// Sensitivity is, for series s over the hosts with a threshold, the
// smallest and the median rate an attack must add to a host's typical
// (median) peak to cross its whole-day threshold.
func (t *Thresholds) Sensitivity(s int) (smallest, median float64, hosts int) {
	var gaps []float64
	for k, h := range t.fit.Hosts {
		sf := h.Series[s]
		if sf == nil || sf.Count() == 0 {
			continue
		}
		v, _ := t.Of(k, h.Group, s, AllDay)
		if math.IsInf(v, 1) {
			continue
		}
		gaps = append(gaps, max(0, v-sf.Quantile(0.5)))
	}
	if len(gaps) == 0 {
		return math.Inf(1), math.Inf(1), 0
	}
	slices.Sort(gaps)
	return gaps[0], gaps[len(gaps)/2], len(gaps)
}
