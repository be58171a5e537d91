package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/rampartnet/rampart/api"
	"github.com/rampartnet/rampart/bgp"
)

const cannedBGP = `{"sessions":[{"peer":"192.0.2.1","state":"established","families":["ipv4-unicast","ipv4-flowspec"]},{"peer":"2001:db8::2","state":"active","families":["ipv6-flowspec"]}],
"active":{"flowspec":1,"blackhole":1},"refused":{"outside-own":3,"whitelisted":1},
"announcements":[
{"id":"20260102T030405-192.0.2.10-in","action":"flowspec","nlri":"[destination: 192.0.2.10/32][protocol: ==tcp][tcp-flags: =S]","hostgroup":"web","since":"2026-01-02T03:04:05Z","expires":"2026-01-02T04:04:05Z"},
{"id":"manual-ticket-42","action":"blackhole","nlri":"198.51.100.7/32","hostgroup":"","since":"2026-01-02T03:10:00Z"}]}`

// cannedBGPAPI serves the BGP endpoints as the API would and records the
// bodies posted to them.
type cannedBGPAPI struct {
	mu    sync.Mutex
	posts []string
}

func (c *cannedBGPAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/bgp":
		io.WriteString(w, cannedBGP)
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/api/v1/bgp/"):
		b, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.posts = append(c.posts, r.URL.Path+" "+string(b))
		c.mu.Unlock()
		switch {
		case strings.Contains(string(b), "203.0.113"):
			w.WriteHeader(http.StatusUnprocessableEntity)
			io.WriteString(w, `{"error":"refused: outside-own: 203.0.113.0/24 is not inside any own network"}`)
		case strings.HasSuffix(r.URL.Path, "/withdraw"):
			w.WriteHeader(http.StatusAccepted)
			io.WriteString(w, `{"id":"manual-ticket-42","queued":true}`)
		default:
			w.WriteHeader(http.StatusAccepted)
			io.WriteString(w, `{"id":"manual-ticket-42","action":"flowspec","queued":true}`)
		}
	default:
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":"no such endpoint"}`)
	}
}

// runBGP runs `rampart bgp ARGS` against the API at url, with a token.
func runBGP(t *testing.T, url string, args ...string) (string, string, int) {
	t.Helper()
	return run(t, append([]string{"bgp"}, append(args, "--api", url, "--token", "t0ken-0123456789")...)...)
}

func TestBGPCommandTables(t *testing.T) {
	ts := httptest.NewServer(&cannedBGPAPI{})
	defer ts.Close()
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"bgp_status", []string{"status"}},
		{"bgp_status_json", []string{"status", "--json"}},
		{"bgp_announce", []string{"announce", "--flowspec", "dst 198.51.100.7/32 proto udp sport 53 len 512-1500", "--id", "ticket-42"}},
		{"bgp_withdraw", []string{"withdraw", "manual-ticket-42"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runBGP(t, ts.URL, tc.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			golden(t, tc.name, out)
		})
	}
}

func TestBGPCommandsSendAndFail(t *testing.T) {
	c := &cannedBGPAPI{}
	ts := httptest.NewServer(c)
	defer ts.Close()
	for _, tc := range []struct {
		args    []string
		code    int
		errPart string
	}{
		{[]string{"announce", "--blackhole", "198.51.100.7/32", "--reason", "ticket 42", "--hostgroup", "web"}, 0, ""},
		{[]string{"announce", "--redirect", "203.0.113.0/24"}, 1, "422 Unprocessable Entity: refused: outside-own: 203.0.113.0/24 is not inside any own network"},
		{[]string{"withdraw", "manual-ticket-42"}, 0, ""},
		{[]string{"announce"}, 2, "give exactly one of --flowspec, --blackhole and --redirect"},
		{[]string{"announce", "--blackhole", "198.51.100.7/32", "--redirect", "198.51.100.0/24"}, 2, "exactly one"},
		{[]string{"announce", "--flowspec", "dst 198.51.100.7/32 sport 99-1"}, 2, `token 4 "99-1" after "sport": range "99-1" runs backwards`},
	} {
		_, errOut, code := runBGP(t, ts.URL, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.errPart) {
			t.Errorf("%q: exit %d, stderr %q; want exit %d with %q", tc.args, code, errOut, tc.code, tc.errPart)
		}
	}
	want := []string{
		`/api/v1/bgp/announce {"action":"blackhole","prefix":"198.51.100.7/32","hostgroup":"web","reason":"ticket 42"}`,
		`/api/v1/bgp/announce {"action":"redirect","prefix":"203.0.113.0/24"}`,
		`/api/v1/bgp/withdraw {"id":"manual-ticket-42"}`,
	}
	if got := strings.Join(c.posts, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("requests\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
}

// The api package maps refusals to status codes by these reasons without
// importing bgp; they must stay the same strings.
func TestRefusalReasonsMatchBGP(t *testing.T) {
	for _, c := range [][2]string{
		{api.RefusedUnknownID, bgp.ReasonUnknownID},
		{api.RefusedNotRunning, bgp.ReasonNotRunning},
		{api.RefusedRate, bgp.ReasonRate},
		{api.RefusedQueueFull, bgp.ReasonQueueFull},
	} {
		if c[0] != c[1] {
			t.Errorf("api reason %q, bgp reason %q", c[0], c[1])
		}
	}
	err := apiRefusal(&bgp.RefusedError{Reason: bgp.ReasonOutsideOwn, Detail: "203.0.113.0/24 is not inside any own network"})
	if err.Error() != "refused: outside-own: 203.0.113.0/24 is not inside any own network" {
		t.Errorf("apiRefusal: %v", err)
	}
}
