package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"net/http/httptest"
)

func TestReload(t *testing.T) {
	f := newFake()
	ts := newTestServer(t, tokenConfig(), f)
	for _, tc := range []struct {
		name, token, body string
		rlErr             error
		code              int
		want              string
		reloaded          int
	}{
		{"no token", "", "", nil, http.StatusUnauthorized, "token", 0},
		{"wrong token", "nope", "", nil, http.StatusUnauthorized, "token", 0},
		{"empty body", testToken, "", nil, http.StatusOK, `"capture"`, 1},
		{"empty object", testToken, "{}", nil, http.StatusOK, `"trigger": "api"`, 2},
		{"unknown field", testToken, `{"path":"/etc/passwd"}`, nil, http.StatusBadRequest, "path", 2},
		{"bad config", testToken, "", errors.New(`hostgroups[0].thresholds.in.pps: must be > 0, got -1`), http.StatusUnprocessableEntity, "hostgroups[0].thresholds.in.pps", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.mu.Lock()
			f.rlErr = tc.rlErr
			f.mu.Unlock()
			code, body := call(t, ts, "POST", "/api/v1/config/reload", tc.token, tc.body)
			if code != tc.code || !strings.Contains(body, tc.want) {
				t.Errorf("got %d %s, want %d containing %q", code, body, tc.code, tc.want)
			}
			f.mu.Lock()
			n := len(f.reloads)
			f.mu.Unlock()
			if n != tc.reloaded {
				t.Errorf("%d reloads, want %d", n, tc.reloaded)
			}
		})
	}
	if code, _ := call(t, ts, "GET", "/api/v1/config/reload", testToken, ""); code == http.StatusOK {
		t.Errorf("GET reload answered 200")
	}
}

func TestReloadUnavailable(t *testing.T) {
	f := newFake()
	s, err := New(zerolog.Nop(), tokenConfig(), Deps{Status: f, Hosts: f, Attacks: f, Mitigations: f})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	code, body := call(t, ts, "POST", "/api/v1/config/reload", testToken, "")
	var e Error
	if code != http.StatusNotFound || json.Unmarshal([]byte(body), &e) != nil || e.Error == "" {
		t.Errorf("got %d %s, want 404 with an error body", code, body)
	}
}
