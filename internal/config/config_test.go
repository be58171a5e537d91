package config

import (
	"errors"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rampartnet/rampart/internal/validate"
	"github.com/rampartnet/rampart/sensor/hostgroup"
)

const minimal = "networks: [198.51.100.0/24, 2001:db8:100::/48]\n"

func TestDefaultsValidate(t *testing.T) {
	cfg := Default()
	cfg.Networks = []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}
	cfg.fillDefaults()
	p := validate.New()
	cfg.Validate(p)
	if err := p.Err(); err != nil {
		t.Fatalf("defaults plus one network do not validate:\n%v", err)
	}
}

func TestMinimalFileIsDefaults(t *testing.T) {
	got, err := Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Networks = []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("2001:db8:100::/48")}
	want.fillDefaults()
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("Parse(minimal) =\n%+v\nwant\n%+v", *got, want)
	}
}

func TestParseGood(t *testing.T) {
	cfg, err := Parse([]byte(minimal + `
sensor_id: edge-1
whitelist: [198.51.100.53/32]
hostgroups:
  - name: web
    prefixes: [198.51.100.0/25]
    action: blackhole
    thresholds:
      in: { pps: 50000, syn_pps: 1e4 }
      out: { mbps: 900 }
bgp:
  enabled: true
  router_id: 127.0.77.1
  local_as: 65001
  peers:
    - { address: 127.0.77.3, as: 65003 }
snapshots: { enabled: true, dir: /tmp/snaps, interval: 30s }
`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SensorID != "edge-1" || len(cfg.Hostgroups) != 2 || cfg.Hostgroups[1].Name != hostgroup.DefaultName {
		t.Errorf("sensor_id/hostgroups = %q/%+v", cfg.SensorID, cfg.Hostgroups)
	}
	web := cfg.Hostgroups[0]
	if *web.Thresholds.In.PPS != 50000 || *web.Thresholds.In.SYNPPS != 10000 || *web.Thresholds.Out.Mbps != 900 || web.Thresholds.In.UDPPPS != nil {
		t.Errorf("web thresholds = %+v", web.Thresholds)
	}
	peer := cfg.BGP.Peers[0]
	if peer.ConnectRetry != 5*time.Second || len(peer.Families) == 0 {
		t.Errorf("peer defaults not filled: %+v", peer)
	}
	if cfg.Snapshots.Interval != 30*time.Second || cfg.Snapshots.Retention != 7*24*time.Hour {
		t.Errorf("snapshots = %+v", cfg.Snapshots)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
		want []string // each error, in order
	}{
		{"empty file has no networks", "", []string{"networks: must list at least one monitored prefix, got none"}},
		{"unknown top-level key", minimal + "sensorid: x\n", []string{"sensorid: unknown key (line 2); known keys: aggregate, api, baseline, bgp, capture, counters, detection, flow, hostgroups, networks, sensor_id, snapshots, whitelist"}},
		{"negative threshold", minimal + "hostgroups: [{name: a, prefixes: [198.51.100.0/26]}, {name: b, prefixes: [198.51.100.64/26]}, {name: c, prefixes: [198.51.100.128/26], thresholds: {in: {pps: -5}}}]\n",
			[]string{"hostgroups[2].thresholds.in.pps: must be > 0, got -5"}},
		{"wrong type names path and value", minimal + "bgp:\n  listen_port: high\n", []string{"bgp.listen_port: cannot unmarshal !!str `high` into int (line 3)"}},
		{"bad prefix", "networks: [198.51.100.0/33]\n", []string{`networks[0]: must be a prefix such as 192.0.2.0/24, got "198.51.100.0/33" (line 1)`, "networks: must list"}},
		{"host bits", "networks: [198.51.100.7/24]\n", []string{"networks[0]: host bits set: did you mean 198.51.100.0/24? got 198.51.100.7/24"}},
		{"bad duration", minimal + "snapshots: {interval: soon}\n", []string{`snapshots.interval: must be a duration such as 10s or 100ms, got "soon" (line 2)`}},
		{"interval too short", minimal + "snapshots: {interval: 10ms}\n", []string{"snapshots.interval: must be >= 1s, got 10ms"}},
		{"group outside networks", minimal + "hostgroups: [{name: far, prefixes: [203.0.113.0/24]}]\n", []string{"hostgroups[0].prefixes[0]: not inside any monitored network, got 203.0.113.0/24"}},
		{"duplicate group and prefix", minimal + "hostgroups: [{name: a, prefixes: [198.51.100.0/25]}, {name: a, prefixes: [198.51.100.0/25]}]\n",
			[]string{`hostgroups[1].name: duplicate of hostgroups[0], got "a"`, "hostgroups[1].prefixes[0]: already in hostgroups[0], got 198.51.100.0/25"}},
		{"bad action", minimal + "hostgroups: [{name: a, prefixes: [198.51.100.0/25], action: nuke}]\n", []string{`hostgroups[0].action: must be one of none, flowspec, blackhole, scrub, got "nuke"`}},
		{"bgp enabled needs peers and ids", minimal + "bgp: {enabled: true}\n", []string{"bgp.router_id: must be an IPv4 address", "bgp.local_as: must be > 0", "bgp.peers: must list at least one peer"}},
		{"bad family", minimal + "bgp: {enabled: true, router_id: 127.0.77.1, local_as: 1, peers: [{address: 127.0.77.2, as: 2, families: [ipv4-mpls]}]}\n",
			[]string{`bgp.peers[0].families[0]: must be one of ipv4-unicast, ipv6-unicast, ipv4-flowspec, ipv6-flowspec, got "ipv4-mpls"`}},
		{"baseline metric and group", minimal + "baseline: {k: 0, metrics: {mpps: {k: 2}}, hostgroups: {web: {metrics: {pps: {quantile: 2}}}}}\n", []string{
			"baseline.k: must be > 0, got 0", "baseline.metrics.mpps: unknown metric",
			"baseline.hostgroups.web.metrics.pps.quantile: must be in (0, 1], got 2", "baseline.hostgroups.web: no hostgroup of this name"}},
		{"baseline wrong type", minimal + "baseline: {hour_of_day: sometimes}\n", []string{"baseline.hour_of_day: cannot unmarshal !!str `sometimes` into bool (line 2)"}},
		{"sequence where mapping expected", minimal + "bgp: [1, 2]\n", []string{"bgp: cannot unmarshal !!seq into bgp.Config (line 2)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			var errs validate.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Parse error = %v, want validate.Errors", err)
			}
			if len(errs) != len(tc.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(errs), len(tc.want), err)
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(errs[i].Error(), w) {
					t.Errorf("error %d = %q, want prefix %q", i, errs[i].Error(), w)
				}
			}
		})
	}
}

