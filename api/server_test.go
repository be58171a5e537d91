package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/rampartnet/rampart/sensor/aggregate"
)

func TestReadEndpoints(t *testing.T) {
	f := newFake()
	ts := newTestServer(t, tokenConfig(), f)
	for _, tc := range []struct {
		path     string
		wantCode int
		want     []string // substrings of the body
	}{
		{"/api/v1/status", 200, []string{`"version": "test"`, `"nombuf": 3`, `"192.0.2.1": "established"`, `"ticks_late": 8`}},
		{"/api/v1/top", 200, []string{`"metric": "pps"`, `"direction": "in"`, `"ip": "192.0.2.10"`, `"ip": "2001:db8::1"`}},
		{"/api/v1/top?metric=bps&direction=out&n=1", 200, []string{`"metric": "bps"`, `"direction": "out"`, `"ip": "192.0.2.10"`}},
		{"/api/v1/top?metric=nope", 400, []string{`metric: must be one of pps, bps, flows`, `got \"nope\"`}},
		{"/api/v1/top?direction=up", 400, []string{`direction: must be in or out, got \"up\"`}},
		{"/api/v1/top?n=0", 400, []string{`n: must be 1-1000, got \"0\"`}},
		{"/api/v1/top?n=x", 400, []string{`n: must be 1-1000, got \"x\"`}},
		{"/api/v1/hosts/192.0.2.10", 200, []string{`"hostgroup": "web"`, `"pps": 900`}},
		{"/api/v1/hosts/::ffff:192.0.2.10", 200, []string{`"ip": "192.0.2.10"`}},
		{"/api/v1/hosts/192.0.2.99", 404, []string{`host 192.0.2.99 is not tracked`}},
		{"/api/v1/hosts/banana", 400, []string{`ip: must be an IPv4 or IPv6 address, got \"banana\"`}},
		{"/api/v1/attacks", 200, []string{`"id": "a1"`, `"state": "mitigating"`}},
		{"/api/v1/mitigations", 200, []string{`"action": "flowspec"`, `"since": "2026-01-02T03:04:05Z"`}},
		{"/api/v1/nothing", 404, []string{`no such endpoint: GET /api/v1/nothing`}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			code, body := call(t, ts, "GET", tc.path, "", "")
			if code != tc.wantCode {
				t.Fatalf("code %d, want %d; body %s", code, tc.wantCode, body)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %s:\n%s", w, body)
				}
			}
		})
	}
	code, _ := call(t, ts, "GET", "/api/v1/top?metric=syn_pps&direction=out&n=7", "", "")
	if code != 200 {
		t.Fatalf("top: code %d", code)
	}
	if got, want := f.topArgs, []any{aggregate.SYNPPS, aggregate.Out, 7}; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("Top called with %v, want %v", got, want)
	}
}

func TestEmptyListsAreArrays(t *testing.T) {
	f := newFake()
	f.attacks, f.mits, f.rows = nil, nil, nil
	ts := newTestServer(t, tokenConfig(), f)
	for path, want := range map[string]string{
		"/api/v1/attacks":     "[]\n",
		"/api/v1/mitigations": "[]\n",
	} {
		if _, body := call(t, ts, "GET", path, "", ""); body != want {
			t.Errorf("%s: body %q, want %q", path, body, want)
		}
	}
	var top Top
	_, body := call(t, ts, "GET", "/api/v1/top", "", "")
	if err := json.Unmarshal([]byte(body), &top); err != nil || top.Hosts == nil {
		t.Errorf("top without hosts: %q (%v), want an empty list", body, err)
	}
}

