package hosts

import (
	"time"

	"github.com/rampartnet/rampart/internal/validate"
)

// Config sizes one worker's host table (yaml section `counters`). Every
// bound is per worker: memory is roughly workers × (32 KiB × blocks in use
// + 152 B × ipv6_capacity + 8 B × flow_cache_size).
type Config struct {
	// MaxIPv4Blocks bounds the 256-host blocks (32 KiB each) allocated for
	// monitored IPv4 hosts; past it new /24s are not counted (Stats.V4Full).
	MaxIPv4Blocks int `yaml:"max_ipv4_blocks"`
	// IPv6Capacity is the fixed number of IPv6 host slots (power of two),
	// allocated up front when any IPv6 network is monitored.
	IPv6Capacity int `yaml:"ipv6_capacity"`
	// IPv6PrefixLen is the granularity of an IPv6 host: 128 or 64.
	IPv6PrefixLen int `yaml:"ipv6_prefix_len"`
	// IPv6IdleTimeout makes an IPv6 slot reusable once its host has sent
	// and received nothing for this long (and its counts were flushed).
	IPv6IdleTimeout time.Duration `yaml:"ipv6_idle_timeout"`
	// FlowCacheSize is the number of 5-tuple fingerprints remembered to
	// detect new flows (power of two, 8 bytes each). Size it at twice the
	// flows one worker sees within flow_idle_timeout: flows counted twice,
	// measured, are 0% of 100K flows in 1M entries, 1.9% of 500K, 36% of 1M.
	FlowCacheSize int `yaml:"flow_cache_size"`
	// FlowIdleTimeout is how long a 5-tuple must be unseen before it counts
	// as a new flow again.
	FlowIdleTimeout time.Duration `yaml:"flow_idle_timeout"`
}

// Bounds of Config values.
const (
	maxIPv4Blocks   = 1 << 24 // every /24 of IPv4
	minTableSize    = 64
	maxIPv6Capacity = 1 << 26 // 10 GiB of slots
	maxFlowCache    = 1 << 28 // 2 GiB of fingerprints
	minFlowIdle     = 100 * time.Millisecond
	maxFlowIdle     = 24 * time.Hour // flow clock is 32 bits of ~1 ms units
)

// DefaultConfig bounds a worker to about 128 MiB of IPv4 hosts (1M hosts),
// 38 MiB of IPv6 slots and 8 MiB of flow cache.
func DefaultConfig() Config {
	return Config{
		MaxIPv4Blocks:   4096,
		IPv6Capacity:    1 << 18,
		IPv6PrefixLen:   128,
		IPv6IdleTimeout: 10 * time.Second,
		FlowCacheSize:   1 << 20,
		FlowIdleTimeout: 30 * time.Second,
	}
}

// Validate reports every bad value below p.
func (c *Config) Validate(p validate.Path) {
	validate.Range(p, "max_ipv4_blocks", c.MaxIPv4Blocks, 1, maxIPv4Blocks)
	powerOfTwo(p, "ipv6_capacity", c.IPv6Capacity, minTableSize, maxIPv6Capacity)
	if c.IPv6PrefixLen != 64 && c.IPv6PrefixLen != 128 {
		p.Fieldf("ipv6_prefix_len", "must be 64 or 128, got %d", c.IPv6PrefixLen)
	}
	if c.IPv6IdleTimeout <= 0 {
		p.Fieldf("ipv6_idle_timeout", "must be > 0, got %v", c.IPv6IdleTimeout)
	}
	powerOfTwo(p, "flow_cache_size", c.FlowCacheSize, minTableSize, maxFlowCache)
	if c.FlowIdleTimeout < minFlowIdle || c.FlowIdleTimeout > maxFlowIdle {
		p.Fieldf("flow_idle_timeout", "must be between %v and %v, got %v", minFlowIdle, maxFlowIdle, c.FlowIdleTimeout)
	}
}

func powerOfTwo(p validate.Path, key string, v, lo, hi int) {
	if v < lo || v > hi || v&(v-1) != 0 {
		p.Fieldf(key, "must be a power of two between %d and %d, got %d", lo, hi, v)
	}
}
