package hosts

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rampartnet/rampart/internal/validate"
)

func TestDefaultConfigValid(t *testing.T) {
	c := DefaultConfig()
	p := validate.New()
	c.Validate(p)
	if err := p.Err(); err != nil {
		t.Fatalf("DefaultConfig invalid: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string // "" for valid
	}{
		{"max blocks zero", func(c *Config) { c.MaxIPv4Blocks = 0 }, "counters.max_ipv4_blocks: must be between 1 and 16777216, got 0"},
		{"max blocks huge", func(c *Config) { c.MaxIPv4Blocks = 1<<24 + 1 }, "got 16777217"},
		{"v6 capacity not power of two", func(c *Config) { c.IPv6Capacity = 1000 }, "counters.ipv6_capacity: must be a power of two between 64 and 67108864, got 1000"},
		{"v6 capacity too small", func(c *Config) { c.IPv6Capacity = 32 }, "counters.ipv6_capacity: must be a power of two between 64 and 67108864, got 32"},
		{"v6 prefix len", func(c *Config) { c.IPv6PrefixLen = 48 }, "counters.ipv6_prefix_len: must be 64 or 128, got 48"},
		{"v6 prefix len 64", func(c *Config) { c.IPv6PrefixLen = 64 }, ""},
		{"v6 idle", func(c *Config) { c.IPv6IdleTimeout = 0 }, "counters.ipv6_idle_timeout: must be > 0, got 0s"},
		{"flow cache", func(c *Config) { c.FlowCacheSize = 3 << 20 }, "counters.flow_cache_size: must be a power of two between 64 and 268435456, got 3145728"},
		{"flow idle short", func(c *Config) { c.FlowIdleTimeout = time.Millisecond }, "counters.flow_idle_timeout: must be between 100ms and 24h0m0s, got 1ms"},
		{"flow idle long", func(c *Config) { c.FlowIdleTimeout = 25 * time.Hour }, "got 25h0m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.edit(&c)
			p := validate.New()
			c.Validate(p.At("counters"))
			err := p.Err()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate: %v, want no error", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Validate: %v, want %q", err, tt.want)
			}
		})
	}
}

func TestConfigValidateReportsEveryError(t *testing.T) {
	c := Config{}
	p := validate.New()
	c.Validate(p)
	var errs validate.Errors
	if !errors.As(p.Err(), &errs) || len(errs) != 6 {
		t.Fatalf("zero Config: got %v, want 6 errors", p.Err())
	}
}

func TestNewRejects(t *testing.T) {
	bad := DefaultConfig()
	bad.FlowCacheSize = 100
	tests := []struct {
		name string
		cfg  Config
		nets []string
		want string
	}{
		{"bad config", bad, []string{"10.0.0.0/8"}, "flow_cache_size: must be a power of two between 64 and 268435456, got 100"},
		{"short IPv4", DefaultConfig(), []string{"10.0.0.0/7"}, "monitored network 10.0.0.0/7 is shorter than /8"},
		{"invalid", DefaultConfig(), nil, "monitored network invalid Prefix is not a valid prefix"},
		{"short mapped IPv4", DefaultConfig(), []string{"::ffff:0.0.0.0/96"}, "monitored network 0.0.0.0/0 is shorter than /8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nets := parsePrefixes(tt.nets)
			if tt.nets == nil {
				nets = []netip.Prefix{{}}
			}
			_, err := New(tt.cfg, nets)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: %v, want %q", err, tt.want)
			}
		})
	}
}
