package baseline

import (
	"math"

	"github.com/rampartnet/rampart/internal/validate"
)

// Key names a host (16 bytes, IPv4 mapped), as the sensor does.
type Key [16]byte

// Source tells where a threshold came from.
type Source uint8

const (
	SourceStatic Source = iota // the configured threshold: no model is warm
	SourceGroup                // the hostgroup's pooled model
	SourceHost                 // the host's own model
)

func (s Source) String() string {
	return [...]string{"static", "group", "host"}[s]
}

// Params derive one series' learned threshold: max(Floor, K × quantile
// Quantile of the peaks), moving by at most MaxChange (a fraction) per
// Recompute.
type Params struct {
	Quantile        float64 `yaml:"quantile"`
	K               float64 `yaml:"k"`
	Floor           float64 `yaml:"floor"`
	MaxChange       float64 `yaml:"max_change"`        // 0: unclamped
	MinSamples      int     `yaml:"min_samples"`       // host intervals before its own model counts
	GroupMinSamples int     `yaml:"group_min_samples"` // host intervals pooled before the group's model counts
	// HourOfDay keeps a model per hour of day (UTC) beside the whole-day
	// one, so a host busy by day and quiet at night gets a threshold per
	// hour; an hour with fewer than MinSamples/24 peaks uses the whole day's.
	HourOfDay bool `yaml:"hour_of_day"`
	// Outlier, when > 0, makes a host's peak above Outlier × the host's
	// median peak an attack, left out of its model (offline fits); 0 is
	// off. It catches attacks below the static threshold, and would also
	// drop rare benign bursts bigger than that (nightly backups).
	Outlier float64 `yaml:"outlier"`
}

// DefaultParams: 3 × the 99th percentile, moving at most 20 % per period,
// a host's own model after a day of 10 s intervals, its group's after as
// much pooled history.
func DefaultParams() Params {
	return Params{Quantile: 0.99, K: 3, MaxChange: 0.2, MinSamples: 8640, GroupMinSamples: 8640}
}

// Validate reports every bad value below p.
func (c *Params) Validate(p validate.Path) {
	if !(c.Quantile > 0 && c.Quantile <= 1) {
		p.Fieldf("quantile", "must be in (0, 1], got %v", c.Quantile)
	}
	if !(c.K > 0) || math.IsInf(c.K, 0) {
		p.Fieldf("k", "must be > 0, got %v", c.K)
	}
	if !(c.Floor >= 0) || math.IsInf(c.Floor, 0) {
		p.Fieldf("floor", "must be >= 0, got %v", c.Floor)
	}
	if !(c.MaxChange >= 0) || math.IsInf(c.MaxChange, 0) {
		p.Fieldf("max_change", "must be >= 0, got %v", c.MaxChange)
	}
	if c.MinSamples < 1 {
		p.Fieldf("min_samples", "must be >= 1, got %d", c.MinSamples)
	}
	if c.GroupMinSamples < 1 {
		p.Fieldf("group_min_samples", "must be >= 1, got %d", c.GroupMinSamples)
	}
	validOutlier(p, c.Outlier)
}

func validOutlier(p validate.Path, v float64) {
	if !(v == 0 || v > 1) || math.IsInf(v, 0) {
		p.Fieldf("outlier", "must be 0 (off) or > 1, got %v", v)
	}
}

// published is a threshold as last recomputed.
type published struct {
	v   float64
	src Source
	set bool
}

type hostModels struct {
	group  int
	models []*Model // per series, nil until the first peak
	th     []published
}

type groupModels struct {
	models []*Model
	th     []published
}

// Learner keeps a model per host and series and a pooled one per group,
// and publishes thresholds at each Recompute. Not safe for concurrent use:
// one owner (the aggregator goroutine online, a report offline).
//
// Memory per host: for each series that had a peak, one Model (at most
// maxBins × 8 + ~200 bytes) plus 32 bytes; plus the map entry (~50 bytes).
type Learner struct {
	params  []Params
	byGroup func(g, s int) Params // nil: params[s] for every group
	maxBins int
	hosts   map[Key]*hostModels
	groups  map[int]*groupModels
}

// NewLearner learns len(params) series, params[s] for series s.
func NewLearner(params []Params, maxBins int) *Learner {
	return &Learner{params: params, maxBins: maxBins, hosts: map[Key]*hostModels{}, groups: map[int]*groupModels{}}
}

// NewGroupLearner learns series series with the parameters params(g, s)
// for group g (e.g. from Config.Params), so hostgroups may differ.
func NewGroupLearner(series int, params func(g, s int) Params, maxBins int) *Learner {
	l := NewLearner(make([]Params, series), maxBins)
	for s := range series {
		l.params[s] = params(-1, s)
	}
	l.byGroup = params
	return l
}

func (l *Learner) paramsOf(g, s int) Params {
	if l.byGroup != nil {
		return l.byGroup(g, s)
	}
	return l.params[s]
}

