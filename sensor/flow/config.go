package flow

import (
	"net/netip"
	"slices"
	"time"

	"github.com/rampartnet/rampart/internal/validate"
)

// Config is the yaml section `flow`: where flow telemetry arrives and how its
// records become counts. With no listeners the collectors are off.
type Config struct {
	Listeners []ListenerConfig `yaml:"listeners"`
	// SamplingOverride maps an exporter address to the sampling rate to use
	// for everything it sends, in place of the rate it reports (for routers
	// that report none or a wrong one).
	SamplingOverride map[string]uint32 `yaml:"sampling_override"`
	// Accounting is "spread" (a record's counts are spread over as long as
	// the flow lasted, from its arrival on) or "arrival" (all counted at once).
	Accounting string `yaml:"accounting"`
	// MinSpread: records of shorter flows are counted at arrival.
	MinSpread time.Duration `yaml:"min_spread"`
	// MaxSpread caps the spreading of one record (set it to the exporters'
	// active timeout or more, so that long flows do not make spikes).
	MaxSpread time.Duration `yaml:"max_spread"`
	// MaxPendingSpreads bounds the records being spread per listener
	// (~112 bytes each, allocated up front); beyond it records are counted
	// at arrival and Stats.SpreadOverflow counts them.
	MaxPendingSpreads int `yaml:"max_pending_spreads"`
	// TemplateExpiry forgets a NetFlow v9/IPFIX template not refreshed for
	// this long, and an exporter silent for this long.
	TemplateExpiry time.Duration `yaml:"template_expiry"`
	// MaxExporters bounds the exporters tracked per listener; datagrams
	// from further exporters are dropped and counted (Stats.Rejected).
	MaxExporters int `yaml:"max_exporters"`
	// MaxTemplates bounds the templates kept per exporter.
	MaxTemplates int `yaml:"max_templates"`
}

// ListenerConfig is one UDP socket.
type ListenerConfig struct {
	// Listen is IP:port; port 0 picks a free port.
	Listen string `yaml:"listen"`
	// Protocol is "netflow" (v5, v9 and IPFIX, told apart by the version
	// field) or "sflow" (v5).
	Protocol string `yaml:"protocol"`
}

// Accounting modes.
const (
	AccountSpread  = "spread"
	AccountArrival = "arrival"
)

// Listener protocols.
const (
	ProtoNetFlow = "netflow"
	ProtoSFlow   = "sflow"
)

// Bounds of Config values.
const (
	maxSpreadLimit     = time.Hour
	maxPendingLimit    = 1 << 22 // ~450 MiB
	maxExportersLimit  = 1 << 16
	maxTemplatesLimit  = 1 << 16
	minTemplateExpiry  = time.Second
	maxTemplateExpiry  = 7 * 24 * time.Hour
	maxSamplingRateCfg = 1 << 24
)

// DefaultConfig has no listeners; records are spread over up to a minute
// (the usual active timeout).
func DefaultConfig() Config {
	return Config{
		Accounting:        AccountSpread,
		MinSpread:         time.Second,
		MaxSpread:         time.Minute,
		MaxPendingSpreads: 1 << 16,
		TemplateExpiry:    time.Hour,
		MaxExporters:      1024,
		MaxTemplates:      256,
	}
}

// Validate reports every bad value below p.
func (c *Config) Validate(p validate.Path) {
	seen := map[netip.AddrPort]int{}
	for i, l := range c.Listeners {
		lp := p.At("listeners").Index(i)
		ap, err := netip.ParseAddrPort(l.Listen)
		if err != nil {
			lp.Fieldf("listen", "must be IP:port, got %q", l.Listen)
		} else if j, dup := seen[ap]; dup && ap.Port() != 0 {
			lp.Fieldf("listen", "duplicates listeners[%d], got %q", j, l.Listen)
		} else {
			seen[ap] = i
		}
		validate.OneOf(lp, "protocol", l.Protocol, ProtoNetFlow, ProtoSFlow)
	}
	keys := make([]string, 0, len(c.SamplingOverride))
	for k := range c.SamplingOverride {
		keys = append(keys, k)
	}
	slices.Sort(keys) // one order of messages every run
	for _, k := range keys {
		sp := p.At("sampling_override").At(k)
		if _, err := netip.ParseAddr(k); err != nil {
			sp.Errorf("key must be an IP address, got %q", k)
		}
		if r := c.SamplingOverride[k]; r < 1 || r > maxSamplingRateCfg {
			sp.Errorf("must be between 1 and %d, got %d", maxSamplingRateCfg, r)
		}
	}
	validate.OneOf(p, "accounting", c.Accounting, AccountSpread, AccountArrival)
	if c.MinSpread < 0 || c.MinSpread > maxSpreadLimit {
		p.Fieldf("min_spread", "must be between 0s and %v, got %v", maxSpreadLimit, c.MinSpread)
	}
	if c.MaxSpread <= 0 || c.MaxSpread > maxSpreadLimit {
		p.Fieldf("max_spread", "must be between 1ns and %v, got %v", maxSpreadLimit, c.MaxSpread)
	} else if c.MaxSpread < c.MinSpread {
		p.Fieldf("max_spread", "must be >= min_spread (%v), got %v", c.MinSpread, c.MaxSpread)
	}
	validate.Range(p, "max_pending_spreads", c.MaxPendingSpreads, 0, maxPendingLimit)
	if c.TemplateExpiry < minTemplateExpiry || c.TemplateExpiry > maxTemplateExpiry {
		p.Fieldf("template_expiry", "must be between %v and %v, got %v", minTemplateExpiry, maxTemplateExpiry, c.TemplateExpiry)
	}
	validate.Range(p, "max_exporters", c.MaxExporters, 1, maxExportersLimit)
	validate.Range(p, "max_templates", c.MaxTemplates, 1, maxTemplatesLimit)
}

// overrides parses SamplingOverride (after Validate).
func (c *Config) overrides() map[netip.Addr]uint32 {
	m := make(map[netip.Addr]uint32, len(c.SamplingOverride))
	for k, r := range c.SamplingOverride {
		if a, err := netip.ParseAddr(k); err == nil {
			m[a.Unmap()] = r
		}
	}
	return m
}
