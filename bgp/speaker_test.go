package bgp

import (
	"errors"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/rampartnet/rampart/sensor/detect"
)

var update = flag.Bool("update", false, "rewrite golden files")

func reasonOf(err error) string {
	var r *RefusedError
	if errors.As(err, &r) {
		return r.Reason
	}
	return ""
}

func TestGuardrails(t *testing.T) {
	tests := []struct {
		name   string
		req    detect.Request
		reason string // "" = accepted
	}{
		{"flowspec inside own", flowReq("a", "198.51.100.10/32", 17), ""},
		{"flowspec v6 inside own", flowReq("a6", "2001:db8:100::10/128", 17), ""},
		{"flowspec outside own", flowReq("b", "192.0.2.10/32", 17), ReasonOutsideOwn},
		{"flowspec wider than own", flowReq("c", "2001:db8::/32"), ReasonOutsideOwn},
		{"flowspec on whitelisted host", flowReq("d", "198.51.100.53/32"), ReasonWhitelisted},
		{"flowspec whose prefix covers a whitelisted host", flowReq("e", "198.51.100.0/25"), ReasonWhitelisted},
		{"flowspec from a whitelisted source", detect.Request{ID: "f", Action: detect.ActionFlowSpec,
			Rule: &detect.Rule{Destination: pfx("198.51.100.10/32"), Source: pfx("198.51.100.53/32"), Then: detect.Then{Action: detect.ThenDiscard}}}, ReasonWhitelisted},
		{"flowspec source inside own (outbound attack)", detect.Request{ID: "g", Action: detect.ActionFlowSpec,
			Rule: &detect.Rule{Source: pfx("198.51.100.20/32"), Then: detect.Then{Action: detect.ThenDiscard}}}, ""},
		{"flowspec without prefixes", detect.Request{ID: "h", Action: detect.ActionFlowSpec,
			Rule: &detect.Rule{Protocols: []detect.Protocol{17}, Then: detect.Then{Action: detect.ThenDiscard}}}, ReasonInvalid},
		{"flowspec with unknown then", detect.Request{ID: "i", Action: detect.ActionFlowSpec,
			Rule: &detect.Rule{Destination: pfx("198.51.100.10/32"), Then: detect.Then{Action: "accept"}}}, ReasonInvalid},
		{"blackhole host", hostReq("j", detect.ActionBlackhole, "198.51.100.11/32"), ""},
		{"blackhole v6 host", hostReq("j6", detect.ActionBlackhole, "2001:db8:100::11/128"), ""},
		{"blackhole whitelisted host", hostReq("k", detect.ActionBlackhole, "198.51.100.53/32"), ReasonWhitelisted},
		{"blackhole outside own", hostReq("l", detect.ActionBlackhole, "192.0.2.10/32"), ReasonOutsideOwn},
		{"blackhole of a network", hostReq("m", detect.ActionBlackhole, "198.51.100.0/28"), ReasonInvalid},
		{"redirect whose /24 holds a whitelisted host", hostReq("n", detect.ActionRedirect, "198.51.100.12/32"), ReasonWhitelisted},
		{"redirect v6 to the /48", hostReq("o", detect.ActionRedirect, "2001:db8:100::12/128"), ""},
		{"redirect v4 to the /24", hostReq("o4", detect.ActionRedirect, "203.0.113.12/32"), ""},
		{"unknown action", hostReq("p", "nuke", "198.51.100.12/32"), ReasonInvalid},
	}
	s, _ := newDry(t, dryConfig(), nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Mitigate(tt.req)
			if got := reasonOf(err); got != tt.reason || (tt.reason == "") != (err == nil) {
				t.Fatalf("Mitigate = %v (reason %q), want reason %q", err, got, tt.reason)
			}
		})
	}
	st := s.Stats()
	want := map[string]uint64{ReasonOutsideOwn: 3, ReasonWhitelisted: 5, ReasonInvalid: 4}
	for r, n := range want {
		if st.Refused[r] != n {
			t.Errorf("Stats.Refused[%s] = %d, want %d (all %v)", r, st.Refused[r], n, st.Refused)
		}
	}
	if st.Active[detect.ActionFlowSpec] != 3 || st.Active[detect.ActionBlackhole] != 2 || st.Active[detect.ActionRedirect] != 2 {
		t.Errorf("Stats.Active = %v, want flowspec 3, blackhole 2, redirect 2", st.Active)
	}
}

