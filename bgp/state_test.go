package bgp

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rampartnet/rampart/sensor/detect"
)

func TestStateRoundTrip(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	recs := []record{
		{ID: "a1", Action: detect.ActionFlowSpec, Hostgroup: "web", Reason: "udp flood", AnnouncedAt: at,
			Rule: &detect.Rule{Destination: pfx("198.51.100.10/32"), Protocols: []detect.Protocol{17, 47}, SourcePorts: []detect.PortRange{{From: 53, To: 53}},
				PacketLength: &detect.Range{From: 1, To: 2}, TCPFlags: &detect.FlagMatch{Bits: 2, Mask: 18}, Fragment: detect.FragFirst, Then: detect.Then{Action: detect.ThenDiscard}}},
		{ID: "a2", Action: detect.ActionBlackhole, Prefix: pfx("2001:db8:100::1/128"), AnnouncedAt: at, ExpiresAt: at.Add(time.Hour)},
	}
	path := filepath.Join(t.TempDir(), "bgp-state.json")
	if err := saveState(path, recs); err != nil {
		t.Fatal(err)
	}
	got, err := loadState(path)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := marshalState(recs)
	again, _ := marshalState(got)
	if !bytes.Equal(first, again) {
		t.Fatalf("round trip changed the table:\n%s\n%s", first, again)
	}
	if got[0].Rule.String() != recs[0].Rule.String() || got[1].ExpiresAt != recs[1].ExpiresAt {
		t.Fatalf("round trip: %+v", got)
	}
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
		t.Fatalf("temp files left behind: %v", ents)
	}
	if recs, err := loadState(filepath.Join(t.TempDir(), "missing.json")); err != nil || recs != nil {
		t.Fatalf("missing file = %v, %v; want empty table", recs, err)
	}
}

