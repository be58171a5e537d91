package bgp

import (
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/rampartnet/rampart/sensor/detect"
)

// startLive starts a speaker for cfg (peers filled in) that stops at cleanup.
func startLive(t testing.TB, cfg Config, clk *testClock) *Speaker {
	t.Helper()
	s, err := New(zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel), cfg, testOwn, testWhitelist)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if clk != nil {
		s.now = clk.now
	}
	if err := s.Start(t.Context()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { s.Stop() })
	return s
}

// check is one peer's view of one mitigation: the CLI command and what its
// output shows while the route is there (all of want) and after (none of gone).
type check struct {
	cmd  []string
	want []string
	gone []string
}

// TestPeersSeeEveryAction announces every action to BIRD, FRR and gobgpd at
// once, checks each CLI shows the match, action and communities, withdraws,
// and checks each route is gone.
func TestPeersSeeEveryAction(t *testing.T) {
	cfg := liveConfig(t)
	cfg.Actions.Blackhole.Communities = []string{"65001:666"}
	cfg.Actions.Scrub.Communities = []string{"65001:100"}
	// Hostgroups with the other FlowSpec actions and a FlowSpec diversion.
	dscp := uint8(46)
	scrubFS := cfg.Actions.Scrub
	scrubFS.FlowSpec = true
	cfg.Actions.Hostgroups = map[string]HostgroupActions{
		"rl":   {FlowSpec: &FlowSpecConfig{RateLimit: 125000, MarkDSCP: &dscp}},
		"rip":  {FlowSpec: &FlowSpecConfig{RedirectNextHop: netip.MustParseAddr("192.0.2.7")}},
		"rvrf": {FlowSpec: &FlowSpecConfig{RedirectVRF: "65001:42"}},
		"scfs": {Scrub: &scrubFS},
	}
	inGroup := func(r detect.Request, hg string) detect.Request { r.Hostgroup = hg; return r }
	b, f, g := startBird(t, cfg.ListenPort), startFRR(t, cfg.ListenPort), startGobgpd(t, cfg.ListenPort)
	cfg.Peers = []PeerConfig{peerConfig(birdAddr, 65003, b.port), peerConfig(frrAddr, 65004, f.port), peerConfig(gobgpdAddr, 65002, g.port)}
	s := startLive(t, cfg, nil)
	b.established(t)
	f.established(t)
	g.established(t)

	rule4 := &detect.Rule{Destination: pfx("198.51.100.10/32"), Protocols: []detect.Protocol{17}, SourcePorts: []detect.PortRange{{From: 53, To: 53}},
		PacketLength: &detect.Range{From: 512, To: 1500}, Fragment: detect.FragIs, Then: detect.Then{Action: detect.ThenDiscard}}
	rule4tcp := &detect.Rule{Destination: pfx("198.51.100.13/32"), Protocols: []detect.Protocol{6}, DestinationPorts: []detect.PortRange{{From: 80, To: 80}, {From: 8000, To: 8080}},
		TCPFlags: &detect.FlagMatch{Bits: 0x02, Mask: 0x12}, Then: detect.Then{Action: detect.ThenDiscard}}
	rule6 := &detect.Rule{Destination: pfx("2001:db8:100::10/128"), Protocols: []detect.Protocol{17}, DestinationPorts: []detect.PortRange{{From: 1000, To: 2000}},
		Then: detect.Then{Action: detect.ThenDiscard}}
	tests := []struct {
		req    detect.Request
		checks []check
	}{
		{detect.Request{ID: "fs4", Action: detect.ActionFlowSpec, Rule: rule4}, []check{
			{b.cmd("show", "route", "table", "flowtab4", "all"), []string{"flow4 { dst 198.51.100.10/32; proto 17; sport 53; length 512..1500; fragment is_fragment; }", "(generic, 0x8006fde9, 0x0)"}, []string{"198.51.100.10/32"}},
			{f.cmd("show bgp ipv4 flowspec detail"), []string{"Destination Address 198.51.100.10/32", "IP Protocol = 17", "Source Port = 53", "Packet Length >= 512 , <= 1500", "Packet Fragment = 2", "FS:rate 0.000000"}, []string{"198.51.100.10/32"}},
			{g.cmd("global", "rib", "-a", "ipv4-flowspec"), []string{"[destination: 198.51.100.10/32][protocol: ==udp][source-port: ==53][packet-length: >=512&<=1500][fragment: =is-fragment]", "discard"}, []string{"198.51.100.10/32"}},
		}},
		{detect.Request{ID: "fs4tcp", Action: detect.ActionFlowSpec, Rule: rule4tcp}, []check{
			{b.cmd("show", "route", "table", "flowtab4", "all"), []string{"flow4 { dst 198.51.100.13/32; proto 6; dport 80,8000..8080; tcp flags 0x2/0x2 && 0x0/0x10; }"}, []string{"198.51.100.13/32"}},
			{f.cmd("show bgp ipv4 flowspec detail"), []string{"Destination Address 198.51.100.13/32", "IP Protocol = 6", "Destination Port = 80 , >= 8000 , <= 8080", "TCP Flags = 2"}, []string{"198.51.100.13/32"}},
			{g.cmd("global", "rib", "-a", "ipv4-flowspec"), []string{"[destination: 198.51.100.13/32][protocol: ==tcp][destination-port: ==80 >=8000&<=8080][tcp-flags: =S&!A]"}, []string{"198.51.100.13/32"}},
		}},
		{detect.Request{ID: "fs6", Action: detect.ActionFlowSpec, Rule: rule6}, []check{
			{b.cmd("show", "route", "table", "flowtab6", "all"), []string{"flow6 { dst 2001:db8:100::10/128; next header 17; dport 1000..2000; }", "(generic, 0x8006fde9, 0x0)"}, []string{"2001:db8:100::10/128"}},
			{f.cmd("show bgp ipv6 flowspec detail"), []string{"Destination Address 2001:db8:100::10/128", "Destination Port >= 1000 , <= 2000", "FS:rate 0.000000"}, []string{"2001:db8:100::10/128"}},
			{g.cmd("global", "rib", "-a", "ipv6-flowspec"), []string{"[destination: 2001:db8:100::10/128/0][protocol: ==udp][destination-port: >=1000&<=2000]", "discard"}, []string{"2001:db8:100::10/128"}},
		}},
		{hostReq("bh4", detect.ActionBlackhole, "198.51.100.11/32"), []check{
			{b.cmd("show", "route", "table", "master4", "198.51.100.11/32", "all"), []string{"198.51.100.11/32", "BGP.next_hop: 192.0.2.1", "BGP.community: (65535,666) (65535,65281) (65001,666)"}, []string{"198.51.100.11/32"}},
			{f.cmd("show bgp ipv4 unicast 198.51.100.11/32"), []string{"192.0.2.1 from 127.0.77.1", "Community: 65001:666 blackhole no-export"}, []string{"192.0.2.1 from"}},
			{g.cmd("global", "rib", "-a", "ipv4", "198.51.100.11/32"), []string{"192.0.2.1", "{Communities: blackhole, no-export, 65001:666}"}, []string{"198.51.100.11/32"}},
		}},
		{hostReq("bh6", detect.ActionBlackhole, "2001:db8:100::11/128"), []check{
			{b.cmd("show", "route", "table", "master6", "2001:db8:100::11/128", "all"), []string{"BGP.next_hop: 100::1", "BGP.community: (65535,666) (65535,65281) (65001,666)"}, []string{"2001:db8:100::11/128"}},
			{f.cmd("show bgp ipv6 unicast 2001:db8:100::11/128"), []string{"100::1 from 127.0.77.1", "Community: 65001:666 blackhole no-export"}, []string{"100::1 from"}},
			{g.cmd("global", "rib", "-a", "ipv6", "2001:db8:100::11/128"), []string{"100::1", "{Communities: blackhole, no-export, 65001:666}"}, []string{"2001:db8:100::11/128"}},
		}},
		{hostReq("sc4", detect.ActionRedirect, "203.0.113.12/32"), []check{
			{b.cmd("show", "route", "table", "master4", "203.0.113.0/24", "all"), []string{"203.0.113.0/24", "BGP.next_hop: 192.0.2.99", "BGP.community: (65001,100)"}, []string{"203.0.113.0/24"}},
			{f.cmd("show bgp ipv4 unicast 203.0.113.0/24"), []string{"192.0.2.99 from 127.0.77.1", "Community: 65001:100"}, []string{"192.0.2.99 from"}},
			{g.cmd("global", "rib", "-a", "ipv4", "203.0.113.0/24"), []string{"192.0.2.99", "{Communities: 65001:100}"}, []string{"203.0.113.0/24"}},
		}},
		{inGroup(flowReq("rl", "198.51.100.20/32", 17), "rl"), []check{
			{b.cmd("show", "route", "table", "flowtab4", "all"), []string{"flow4 { dst 198.51.100.20/32; proto 17; }", "(generic, 0x8006fde9, 0x47f42400)", "(generic, 0x80090000, 0x2e)"}, []string{"198.51.100.20/32"}},
			{f.cmd("show bgp ipv4 flowspec detail"), []string{"Destination Address 198.51.100.20/32", "FS:rate 125000.000000", "FS:marking 46"}, []string{"198.51.100.20/32"}},
			{g.cmd("global", "rib", "-a", "ipv4-flowspec"), []string{"[destination: 198.51.100.20/32][protocol: ==udp]", "rate: 125000.000000", "remark: 46"}, []string{"198.51.100.20/32"}},
		}},
		{inGroup(flowReq("rip", "198.51.100.21/32", 6), "rip"), []check{
			{b.cmd("show", "route", "table", "flowtab4", "all"), []string{"flow4 { dst 198.51.100.21/32; proto 6; }", "(unknown 0x10c, 192.0.2.7, 0)"}, []string{"198.51.100.21/32"}},
			{f.cmd("show bgp ipv4 flowspec detail"), []string{"Destination Address 198.51.100.21/32", "NH:192.0.2.7"}, []string{"198.51.100.21/32"}},
			{g.cmd("global", "rib", "-a", "ipv4-flowspec"), []string{"[destination: 198.51.100.21/32][protocol: ==tcp]", "192.0.2.7:0"}, []string{"198.51.100.21/32"}},
		}},
		{inGroup(flowReq("rvrf", "198.51.100.22/32", 17), "rvrf"), []check{
			{b.cmd("show", "route", "table", "flowtab4", "all"), []string{"flow4 { dst 198.51.100.22/32; proto 17; }", "(generic, 0x8008fde9, 0x2a)"}, []string{"198.51.100.22/32"}},
			{f.cmd("show bgp ipv4 flowspec detail"), []string{"Destination Address 198.51.100.22/32", "FS:redirect VRF RT:65001:42"}, []string{"198.51.100.22/32"}},
			{g.cmd("global", "rib", "-a", "ipv4-flowspec"), []string{"[destination: 198.51.100.22/32][protocol: ==udp]", "redirect: 65001:42"}, []string{"198.51.100.22/32"}},
		}},
		{inGroup(hostReq("scfs", detect.ActionRedirect, "203.0.113.140/32"), "scfs"), []check{
			{b.cmd("show", "route", "table", "flowtab4", "all"), []string{"flow4 { dst 203.0.113.0/24; }", "(unknown 0x10c, 192.0.2.99, 0)"}, []string{"203.0.113.0/24"}},
			{f.cmd("show bgp ipv4 flowspec detail"), []string{"Destination Address 203.0.113.0/24", "NH:192.0.2.99"}, []string{"203.0.113.0/24"}},
			{g.cmd("global", "rib", "-a", "ipv4-flowspec"), []string{"[destination: 203.0.113.0/24]", "192.0.2.99:0"}, []string{"203.0.113.0/24"}},
		}},
	}
	for _, tt := range tests {
		if err := s.Mitigate(tt.req); err != nil {
			t.Fatalf("%s: %v", tt.req.ID, err)
		}
		for _, c := range tt.checks {
			waitFor(t, tt.req.ID+" at "+c.cmd[0], waitTimeout, contains(t, c.cmd, c.want...))
		}
	}
	for _, tt := range tests {
		if err := s.Withdraw(tt.req.ID); err != nil {
			t.Fatalf("withdraw %s: %v", tt.req.ID, err)
		}
		for _, c := range tt.checks {
			waitFor(t, tt.req.ID+" gone from "+c.cmd[0], waitTimeout, lacks(t, c.cmd, c.gone...))
		}
	}
	if st := s.Stats(); st.Sessions[birdAddr] != "established" || st.Sessions[frrAddr] != "established" || st.Sessions[gobgpdAddr] != "established" ||
		st.Announced != uint64(len(tests)) || st.Withdrawn != uint64(len(tests)) || st.ApplyErrors != 0 {
		t.Errorf("Stats = %+v", st)
	}
}

