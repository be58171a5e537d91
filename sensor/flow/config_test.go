package flow

import (
	"strings"
	"testing"
	"time"

	"github.com/rampartnet/rampart/internal/validate"
)

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		mod  func(*Config)
		want []string // substrings of the errors, in order
	}{
		{"defaults", func(*Config) {}, nil},
		{"listeners", func(c *Config) {
			c.Listeners = []ListenerConfig{{Listen: "0.0.0.0:2055", Protocol: "netflow"}, {Listen: "0.0.0.0:2055", Protocol: "sflow"}, {Listen: "host:6343", Protocol: "ipfix"}}
		}, []string{`flow.listeners[1].listen: duplicates listeners[0], got "0.0.0.0:2055"`, `flow.listeners[2].listen: must be IP:port, got "host:6343"`, `flow.listeners[2].protocol: must be one of netflow, sflow, got "ipfix"`}},
		{"sampling override", func(c *Config) {
			c.SamplingOverride = map[string]uint32{"192.0.2.1": 0, "router1": 100}
		}, []string{"flow.sampling_override.192.0.2.1: must be between 1 and 16777216, got 0", `flow.sampling_override.router1: key must be an IP address, got "router1"`}},
		{"durations and bounds", func(c *Config) {
			c.Accounting = "later"
			c.MinSpread = 2 * time.Minute
			c.MaxSpread = time.Minute
			c.MaxPendingSpreads = -1
			c.TemplateExpiry = 0
			c.MaxExporters = 0
			c.MaxTemplates = 1 << 20
		}, []string{`flow.accounting: must be one of spread, arrival, got "later"`, "flow.max_spread: must be >= min_spread (2m0s), got 1m0s",
			"flow.max_pending_spreads: must be between 0 and 4194304, got -1", "flow.template_expiry: must be between 1s and 168h0m0s, got 0s",
			"flow.max_exporters: must be between 1 and 65536, got 0", "flow.max_templates: must be between 1 and 65536, got 1048576"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.mod(&cfg)
			p := validate.New()
			cfg.Validate(p.At("flow"))
			var got []string
			if errs, ok := p.Err().(validate.Errors); ok {
				for _, e := range errs {
					got = append(got, e.Error())
				}
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}
