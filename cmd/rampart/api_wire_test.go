package main

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/rampartnet/rampart/api"
	"github.com/rampartnet/rampart/internal/config"
	"github.com/rampartnet/rampart/sensor"
	"github.com/rampartnet/rampart/sensor/aggregate"
)

// Before the sensor starts, the adapters answer without an aggregator or
// detector: no hosts, and bans refused as not running rather than a panic.
func TestAPIDepsBeforeStart(t *testing.T) {
	cfg, err := config.Load("../../examples/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sn, err := sensor.New(cfg.Sensor(), sensor.Options{})
	if err != nil {
		t.Fatal(err)
	}
	deps := newAPIDeps(sn, nil, nil, 128)
	st := deps.Status.Status()
	if st.Version != version || st.BGP != nil || st.StartedAt.IsZero() {
		t.Errorf("status %+v", st)
	}
	ip := netip.MustParseAddr("192.0.2.1")
	if rows := deps.Hosts.Top(aggregate.PPS, aggregate.In, 10); len(rows) != 0 {
		t.Errorf("top before start: %v", rows)
	}
	if _, ok := deps.Hosts.Host(ip); ok {
		t.Error("host found before start")
	}
	if err := deps.Mitigations.Ban(ip, aggregate.In, "test", 0); !errors.Is(err, api.ErrNotRunning) {
		t.Errorf("ban before start: %v", err)
	}
	if err := deps.Mitigations.Unban(ip, "test"); !errors.Is(err, api.ErrNotRunning) {
		t.Errorf("unban before start: %v", err)
	}
	if ms := deps.Mitigations.Mitigations(); ms != nil {
		t.Errorf("mitigations without bgp: %v", ms)
	}
	if as := deps.Attacks.Attacks(); len(as) != 0 {
		t.Errorf("attacks before start: %v", as)
	}
}

func TestAPIKeyFollowsIPv6Granularity(t *testing.T) {
	for _, tc := range []struct {
		ip   string
		p6   int
		want string
	}{
		{"198.51.100.7", 64, "::ffff:198.51.100.7"},
		{"2001:db8:100::5:6", 128, "2001:db8:100::5:6"},
		{"2001:db8:100::5:6", 64, "2001:db8:100::"},
	} {
		a := &apiSensor{prefixLen6: tc.p6}
		if got := netip.AddrFrom16(a.key(netip.MustParseAddr(tc.ip))); got != netip.MustParseAddr(tc.want) {
			t.Errorf("key(%s) with /%d hosts = %s, want %s", tc.ip, tc.p6, got, tc.want)
		}
	}
}
