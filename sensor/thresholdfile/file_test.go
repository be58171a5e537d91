package thresholdfile

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampartnet/rampart/sensor/hostgroup"
)

func ptr(v float64) *float64 { return &v }

func TestRoundTrip(t *testing.T) {
	f := &File{
		GeneratedAt: time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC),
		Source:      "snapshots /var/lib/rampart/snapshots, 7d",
		Groups:      map[string]hostgroup.Thresholds{"web": {In: hostgroup.Limits{PPS: ptr(50000)}}},
		Hosts: map[string]hostgroup.Thresholds{
			"198.51.100.7": {In: hostgroup.Limits{PPS: ptr(12000), SYNPPS: ptr(900)}},
			"2001:db8::1":  {Out: hostgroup.Limits{Mbps: ptr(2.5)}},
		},
	}
	data, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	again, err := f.Marshal()
	if err != nil || string(again) != string(data) {
		t.Fatalf("Marshal is not deterministic: %v", err)
	}
	g, err := Parse(data)
	if err != nil {
		t.Fatalf("Parse(Marshal()): %v\n%s", err, data)
	}
	if !g.GeneratedAt.Equal(f.GeneratedAt) || g.Source != f.Source || g.Version != Version {
		t.Errorf("header: got %+v", g)
	}
	h, ok := g.Addrs()[netip.MustParseAddr("198.51.100.7")]
	if !ok || *h.In.PPS != 12000 || *h.In.SYNPPS != 900 || h.In.UDPPPS != nil {
		t.Errorf("host 198.51.100.7: got %+v", h)
	}
	if h := g.Addrs()[netip.MustParseAddr("2001:db8::1")]; h.Out.Mbps == nil || *h.Out.Mbps != 2.5 {
		t.Errorf("host 2001:db8::1: got %+v", h)
	}
	if *g.Groups["web"].In.PPS != 50000 {
		t.Errorf("group web: got %+v", g.Groups["web"])
	}
}

func TestMappedAddressIsIPv4(t *testing.T) {
	f, err := Parse([]byte("version: 1\nhosts:\n  \"::ffff:192.0.2.1\": {in: {pps: 10}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Addrs()[netip.MustParseAddr("192.0.2.1")]; !ok {
		t.Errorf("mapped address not stored as IPv4: %v", f.Addrs())
	}
}

func TestErrorsNameFieldAndValue(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"empty", "", "empty document"},
		{"version", "version: 2\n", `version: must be 1, got 2`},
		{"unknown key", "version: 1\nhots: {}\n", "field hots not found"},
		{"unknown limit", "version: 1\nhosts: {192.0.2.1: {in: {ppps: 1}}}\n", "field ppps not found"},
		{"bad address", "version: 1\nhosts: {192.0.2.300: {in: {pps: 1}}}\n", `hosts.192.0.2.300: must be an IP address such as 192.0.2.7, got "192.0.2.300"`},
		{"zone", "version: 1\nhosts: {\"fe80::1%eth0\": {in: {pps: 1}}}\n", `got "fe80::1%eth0"`},
		{"negative", "version: 1\nhosts: {192.0.2.1: {in: {pps: -5}}}\n", "hosts.192.0.2.1.in.pps"},
		{"zero group limit", "version: 1\ngroups: {web: {out: {mbps: 0}}}\n", "groups.web.out.mbps"},
		{"duplicate mapped", "version: 1\nhosts: {192.0.2.1: {in: {pps: 1}}, \"::ffff:192.0.2.1\": {in: {pps: 2}}}\n", "duplicate of host 192.0.2.1"},
		{"type", "version: 1\nhosts: {192.0.2.1: {in: {pps: lots}}}\n", "cannot unmarshal"},
		{"two docs", "version: 1\n---\nversion: 1\n", "more than one YAML document"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse(%q) = %v, want an error containing %q", tc.doc, err, tc.want)
			}
		})
	}
}

func TestMarshalRefusesInvalid(t *testing.T) {
	f := &File{Hosts: map[string]hostgroup.Thresholds{"nope": {}}}
	if _, err := f.Marshal(); err == nil || !strings.Contains(err.Error(), `got "nope"`) {
		t.Errorf("Marshal of a bad host: %v", err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "t.yaml")
	if err := os.WriteFile(p, []byte("version: 1\nhosts: {192.0.2.9: {in: {udp_pps: 700}}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Load(p)
	if err != nil || *f.Addrs()[netip.MustParseAddr("192.0.2.9")].In.UDPPPS != 700 {
		t.Fatalf("Load: %v %+v", err, f)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("Load of a missing file: %v", err)
	}
	if err := os.WriteFile(p, []byte("version: 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("Load error does not name the file: %v", err)
	}
}
