package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// cannedAPI serves fixed JSON as the API would, and records the requests
// that change state.
type cannedAPI struct {
	mu    sync.Mutex
	posts []string // "path auth body"
}

const cannedStatus = `{"version":"1.2.3","started_at":"2026-01-02T03:04:05Z","uptime_seconds":3725,"source":"dpdk","rates":{"in":{"pps":1500000,"bps":9000000000,"flows":20000},"out":{"pps":1200,"bps":800000,"flows":30}},
"queues":[{"queue":0,"packets":1000000,"bytes":640000000,"missed":12,"errors":0,"nombuf":3},{"queue":1,"packets":999000,"bytes":630000000,"missed":0,"errors":1,"nombuf":0}],
"workers":[{"worker":0,"packets":1000000,"bytes":640000000,"other_packets":50,"decode_errors":7,"hosts_dropped":0,"flushes_skipped":0,"busy_seconds":1862.5},{"worker":1,"packets":999000,"bytes":630000000,"other_packets":40,"decode_errors":0,"hosts_dropped":2,"flushes_skipped":1}],
"aggregator":{"hosts":1234,"ticks_closed":3725,"ticks_late":2,"hosts_expired":10,"hosts_dropped":0},
"detector":{"active":{"syn_flood":1,"udp_flood":2},"detected":9,"ended":6,"mitigations_requested":8,"mitigations_refused":1,"commands_dropped":0},
"bgp":{"sessions":{"192.0.2.2":"active","192.0.2.1":"established"},"active":{"flowspec":3},"refused":{"whitelisted":1},"announced":9,"withdrawn":6,"apply_errors":0,"queue_drops":0},
"flows":[{"listener":0,"exporters":2,"datagrams":500,"records":15000,"errors":3,"rejected":0}]}`

const cannedTop = `{"metric":"syn_pps","direction":"in","hosts":[
{"ip":"192.0.2.10","hostgroup":"web","value":250000,"pps":260000,"bps":133120000,"flows":240000},
{"ip":"2001:db8::1","hostgroup":"","value":1200,"pps":5000,"bps":40000000,"flows":30}]}`

const cannedAttacks = `[{"id":"20260102T030405-192.0.2.10-in","ip":"192.0.2.10","direction":"in","hostgroup":"web","type":"syn_flood","types":["syn_flood","udp_flood"],
"state":"mitigating","started_at":"2026-01-02T03:04:00Z","detected_at":"2026-01-02T03:04:05Z","trigger":"syn_pps","threshold":10000,
"peak_pps":260000,"peak_bps":133120000,"peak_trigger":250000,"retriggers":0,"fingerprint":null,"mitigation":{"action":"flowspec"}},
{"id":"20260101T000000-198.51.100.7-out","ip":"198.51.100.7","direction":"out","hostgroup":"","type":"udp_flood","types":null,
"state":"ended","started_at":"2026-01-01T00:00:00Z","detected_at":"2026-01-01T00:00:03Z","ended_at":"2026-01-01T00:10:00Z","trigger":"udp_pps","threshold":5000,
"peak_pps":9000,"peak_bps":72000000,"peak_trigger":9000,"retriggers":1,"fingerprint":null,"mitigation":{"action":""}}]`

