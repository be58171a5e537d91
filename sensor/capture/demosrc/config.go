// Package demosrc is the built-in demo capture.Source: it synthesizes
// realistic traffic in memory for a documentation network (nothing is ever
// sent anywhere), paced to a rate, with a scheduled attack on one victim so
// that the detector has something to find. No NIC needed.
package demosrc

import (
	"net/netip"
	"time"

	"github.com/rampartnet/rampart/internal/validate"
)

// Config shapes the demo traffic.
type Config struct {
	Rate     int          `yaml:"rate"`     // benign packets per second
	Seed     uint64       `yaml:"seed"`     // same seed, same traffic mix and packet sequence
	Hosts    int          `yaml:"hosts"`    // monitored hosts that talk
	Network4 string       `yaml:"network4"` // monitored IPv4 network the hosts live in
	Network6 string       `yaml:"network6"` // monitored IPv6 network; "" for IPv4 only
	Attack   AttackConfig `yaml:"attack"`
}

// AttackConfig schedules the attack: a TCP SYN flood for the first half of
// each attack phase, then DNS (source port 53, partly fragmented) and NTP
// (source port 123) amplification.
type AttackConfig struct {
	Victim   string        `yaml:"victim"`   // attacked host, inside Network4 or Network6; "" for no attack
	Start    time.Duration `yaml:"start"`    // first attack begins this long after Start
	Duration time.Duration `yaml:"duration"` // length of each attack phase
	Every    time.Duration `yaml:"every"`    // attack phases repeat this often; 0 for once
	Rate     int           `yaml:"rate"`     // attack packets per second, on top of Rate
}

// DefaultConfig is 200k pps over 50 hosts, attacked 20 s after start for
// 30 s by 150k pps, every 2 minutes.
func DefaultConfig() Config {
	return Config{
		Rate:     200000,
		Seed:     1,
		Hosts:    50,
		Network4: "198.51.100.0/24",
		Network6: "2001:db8:100::/64",
		Attack: AttackConfig{
			Victim:   "198.51.100.10",
			Start:    20 * time.Second,
			Duration: 30 * time.Second,
			Every:    2 * time.Minute,
			Rate:     150000,
		},
	}
}

const maxRate = 20_000_000

// Validate reports every bad value under p.
func (c *Config) Validate(p validate.Path) {
	validate.Range(p, "rate", c.Rate, 1, maxRate)
	n4, err := netip.ParsePrefix(c.Network4)
	switch {
	case err != nil:
		p.Fieldf("network4", "must be an IPv4 prefix such as 198.51.100.0/24, got %q", c.Network4)
	case !n4.Addr().Is4():
		p.Fieldf("network4", "must be an IPv4 prefix, got %q", c.Network4)
	case n4.Bits() > 30:
		p.Fieldf("network4", "must be /30 or larger to hold hosts, got %q", c.Network4)
	default:
		if free := 1<<(32-n4.Bits()) - 2; c.Hosts > free {
			p.Fieldf("hosts", "must fit in network4 %s (%d addresses), got %d", c.Network4, free, c.Hosts)
		}
	}
	validate.Range(p, "hosts", c.Hosts, 1, 65536)
	var n6 netip.Prefix
	if c.Network6 != "" {
		if n6, err = netip.ParsePrefix(c.Network6); err != nil || !n6.Addr().Is6() || n6.Addr().Is4In6() || n6.Bits() > 112 {
			p.Fieldf("network6", "must be an IPv6 prefix of /112 or larger such as 2001:db8:100::/64, or empty, got %q", c.Network6)
			n6 = netip.Prefix{}
		}
	}
	c.Attack.validate(p.At("attack"), n4, n6)
}

func (a *AttackConfig) validate(p validate.Path, n4, n6 netip.Prefix) {
	if a.Victim == "" {
		return
	}
	v, err := netip.ParseAddr(a.Victim)
	switch {
	case err != nil:
		p.Fieldf("victim", "must be an IP address, got %q", a.Victim)
	case n4.IsValid() && n4.Contains(v), n6.IsValid() && n6.Contains(v):
	default:
		p.Fieldf("victim", "must be inside network4 or network6, got %s", a.Victim)
	}
	if a.Start < 0 {
		p.Fieldf("start", "must be >= 0, got %v", a.Start)
	}
	if a.Duration <= 0 {
		p.Fieldf("duration", "must be > 0, got %v", a.Duration)
	}
	if a.Every != 0 && a.Every <= a.Duration {
		p.Fieldf("every", "must be 0 (once) or longer than duration %v, got %v", a.Duration, a.Every)
	}
	validate.Range(p, "rate", a.Rate, 1, maxRate)
}