// Hosts is how many hosts have a model.
func (l *Learner) Hosts() int { return len(l.hosts) }

func (l *Learner) newModels() []*Model { return make([]*Model, len(l.params)) }

func (l *Learner) group(g int) *groupModels {
	gm := l.groups[g]
	if gm == nil {
		gm = &groupModels{models: l.newModels(), th: make([]published, len(l.params))}
		l.groups[g] = gm
	}
	return gm
}

func (l *Learner) host(k Key, g int) *hostModels {
	hm := l.hosts[k]
	if hm == nil {
		hm = &hostModels{models: l.newModels(), th: make([]published, len(l.params))}
		l.hosts[k] = hm
	}
	hm.group = g
	return hm
}

// Learn adds one interval's peak per series (peaks[s]) of host k in group g
// (-1: none) to its model and its group's. Intervals that overlap an attack
// must not teach what normal is: attack drops them.
func (l *Learner) Learn(k Key, g int, peaks []float64, attack bool) {
	if attack {
		return
	}
	hm, gm := l.host(k, g), l.group(g)
	for s := range min(len(peaks), len(l.params)) {
		if hm.models[s] == nil {
			hm.models[s] = NewModel(l.maxBins)
		}
		if gm.models[s] == nil {
			gm.models[s] = NewModel(l.maxBins)
		}
		hm.models[s].Add(peaks[s])
		gm.models[s].Add(peaks[s])
	}
}

// Forget drops host k's model (e.g. a host gone for good).
func (l *Learner) Forget(k Key) { delete(l.hosts, k) }

// Recompute publishes new thresholds at the end of a period: groups first,
// then hosts, each falling back to its group, then to static(g, s).
func (l *Learner) Recompute(static func(g, s int) float64) {
	for g, gm := range l.groups {
		for s := range l.params {
			p := l.paramsOf(g, s)
			v, src := static(g, s), SourceStatic
			if m := gm.models[s]; m != nil && m.Count() >= float64(p.GroupMinSamples) {
				v, src = p.learned(m), SourceGroup
			}
			gm.th[s] = p.clamp(gm.th[s], v, src)
		}
	}
	for _, hm := range l.hosts {
		gm := l.groups[hm.group]
		for s := range l.params {
			p := l.paramsOf(hm.group, s)
			var v float64
			var src Source
			switch m := hm.models[s]; {
			case m != nil && m.Count() >= float64(p.MinSamples):
				v, src = p.learned(m), SourceHost
			case gm != nil && gm.th[s].set:
				v, src = gm.th[s].v, gm.th[s].src
			default:
				v, src = static(hm.group, s), SourceStatic
			}
			hm.th[s] = p.clamp(hm.th[s], v, src)
		}
	}
}

func (p *Params) learned(m *Model) float64 {
	return max(p.Floor, p.K*m.Quantile(p.Quantile))
}

// clamp moves the published threshold toward v by at most MaxChange.
func (p *Params) clamp(prev published, v float64, src Source) published {
	if prev.set && p.MaxChange > 0 {
		v = min(max(v, prev.v*(1-p.MaxChange)), prev.v*(1+p.MaxChange))
	}
	return published{v: v, src: src, set: true}
}

// Threshold is series s's published threshold for host k of group g: the
// host's, else its group's, else static. Before the first Recompute every
// threshold is static.
func (l *Learner) Threshold(k Key, g, s int, static float64) (float64, Source) {
	if hm := l.hosts[k]; hm != nil && hm.th[s].set {
		return hm.th[s].v, hm.th[s].src
	}
	if gm := l.groups[g]; gm != nil && gm.th[s].set {
		return gm.th[s].v, gm.th[s].src
	}
	return static, SourceStatic
}

// Model returns host k's model of series s, or nil.
func (l *Learner) Model(k Key, s int) *Model {
	if hm := l.hosts[k]; hm != nil {
		return hm.models[s]
	}
	return nil
}

// GroupModel returns group g's pooled model of series s, or nil.
func (l *Learner) GroupModel(g, s int) *Model {
	if gm := l.groups[g]; gm != nil {
		return gm.models[s]
	}
	return nil
}

// Merge adds o's models to l (e.g. the same hosts seen by two sensors);
// published thresholds are not merged: Recompute after.
func (l *Learner) Merge(o *Learner) error {
	for k, ohm := range o.hosts {
		hm := l.host(k, ohm.group)
		if err := mergeModels(l, hm.models, ohm.models); err != nil {
			return err
		}
	}
	for g, ogm := range o.groups {
		if err := mergeModels(l, l.group(g).models, ogm.models); err != nil {
			return err
		}
	}
	return nil
}

func mergeModels(l *Learner, dst, src []*Model) error {
	for s := range min(len(dst), len(src)) {
		if src[s] == nil {
			continue
		}
		if dst[s] == nil {
			dst[s] = NewModel(l.maxBins)
		}
		if err := dst[s].Merge(src[s]); err != nil {
			return err
		}
	}
	return nil
}
