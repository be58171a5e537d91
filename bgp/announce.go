package bgp

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/apiutil"
	"github.com/osrg/gobgp/v3/pkg/packet/bgp"

	"github.com/rampartnet/rampart/sensor/detect"
)

// announcement is one path in BGP terms, built from a request and the
// config. Its key is the NLRI: announcing the same match again replaces the
// path at the peers, so Rampart's table is keyed the same way.
type announcement struct {
	key       string // family + " " + NLRI text
	family    string // "ipv4-flowspec", ...
	action    string // detect.Action*
	protected []netip.Prefix
	nlri      bgp.AddrPrefixInterface
	attrs     []bgp.PathAttributeInterface
	path      *api.Path
}

// errInvalid marks a request that cannot become a path at all.
var errInvalid = errors.New("invalid request")

// build turns a request into an announcement; errors wrap errInvalid.
func (c *Config) build(req detect.Request) (*announcement, error) {
	var a *announcement
	var err error
	switch req.Action {
	case detect.ActionFlowSpec:
		a, err = c.buildFlowSpec(req.Rule, c.flowSpecFor(req.Hostgroup))
	case detect.ActionBlackhole:
		a, err = c.buildBlackhole(req.Prefix)
	case detect.ActionRedirect:
		a, err = c.buildScrub(req.Prefix, c.scrubFor(req.Hostgroup))
	default:
		err = fmt.Errorf("action must be %s, %s or %s, got %q", detect.ActionFlowSpec, detect.ActionBlackhole, detect.ActionRedirect, req.Action)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errInvalid, err)
	}
	a.action = req.Action
	a.family = familyName(a.nlri)
	a.key = a.family + " " + a.nlri.String()
	a.path, err = wirePath(a.nlri, a.attrs)
	if err != nil {
		return nil, fmt.Errorf("%w: encode path: %v", errInvalid, err)
	}
	return a, nil
}

// wirePath is the path with NLRI and attributes in wire format: GoBGP
// decodes those directly, where the protobuf form (apiutil.NewPath) costs
// a marshal here and an unmarshal in AddPath, most of a path's CPU time
// and garbage.
func wirePath(nlri bgp.AddrPrefixInterface, attrs []bgp.PathAttributeInterface) (*api.Path, error) {
	n, err := nlri.Serialize()
	if err != nil {
		return nil, err
	}
	pattrs := make([][]byte, len(attrs))
	for i, at := range attrs {
		if pattrs[i], err = at.Serialize(); err != nil {
			return nil, err
		}
	}
	return &api.Path{NlriBinary: n, PattrsBinary: pattrs, Family: apiutil.ToApiFamily(nlri.AFI(), nlri.SAFI()), Identifier: nlri.PathIdentifier()}, nil
}

func (c *Config) flowSpecFor(hostgroup string) FlowSpecConfig {
	if o := c.Actions.Hostgroups[hostgroup].FlowSpec; o != nil {
		return *o
	}
	return c.Actions.FlowSpec
}

func (c *Config) scrubFor(hostgroup string) ScrubConfig {
	if o := c.Actions.Hostgroups[hostgroup].Scrub; o != nil {
		return *o
	}
	return c.Actions.Scrub
}

func (c *Config) buildFlowSpec(r *detect.Rule, fs FlowSpecConfig) (*announcement, error) {
	nlri, err := flowSpecNLRI(r)
	if err != nil {
		return nil, err
	}
	if r.Then.Action != detect.ThenDiscard {
		return nil, fmt.Errorf("rule action must be %q, got %q", detect.ThenDiscard, r.Then.Action)
	}
	ecs, err := c.flowSpecActions(fs)
	if err != nil {
		return nil, err
	}
	var protected []netip.Prefix
	for _, p := range []netip.Prefix{r.Destination, r.Source} {
		if p.IsValid() {
			protected = append(protected, p.Masked())
		}
	}
	return &announcement{nlri: nlri, protected: protected, attrs: flowSpecAttrs(nlri, ecs)}, nil
}

// flowSpecActions is the discard the detector asks for, or what the config
// turns it into: a rate limit, a redirect, a DSCP mark with either.
func (c *Config) flowSpecActions(fs FlowSpecConfig) ([]bgp.ExtendedCommunityInterface, error) {
	var ecs []bgp.ExtendedCommunityInterface
	switch {
	case fs.RedirectNextHop.IsValid():
		ecs = append(ecs, redirectIP(fs.RedirectNextHop))
	case fs.RedirectVRF != "":
		as, n, err := parseRouteTarget(fs.RedirectVRF)
		if err != nil {
			return nil, err
		}
		ecs = append(ecs, bgp.NewRedirectTwoOctetAsSpecificExtended(as, n))
	default:
		ecs = append(ecs, bgp.NewTrafficRateExtended(c.rateID(), float32(fs.RateLimit)))
	}
	discard := !fs.RedirectNextHop.IsValid() && fs.RedirectVRF == "" && fs.RateLimit == 0
	if fs.MarkDSCP != nil && !discard {
		ecs = append(ecs, bgp.NewTrafficRemarkExtended(*fs.MarkDSCP))
	}
	return ecs, nil
}

// rateID is the traffic-rate's informational 2-octet AS field.
func (c *Config) rateID() uint16 {
	if c.LocalAS <= 0xffff {
		return uint16(c.LocalAS)
	}
	return 0
}