func TestStateCorrupt(t *testing.T) {
	ok := `{"id":"a","action":"blackhole","prefix":"198.51.100.1/32","announced_at":"2026-03-01T12:00:00Z"}`
	tests := []struct {
		name, data string
		want       []string // all in the error
	}{
		{"truncated", `{"version":1,"mitigations":[` + ok, []string{"offset 124", "unexpected end"}},
		{"syntax", `{"version":1,,}`, []string{"offset 14", "invalid character"}},
		{"wrong type", `{"version":"one"}`, []string{"offset 16", `field "version"`}},
		{"wrong version", `{"version":2,"mitigations":[]}`, []string{"version: must be 1, got 2"}},
		{"unknown key", `{"version":1,"mitigatons":[]}`, []string{`unknown field "mitigatons"`}},
		{"trailing data", `{"version":1,"mitigations":[]} {}`, []string{"offset 31", "trailing data"}},
		{"bad prefix", `{"version":1,"mitigations":[` + strings.Replace(ok, "/32", "/33", 1) + `]}`, []string{"mitigations[0]", "198.51.100.1/33"}},
		{"bad protocol", `{"version":1,"mitigations":[{"id":"a","action":"flowspec","rule":{"protocols":["tcpp"]},"announced_at":"2026-03-01T12:00:00Z"}]}`, []string{"mitigations[0]", `"tcpp"`}},
		{"wrong field type", `{"version":1,"mitigations":[` + ok + `,{"id":7}]}`, []string{"mitigations[1]", `field "id"`, "offset"}},
		{"unknown action", `{"version":1,"mitigations":[` + strings.Replace(ok, "blackhole", "nuke", 1) + `]}`, []string{`mitigations[0].action`, `"nuke"`}},
		{"flowspec without rule", `{"version":1,"mitigations":[` + strings.Replace(ok, "blackhole", "flowspec", 1) + `]}`, []string{"mitigations[0].rule: must be set"}},
		{"no time", `{"version":1,"mitigations":[{"id":"a","action":"blackhole","prefix":"198.51.100.1/32"}]}`, []string{"mitigations[0].announced_at"}},
		{"duplicate id", `{"version":1,"mitigations":[` + ok + `,` + ok + `]}`, []string{"mitigations[1].id: duplicate of mitigations[0]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.json")
			if err := os.WriteFile(path, []byte(tt.data), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := loadState(path)
			if err == nil {
				t.Fatal("loaded a corrupt file")
			}
			for _, w := range append(tt.want, path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestSensorRestartDryRun: a stopped speaker's table comes back at Start,
// except what expired meanwhile; what changed is saved again.
func TestSensorRestartDryRun(t *testing.T) {
	cfg := dryConfig()
	cfg.StateFile = filepath.Join(t.TempDir(), "state.json")
	cfg.Limits.MaxAge = time.Hour
	clk := &testClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	s, _ := newDry(t, cfg, clk)
	for _, r := range []detect.Request{flowReq("old", "198.51.100.1/32", 17), hostReq("bh", detect.ActionBlackhole, "198.51.100.2/32")} {
		if err := s.Mitigate(r); err != nil {
			t.Fatal(err)
		}
		clk.add(40 * time.Minute)
	}
	s.Stop()

	// 30 minutes later "old" (announced 70 minutes ago) has expired.
	clk.add(-10 * time.Minute)
	s2, buf := newDry(t, cfg, clk)
	ids := func(as []Announcement) (out []string) {
		for _, a := range as {
			out = append(out, a.ID)
		}
		return out
	}
	if got := ids(s2.Active()); !slices.Equal(got, []string{"bh"}) {
		t.Fatalf("restored %v, want [bh]", got)
	}
	if st := s2.Stats(); st.Restored != 1 || st.Expired != 1 {
		t.Fatalf("Stats restored %d expired %d, want 1 and 1", st.Restored, st.Expired)
	}
	s2.Stop()
	if got := buf.Records(t, "dry run: update not sent"); len(got) != 1 || !strings.Contains(got[0]["update"].(string), "198.51.100.2/32") {
		t.Fatalf("re-announced %v, want the blackhole route only", got)
	}
	recs, err := loadState(cfg.StateFile)
	if err != nil || len(recs) != 1 || recs[0].ID != "bh" {
		t.Fatalf("saved after restart: %v, %v; want only bh", recs, err)
	}
}

// TestMaxAgeExpires: a running speaker withdraws what outlives max_age.
func TestMaxAgeExpires(t *testing.T) {
	cfg := dryConfig()
	cfg.Limits.MaxAge = 50 * time.Millisecond
	s, _ := newDry(t, cfg, nil)
	if err := s.Mitigate(flowReq("a", "198.51.100.1/32")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(s.Active()) > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if st := s.Stats(); len(s.Active()) != 0 || st.Expired != 1 {
		t.Fatalf("after max_age: active %v, expired %d", s.Active(), st.Expired)
	}
	if err := s.Withdraw("a"); reasonOf(err) != ReasonUnknownID {
		t.Fatalf("Withdraw after expiry = %v, want %s", err, ReasonUnknownID)
	}
}

// FuzzParseState: the state file is outside input. Whatever parses must
// build or be refused cleanly, and save → load must be a fixed point.
func FuzzParseState(f *testing.F) {
	f.Add([]byte(`{"version":1,"mitigations":[]}`))
	f.Add([]byte(`{"version":1,"mitigations":[{"id":"a","action":"blackhole","prefix":"198.51.100.1/32","announced_at":"2026-03-01T12:00:00Z"}]}`))
	cfg := dryConfig()
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := parseState(data)
		if err != nil {
			return
		}
		for i := range recs {
			if err := recs[i].validate(); err != nil {
				t.Fatalf("parsed an invalid record: %v", err)
			}
			if a, err := cfg.build(recs[i].request()); err == nil && (a.key == "" || a.path == nil) {
				t.Fatalf("built an announcement without key or path: %+v", a)
			}
		}
		out, err := marshalState(recs)
		if err != nil {
			t.Fatalf("cannot save what was loaded: %v", err)
		}
		again, err := parseState(out)
		if err != nil {
			t.Fatalf("cannot load what was saved: %v\n%s", err, out)
		}
		out2, _ := marshalState(again)
		if !bytes.Equal(out, out2) {
			t.Fatalf("save/load not a fixed point:\n%s\n%s", out, out2)
		}
	})
}

// TestRestoreGrace: after a restart, a restored mitigation the detector asks
// for again lives on under its new request; one nobody claims is withdrawn
// once restore_grace has passed.
func TestRestoreGrace(t *testing.T) {
	cfg := dryConfig()
	cfg.StateFile = filepath.Join(t.TempDir(), "state.json")
	cfg.Limits.RestoreGrace = 10 * time.Minute
	clk := &testClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	s, _ := newDry(t, cfg, clk)
	for _, r := range []detect.Request{flowReq("still", "198.51.100.1/32", 17), flowReq("over", "198.51.100.2/32", 17)} {
		if err := s.Mitigate(r); err != nil {
			t.Fatal(err)
		}
	}
	s.Stop()

	s2, _ := newDry(t, cfg, clk)
	defer s2.Stop()
	// The attack on .1 is detected again after the restart: same match,
	// new request ID.
	if err := s2.Mitigate(flowReq("still-again", "198.51.100.1/32", 17)); err != nil {
		t.Fatal(err)
	}
	clk.add(11 * time.Minute)
	deadline := time.Now().Add(5 * time.Second)
	for len(s2.Active()) > 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	var ids []string
	for _, a := range s2.Active() {
		ids = append(ids, a.ID)
	}
	if !slices.Equal(ids, []string{"still-again"}) {
		t.Fatalf("active after the grace = %v, want only the re-claimed [still-again]", ids)
	}
}
