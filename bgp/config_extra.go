package bgp

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/rampartnet/rampart/internal/validate"
)

// validateExtras checks the keys added for actions, per-action limits,
// persistence and the queue.
func (c *Config) validateExtras(p validate.Path) {
	if c.QueueSize <= 0 {
		p.Fieldf("queue_size", "must be > 0, got %d", c.QueueSize)
	}
	lim := p.At("limits")
	for _, l := range []struct {
		key string
		v   int
	}{{"max_active_flowspec", c.Limits.MaxActiveFlowSpec}, {"max_active_blackhole", c.Limits.MaxActiveBlackhole}, {"max_active_redirect", c.Limits.MaxActiveRedirect}} {
		if l.v < 0 {
			lim.Fieldf(l.key, "must be >= 0 (0 = only max_active), got %d", l.v)
		}
	}
	if c.Limits.RestoreGrace < 0 {
		lim.Fieldf("restore_grace", "must be >= 0 (0 = until max_age), got %s", c.Limits.RestoreGrace)
	}
	if c.Limits.MaxAge < 0 {
		lim.Fieldf("max_age", "must be >= 0 (0 = never), got %s", c.Limits.MaxAge)
	}

	c.Actions.FlowSpec.validate(p.At("actions").At("flowspec"))
	bh := p.At("actions").At("blackhole")
	if nh := c.Actions.Blackhole.NextHop; nh.IsValid() && !nh.Is4() {
		bh.Fieldf("next_hop", "must be an IPv4 address, got %s", nh)
	}
	if nh := c.Actions.Blackhole.NextHopV6; nh.IsValid() && !nh.Is6() {
		bh.Fieldf("next_hop_v6", "must be an IPv6 address, got %s", nh)
	}
	validateCommunities(bh, c.Actions.Blackhole.Communities)
	for _, name := range slices.Sorted(maps.Keys(c.Actions.Hostgroups)) {
		hg := c.Actions.Hostgroups[name]
		hp := p.At("actions").At("hostgroups").At(name)
		if hg.FlowSpec != nil {
			hg.FlowSpec.validate(hp.At("flowspec"))
		}
		if hg.Scrub != nil {
			hg.Scrub.validate(hp.At("scrub"))
		}
	}
}

func (fs *FlowSpecConfig) validate(p validate.Path) {
	if fs.RateLimit < 0 {
		p.Fieldf("rate_limit", "must be >= 0 bytes/s (0 = discard), got %v", fs.RateLimit)
	}
	if nh := fs.RedirectNextHop; nh.IsValid() && !nh.Is4() {
		p.Fieldf("redirect_next_hop", "must be an IPv4 address, got %s", nh)
	}
	if vrf := fs.RedirectVRF; vrf != "" {
		if _, _, err := parseRouteTarget(vrf); err != nil {
			p.Fieldf("redirect_vrf", "%v", err)
		}
		if fs.RedirectNextHop.IsValid() {
			p.Fieldf("redirect_vrf", "conflicts with redirect_next_hop: set one redirect, got %q", vrf)
		}
	}
	if d := fs.MarkDSCP; d != nil && *d > 63 {
		p.Fieldf("mark_dscp", "must be between 0 and 63, got %d", *d)
	}
}

func (sc *ScrubConfig) validate(p validate.Path) {
	validate.Range(p, "ipv4_prefix_len", sc.IPv4PrefixLen, 8, 32)
	validate.Range(p, "ipv6_prefix_len", sc.IPv6PrefixLen, 16, 128)
	if nh := sc.NextHop; nh.IsValid() && !nh.Is4() {
		p.Fieldf("next_hop", "must be an IPv4 address, got %s", nh)
	}
	if nh := sc.NextHopV6; nh.IsValid() && !nh.Is6() {
		p.Fieldf("next_hop_v6", "must be an IPv6 address, got %s", nh)
	}
	if sc.FlowSpec && !sc.NextHop.IsValid() {
		p.Fieldf("next_hop", "must be set when flowspec is true")
	}
	validateCommunities(p, sc.Communities)
}

func validateCommunities(p validate.Path, cs []string) {
	for i, s := range cs {
		if _, err := parseCommunity(s); err != nil {
			p.At("communities").Index(i).Errorf("%v", err)
		}
	}
}

var communityNames = map[string]uint32{
	"no-export": 0xffffff01, "no-advertise": 0xffffff02, "no-export-subconfed": 0xffffff03,
	"blackhole": 0xffff029a, "graceful-shutdown": 0xffff0000,
}

// parseCommunity reads an RFC 1997 community "ASN:N" (16 bits each) or a
// well-known name.
func parseCommunity(s string) (uint32, error) {
	if v, ok := communityNames[s]; ok {
		return v, nil
	}
	hi, lo, ok := strings.Cut(s, ":")
	a, errA := strconv.ParseUint(hi, 10, 16)
	b, errB := strconv.ParseUint(lo, 10, 16)
	if !ok || errA != nil || errB != nil {
		return 0, fmt.Errorf("must be ASN:N with 16-bit numbers or a well-known name, got %q", s)
	}
	return uint32(a)<<16 | uint32(b), nil
}

// parseRouteTarget reads "ASN:N", a 2-octet-AS route target.
func parseRouteTarget(s string) (uint16, uint32, error) {
	hi, lo, ok := strings.Cut(s, ":")
	a, errA := strconv.ParseUint(hi, 10, 16)
	b, errB := strconv.ParseUint(lo, 10, 32)
	if !ok || errA != nil || errB != nil {
		return 0, 0, fmt.Errorf("must be a route target ASN:N (16-bit ASN, 32-bit N), got %q", s)
	}
	return uint16(a), uint32(b), nil
}
