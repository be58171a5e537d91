// Package bgp is Rampart's embedded BGP speaker (GoBGP v3): it announces
// FlowSpec rules, RFC 7999 blackhole routes and scrubbing diversions for the
// detector's mitigation requests and withdraws them when attacks end, behind
// guardrails (own prefixes only, never whitelisted ones, bounded counts).
package bgp

import (
	"net/netip"
	"time"

	"github.com/rampartnet/rampart/internal/validate"
)

// Config is the `bgp` section.
type Config struct {
	Enabled       bool          `yaml:"enabled"`
	RouterID      netip.Addr    `yaml:"router_id"`
	LocalAS       uint32        `yaml:"local_as"`
	ListenAddress netip.Addr    `yaml:"listen_address"`
	ListenPort    int           `yaml:"listen_port"`
	DryRun        bool          `yaml:"dry_run"` // log the UPDATEs instead of sending them
	Peers         []PeerConfig  `yaml:"peers"`
	Actions       ActionsConfig `yaml:"actions"`
	Limits        LimitsConfig  `yaml:"limits"`
	// StateFile keeps the active announcements across restarts ("" = none).
	StateFile string `yaml:"state_file"`
	// QueueSize bounds the requests waiting for the BGP worker.
	QueueSize int `yaml:"queue_size"`
}

// PeerConfig is one BGP neighbor.
type PeerConfig struct {
	Address      netip.Addr    `yaml:"address"`
	Port         int           `yaml:"port"` // the peer's BGP port; 0 = 179
	AS           uint32        `yaml:"as"`
	LocalAddress netip.Addr    `yaml:"local_address"`
	Families     []string      `yaml:"families"`
	Multihop     uint8         `yaml:"multihop"` // TTL; 0 = directly connected
	Passive      bool          `yaml:"passive"`
	Password     string        `yaml:"password"`
	HoldTime     time.Duration `yaml:"hold_time"`
	ConnectRetry time.Duration `yaml:"connect_retry"`
}

// ActionsConfig parameterises each kind of announcement.
type ActionsConfig struct {
	FlowSpec  FlowSpecConfig  `yaml:"flowspec"`
	Blackhole BlackholeConfig `yaml:"blackhole"`
	Scrub     ScrubConfig     `yaml:"scrub"`
	// Hostgroups overrides flowspec and scrub for requests of that hostgroup
	// (e.g. rate limit one, divert another by FlowSpec).
	Hostgroups map[string]HostgroupActions `yaml:"hostgroups"`
}

// HostgroupActions replaces, when set, the global section of the same name.
type HostgroupActions struct {
	FlowSpec *FlowSpecConfig `yaml:"flowspec"`
	Scrub    *ScrubConfig    `yaml:"scrub"`
}

// FlowSpecConfig turns the detector's "discard" into other RFC 8955 actions.
// Redirects replace the discard; a DSCP mark goes with a rate limit or a
// redirect (marking dropped traffic would be pointless).
type FlowSpecConfig struct {
	RateLimit       float64    `yaml:"rate_limit"`        // bytes/s; 0 = discard
	RedirectNextHop netip.Addr `yaml:"redirect_next_hop"` // IPv4, redirect-to-IP (0x010c)
	RedirectVRF     string     `yaml:"redirect_vrf"`      // route target "ASN:N"
	MarkDSCP        *uint8     `yaml:"mark_dscp"`         // 0..63
}

// BlackholeConfig: RFC 7999 host routes.
type BlackholeConfig struct {
	NextHop     netip.Addr `yaml:"next_hop"`
	NextHopV6   netip.Addr `yaml:"next_hop_v6"`
	Communities []string   `yaml:"communities"` // besides BLACKHOLE and NO_EXPORT
}

// ScrubConfig: diversion of the covering prefix to a scrubbing centre.
type ScrubConfig struct {
	NextHop       netip.Addr `yaml:"next_hop"`
	NextHopV6     netip.Addr `yaml:"next_hop_v6"`
	Communities   []string   `yaml:"communities"`
	IPv4PrefixLen int        `yaml:"ipv4_prefix_len"`
	IPv6PrefixLen int        `yaml:"ipv6_prefix_len"`
	// FlowSpec diverts IPv4 prefixes with a FlowSpec redirect-to-IP to
	// NextHop instead of a unicast route (IPv6 always uses the route).
	FlowSpec bool `yaml:"flowspec"`
}

