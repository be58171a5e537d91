package bgp

import (
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/rampartnet/rampart/internal/logging/logtest"
	"github.com/rampartnet/rampart/sensor/detect"
)

var (
	testOwn       = []netip.Prefix{pfx("198.51.100.0/24"), pfx("203.0.113.0/24"), pfx("2001:db8:100::/48")}
	testWhitelist = []netip.Prefix{pfx("198.51.100.53/32")}
)

// testClock is a settable time source.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func dryConfig() Config {
	c := DefaultConfig()
	c.DryRun = true
	c.RouterID = netip.MustParseAddr("127.0.77.1")
	c.LocalAS = 65001
	c.Actions.Scrub.NextHop = netip.MustParseAddr("192.0.2.99")
	c.Actions.Scrub.NextHopV6 = netip.MustParseAddr("2001:db8:ffff::99")
	return c
}

// newDry starts a dry-run speaker on a test clock; it stops at cleanup.
func newDry(t testing.TB, cfg Config, clk *testClock) (*Speaker, *logtest.Buffer) {
	t.Helper()
	buf := &logtest.Buffer{}
	s, err := New(zerolog.New(buf), cfg, testOwn, testWhitelist)
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
	return s, buf
}

func flowReq(id, dst string, protos ...detect.Protocol) detect.Request {
	return detect.Request{ID: id, Action: detect.ActionFlowSpec, Hostgroup: "web",
		Rule: &detect.Rule{Destination: pfx(dst), Protocols: protos, Then: detect.Then{Action: detect.ThenDiscard}}}
}

func hostReq(id, action, host string) detect.Request {
	return detect.Request{ID: id, Action: action, Prefix: pfx(host), Hostgroup: "web"}
}
