// Package hostgroup holds the hostgroups of the configuration: named sets of
// prefixes with per-direction thresholds and the mitigation to ask for.
// The detector resolves a host to its group by longest prefix match.
package hostgroup

import (
	"net/netip"

	"github.com/rampartnet/rampart/internal/validate"
)

// Actions a hostgroup may ask for when one of its hosts is attacked.
const (
	ActionNone      = "none"      // detect and log only
	ActionFlowSpec  = "flowspec"  // FlowSpec rule matching the attack
	ActionBlackhole = "blackhole" // RFC 7999 host route
	ActionScrub     = "scrub"     // divert to the scrubbing centre
)

// Threshold modes of a hostgroup.
const (
	ModeStatic  = "static"  // the configured thresholds (and a thresholds file)
	ModeLearned = "learned" // learned online per host once warm; configured ones until then
)

// DefaultName is the group that holds every host no other group claims.
const DefaultName = "default"

// Config is one hostgroup.
type Config struct {
	Name       string         `yaml:"name"`
	Prefixes   []netip.Prefix `yaml:"prefixes"`
	Action     string         `yaml:"action"`
	Thresholds Thresholds     `yaml:"thresholds"`
	// ThresholdsMode: static (default) or learned. A learned group learns
	// the metrics it has thresholds for; those stay the fallback.
	ThresholdsMode string `yaml:"thresholds_mode"`
}

// Thresholds per traffic direction, as seen from the protected host.
type Thresholds struct {
	In  Limits `yaml:"in"`
	Out Limits `yaml:"out"`
}

// Limits are per-second rates; a nil limit is off.
type Limits struct {
	PPS     *float64 `yaml:"pps,omitempty"`
	Mbps    *float64 `yaml:"mbps,omitempty"`
	Flows   *float64 `yaml:"flows,omitempty"` // new flows per second
	TCPPPS  *float64 `yaml:"tcp_pps,omitempty"`
	SYNPPS  *float64 `yaml:"syn_pps,omitempty"`
	UDPPPS  *float64 `yaml:"udp_pps,omitempty"`
	ICMPPPS *float64 `yaml:"icmp_pps,omitempty"`
	FragPPS *float64 `yaml:"frag_pps,omitempty"`
}

// Default is the catch-all group: conservative limits for a single host behind
// a 10G edge, FlowSpec as the answer.
func Default() Config {
	return Config{
		Name:   DefaultName,
		Action: ActionFlowSpec,
		Thresholds: Thresholds{
			In: Limits{
				PPS:     ptr(200_000),
				Mbps:    ptr(1_000),
				Flows:   ptr(10_000),
				SYNPPS:  ptr(50_000),
				UDPPPS:  ptr(100_000),
				ICMPPPS: ptr(10_000),
				FragPPS: ptr(10_000),
			},
		},
	}
}

func ptr(v float64) *float64 { return &v }

// Validate checks one group; p points at the group itself.
func (c *Config) Validate(p validate.Path) {
	if c.Name == "" {
		p.Fieldf("name", "must not be empty")
	}
	validate.OneOf(p, "action", c.Action, ActionNone, ActionFlowSpec, ActionBlackhole, ActionScrub)
	if c.ThresholdsMode != "" {
		validate.OneOf(p, "thresholds_mode", c.ThresholdsMode, ModeStatic, ModeLearned)
	}
	for i, pfx := range c.Prefixes {
		ValidPrefix(p.At("prefixes").Index(i), pfx)
	}
	c.Thresholds.In.Validate(p.At("thresholds").At("in"))
	c.Thresholds.Out.Validate(p.At("thresholds").At("out"))
}

// Validate reports a limit that is not a positive number.
func (l *Limits) Validate(p validate.Path) {
	for _, f := range []struct {
		key string
		v   *float64
	}{
		{"pps", l.PPS}, {"mbps", l.Mbps}, {"flows", l.Flows}, {"tcp_pps", l.TCPPPS},
		{"syn_pps", l.SYNPPS}, {"udp_pps", l.UDPPPS}, {"icmp_pps", l.ICMPPPS}, {"frag_pps", l.FragPPS},
	} {
		if f.v != nil {
			validate.Positive(p, f.key, *f.v)
		}
	}
}

// ValidPrefix reports a prefix that is unset or has host bits set, which is
// almost always a typo for the network it names.
func ValidPrefix(p validate.Path, pfx netip.Prefix) {
	switch {
	case !pfx.IsValid():
		p.Errorf("must be a prefix such as 192.0.2.0/24, got %q", pfx.String())
	case pfx != pfx.Masked():
		p.Errorf("host bits set: did you mean %s? got %s", pfx.Masked(), pfx)
	}
}

// ValidateAll checks the list: each group, unique names, and no prefix in two
// groups (longest-prefix match would make one of them silently dead).
func ValidateAll(p validate.Path, groups []Config) {
	names := map[string]int{}
	owners := map[netip.Prefix]int{}
	for i := range groups {
		g := &groups[i]
		gp := p.Index(i)
		g.Validate(gp)
		if j, dup := names[g.Name]; dup && g.Name != "" {
			gp.Fieldf("name", "duplicate of hostgroups[%d], got %q", j, g.Name)
		}
		names[g.Name] = i
		for k, pfx := range g.Prefixes {
			if j, dup := owners[pfx.Masked()]; dup && j != i {
				gp.At("prefixes").Index(k).Errorf("already in hostgroups[%d], got %s", j, pfx)
			}
			owners[pfx.Masked()] = i
		}
	}
}