// TestPeerRestart: BIRD killed and restarted gets every active mitigation
// back from the speaker within 10 s.
func TestPeerRestart(t *testing.T) {
	cfg := liveConfig(t)
	b := startBird(t, cfg.ListenPort)
	cfg.Peers = []PeerConfig{peerConfig(birdAddr, 65003, b.port)}
	s := startLive(t, cfg, nil)
	reqs := []detect.Request{flowReq("a", "198.51.100.1/32", 17), flowReq("b", "2001:db8:100::1/128", 6), hostReq("c", detect.ActionBlackhole, "198.51.100.2/32")}
	for _, r := range reqs {
		if err := s.Mitigate(r); err != nil {
			t.Fatal(err)
		}
	}
	all := b.cmd("show", "route", "all")
	want := []string{"flow4 { dst 198.51.100.1/32; proto 17; }", "flow6 { dst 2001:db8:100::1/128; next header 6; }", "198.51.100.2/32"}
	waitFor(t, "mitigations at bird", waitTimeout, contains(t, all, want...))
	b.d.kill()
	b.start(t)
	took := waitFor(t, "mitigations back at the restarted bird", 10*time.Second, contains(t, all, want...))
	t.Logf("back %s after the restart", took.Round(time.Millisecond))
}

// TestSensorRestart: the speaker stopped with mitigations active comes back
// from its state file and re-announces them, except one that expired.
func TestSensorRestart(t *testing.T) {
	cfg := liveConfig(t)
	cfg.StateFile = filepath.Join(t.TempDir(), "bgp-state.json")
	cfg.Limits.MaxAge = time.Hour
	b := startBird(t, cfg.ListenPort)
	cfg.Peers = []PeerConfig{peerConfig(birdAddr, 65003, b.port)}
	clk := &testClock{t: time.Now()}
	s := startLive(t, cfg, clk)
	if err := s.Mitigate(flowReq("old", "198.51.100.1/32", 17)); err != nil {
		t.Fatal(err)
	}
	clk.add(40 * time.Minute)
	for _, r := range []detect.Request{flowReq("new", "198.51.100.2/32", 6), hostReq("bh", detect.ActionBlackhole, "198.51.100.3/32")} {
		if err := s.Mitigate(r); err != nil {
			t.Fatal(err)
		}
	}
	all := b.cmd("show", "route", "all")
	oldRule, newRule := "flow4 { dst 198.51.100.1/32; proto 17; }", "flow4 { dst 198.51.100.2/32; proto 6; }"
	waitFor(t, "mitigations at bird", waitTimeout, contains(t, all, oldRule, newRule, "198.51.100.3/32"))
	s.Stop()
	waitFor(t, "routes dropped with the session", waitTimeout, lacks(t, all, oldRule, newRule, "198.51.100.3/32"))

	clk.add(30 * time.Minute) // "old" is 70 minutes old now
	s2 := startLive(t, cfg, clk)
	b.established(t)
	waitFor(t, "restored mitigations at bird", waitTimeout, contains(t, all, newRule, "198.51.100.3/32"))
	if out := run(t, all...); strings.Contains(out, oldRule) {
		t.Fatalf("expired mitigation re-announced:\n%s", out)
	}
	if st := s2.Stats(); st.Restored != 2 || st.Expired != 1 {
		t.Fatalf("Stats restored %d expired %d, want 2 and 1", st.Restored, st.Expired)
	}
	if err := s2.Withdraw("new"); err != nil {
		t.Fatalf("withdraw a restored mitigation by its id: %v", err)
	}
	waitFor(t, "restored mitigation withdrawn", waitTimeout, lacks(t, all, newRule))
}

