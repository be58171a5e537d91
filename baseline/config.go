package baseline

import (
	"math"
	"slices"
	"sort"

	"github.com/rampartnet/rampart/internal/validate"
)

// Metrics are the thresholded metrics the `baseline.metrics` keys name,
// spelled as in a hostgroup's thresholds. A metric's settings apply to
// both directions.
var Metrics = []string{"pps", "mbps", "flows", "tcp_pps", "syn_pps", "udp_pps", "icmp_pps", "frag_pps"}

// Settings are the learning parameters one level of the `baseline`
// section sets; a key left out inherits from the level above (the
// section's top, then the metric, then the hostgroup, then the
// hostgroup's metric).
type Settings struct {
	Quantile        *float64 `yaml:"quantile,omitempty"`
	K               *float64 `yaml:"k,omitempty"`
	Floor           *float64 `yaml:"floor,omitempty"`
	MaxChange       *float64 `yaml:"max_change,omitempty"`
	MinSamples      *int     `yaml:"min_samples,omitempty"`
	GroupMinSamples *int     `yaml:"group_min_samples,omitempty"`
	HourOfDay       *bool    `yaml:"hour_of_day,omitempty"`
	Outlier         *float64 `yaml:"outlier,omitempty"`
}

// GroupConfig overrides the settings for one hostgroup, for all its
// metrics and per metric.
type GroupConfig struct {
	Settings `yaml:",inline"`
	Metrics  map[string]Settings `yaml:"metrics,omitempty"`
}

// Config is the `baseline` section: how thresholds are learned, online
// by the sensor and offline by `rampart baseline`.
type Config struct {
	Settings   `yaml:",inline"`
	Metrics    map[string]Settings    `yaml:"metrics,omitempty"`
	Hostgroups map[string]GroupConfig `yaml:"hostgroups,omitempty"`
	Online     OnlineConfig           `yaml:"online"`
}

// DefaultConfig is DefaultParams for every metric, without hour-of-day
// profiles.
func DefaultConfig() Config {
	p := DefaultParams()
	return Config{Settings: Settings{
		Quantile: &p.Quantile, K: &p.K, Floor: &p.Floor, MaxChange: &p.MaxChange,
		MinSamples: &p.MinSamples, GroupMinSamples: &p.GroupMinSamples, HourOfDay: &p.HourOfDay,
		Outlier: &p.Outlier,
	}, Online: DefaultOnlineConfig()}
}

// apply sets the keys s sets.
func (s *Settings) apply(p *Params) {
	set := func(dst *float64, v *float64) {
		if v != nil {
			*dst = *v
		}
	}
	set(&p.Quantile, s.Quantile)
	set(&p.K, s.K)
	set(&p.Floor, s.Floor)
	set(&p.MaxChange, s.MaxChange)
	set(&p.Outlier, s.Outlier)
	if s.MinSamples != nil {
		p.MinSamples = *s.MinSamples
	}
	if s.GroupMinSamples != nil {
		p.GroupMinSamples = *s.GroupMinSamples
	}
	if s.HourOfDay != nil {
		p.HourOfDay = *s.HourOfDay
	}
}

// Params resolves the parameters of metric (one of Metrics) for hosts of
// hostgroup group: defaults, then the section's top level, its metric,
// the group's top level and the group's metric, each overriding the last.
func (c *Config) Params(group, metric string) Params {
	p := DefaultParams()
	c.Settings.apply(&p)
	if m, ok := c.Metrics[metric]; ok {
		m.apply(&p)
	}
	if g, ok := c.Hostgroups[group]; ok {
		g.Settings.apply(&p)
		if m, ok := g.Metrics[metric]; ok {
			m.apply(&p)
		}
	}
	return p
}

// Validate reports every bad value; p points at `baseline`. Hostgroup
// names are checked against the configured groups by the caller
// (GroupNames).
func (c *Config) Validate(p validate.Path) {
	c.Settings.validate(p)
	c.Online.Validate(p.At("online"))
	validMetrics(p.At("metrics"), c.Metrics)
	for _, name := range sortedKeys(c.Hostgroups) {
		g := c.Hostgroups[name]
		g.Settings.validate(p.At("hostgroups").At(name))
		validMetrics(p.At("hostgroups").At(name).At("metrics"), g.Metrics)
	}
}

// GroupNames reports a `baseline.hostgroups` key that names no hostgroup;
// p points at `baseline`.
func (c *Config) GroupNames(p validate.Path, groups []string) {
	for _, name := range sortedKeys(c.Hostgroups) {
		if !slices.Contains(groups, name) {
			p.At("hostgroups").At(name).Errorf("no hostgroup of this name; hostgroups are %v", groups)
		}
	}
}

func validMetrics(p validate.Path, m map[string]Settings) {
	for _, name := range sortedKeys(m) {
		s := m[name]
		if !slices.Contains(Metrics, name) {
			p.At(name).Errorf("unknown metric; known metrics: %v", Metrics)
			continue
		}
		s.validate(p.At(name))
	}
}

func (s *Settings) validate(p validate.Path) {
	if v := s.Quantile; v != nil && !(*v > 0 && *v <= 1) {
		p.Fieldf("quantile", "must be in (0, 1], got %v", *v)
	}
	if v := s.K; v != nil && (!(*v > 0) || math.IsInf(*v, 0)) {
		p.Fieldf("k", "must be > 0, got %v", *v)
	}
	if v := s.Floor; v != nil && (!(*v >= 0) || math.IsInf(*v, 0)) {
		p.Fieldf("floor", "must be >= 0, got %v", *v)
	}
	if v := s.MaxChange; v != nil && (!(*v >= 0) || math.IsInf(*v, 0)) {
		p.Fieldf("max_change", "must be >= 0, got %v", *v)
	}
	if v := s.MinSamples; v != nil && *v < 1 {
		p.Fieldf("min_samples", "must be >= 1, got %d", *v)
	}
	if v := s.GroupMinSamples; v != nil && *v < 1 {
		p.Fieldf("group_min_samples", "must be >= 1, got %d", *v)
	}
	if v := s.Outlier; v != nil {
		validOutlier(p, *v)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