// LimitsConfig bounds what the speaker will announce, whoever asks.
type LimitsConfig struct {
	MaxActive    int     `yaml:"max_active"`
	MaxPerSecond float64 `yaml:"max_per_second"` // new announcements, token bucket
	// Per action caps below MaxActive; 0 = only MaxActive applies.
	MaxActiveFlowSpec  int `yaml:"max_active_flowspec"`
	MaxActiveBlackhole int `yaml:"max_active_blackhole"`
	MaxActiveRedirect  int `yaml:"max_active_redirect"`
	// MaxAge withdraws an announcement that old even if nobody asks (a
	// safety net: a restarted detector does not know the attacks it
	// restored); 0 = never. Also decides what a restart re-announces.
	MaxAge time.Duration `yaml:"max_age"`
	// RestoreGrace: a mitigation restored from the state file at start is
	// withdrawn unless the detector asks for the same match again within
	// this long — it keeps mitigating an attack that outlived a restart,
	// and ends one that stopped while the sensor was down. 0 keeps restored
	// mitigations until max_age.
	RestoreGrace time.Duration `yaml:"restore_grace"`
}

// Families a peer may carry.
var families = []string{"ipv4-unicast", "ipv6-unicast", "ipv4-flowspec", "ipv6-flowspec"}

// DefaultConfig is off, with the values an enabled speaker starts from.
func DefaultConfig() Config {
	return Config{
		ListenPort: 179,
		Actions: ActionsConfig{
			// RFC 5737 TEST-NET-1 and RFC 6666 discard-only, both routed to null.
			Blackhole: BlackholeConfig{NextHop: netip.MustParseAddr("192.0.2.1"), NextHopV6: netip.MustParseAddr("100::1")},
			Scrub:     ScrubConfig{IPv4PrefixLen: 24, IPv6PrefixLen: 48},
		},
		Limits:    LimitsConfig{MaxActive: 1000, MaxPerSecond: 100, RestoreGrace: 10 * time.Minute},
		QueueSize: 4096,
	}
}

// FillDefaults completes what each peer leaves out. ConnectRetry is low
// because GoBGP's default (120 s) leaves a restarted router unmitigated.
func (c *Config) FillDefaults() {
	for i := range c.Peers {
		p := &c.Peers[i]
		if len(p.Families) == 0 {
			p.Families = []string{"ipv4-unicast", "ipv4-flowspec", "ipv6-flowspec"}
		}
		if p.HoldTime == 0 {
			p.HoldTime = 90 * time.Second
		}
		if p.ConnectRetry == 0 {
			p.ConnectRetry = 5 * time.Second
		}
	}
}

// Validate checks the section; p points at `bgp`.
func (c *Config) Validate(p validate.Path) {
	validate.Range(p, "listen_port", c.ListenPort, 1, 65535)
	c.Actions.Scrub.validate(p.At("actions").At("scrub"))
	validate.Positive(p.At("limits"), "max_active", c.Limits.MaxActive)
	validate.Positive(p.At("limits"), "max_per_second", c.Limits.MaxPerSecond)
	c.validateExtras(p)
	if !c.Enabled {
		return
	}
	if !c.RouterID.Is4() {
		p.Fieldf("router_id", "must be an IPv4 address when bgp is enabled, got %q", c.RouterID.String())
	}
	if c.LocalAS == 0 {
		p.Fieldf("local_as", "must be > 0 when bgp is enabled, got 0")
	}
	if len(c.Peers) == 0 {
		p.Fieldf("peers", "must list at least one peer when bgp is enabled")
	}
	seen := map[netip.Addr]int{}
	for i, peer := range c.Peers {
		pp := p.At("peers").Index(i)
		if !peer.Address.IsValid() {
			pp.Fieldf("address", "must be an IP address, got %q", peer.Address.String())
		} else if j, dup := seen[peer.Address]; dup {
			pp.Fieldf("address", "duplicate of peers[%d], got %s", j, peer.Address)
		}
		seen[peer.Address] = i
		if peer.HoldTime != 0 && peer.HoldTime < 3*time.Second {
			pp.Fieldf("hold_time", "must be 0 or >= 3s, got %s", peer.HoldTime)
		}
		if peer.Port != 0 {
			validate.Range(pp, "port", peer.Port, 1, 65535)
		}
		if peer.AS == 0 {
			pp.Fieldf("as", "must be > 0, got 0")
		}
		for k, f := range peer.Families {
			validate.In(pp.At("families").Index(k), f, families...)
		}
	}
}