func TestLimits(t *testing.T) {
	t.Run("max active global and per action", func(t *testing.T) {
		cfg := dryConfig()
		cfg.Limits.MaxActive = 3
		cfg.Limits.MaxActiveBlackhole = 1
		s, _ := newDry(t, cfg, nil)
		steps := []struct {
			req    detect.Request
			reason string
		}{
			{hostReq("b1", detect.ActionBlackhole, "198.51.100.1/32"), ""},
			{hostReq("b2", detect.ActionBlackhole, "198.51.100.2/32"), ReasonMaxActive},
			{flowReq("f1", "198.51.100.1/32"), ""},
			{flowReq("f2", "198.51.100.2/32"), ""},
			{flowReq("f3", "198.51.100.3/32"), ReasonMaxActive},
			{flowReq("f2b", "198.51.100.2/32"), ""}, // same match replaces: no new slot
		}
		for i, st := range steps {
			if got := reasonOf(s.Mitigate(st.req)); got != st.reason {
				t.Fatalf("step %d (%s): reason %q, want %q", i, st.req.ID, got, st.reason)
			}
		}
		if err := s.Withdraw("f1"); err != nil {
			t.Fatal(err)
		}
		if err := s.Mitigate(flowReq("f3", "198.51.100.3/32")); err != nil {
			t.Fatalf("after a withdraw there is room again: %v", err)
		}
	})
	t.Run("rate", func(t *testing.T) {
		cfg := dryConfig()
		cfg.Limits.MaxPerSecond = 2
		clk := &testClock{t: time.Unix(1e9, 0)}
		s, _ := newDry(t, cfg, clk)
		var reasons []string
		for i := range 4 {
			reasons = append(reasons, reasonOf(s.Mitigate(flowReq(string(rune('a'+i)), "198.51.100.1"+string(rune('0'+i))+"/32"))))
		}
		clk.add(500 * time.Millisecond) // one token back
		reasons = append(reasons, reasonOf(s.Mitigate(flowReq("e", "198.51.100.20/32"))), reasonOf(s.Mitigate(flowReq("f", "198.51.100.21/32"))))
		want := []string{"", "", ReasonRate, ReasonRate, "", ReasonRate}
		if !slices.Equal(reasons, want) {
			t.Fatalf("reasons %q, want %q", reasons, want)
		}
	})
	t.Run("queue full", func(t *testing.T) {
		// White box: no worker drains the queue.
		s, err := New(zerolog.Nop(), dryConfig(), testOwn, nil)
		if err != nil {
			t.Fatal(err)
		}
		s.running, s.ops, s.bucket = true, make(chan op, 2), newBucket(100, s.now())
		got := []string{reasonOf(s.Mitigate(flowReq("a", "198.51.100.1/32"))), reasonOf(s.Mitigate(flowReq("b", "198.51.100.2/32"))),
			reasonOf(s.Mitigate(flowReq("c", "198.51.100.3/32"))), reasonOf(s.Withdraw("a"))}
		want := []string{"", "", ReasonQueueFull, ReasonQueueFull}
		if !slices.Equal(got, want) {
			t.Fatalf("reasons %q, want %q", got, want)
		}
		if st := s.Stats(); st.QueueDrops != 2 || st.Active[detect.ActionFlowSpec] != 2 {
			t.Fatalf("QueueDrops %d, active %v; want 2 drops, 2 active", st.QueueDrops, st.Active)
		}
	})
}

func TestReplaceAndWithdraw(t *testing.T) {
	s, buf := newDry(t, dryConfig(), nil)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.Mitigate(flowReq("a", "198.51.100.1/32", 17)))
	must(s.Mitigate(flowReq("b", "198.51.100.1/32", 17))) // same match, new owner
	must(s.Withdraw("a"))                                 // superseded: nothing to withdraw
	if got := s.Active(); len(got) != 1 || got[0].ID != "b" {
		t.Fatalf("Active = %v, want only b", got)
	}
	must(s.Mitigate(flowReq("b", "198.51.100.2/32", 17))) // same id, new match: old path goes
	must(s.Withdraw("b"))
	if err := s.Withdraw("b"); reasonOf(err) != ReasonUnknownID {
		t.Fatalf("second Withdraw = %v, want %s", err, ReasonUnknownID)
	}
	s.Stop()
	var got []string
	for _, l := range buf.Records(t, "dry run: update not sent") {
		got = append(got, strings.Fields(l["update"].(string))[0]+" "+l["id"].(string))
	}
	want := []string{"announce a", "announce b", "withdraw b", "announce b", "withdraw b"}
	if !slices.Equal(got, want) {
		t.Fatalf("updates %q, want %q", got, want)
	}
	if len(s.Active()) != 0 {
		t.Fatalf("Active after withdrawals = %v", s.Active())
	}
}

