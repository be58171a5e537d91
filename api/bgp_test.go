package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/rampartnet/rampart/sensor/detect"
)

// fakeBGP records what it is asked and refuses with refuse when set.
type fakeBGP struct {
	mu        sync.Mutex
	status    BGPStatus
	announced []detect.Request
	withdrawn []string
	refuse    error
}

func (b *fakeBGP) BGPStatus() BGPStatus { return b.status }

func (b *fakeBGP) Announce(r detect.Request) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.refuse != nil {
		return b.refuse
	}
	b.announced = append(b.announced, r)
	return nil
}

func (b *fakeBGP) Withdraw(id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.refuse != nil {
		return b.refuse
	}
	b.withdrawn = append(b.withdrawn, id)
	return nil
}

func (b *fakeBGP) calls() (int, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.announced), len(b.withdrawn)
}

func newBGPServer(t *testing.T, b BGPControl) *httptest.Server {
	t.Helper()
	f := newFake()
	s, err := New(zerolog.Nop(), tokenConfig(), Deps{Status: f, Hosts: f, Attacks: f, Mitigations: f, BGP: b})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}

func TestBGPStatus(t *testing.T) {
	since := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	b := &fakeBGP{status: BGPStatus{
		Sessions: []BGPSession{{Peer: "192.0.2.1", State: "established"}},
		Active:   map[string]int{"flowspec": 1}, Refused: map[string]uint64{"outside-own": 2},
		Announcements: []Mitigation{{ID: "manual-x", Action: "flowspec", NLRI: "dst 198.51.100.7/32", Since: since}},
	}}
	code, body := call(t, newBGPServer(t, b), "GET", "/api/v1/bgp", "", "")
	if code != http.StatusOK {
		t.Fatalf("GET /api/v1/bgp: %d %s", code, body)
	}
	var got BGPStatus
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, b.status) {
		t.Errorf("got %+v, want %+v", got, b.status)
	}
}

func TestBGPOff(t *testing.T) {
	ts := newBGPServer(t, nil)
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/v1/bgp", ""},
		{"POST", "/api/v1/bgp/announce", `{"action":"blackhole","prefix":"198.51.100.7/32"}`},
		{"POST", "/api/v1/bgp/withdraw", `{"id":"manual-1"}`},
	} {
		code, body := call(t, ts, c.method, c.path, testToken, c.body)
		if code != http.StatusNotFound || !strings.Contains(body, "bgp is not enabled") {
			t.Errorf("%s %s without bgp: %d %s", c.method, c.path, code, body)
		}
	}
}

func TestBGPAnnounceAndWithdraw(t *testing.T) {
	b := &fakeBGP{}
	ts := newBGPServer(t, b)
	code, body := call(t, ts, "POST", "/api/v1/bgp/announce", testToken,
		`{"id":"t1","action":"flowspec","reason":"ticket 9","rule":{"destination":"198.51.100.7/32","protocols":["udp"],"source_ports":[{"from":53,"to":53}],"packet_length":{"from":512,"to":1500}}}`)
	if code != http.StatusAccepted || !strings.Contains(body, `"id": "manual-t1"`) {
		t.Fatalf("announce: %d %s", code, body)
	}
	want := detect.Request{ID: "manual-t1", Action: "flowspec", Reason: "ticket 9", Rule: &detect.Rule{
		Destination: netip.MustParsePrefix("198.51.100.7/32"), Protocols: []detect.Protocol{17},
		SourcePorts: []detect.PortRange{{From: 53, To: 53}}, PacketLength: &detect.Range{From: 512, To: 1500},
		Then: detect.Then{Action: detect.ThenDiscard}}}
	if len(b.announced) != 1 || !reflect.DeepEqual(b.announced[0], want) {
		t.Fatalf("speaker got %+v, want %+v", b.announced, want)
	}

	code, body = call(t, ts, "POST", "/api/v1/bgp/announce", testToken, `{"action":"blackhole","prefix":"2001:db8::7/128","hostgroup":"web"}`)
	if code != http.StatusAccepted || !strings.Contains(body, `"id": "manual-`) {
		t.Fatalf("announce blackhole: %d %s", code, body)
	}
	if got := b.announced[1]; got.ID == "" || got.Prefix != netip.MustParsePrefix("2001:db8::7/128") || got.Reason != DefaultReason || got.Rule != nil || got.Hostgroup != "web" {
		t.Errorf("blackhole request %+v", got)
	}
	code, body = call(t, ts, "POST", "/api/v1/bgp/announce", testToken, `{"action":"blackhole","prefix":"2001:db8::8/128"}`)
	if code != http.StatusAccepted || b.announced[2].ID == b.announced[1].ID {
		t.Errorf("second default id: %d %s, ids %q %q", code, body, b.announced[1].ID, b.announced[2].ID)
	}

	code, body = call(t, ts, "POST", "/api/v1/bgp/withdraw", testToken, `{"id":"manual-t1"}`)
	if code != http.StatusAccepted || len(b.withdrawn) != 1 || b.withdrawn[0] != "manual-t1" {
		t.Errorf("withdraw: %d %s, speaker got %q", code, body, b.withdrawn)
	}
}

func TestBGPAuth(t *testing.T) {
	b := &fakeBGP{}
	ts := newBGPServer(t, b)
	for _, tok := range []string{"", "wrong"} {
		for _, c := range []struct{ path, body string }{
			{"/api/v1/bgp/announce", `{"action":"blackhole","prefix":"198.51.100.7/32"}`},
			{"/api/v1/bgp/withdraw", `{"id":"manual-1"}`},
		} {
			if code, body := call(t, ts, "POST", c.path, tok, c.body); code != http.StatusUnauthorized {
				t.Errorf("%s with token %q: %d %s", c.path, tok, code, body)
			}
		}
	}
	if a, w := b.calls(); a != 0 || w != 0 {
		t.Errorf("refused calls reached the speaker: %d announces, %d withdraws", a, w)
	}
}

