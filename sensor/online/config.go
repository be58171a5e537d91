// Package online learns thresholds while the sensor runs: once a second it
// feeds each host's per-second rates (hosts of hostgroups with
// thresholds_mode learned, metrics that group has thresholds for) into
// baseline models, and every Recompute it publishes per-host limits that
// the detector reads (detect.Learned). Seconds a host is tracked by the
// detector (attacked, or above a threshold) teach nothing.
package online

import (
	"time"

	"github.com/rampartnet/rampart/baseline"
	"github.com/rampartnet/rampart/internal/validate"
)

// Config bounds and paces online learning.
type Config struct {
	// Params resolves the learning parameters of a metric (hostgroup
	// threshold key: pps, mbps, ...) for a hostgroup; nil is
	// baseline.DefaultParams for all. Online, a sample is one second.
	Params func(group, metric string) baseline.Params
	// MaxHosts bounds the hosts with a model of their own; hosts beyond it
	// teach only their group's pooled model (and use its threshold).
	MaxHosts int
	// Recompute is how often learned thresholds are republished.
	Recompute time.Duration
	// MaxBins bounds each model's bins (memory per host and metric).
	MaxBins int
}

// DefaultConfig: 100K hosts with their own models, thresholds republished
// every minute, 128 bins per model.
func DefaultConfig() Config {
	return Config{MaxHosts: 100_000, Recompute: time.Minute, MaxBins: 128}
}

// Validate reports every bad value below p.
func (c *Config) Validate(p validate.Path) {
	validate.Range(p, "max_hosts", c.MaxHosts, 1, 100_000_000)
	if c.Recompute < time.Second || c.Recompute > 24*time.Hour {
		p.Fieldf("recompute", "must be between 1s and 24h, got %v", c.Recompute)
	}
	validate.Range(p, "max_bins", c.MaxBins, 16, 4096)
}