func TestBanUnban(t *testing.T) {
	ip := netip.MustParseAddr("192.0.2.10")
	for _, tc := range []struct {
		name, path, body string
		want             banCall
		wantBody         string
	}{
		{"ban defaults", "/api/v1/mitigations/ban", `{"ip":"192.0.2.10"}`,
			banCall{ip: ip, dir: aggregate.In, reason: DefaultReason}, `"direction": "in"`},
		{"ban everything", "/api/v1/mitigations/ban", `{"ip":"::ffff:192.0.2.10","direction":"out","reason":"ticket 42","duration":"10m"}`,
			banCall{ip: ip, dir: aggregate.Out, reason: "ticket 42", dur: 10 * time.Minute}, `"duration": "10m0s"`},
		{"unban", "/api/v1/mitigations/unban", `{"ip":"192.0.2.10","reason":"false positive"}`,
			banCall{ip: ip, reason: "false positive", unban: true}, `"reason": "false positive"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			ts := newTestServer(t, tokenConfig(), f)
			code, body := call(t, ts, "POST", tc.path, testToken, tc.body)
			if code != http.StatusAccepted || !strings.Contains(body, tc.wantBody) || !strings.Contains(body, `"queued": true`) {
				t.Fatalf("code %d body %s, want 202 with %s", code, body, tc.wantBody)
			}
			if got := f.bans(); len(got) != 1 || got[0] != tc.want {
				t.Errorf("calls %+v, want [%+v]", got, tc.want)
			}
		})
	}
}

func TestAuth(t *testing.T) {
	ban := `{"ip":"192.0.2.10"}`
	for _, tc := range []struct {
		name     string
		cfg      Config
		method   string
		path     string
		header   string // Authorization header
		wantCode int
	}{
		{"no header", tokenConfig(), "POST", "/api/v1/mitigations/ban", "", 401},
		{"wrong token", tokenConfig(), "POST", "/api/v1/mitigations/ban", "Bearer wrong", 401},
		{"token prefix", tokenConfig(), "POST", "/api/v1/mitigations/ban", "Bearer " + testToken[:10], 401},
		{"token longer", tokenConfig(), "POST", "/api/v1/mitigations/ban", "Bearer " + testToken + "x", 401},
		{"basic scheme", tokenConfig(), "POST", "/api/v1/mitigations/unban", "Basic " + testToken, 401},
		{"unban no header", tokenConfig(), "POST", "/api/v1/mitigations/unban", "", 401},
		{"no token configured", DefaultConfig(), "POST", "/api/v1/mitigations/ban", "Bearer " + testToken, 403},
		{"reads open", tokenConfig(), "GET", "/api/v1/status", "", 200},
		{"reads closed", func() Config { c := tokenConfig(); c.RequireTokenForReads = true; return c }(), "GET", "/api/v1/status", "", 401},
		{"metrics closed", func() Config { c := tokenConfig(); c.RequireTokenForReads = true; return c }(), "GET", "/metrics", "Bearer nope", 401},
		{"reads with token", func() Config { c := tokenConfig(); c.RequireTokenForReads = true; return c }(), "GET", "/api/v1/attacks", "Bearer " + testToken, 200},
		{"GET on ban", tokenConfig(), "GET", "/api/v1/mitigations/ban", "Bearer " + testToken, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			ts := newTestServer(t, tc.cfg, f)
			req, _ := http.NewRequest(tc.method, ts.URL+tc.path, strings.NewReader(ban))
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			resp, err := ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.wantCode {
				t.Errorf("code %d, want %d", resp.StatusCode, tc.wantCode)
			}
			if n := len(f.bans()); n != 0 {
				t.Errorf("%d bans or unbans went through, want none", n)
			}
		})
	}
}

func TestBadBodies(t *testing.T) {
	for _, tc := range []struct {
		name, path, body, want string
	}{
		{"duration", "/api/v1/mitigations/ban", `{"ip":"192.0.2.1","duration":"ten"}`, `duration: must be a Go duration such as 10m, got \"ten\"`},
		{"negative duration", "/api/v1/mitigations/ban", `{"ip":"192.0.2.1","duration":"-1s"}`, `duration: must be between 0 and 168h0m0s, got \"-1s\"`},
		{"ip", "/api/v1/mitigations/ban", `{"ip":"192.0.2.300"}`, `ip: must be an IPv4 or IPv6 address, got \"192.0.2.300\"`},
		{"ip missing", "/api/v1/mitigations/unban", `{"reason":"x"}`, `ip: is required`},
		{"ip unspecified", "/api/v1/mitigations/unban", `{"ip":"::"}`, `ip: must not be unspecified`},
		{"ip type", "/api/v1/mitigations/ban", `{"ip":17}`, `ip: must be a JSON string, got number`},
		{"direction", "/api/v1/mitigations/ban", `{"ip":"192.0.2.1","direction":"sideways"}`, `direction: must be in or out, got \"sideways\"`},
		{"reason control", "/api/v1/mitigations/ban", `{"ip":"192.0.2.1","reason":"a\nb"}`, `reason: must be printable text`},
		{"reason long", "/api/v1/mitigations/unban", `{"ip":"192.0.2.1","reason":"` + strings.Repeat("x", 201) + `"}`, `reason: must be at most 200 bytes, got 201`},
		{"unknown field", "/api/v1/mitigations/ban", `{"ip":"192.0.2.1","until":"tomorrow"}`, `until: unknown field`},
		{"unknown field unban", "/api/v1/mitigations/unban", `{"ip":"192.0.2.1","direction":"in"}`, `direction: unknown field`},
		{"not json", "/api/v1/mitigations/ban", `ip=192.0.2.1`, `malformed JSON at byte 1`},
		{"truncated", "/api/v1/mitigations/ban", `{"ip":"192.0.2.1"`, `malformed JSON: unexpected end of body`},
		{"empty", "/api/v1/mitigations/ban", ``, `body must be a JSON object, got nothing`},
		{"two objects", "/api/v1/mitigations/ban", `{"ip":"192.0.2.1"}{"ip":"192.0.2.2"}`, `body must be one JSON object`},
		{"stray brace", "/api/v1/mitigations/ban", `{"ip":"192.0.2.1"}}`, `body must be one JSON object, got \"}\" after it`},
		{"stray brace reload", "/api/v1/config/reload", `{}}`, `body must be one JSON object`},
		{"too big", "/api/v1/mitigations/ban", `{"ip":"192.0.2.1","reason":"` + strings.Repeat("x", maxBody) + `"}`, `body must be at most 4096 bytes`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			ts := newTestServer(t, tokenConfig(), f)
			code, body := call(t, ts, "POST", tc.path, testToken, tc.body)
			if code != http.StatusBadRequest || !strings.Contains(body, tc.want) {
				t.Errorf("code %d body %s, want 400 with %s", code, body, tc.want)
			}
			if n := len(f.bans()); n != 0 {
				t.Errorf("%d bans or unbans went through, want none", n)
			}
		})
	}
}