// redirectIP is the 0x010c redirect-to-IP FRR shows as "NH:addr"; GoBGP has
// no typed constructor for it.
func redirectIP(a netip.Addr) bgp.ExtendedCommunityInterface {
	return &bgp.IPv4AddressSpecificExtended{IsTransitive: true, SubType: 0x0c, IPv4: a.AsSlice()}
}

func flowSpecAttrs(nlri bgp.AddrPrefixInterface, ecs []bgp.ExtendedCommunityInterface) []bgp.PathAttributeInterface {
	nh := "0.0.0.0" // FlowSpec carries no next hop on the wire, GoBGP wants one
	if nlri.AFI() == bgp.AFI_IP6 {
		nh = "::"
	}
	return []bgp.PathAttributeInterface{
		bgp.NewPathAttributeOrigin(bgp.BGP_ORIGIN_ATTR_TYPE_IGP),
		bgp.NewPathAttributeMpReachNLRI(nh, []bgp.AddrPrefixInterface{nlri}),
		bgp.NewPathAttributeExtendedCommunities(ecs),
	}
}

// buildBlackhole is an RFC 7999 host route: BLACKHOLE, NO_EXPORT and the
// configured communities, to the configured discard next hop.
func (c *Config) buildBlackhole(p netip.Prefix) (*announcement, error) {
	if !p.IsValid() || !p.IsSingleIP() {
		return nil, fmt.Errorf("blackhole needs a host prefix (/32 or /128), got %q", p.String())
	}
	nh := c.Actions.Blackhole.NextHop
	if p.Addr().Is6() {
		nh = c.Actions.Blackhole.NextHopV6
	}
	if !nh.IsValid() {
		return nil, fmt.Errorf("no blackhole next hop configured for %s", p)
	}
	comms := []uint32{uint32(bgp.COMMUNITY_BLACKHOLE), uint32(bgp.COMMUNITY_NO_EXPORT)}
	extra, err := communities(c.Actions.Blackhole.Communities)
	if err != nil {
		return nil, err
	}
	return unicast(p, nh, append(comms, extra...)), nil
}

// buildScrub diverts the prefix covering the host (configured length) to
// the scrubbing centre: a route, or for IPv4 a FlowSpec redirect-to-IP.
func (c *Config) buildScrub(p netip.Prefix, sc ScrubConfig) (*announcement, error) {
	if !p.IsValid() {
		return nil, fmt.Errorf("redirect needs a prefix, got %q", p.String())
	}
	bits, nh := sc.IPv4PrefixLen, sc.NextHop
	if p.Addr().Is6() {
		bits, nh = sc.IPv6PrefixLen, sc.NextHopV6
	}
	if p.Bits() < bits { // already wider than the diversion: keep it
		bits = p.Bits()
	}
	cover, err := p.Addr().Prefix(bits)
	if err != nil {
		return nil, err
	}
	if !nh.IsValid() {
		return nil, fmt.Errorf("no scrub next hop configured for %s", cover)
	}
	if sc.FlowSpec && cover.Addr().Is4() {
		nlri := bgp.NewFlowSpecIPv4Unicast([]bgp.FlowSpecComponentInterface{prefixComponent(cover, true, false)})
		ecs := []bgp.ExtendedCommunityInterface{redirectIP(nh)}
		return &announcement{nlri: nlri, protected: []netip.Prefix{cover}, attrs: flowSpecAttrs(nlri, ecs)}, nil
	}
	comms, err := communities(sc.Communities)
	if err != nil {
		return nil, err
	}
	return unicast(cover, nh, comms), nil
}

func unicast(p netip.Prefix, nh netip.Addr, comms []uint32) *announcement {
	var nlri bgp.AddrPrefixInterface
	attrs := []bgp.PathAttributeInterface{bgp.NewPathAttributeOrigin(bgp.BGP_ORIGIN_ATTR_TYPE_IGP)}
	if p.Addr().Is4() {
		nlri = bgp.NewIPAddrPrefix(uint8(p.Bits()), p.Addr().String())
		attrs = append(attrs, bgp.NewPathAttributeNextHop(nh.String()))
	} else {
		nlri = bgp.NewIPv6AddrPrefix(uint8(p.Bits()), p.Addr().String())
		attrs = append(attrs, bgp.NewPathAttributeMpReachNLRI(nh.String(), []bgp.AddrPrefixInterface{nlri}))
	}
	if len(comms) > 0 {
		attrs = append(attrs, bgp.NewPathAttributeCommunities(comms))
	}
	return &announcement{nlri: nlri, protected: []netip.Prefix{p}, attrs: attrs}
}

func communities(ss []string) ([]uint32, error) {
	out := make([]uint32, 0, len(ss))
	for _, s := range ss {
		v, err := parseCommunity(s)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// familyName is the config's name of the NLRI's family.
func familyName(n bgp.AddrPrefixInterface) string {
	v := "ipv4"
	if n.AFI() == bgp.AFI_IP6 {
		v = "ipv6"
	}
	if n.SAFI() == bgp.SAFI_FLOW_SPEC_UNICAST {
		return v + "-flowspec"
	}
	return v + "-unicast"
}

// updateText is the UPDATE in words, for dry-run logs and the golden test:
// "announce ipv4-flowspec [destination: ...] origin: i | ...".
func (a *announcement) updateText(withdraw bool) string {
	if withdraw {
		return "withdraw " + a.key
	}
	parts := make([]string, len(a.attrs))
	for i, at := range a.attrs {
		parts[i] = at.String()
	}
	return "announce " + a.key + " attrs " + strings.Join(parts, " ")
}
