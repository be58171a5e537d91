package detect

import (
	"net/netip"
	"testing"

	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/hostgroup"
	"github.com/rampartnet/rampart/sensor/thresholdfile"
)

func mustFile(t *testing.T, doc string) *thresholdfile.File {
	t.Helper()
	f, err := thresholdfile.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// A thresholds file lowers one host's limit and one group's; other hosts
// and limits keep the configured values.
func TestThresholdsWithFile(t *testing.T) {
	f := mustFile(t, `version: 1
groups:
  dns: {in: {udp_pps: 500}}
  nosuch: {in: {pps: 1}}
hosts:
  203.0.113.7: {in: {pps: 1000}, out: {mbps: 1.5}}
  "2001:db8:1:2::99": {in: {syn_pps: 42}}
`)
	th, unknown, err := ThresholdsWithFile(testGroups(), f, 64, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(unknown) != 1 || unknown[0] != "nosuch" {
		t.Errorf("unknown groups %v, want [nosuch]", unknown)
	}
	base := compile(ptrLimits(testLimits()))
	for _, tc := range []struct {
		name string
		ip   string
		dir  aggregate.Dir
		s    aggregate.Series
		want uint64
	}{
		{"host entry", "203.0.113.7", aggregate.In, aggregate.PPS, 1000},
		{"host entry keeps other series", "203.0.113.7", aggregate.In, aggregate.UDPPPS, base[aggregate.UDPPPS]},
		{"host entry out", "203.0.113.7", aggregate.Out, aggregate.BPS, 1_500_000},
		{"other host", "203.0.113.8", aggregate.In, aggregate.PPS, base[aggregate.PPS]},
		{"group entry", "198.51.100.3", aggregate.In, aggregate.UDPPPS, 500},
		{"group entry keeps other series", "198.51.100.3", aggregate.In, aggregate.PPS, base[aggregate.PPS]},
		{"ipv6 /64 granularity", "2001:db8:1:2::", aggregate.In, aggregate.SYNPPS, 42},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := KeyOf(netip.MustParseAddr(tc.ip))
			if got := th.Limits(key, th.GroupOf(key), tc.dir)[tc.s]; got != tc.want {
				t.Errorf("limit %v = %d, want %d", tc.s, got, tc.want)
			}
		})
	}
	if _, _, err := ThresholdsWithFile(testGroups(), nil, 128, nil); err != nil {
		t.Errorf("no file: %v", err)
	}
}

func ptrLimits(l hostgroup.Limits) *hostgroup.Limits { return &l }

// A reload that lowers a host's threshold makes the detector flag traffic
// it let through before, from the next tick on, and HostLimits shows it.
func TestReconfigureThresholds(t *testing.T) {
	h := newHarness(t, testConfig(), nil)
	key := KeyOf(ip4("203.0.113.7"))
	h.runTo(30, newTraffic("203.0.113.7", aggregate.In, 1_500, sec, 3*sec, udpFlood, 1))
	if n := len(h.attacks()); n != 0 {
		t.Fatalf("%d attacks under the configured limits, want none", n)
	}
	th, _, err := ThresholdsWithFile(testGroups(), mustFile(t, "version: 1\nhosts: {203.0.113.7: {in: {pps: 1000}}}\n"), 128, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.det.Reconfigure(th, th.SamePartition(h.det.th), nil); err != nil {
		t.Fatal(err)
	}
	if _, lim := h.det.HostLimits(key); lim[aggregate.In][aggregate.PPS] == 1000 {
		t.Fatal("reload applied before the next tick")
	}
	h.runTo(60, newTraffic("203.0.113.7", aggregate.In, 1_500, 4*sec, 6*sec, udpFlood, 2))
	if n := len(h.attacks()); n != 1 {
		t.Fatalf("%d attacks after lowering the limit, want 1", n)
	}
	group, lim := h.det.HostLimits(key)
	if group != hostgroup.DefaultName || lim[aggregate.In][aggregate.PPS] != 1000 {
		t.Errorf("HostLimits = %s %v, want default with pps 1000", group, lim[aggregate.In])
	}
}

// Moving a prefix to another group on reload: the detector stops trusting
// the aggregator's cached group and an ongoing attack follows its group by
// name.
func TestReconfigureRegroups(t *testing.T) {
	h := newHarness(t, testConfig(), nil)
	h.runTo(40, newTraffic("198.51.100.3", aggregate.In, 30_000, sec, 5*sec, udpFlood, 1))
	as := h.attacks()
	if len(as) != 1 || as[0].Hostgroup != "dns" {
		t.Fatalf("attacks %+v, want one in dns", as)
	}
	groups := testGroups()
	groups[1].Prefixes = []netip.Prefix{netip.MustParsePrefix("198.51.100.0/29")}
	groups = append(groups, hostgroup.Config{Name: "new", Action: hostgroup.ActionBlackhole,
		Prefixes: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}, Thresholds: hostgroup.Thresholds{In: testLimits()}})
	groups[0], groups[4] = groups[4], groups[0] // reorder: indexes change
	th, err := NewThresholds(groups, nil)
	if err != nil {
		t.Fatal(err)
	}
	if th.SamePartition(h.det.th) {
		t.Fatal("SamePartition true for moved prefixes")
	}
	same, _ := NewThresholds(testGroups(), nil)
	if !same.SamePartition(h.det.th) {
		t.Fatal("SamePartition false for the same groups")
	}
	if err := h.det.Reconfigure(th, false, nil); err != nil {
		t.Fatal(err)
	}
	h.runTo(70, newTraffic("203.0.113.9", aggregate.In, 30_000, 5*sec, 7*sec, udpFlood, 3))
	var sawNew, sawDNS bool
	for _, a := range h.attacks() {
		switch a.IP {
		case "203.0.113.9":
			sawNew = a.Hostgroup == "new" && a.Mitigation.Action == ActionBlackhole
		case "198.51.100.3":
			sawDNS = a.Hostgroup == "dns"
		}
	}
	if !sawNew || !sawDNS {
		t.Errorf("attacks %+v: want 203.0.113.9 in new (blackhole) and 198.51.100.3 still in dns", h.attacks())
	}
}

// A prefix whitelisted by a reload is not mitigated from then on.
func TestReconfigureWhitelist(t *testing.T) {
	h := newHarness(t, testConfig(), nil)
	th, _ := NewThresholds(testGroups(), nil)
	if err := h.det.Reconfigure(th, true, []netip.Prefix{netip.MustParsePrefix("203.0.113.0/29")}); err != nil {
		t.Fatal(err)
	}
	h.runTo(30, newTraffic("203.0.113.7", aggregate.In, 30_000, 2*sec, 3*sec, udpFlood, 1))
	as := h.attacks()
	if len(as) != 1 || as[0].Mitigation.Reason != "whitelisted" || len(h.requests()) != 0 {
		t.Fatalf("attacks %+v requests %d, want one whitelisted and no request", as, len(h.requests()))
	}
	if err := h.det.Reconfigure(th, true, []netip.Prefix{{}}); err == nil {
		t.Error("Reconfigure took an invalid prefix")
	}
}