func TestBanRefusedByDetector(t *testing.T) {
	f := newFake()
	f.fail = errQueueFull
	ts := newTestServer(t, tokenConfig(), f)
	code, body := call(t, ts, "POST", "/api/v1/mitigations/ban", testToken, `{"ip":"192.0.2.1"}`)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "commands already wait") {
		t.Errorf("code %d body %s, want 503 naming the full queue", code, body)
	}
}

func TestStartStop(t *testing.T) {
	f := newFake()
	cfg := tokenConfig()
	cfg.Listen = "127.0.0.1:0"
	s, err := New(zerolog.Nop(), cfg, Deps{Status: f, Hosts: f, Attacks: f, Mitigations: f})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := NewClient(s.Addr().String(), testToken)
	st, err := c.Status(context.Background())
	if err != nil || st.Version != "test" {
		t.Errorf("status over TCP: %+v, %v", st, err)
	}
	if _, err := c.Ban(context.Background(), BanRequest{IP: "192.0.2.5", Duration: "1m"}); err != nil {
		t.Errorf("ban: %v", err)
	}
	if got := f.bans(); len(got) != 1 || got[0].dur != time.Minute {
		t.Errorf("bans %+v", got)
	}
	_, err = NewClient(s.Addr().String(), "wrong-token").Unban(context.Background(), UnbanRequest{IP: "192.0.2.5"})
	if se, ok := err.(*StatusError); !ok || se.Code != 401 {
		t.Errorf("unban with a wrong token: %v, want a 401 StatusError", err)
	}

	// A second server on the same address fails to bind and says where.
	cfg2 := cfg
	cfg2.Listen = s.Addr().String()
	s2, err := New(zerolog.Nop(), cfg2, Deps{Status: f, Hosts: f, Attacks: f, Mitigations: f})
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "listen on "+cfg2.Listen) {
		t.Errorf("second bind: %v, want an error naming %s", err, cfg2.Listen)
	}
	if err := s.Stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
	if _, err := c.Status(context.Background()); err == nil {
		t.Error("status after Stop succeeded")
	}
}

func TestNewNeedsDeps(t *testing.T) {
	f := newFake()
	if _, err := New(zerolog.Nop(), DefaultConfig(), Deps{Status: f, Hosts: f, Attacks: f}); err == nil {
		t.Error("New without Mitigations succeeded")
	}
}