// TestDryRunGolden pins the exact UPDATEs a dry run logs for each action.
func TestDryRunGolden(t *testing.T) {
	cfg := dryConfig()
	cfg.Actions.Blackhole.Communities = []string{"65001:666"}
	cfg.Actions.Scrub.Communities = []string{"65001:100", "no-export"}
	s, buf := newDry(t, cfg, nil)
	rule := &detect.Rule{Destination: pfx("198.51.100.10/32"), Protocols: []detect.Protocol{17}, SourcePorts: []detect.PortRange{{From: 53, To: 53}},
		PacketLength: &detect.Range{From: 512, To: 1500}, Then: detect.Then{Action: detect.ThenDiscard}}
	rule6 := &detect.Rule{Destination: pfx("2001:db8:100::10/128"), Protocols: []detect.Protocol{6}, TCPFlags: &detect.FlagMatch{Bits: 0x02, Mask: 0x12},
		Fragment: detect.FragAny, Then: detect.Then{Action: detect.ThenDiscard}}
	reqs := []detect.Request{
		{ID: "fs4", Action: detect.ActionFlowSpec, Rule: rule},
		{ID: "fs6", Action: detect.ActionFlowSpec, Rule: rule6},
		hostReq("bh4", detect.ActionBlackhole, "198.51.100.11/32"),
		hostReq("bh6", detect.ActionBlackhole, "2001:db8:100::11/128"),
		hostReq("sc6", detect.ActionRedirect, "2001:db8:100::12/128"),
		hostReq("sc4", detect.ActionRedirect, "203.0.113.12/32"),
	}
	for _, r := range reqs {
		if err := s.Mitigate(r); err != nil {
			t.Fatalf("%s: %v", r.ID, err)
		}
	}
	if err := s.Withdraw("fs4"); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	// The IPv4 diversion as a FlowSpec redirect-to-IP instead of a route.
	cfg.Actions.Scrub.FlowSpec = true
	s2, buf2 := newDry(t, cfg, nil)
	if err := s2.Mitigate(hostReq("sc4fs", detect.ActionRedirect, "203.0.113.12/32")); err != nil {
		t.Fatal(err)
	}
	s2.Stop()
	var b strings.Builder
	for _, l := range append(buf.Records(t, "dry run: update not sent"), buf2.Records(t, "dry run: update not sent")...) {
		b.WriteString(l["update"].(string) + "\n")
	}
	golden := filepath.Join("testdata", "dryrun.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Fatalf("dry-run updates differ from %s (go test -update to accept):\n got:\n%s\nwant:\n%s", golden, b.String(), want)
	}
}

func TestFlowSpecActionsFromConfig(t *testing.T) {
	dscp := uint8(10)
	tests := []struct {
		name string
		fs   FlowSpecConfig
		want string
	}{
		{"discard", FlowSpecConfig{}, "{Extcomms: [discard(as: 65001)]}"},
		{"rate limit", FlowSpecConfig{RateLimit: 125000}, "{Extcomms: [rate: 125000.000000(as: 65001)]}"},
		{"rate limit and mark", FlowSpecConfig{RateLimit: 1000, MarkDSCP: &dscp}, "{Extcomms: [rate: 1000.000000(as: 65001)], [remark: 10]}"},
		{"mark alone is ignored on discard", FlowSpecConfig{MarkDSCP: &dscp}, "{Extcomms: [discard(as: 65001)]}"},
		{"redirect to ip", FlowSpecConfig{RedirectNextHop: netip.MustParseAddr("192.0.2.7")}, "{Extcomms: [192.0.2.7:0]}"},
		{"redirect to vrf and mark", FlowSpecConfig{RedirectVRF: "65001:42", MarkDSCP: &dscp}, "{Extcomms: [redirect: 65001:42], [remark: 10]}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dryConfig()
			c.Actions.FlowSpec = tt.fs
			a, err := c.build(flowReq("x", "198.51.100.1/32"))
			if err != nil {
				t.Fatal(err)
			}
			if got := a.attrs[len(a.attrs)-1].String(); got != tt.want {
				t.Fatalf("extended communities %s, want %s", got, tt.want)
			}
		})
	}
}

// Families reports each peer's configured families (defaults filled), keyed
// like the session states.
func TestFamilies(t *testing.T) {
	cfg := dryConfig()
	cfg.Peers = []PeerConfig{
		{Address: netip.MustParseAddr("127.0.77.3"), AS: 65003, Families: []string{"ipv4-flowspec"}},
		{Address: netip.MustParseAddr("127.0.77.4"), AS: 65004},
	}
	s, err := New(zerolog.Nop(), cfg, testOwn, testWhitelist)
	if err != nil {
		t.Fatal(err)
	}
	got := s.Families()
	if !slices.Equal(got["127.0.77.3"], []string{"ipv4-flowspec"}) || len(got["127.0.77.4"]) == 0 {
		t.Errorf("Families() = %v, want the configured list and the defaults", got)
	}
}
