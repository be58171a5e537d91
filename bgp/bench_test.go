package bgp

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/rampartnet/rampart/sensor/detect"
)

// birdCtl speaks BIRD's control socket protocol directly, so polling costs
// a round trip instead of a birdc process.
type birdCtl struct {
	c net.Conn
	r *bufio.Reader
}

func dialBird(tb testing.TB, sock string) *birdCtl {
	tb.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	b := &birdCtl{c: c, r: bufio.NewReader(c)}
	b.reply(tb) // greeting
	return b
}

// reply reads up to the final line ("NNNN text", where continuations
// have '-' after the code or start with a space).
func (b *birdCtl) reply(tb testing.TB) []string {
	var lines []string
	for range 1 << 20 {
		l, err := b.r.ReadString('\n')
		if err != nil {
			tb.Fatal(err)
		}
		lines = append(lines, l)
		if len(l) > 4 && l[4] == ' ' && l[0] != ' ' {
			return lines
		}
	}
	tb.Fatal("bird reply too long")
	return nil
}

// count is the number of routes in table.
func (b *birdCtl) count(tb testing.TB, table string) int {
	fmt.Fprintf(b.c, "show route table %s count\n", table)
	for _, l := range b.reply(tb) {
		if f := strings.Fields(l[min(5, len(l)):]); len(f) > 4 && f[1] == "of" {
			n, _ := strconv.Atoi(f[0])
			return n
		}
	}
	return 0
}

func (b *birdCtl) waitCount(tb testing.TB, table string, n int, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for b.count(tb, table) != n {
		if time.Now().After(deadline) {
			tb.Fatalf("bird %s: %d routes, want %d after %s", table, b.count(tb, table), n, timeout)
		}
	}
}

func benchSpeaker(b *testing.B, maxActive int) (*Speaker, *birdCtl) {
	cfg := liveConfig(b)
	cfg.Limits.MaxActive = maxActive
	cfg.Limits.MaxPerSecond = 1e6
	cfg.QueueSize = maxActive
	bd := startBird(b, cfg.ListenPort)
	cfg.Peers = []PeerConfig{peerConfig(birdAddr, 65003, bd.port)}
	s, err := New(zerolog.Nop(), cfg, testOwn, testWhitelist)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(b.Context()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Stop() })
	bd.established(b)
	return s, dialBird(b, bd.sock)
}

// ruleN is a distinct FlowSpec rule for every n < 65536.
func ruleN(n int) detect.Request {
	return detect.Request{ID: "r" + strconv.Itoa(n), Action: detect.ActionFlowSpec, Rule: &detect.Rule{
		Destination: netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(n % 50)}), 32), Protocols: []detect.Protocol{17},
		DestinationPorts: []detect.PortRange{{From: uint16(n / 50), To: uint16(n / 50)}}, Then: detect.Then{Action: detect.ThenDiscard}}}
}

// BenchmarkRequestToBird is one mitigation request until BIRD has the
// route: go test -run X -bench RequestToBird -benchtime 50x -cpu 1 ./bgp
func BenchmarkRequestToBird(b *testing.B) {
	s, bird := benchSpeaker(b, 100000)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		if err := s.Mitigate(ruleN(i)); err != nil {
			b.Fatal(err)
		}
		bird.waitCount(b, "flowtab4", i+1, 10*time.Second)
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkTenThousandRules announces 10,000 FlowSpec rules at once until
// BIRD has them all, and the speaker's heap growth per rule:
// go test -run X -bench TenThousand -benchtime 1x -count 5 -cpu 1 ./bgp
func BenchmarkTenThousandRules(b *testing.B) {
	const n = 10000
	for range b.N {
		b.StopTimer()
		s, bird := benchSpeaker(b, n)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		b.StartTimer()
		start := time.Now()
		for i := range n {
			if err := s.Mitigate(ruleN(i)); err != nil {
				b.Fatal(err)
			}
		}
		queued := time.Since(start)
		bird.waitCount(b, "flowtab4", n, 60*time.Second)
		visible := time.Since(start)
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(queued.Seconds()*1000, "ms-queued")
		b.ReportMetric(visible.Seconds(), "s-visible")
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heap-B/rule")
		s.Stop()
	}
}