// TestGuardrailsAtPeer: refused requests never reach the peer.
func TestGuardrailsAtPeer(t *testing.T) {
	cfg := liveConfig(t)
	cfg.Limits.MaxActive = 3
	cfg.Limits.MaxPerSecond = 4
	b := startBird(t, cfg.ListenPort)
	cfg.Peers = []PeerConfig{peerConfig(birdAddr, 65003, b.port)}
	clk := &testClock{t: time.Now()} // frozen: the bucket never refills
	s := startLive(t, cfg, clk)
	b.established(t)
	steps := []struct {
		req    detect.Request
		reason string
	}{
		{flowReq("ok1", "198.51.100.1/32", 17), ""},
		{flowReq("outside", "192.0.2.1/32", 17), ReasonOutsideOwn},
		{hostReq("white", detect.ActionBlackhole, "198.51.100.53/32"), ReasonWhitelisted},
		{hostReq("ok2", detect.ActionBlackhole, "198.51.100.2/32"), ""},
		{flowReq("ok3", "198.51.100.3/32", 17), ""},
		{flowReq("over", "198.51.100.4/32", 17), ReasonMaxActive},
		{detect.Request{}, ""}, // withdraw ok3: room for one more
		{flowReq("ok4", "198.51.100.5/32", 17), ""},
		{detect.Request{}, ""}, // withdraw ok4: room, but no token left
		{flowReq("fast", "198.51.100.6/32", 17), ReasonRate},
	}
	withdrawn := []string{"ok3", "ok4"}
	for i, st := range steps {
		var err error
		if st.req.ID == "" {
			err, withdrawn = s.Withdraw(withdrawn[0]), withdrawn[1:]
		} else {
			err = s.Mitigate(st.req)
		}
		if got := reasonOf(err); got != st.reason || (err == nil) != (st.reason == "") {
			t.Fatalf("step %d %s: %v, want reason %q", i, st.req.ID, err, st.reason)
		}
	}
	// A sentinel after everything: the queue is in order, so once it is at
	// BIRD anything queued before it would be too.
	s.cfg.Limits.MaxPerSecond = 0
	clk.add(time.Hour)
	if err := s.Mitigate(hostReq("sentinel", detect.ActionBlackhole, "198.51.100.9/32")); err != nil {
		t.Fatal(err)
	}
	all := b.cmd("show", "route", "all")
	out := run(t, all...)
	waitFor(t, "sentinel at bird", waitTimeout, func() (bool, string) {
		out = run(t, all...)
		return strings.Contains(out, "198.51.100.9/32"), out
	})
	for _, w := range []string{"198.51.100.1/32", "198.51.100.2/32"} {
		if !strings.Contains(out, w) {
			t.Errorf("accepted %s not at bird", w)
		}
	}
	for _, refused := range []string{"192.0.2.1/32", "198.51.100.53/32", "198.51.100.4/32", "198.51.100.6/32", "198.51.100.3/32", "198.51.100.5/32"} {
		if strings.Contains(out, refused) {
			t.Errorf("refused or withdrawn %s reached bird:\n%s", refused, out)
		}
	}
	st := s.Stats()
	for r, n := range map[string]uint64{ReasonOutsideOwn: 1, ReasonWhitelisted: 1, ReasonMaxActive: 1, ReasonRate: 1} {
		if st.Refused[r] != n {
			t.Errorf("Refused[%s] = %d, want %d", r, st.Refused[r], n)
		}
	}
}