func (c *cannedAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		b, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.posts = append(c.posts, r.URL.Path+" "+r.Header.Get("Authorization")+" "+string(b))
		c.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer sekrit-token-0123456789" {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"missing or wrong bearer token"}`)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		if strings.HasSuffix(r.URL.Path, "/ban") {
			io.WriteString(w, `{"queued":true,"ip":"192.0.2.10","direction":"out","reason":"ticket 7","duration":"30m0s"}`)
		} else {
			io.WriteString(w, `{"queued":true,"ip":"192.0.2.10","reason":"api"}`)
		}
		return
	}
	body := map[string]string{
		"/api/v1/status":  cannedStatus,
		"/api/v1/top":     cannedTop,
		"/api/v1/attacks": cannedAttacks,
	}[r.URL.Path]
	if body == "" {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":"no such endpoint"}`)
		return
	}
	if r.URL.Path == "/api/v1/top" && r.URL.RawQuery != "direction=in&metric=syn_pps&n=5" {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"unexpected query `+r.URL.RawQuery+`"}`)
		return
	}
	io.WriteString(w, body)
}

func TestAPICommandTables(t *testing.T) {
	ts := httptest.NewServer(&cannedAPI{})
	defer ts.Close()
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"api_status", []string{"status"}},
		{"api_top", []string{"top", "--metric", "syn_pps", "--n", "5"}},
		{"api_top_json", []string{"top", "--metric", "syn_pps", "--n", "5", "--json"}},
		{"api_attacks", []string{"attacks"}},
		{"api_ban", []string{"ban", "192.0.2.10", "--direction", "out", "--reason", "ticket 7", "--duration", "30m"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("RAMPART_API", ts.URL)
			t.Setenv("RAMPART_TOKEN", "sekrit-token-0123456789")
			out, errOut, code := run(t, tc.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			golden(t, tc.name, out)
		})
	}
}

func TestAPICommandsSendAndFail(t *testing.T) {
	api := &cannedAPI{}
	ts := httptest.NewServer(api)
	defer ts.Close()
	addr := strings.TrimPrefix(ts.URL, "http://")

	out, errOut, code := run(t, "unban", "192.0.2.10", "--api", addr, "--token", "sekrit-token-0123456789", "--json")
	if code != 0 || !strings.Contains(out, `"queued": true`) {
		t.Errorf("unban: exit %d, out %q, err %q", code, out, errOut)
	}
	_, errOut, code = run(t, "ban", "192.0.2.10", "--api", addr, "--token", "wrong")
	if code != 1 || !strings.Contains(errOut, "401 Unauthorized: missing or wrong bearer token") {
		t.Errorf("ban with a wrong token: exit %d, stderr %q", code, errOut)
	}
	want := []string{
		`/api/v1/mitigations/unban Bearer sekrit-token-0123456789 {"ip":"192.0.2.10"}`,
		`/api/v1/mitigations/ban Bearer wrong {"ip":"192.0.2.10","direction":"in"}`,
	}
	if strings.Join(api.posts, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests\n%s\nwant\n%s", strings.Join(api.posts, "\n"), strings.Join(want, "\n"))
	}
	_, errOut, code = run(t, "status", "--api", "127.0.0.1:1")
	if code != 1 || !strings.Contains(errOut, "127.0.0.1:1") {
		t.Errorf("status with no API: exit %d, stderr %q", code, errOut)
	}
}

// TestTopWatch: on a terminal (a pty from script(1)) --watch redraws in
// place --count times; into a pipe it prints plain tables.
func TestTopWatch(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	if _, err := exec.LookPath("script"); err != nil {
		t.Fatal("script(1) from bsdutils is needed for a pty: ", err)
	}
	ts := httptest.NewServer(&cannedAPI{})
	defer ts.Close()
	args := []string{"top", "--metric", "syn_pps", "--n", "5", "--watch", "--interval", "100ms", "--count", "3", "--api", strings.TrimPrefix(ts.URL, "http://")}
	const clear = "\x1b[H\x1b[2J"

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	line := buildBinary(t) + " " + strings.Join(args, " ")
	out, err := exec.CommandContext(ctx, "script", "-q", "-e", "-c", line, "/dev/null").Output()
	if err != nil {
		t.Fatalf("top --watch on a pty: %v\n%q", err, out)
	}
	if n := strings.Count(string(out), clear); n != 3 {
		t.Errorf("%d screen clears on a terminal, want 3:\n%q", n, out)
	}
	if n := strings.Count(string(out), "192.0.2.10"); n != 3 {
		t.Errorf("%d tables on a terminal, want 3:\n%q", n, out)
	}

	out, err = exec.CommandContext(ctx, buildBinary(t), args...).Output()
	if err != nil {
		t.Fatalf("top --watch into a pipe: %v\n%s", err, out)
	}
	if strings.Contains(string(out), clear) || strings.Count(string(out), "192.0.2.10") != 3 {
		t.Errorf("into a pipe: want 3 plain tables:\n%q", out)
	}
	if _, errOut, code := run(t, "top", "--watch", "--interval", "1ms", "--api", "127.0.0.1:1"); code == 0 || !strings.Contains(errOut, "--interval") {
		t.Errorf("top --interval 1ms: exit %d, stderr %q", code, errOut)
	}
}
