package main

import (
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/rampartnet/rampart/api"
	"github.com/rampartnet/rampart/bgp"
)

// TestBGPCommandsThroughSpeaker drives a dry-run speaker (its guardrails,
// table and IDs are real; it binds nothing) through the API server and the
// CLI.
func TestBGPCommandsThroughSpeaker(t *testing.T) {
	cfg := bgp.DefaultConfig()
	cfg.DryRun = true
	cfg.RouterID = netip.MustParseAddr("127.0.77.1")
	cfg.LocalAS = 65001
	own := []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}
	white := []netip.Prefix{netip.MustParsePrefix("198.51.100.53/32")}
	sp, err := bgp.New(zerolog.Nop(), cfg, own, white)
	if err != nil {
		t.Fatal(err)
	}
	if err := sp.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Stop() })
	acfg := api.DefaultConfig()
	acfg.Token = "t0ken-0123456789"
	srv, err := api.New(zerolog.Nop(), acfg, newAPIDeps(nil, sp, nil, 128))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	for _, c := range []struct {
		args []string
		code int
		out  string // in stdout, or in stderr when code != 0
	}{
		{[]string{"announce", "--flowspec", "dst 198.51.100.7 proto udp sport 53", "--id", "dns"}, 0, "queued as manual-dns"},
		{[]string{"announce", "--blackhole", "198.51.100.8/32", "--id", "bh"}, 0, "queued as manual-bh"},
		{[]string{"announce", "--blackhole", "203.0.113.7/32"}, 1, "422 Unprocessable Entity: refused: outside-own: "},
		{[]string{"announce", "--blackhole", "198.51.100.53/32"}, 1, "refused: whitelisted: "},
		{[]string{"announce", "--blackhole", "198.51.100.8"}, 1, `400 Bad Request: prefix: must be a prefix such as 198.51.100.7/32, got "198.51.100.8"`},
		{[]string{"status"}, 0, "manual-dns  manual  flowspec   -          "},
		{[]string{"status"}, 0, "[destination: 198.51.100.7/32][protocol: ==udp][source-port: ==53]"},
		{[]string{"withdraw", "manual-bh"}, 0, "withdrawal of manual-bh queued"},
		{[]string{"withdraw", "manual-bh"}, 1, "404 Not Found: refused: unknown-id: "},
	} {
		out, errOut, code := runBGP(t, ts.URL, c.args...)
		got := out
		if code != 0 {
			got = errOut
		}
		if code != c.code || !strings.Contains(got, c.out) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit %d with %q", c.args, code, out, errOut, c.code, c.out)
		}
	}
	var ids []string
	for _, a := range sp.Active() {
		ids = append(ids, a.ID)
	}
	if strings.Join(ids, " ") != "manual-dns" {
		t.Errorf("speaker holds %q, want only manual-dns", ids)
	}
	st := sp.Stats()
	if st.Refused[bgp.ReasonOutsideOwn] != 1 || st.Refused[bgp.ReasonWhitelisted] != 1 {
		t.Errorf("refused counts %v", st.Refused)
	}
}