func TestBGPRefusals(t *testing.T) {
	for _, c := range []struct {
		reason string
		code   int
	}{
		{"outside-own", http.StatusUnprocessableEntity},
		{"whitelisted", http.StatusUnprocessableEntity},
		{"max-active", http.StatusUnprocessableEntity},
		{RefusedRate, http.StatusTooManyRequests},
		{RefusedQueueFull, http.StatusTooManyRequests},
		{RefusedNotRunning, http.StatusServiceUnavailable},
		{RefusedUnknownID, http.StatusNotFound},
	} {
		b := &fakeBGP{refuse: &RefusedError{Reason: c.reason, Detail: "203.0.113.0/24 says no"}}
		ts := newBGPServer(t, b)
		want := `{"error":"refused: ` + c.reason + `: 203.0.113.0/24 says no"}`
		for _, r := range []struct{ path, body string }{
			{"/api/v1/bgp/announce", `{"action":"redirect","prefix":"203.0.113.0/24"}`},
			{"/api/v1/bgp/withdraw", `{"id":"manual-1"}`},
		} {
			code, body := call(t, ts, "POST", r.path, testToken, r.body)
			if code != c.code || compact(t, body) != want {
				t.Errorf("%s refused for %s: %d %s, want %d %s", r.path, c.reason, code, body, c.code, want)
			}
		}
	}
}

func compact(t *testing.T, s string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func TestBGPBadBodies(t *testing.T) {
	b := &fakeBGP{}
	ts := newBGPServer(t, b)
	for _, c := range []struct{ path, body, want string }{
		{"announce", `{"action":"nuke","prefix":"198.51.100.7/32"}`, `action: must be flowspec, blackhole or redirect, got \"nuke\"`},
		{"announce", `{"action":"flowspec"}`, "rule: is required for flowspec"},
		{"announce", `{"action":"flowspec","prefix":"198.51.100.7/32","rule":{"destination":"198.51.100.7/32"}}`, "prefix: must be empty for flowspec"},
		{"announce", `{"action":"blackhole"}`, "prefix: is required for blackhole"},
		{"announce", `{"action":"blackhole","prefix":"198.51.100.7"}`, `prefix: must be a prefix such as 198.51.100.7/32, got \"198.51.100.7\"`},
		{"announce", `{"action":"redirect","prefix":"198.51.100.7/24"}`, `prefix: must have no bits set past its length (198.51.100.0/24)`},
		{"announce", `{"action":"blackhole","prefix":"198.51.100.7/32","rule":{}}`, "rule: must be absent for blackhole"},
		{"announce", `{"action":"flowspec","rule":{"protocols":["udp"]}}`, "rule.destination: rule needs a destination or a source prefix"},
		{"announce", `{"action":"flowspec","rule":{"destination":"198.51.100.7/32","source":"2001:db8::/32"}}`, "rule.source: must be the same family"},
		{"announce", `{"action":"flowspec","rule":{"destination":"198.51.100.7/32","destination_ports":[{"from":90,"to":80}]}}`, "rule.destination_ports: from must not exceed to, got 90-80"},
		{"announce", `{"action":"flowspec","rule":{"destination":"198.51.100.7/32","packet_length":{"from":9,"to":1}}}`, "rule.packet_length: from must not exceed to"},
		{"announce", `{"action":"flowspec","rule":{"destination":"198.51.100.7/32","tcp_flags":{"bits":2,"mask":0}}}`, "rule.tcp_flags: mask must be non-zero"},
		{"announce", `{"action":"flowspec","rule":{"destination":"198.51.100.7/32","fragment":"dont"}}`, `rule.fragment: must be is-fragment or first-fragment, got \"dont\"`},
		{"announce", `{"action":"flowspec","rule":{"destination":"198.51.100.7/32","then":{"action":"accept"}}}`, `rule.then.action: must be discard, got \"accept\"`},
		{"announce", `{"action":"flowspec","rule":{"destination":"198.51.100.7/32","colour":1}}`, "colour: unknown field"},
		{"announce", `{"action":"blackhole","prefix":"198.51.100.7/32","id":"a b"}`, `id: must be letters, digits and -_.: only, got \"manual-a b\"`},
		{"announce", `{"action":"blackhole","prefix":"198.51.100.7/32","reason":"\u0007"}`, "reason: must be printable text"},
		{"announce", `{"action":"blackhole","prefix":"198.51.100.7/32","ttl":5}`, "ttl: unknown field"},
		{"announce", `{"action":"blackhole","prefix":"198.51.100.7/32","hostgroup":"a/b"}`, `hostgroup: must be letters, digits and -_. only, got \"a/b\"`},
		{"withdraw", `{}`, "id: is required"},
		{"withdraw", `{"id":5}`, "id: must be a JSON string, got number"},
		{"withdraw", `{"id":"` + strings.Repeat("x", 65) + `"}`, "id: must be at most 64 bytes, got 65"},
	} {
		code, body := call(t, ts, "POST", "/api/v1/bgp/"+c.path, testToken, c.body)
		if code != http.StatusBadRequest || !strings.Contains(body, c.want) {
			t.Errorf("%s %s: %d %s, want 400 with %q", c.path, c.body, code, body, c.want)
		}
	}
	if a, w := b.calls(); a != 0 || w != 0 {
		t.Errorf("bad bodies reached the speaker: %d announces, %d withdraws", a, w)
	}
}
