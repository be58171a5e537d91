// Package analytics writes Arrow snapshots of the per-host counters, reads
// them back, compacts them to Parquet and turns them into reports.
package analytics

import (
	"time"

	"github.com/rampartnet/rampart/internal/validate"
)

// Config is the `snapshots` section.
type Config struct {
	Enabled   bool          `yaml:"enabled"`
	Dir       string        `yaml:"dir"`
	Interval  time.Duration `yaml:"interval"`
	Retention time.Duration `yaml:"retention"` // delete snapshots older than this; 0 keeps all
	MaxBytes  int64         `yaml:"max_bytes"` // delete oldest beyond this total; 0 is unbounded
	// WriteConcurrency is how many goroutines build and compress a
	// snapshot's columns. Keep it within the cores the capture workers
	// leave free: more than that takes CPU from them.
	WriteConcurrency int `yaml:"write_concurrency"`
}

// DefaultConfig writes 10 s snapshots for a week.
func DefaultConfig() Config {
	return Config{
		Dir:       "/var/lib/rampart/snapshots",
		Interval:  10 * time.Second,
		Retention: 7 * 24 * time.Hour,
		MaxBytes:  20 << 30,

		WriteConcurrency: 2,
	}
}

// Validate checks the section; p points at `snapshots`.
func (c *Config) Validate(p validate.Path) {
	if c.Enabled && c.Dir == "" {
		p.Fieldf("dir", "must be set when snapshots are enabled")
	}
	if c.Interval < time.Second {
		p.Fieldf("interval", "must be >= 1s, got %s", c.Interval)
	}
	if c.Retention < 0 {
		p.Fieldf("retention", "must be >= 0, got %s", c.Retention)
	}
	if c.MaxBytes < 0 {
		p.Fieldf("max_bytes", "must be >= 0, got %d", c.MaxBytes)
	}
	if c.WriteConcurrency < 1 || c.WriteConcurrency > 64 {
		p.Fieldf("write_concurrency", "must be 1-64, got %d", c.WriteConcurrency)
	}
}
