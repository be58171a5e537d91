package detect

import (
	"errors"
	"math"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rampartnet/rampart/internal/validate"
	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/hostgroup"
)

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		want   string // "" for valid
	}{
		{"default", func(*Config) {}, ""},
		{"trigger ticks", func(c *Config) { c.TriggerTicks = 0 }, "detection.trigger_ticks: must be between 1 and 100, got 0"},
		{"hold", func(c *Config) { c.HoldTime = -time.Second }, "detection.hold_time: must be between 0s and 24h0m0s, got -1s"},
		{"max ban", func(c *Config) { c.MaxBanTime = time.Minute }, "detection.max_ban_time: must be 0 (off) or at least min_ban_time (5m0s), got 1m0s"},
		{"coverage", func(c *Config) { c.RuleCoverage = math.NaN() }, "detection.rule_coverage: must be between 0.5 and 1, got NaN"},
		{"max vectors", func(c *Config) { c.MaxVectors = 0 }, "detection.max_vectors: must be between 1 and 64, got 0"},
		{"log path", func(c *Config) { c.AttackLog = "attacks.jsonl" }, `detection.attack_log: must be an absolute path or empty, got "attacks.jsonl"`},
		{"webhook url", func(c *Config) { c.Webhook.URL = "ftp://x" }, `detection.webhook.url: must be an http:// or https:// URL or empty, got "ftp://x"`},
		{"webhook queue", func(c *Config) { c.Webhook.Queue = 0 }, "detection.webhook.queue: must be between 1 and 1048576, got 0"},
		{"exec path", func(c *Config) { c.Exec.Path = "hook.sh" }, `detection.exec.path: must be an absolute path or empty, got "hook.sh"`},
		{"exec concurrency", func(c *Config) { c.Exec.Concurrency = 100 }, "detection.exec.concurrency: must be between 1 and 64, got 100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.mutate(&c)
			p := validate.New()
			c.Validate(p.At("detection"))
			err := p.Err()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var errs validate.Errors
			if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Error() != tc.want {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

// Longest prefix wins; everything else is the default group; limits come
// from the group, converted to rate units, with nil as Off.
func TestThresholds(t *testing.T) {
	groups := []hostgroup.Config{
		{Name: "wide", Prefixes: []netip.Prefix{mustPrefix("10.0.0.0/8"), mustPrefix("2001:db8::/32")}, Action: hostgroup.ActionBlackhole,
			Thresholds: hostgroup.Thresholds{In: hostgroup.Limits{PPS: fp(1000.7), Mbps: fp(1.5)}}},
		{Name: "narrow", Prefixes: []netip.Prefix{mustPrefix("10.1.0.0/16")}, Action: hostgroup.ActionNone},
	}
	th, err := NewThresholds(groups, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ ip, group string }{
		{"10.2.3.4", "wide"}, {"10.1.3.4", "narrow"}, {"192.0.2.1", hostgroup.DefaultName}, {"2001:db8::1", "wide"}, {"2001:db9::1", hostgroup.DefaultName},
	} {
		if g := th.GroupName(th.GroupOf(KeyOf(netip.MustParseAddr(tc.ip)))); g != tc.group {
			t.Errorf("%s: group %q, want %q", tc.ip, g, tc.group)
		}
	}
	k := KeyOf(netip.MustParseAddr("10.2.3.4"))
	l := th.Limits(k, th.GroupOf(k), aggregate.In)
	if l[aggregate.PPS] != 1000 || l[aggregate.BPS] != 1_500_000 || l[aggregate.SYNPPS] != Off {
		t.Errorf("limits %v: want pps 1000, bps 1.5e6, syn off", l)
	}
	if !strings.Contains(hostPrefix(KeyOf(netip.MustParseAddr("2001:db8::1")), 64).String(), "/64") {
		t.Error("an IPv6 key of a /64 table is a /64 prefix")
	}
}
