package aggregate

import (
	"time"

	"github.com/rampartnet/rampart/internal/validate"
)

// Bounds on the configuration, so memory and work per tick stay predictable.
const (
	MinTick       = time.Millisecond
	MaxTick       = 10 * time.Second
	MaxBuckets    = 600     // window / tick
	MaxMaxHosts   = 1 << 26 // 64M hosts: ~36 GB of state, past any sane box
	MaxPartitions = 4
)

// Config is the `aggregate` section of the configuration.
type Config struct {
	// Tick is how often workers hand over counts and rates are updated.
	Tick time.Duration `yaml:"tick"`
	// Window is the span of the sliding-window rates; a multiple of Tick.
	Window time.Duration `yaml:"window"`
	// MaxHosts bounds the hosts tracked. Traffic of hosts beyond it still
	// counts in group totals and in Stats.HostsDropped.
	MaxHosts int `yaml:"max_hosts"`
	// IdleExpiry forgets a host this long after its last traffic. Longer than
	// Window, so a host's rates reach zero before it goes.
	IdleExpiry time.Duration `yaml:"idle_expiry"`
	// Lateness is how long after a tick's end the running aggregator waits for
	// workers that have not delivered it before closing it without them.
	Lateness time.Duration `yaml:"lateness"`
}

// DefaultConfig: 100 ms ticks, 1 s window, a million hosts, 60 s idle expiry.
func DefaultConfig() Config {
	return Config{
		Tick:       100 * time.Millisecond,
		Window:     time.Second,
		MaxHosts:   1_000_000,
		IdleExpiry: 60 * time.Second,
		Lateness:   100 * time.Millisecond,
	}
}

// Validate reports every bad value below p.
func (c *Config) Validate(p validate.Path) {
	tickOK := c.Tick >= MinTick && c.Tick <= MaxTick
	if !tickOK {
		p.Fieldf("tick", "must be between %v and %v, got %v", MinTick, MaxTick, c.Tick)
	}
	switch {
	case c.Window <= 0:
		p.Fieldf("window", "must be > 0, got %v", c.Window)
	case tickOK && c.Window%c.Tick != 0:
		p.Fieldf("window", "must be a multiple of tick (%v), got %v", c.Tick, c.Window)
	case tickOK && c.Window/c.Tick > MaxBuckets:
		p.Fieldf("window", "must be at most %d ticks (%v), got %v", MaxBuckets, MaxBuckets*c.Tick, c.Window)
	}
	validate.Range(p, "max_hosts", c.MaxHosts, 1, MaxMaxHosts)
	if c.IdleExpiry <= c.Window {
		p.Fieldf("idle_expiry", "must be longer than window (%v), got %v", c.Window, c.IdleExpiry)
	}
	if c.Lateness < 0 || c.Lateness > time.Minute {
		p.Fieldf("lateness", "must be between 0s and 1m0s, got %v", c.Lateness)
	}
}

// buckets is the number of ticks in the window.
func (c *Config) buckets() int { return int(c.Window / c.Tick) }

// idleTicks is IdleExpiry in ticks, rounded up.
func (c *Config) idleTicks() int64 { return int64((c.IdleExpiry + c.Tick - 1) / c.Tick) }
