package baseline

import (
	"time"

	"github.com/rampartnet/rampart/internal/validate"
)

// OnlineConfig is `baseline.online`: the bounds of learning while the
// sensor runs (hostgroups with thresholds_mode learned). Online, a sample
// is one second of a host's rates, so min_samples counts seconds there.
type OnlineConfig struct {
	MaxHosts  int           `yaml:"max_hosts"` // hosts with their own models; the rest teach their group's
	Recompute time.Duration `yaml:"recompute"` // how often learned thresholds are republished
	MaxBins   int           `yaml:"max_bins"`  // per model: memory per host and metric (8 bytes a bin)
}

// DefaultOnlineConfig: 100K hosts, every minute, 128 bins (~1 KB a model).
func DefaultOnlineConfig() OnlineConfig {
	return OnlineConfig{MaxHosts: 100_000, Recompute: time.Minute, MaxBins: 128}
}

// Validate reports every bad value below p.
func (c *OnlineConfig) Validate(p validate.Path) {
	validate.Range(p, "max_hosts", c.MaxHosts, 1, 100_000_000)
	if c.Recompute < time.Second || c.Recompute > 24*time.Hour {
		p.Fieldf("recompute", "must be between 1s and 24h, got %v", c.Recompute)
	}
	validate.Range(p, "max_bins", c.MaxBins, 16, 4096)
}