// The example in testdata/bad.yaml is the one the README shows: three
// mistakes, all reported in one run.
func TestBadExampleReportsAllThree(t *testing.T) {
	_, err := Load("../../testdata/bad.yaml")
	var errs validate.Errors
	if !errors.As(err, &errs) || len(errs) != 3 {
		t.Fatalf("Load(bad.yaml) = %v, want 3 errors", err)
	}
}

func TestExamplesAreValid(t *testing.T) {
	for _, f := range []string{"../../examples/demo.yaml", "../../examples/rampart.yaml"} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if _, err := Load(f); err != nil {
			t.Errorf("%s:\n%v", f, err)
		}
	}
}

func TestSyntaxAndDocumentErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"networks: [", "line 1"},
		{"a: 1\n---\nb: 2\n", "line 2: more than one YAML document"},
		{"\t- bad", "config: yaml: found character that cannot start any token"}, // yaml.v3 gives no position
	} {
		if _, err := Parse([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) error = %v, want it to contain %q", tc.in, err, tc.want)
		}
	}
}

func TestDumpRoundTrips(t *testing.T) {
	cfg, err := Parse([]byte(minimal + "bgp: {enabled: true, router_id: 127.0.77.1, local_as: 65001, peers: [{address: 127.0.77.3, as: 65003}]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := cfg.Dump()
	if err != nil {
		t.Fatal(err)
	}
	assertFixedPoint(t, out)
}

// assertFixedPoint checks that a dump parses back into a configuration that
// dumps to the same bytes (nil and empty lists are the same to an operator).
func assertFixedPoint(t *testing.T, out []byte) {
	t.Helper()
	again, err := Parse(out)
	if err != nil {
		t.Fatalf("dumped config does not parse:\n%s\n%v", out, err)
	}
	out2, err := again.Dump()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != string(out2) {
		t.Fatalf("dump is not a fixed point:\n%s\n---\n%s", out, out2)
	}
}

func TestCaptureNoneNeedsFlowListeners(t *testing.T) {
	_, err := Parse([]byte(minimal + "capture: {source: none}\n"))
	if err == nil || !strings.Contains(err.Error(), `capture.source: "none" needs flow.listeners, got none`) {
		t.Errorf("err = %v", err)
	}
	if _, err := Parse([]byte(minimal + "capture: {source: none}\nflow: {listeners: [{listen: 127.0.0.1:2055, protocol: netflow}]}\n")); err != nil {
		t.Errorf("flow-only sensor: %v", err)
	}
}
