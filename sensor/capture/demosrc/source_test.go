package demosrc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rampartnet/rampart/internal/validate"
	"github.com/rampartnet/rampart/sensor/capture"
	"github.com/rampartnet/rampart/sensor/packet"
	"github.com/rampartnet/rampart/sensor/packet/packettest"
)

// fakeClock advances only when the queue sleeps or the test says so.
type fakeClock struct {
	t      time.Time
	slept  time.Duration
	sleeps int
}

func (c *fakeClock) now() time.Time { return c.t }
func (c *fakeClock) sleep(d time.Duration) {
	c.t = c.t.Add(d)
	c.slept += d
	c.sleeps++
}

func testQueue(cfg Config) (*queue, *fakeClock, *Source) {
	c := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	s := &Source{cfg: cfg}
	return newQueue(&s.cfg, s, c.now, c.sleep), c, s
}

// counts is what a run of the demo looked like, from decoded frames.
type counts struct {
	total, toVictim, synToVictim, ampToVictim, fragments, v6 int
}

func run(t *testing.T, q *queue, c *fakeClock, d time.Duration, victim netip.Addr) counts {
	t.Helper()
	frames := make([]capture.Frame, 64)
	var dec packet.Decoder
	var h packet.Header
	var n counts
	end := c.t.Add(d)
	v4 := victim.As4()
	victim4 := binary.BigEndian.Uint32(v4[:])
	lastTs := int64(0)
	for c.t.Before(end) {
		got, err := q.Recv(frames)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range frames[:got] {
			if !dec.Decode(f.Data, &h) {
				t.Fatalf("demo frame does not decode: %v % x", dec.Errors, f.Data)
			}
			checkSums(t, f.Data, &h)
			if f.TimeNs < lastTs || f.WireLen != uint32(len(f.Data)) {
				t.Fatalf("frame time %d after %d, wire %d len %d", f.TimeNs, lastTs, f.WireLen, len(f.Data))
			}
			lastTs = f.TimeNs
			n.total++
			if h.Frag != packet.FragNone {
				n.fragments++
			}
			if h.Family == packet.IPv6 {
				n.v6++
			}
			if h.Family == packet.IPv4 && h.Dst4 == victim4 {
				n.toVictim++
				if h.IsSYN() && h.SrcPort >= 1024 && h.Src4>>8 == 203<<16|113 {
					n.synToVictim++
				}
				if h.Proto == packet.ProtoUDP && h.Src4>>8 == 192<<16|2 {
					n.ampToVictim++
				}
			}
		}
		q.Release()
		c.t = c.t.Add(100 * time.Microsecond) // the worker's own time between polls
	}
	return n
}

// checkSums verifies the IPv4 header checksum and, for whole TCP/UDP
// packets, the L4 checksum: the per-packet variation must keep them right.
func checkSums(t *testing.T, b []byte, h *packet.Header) {
	t.Helper()
	if h.Family == packet.IPv4 {
		if packettest.Checksum(b[14:34]) != 0 {
			t.Fatalf("bad IPv4 header checksum: % x", b[:34])
		}
	}
	if h.Frag != packet.FragNone || (h.Proto != packet.ProtoTCP && h.Proto != packet.ProtoUDP) {
		return
	}
	var pseudo []byte
	var l4 []byte
	if h.Family == packet.IPv4 {
		pseudo = append(pseudo, b[26:34]...)
		l4 = b[34 : 14+int(h.IPLen)]
	} else {
		pseudo = append(pseudo, b[22:54]...)
		l4 = b[54 : 14+int(h.IPLen)]
	}
	pseudo = append(pseudo, 0, h.Proto, byte(len(l4)>>8), byte(len(l4)))
	if packettest.Checksum(append(pseudo, l4...)) != 0 {
		t.Fatalf("bad L4 checksum in % x", b)
	}
}

func TestBenignRateAndMix(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Rate = 20000
	cfg.Attack.Victim = ""
	q, c, s := testQueue(cfg)
	n := run(t, q, c, time.Second, netip.MustParseAddr("0.0.0.0"))
	if n.total < 19900 || n.total > 20100 { // the last poll may run past the second
		t.Errorf("%d packets in one second at rate 20000", n.total)
	}
	if n.v6 < n.total/10 || n.v6 > n.total/3 {
		t.Errorf("%d of %d packets IPv6, want about a fifth", n.v6, n.total)
	}
	if n.fragments == 0 || n.fragments > n.total/20 {
		t.Errorf("%d fragments of %d packets, want a few", n.fragments, n.total)
	}
	if st := s.Stats()[0]; st.Packets != uint64(n.total) {
		t.Errorf("stats %d packets, counted %d", st.Packets, n.total)
	}
	if c.sleeps == 0 {
		t.Error("never slept: an idle demo would spin")
	}
}

func TestAttackPhases(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Rate, cfg.Attack.Rate = 5000, 10000
	cfg.Attack.Start, cfg.Attack.Duration, cfg.Attack.Every = time.Second, 2*time.Second, 4*time.Second
	victim := netip.MustParseAddr(cfg.Attack.Victim)
	q, c, _ := testQueue(cfg)
	for _, phase := range []struct {
		name      string
		d         time.Duration
		syn, amp  bool
		attackPkt int
	}{
		{"before", time.Second, false, false, 0},
		{"syn flood", time.Second, true, false, 10000},
		{"amplification", time.Second, false, true, 10000},
		{"after", 2 * time.Second, false, false, 0},
		{"again", time.Second, true, false, 10000},
	} {
		n := run(t, q, c, phase.d, victim)
		// The victim also gets a few hundred benign SYNs per second, and a
		// burst may straddle a phase boundary: allow for both.
		const slack = 200
		if phase.syn != (n.synToVictim > slack) || phase.amp != (n.ampToVictim > slack) {
			t.Errorf("%s: %d SYN-flood and %d amplification packets", phase.name, n.synToVictim, n.ampToVictim)
		}
		attack := n.synToVictim + n.ampToVictim
		if attack < phase.attackPkt*98/100 || attack > phase.attackPkt+slack {
			t.Errorf("%s: %d attack packets, want about %d", phase.name, attack, phase.attackPkt)
		}
		benign := n.total - attack + n.synToVictim - min(n.synToVictim, phase.attackPkt)
		if want := int(phase.d.Seconds() * 5000); benign < want*97/100 || benign > want*101/100 {
			t.Errorf("%s: %d benign packets, want about %d", phase.name, benign, want)
		}
	}
}

func TestIPv6Victim(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Attack.Victim, cfg.Attack.Start = "2001:db8:100::5", 0
	q, c, _ := testQueue(cfg)
	frames := make([]capture.Frame, 64)
	c.t = c.t.Add(10 * time.Millisecond)
	n, _ := q.Recv(frames)
	var h packet.Header
	toVictim := 0
	for _, f := range frames[:n] {
		if _, ok := packet.Parse(f.Data, &h); ok && h.Family == packet.IPv6 && h.IsSYN() &&
			netip.AddrFrom16(h.Dst6) == netip.MustParseAddr(cfg.Attack.Victim) {
			toVictim++
		}
	}
	if toVictim == 0 {
		t.Errorf("no IPv6 SYN flood packets in %d frames", n)
	}
}

func TestDeterministic(t *testing.T) {
	render := func(seed uint64) []byte {
		cfg := DefaultConfig()
		cfg.Seed, cfg.Attack.Start = seed, 0
		q, c, _ := testQueue(cfg)
		var out []byte
		frames := make([]capture.Frame, 32)
		for range 20 {
			c.t = c.t.Add(time.Millisecond)
			n, _ := q.Recv(frames)
			for _, f := range frames[:n] {
				out = append(out, f.Data...)
			}
		}
		return out
	}
	a, b, other := render(7), render(7), render(8)
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Error("same seed gave different traffic")
	}
	if bytes.Equal(a, other) {
		t.Error("different seeds gave the same traffic")
	}
}

func TestRecvAllocs(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Attack.Start = 0
	q, c, _ := testQueue(cfg)
	frames := make([]capture.Frame, 64)
	allocs := testing.AllocsPerRun(500, func() {
		c.t = c.t.Add(200 * time.Microsecond)
		q.Recv(frames)
		q.Release()
	})
	if allocs != 0 {
		t.Errorf("Recv allocates %v times per burst, want 0", allocs)
	}
}

func TestValidate(t *testing.T) {
	mod := func(f func(*Config)) Config { c := DefaultConfig(); f(&c); return c }
	for _, tc := range []struct {
		name string
		cfg  Config
		want []string
	}{
		{"default", DefaultConfig(), nil},
		{"no attack, no v6", mod(func(c *Config) { c.Attack = AttackConfig{}; c.Network6 = "" }), nil},
		{"bad numbers", mod(func(c *Config) { c.Rate = 0; c.Hosts = 300 }), []string{
			"demo.rate: must be between 1 and 20000000, got 0",
			"demo.hosts: must fit in network4 198.51.100.0/24 (254 addresses), got 300",
		}},
		{"bad networks", mod(func(c *Config) { c.Network4 = "2001:db8::/64"; c.Network6 = "10.0.0.0/8"; c.Attack.Victim = "" }), []string{
			`demo.network4: must be an IPv4 prefix, got "2001:db8::/64"`,
			`demo.network6: must be an IPv6 prefix of /112 or larger such as 2001:db8:100::/64, or empty, got "10.0.0.0/8"`,
		}},
		{"bad attack", mod(func(c *Config) {
			c.Attack = AttackConfig{Victim: "192.0.2.1", Start: -time.Second, Duration: 0, Every: time.Second, Rate: -1}
		}), []string{
			"demo.attack.victim: must be inside network4 or network6, got 192.0.2.1",
			"demo.attack.start: must be >= 0, got -1s",
			"demo.attack.duration: must be > 0, got 0s",
			"demo.attack.rate: must be between 1 and 20000000, got -1",
		}},
		{"repeats overlap", mod(func(c *Config) { c.Attack.Every = c.Attack.Duration }), []string{
			"demo.attack.every: must be 0 (once) or longer than duration 30s, got 30s",
		}},
		{"victim not an address", mod(func(c *Config) { c.Attack.Victim = "victim" }), []string{
			`demo.attack.victim: must be an IP address, got "victim"`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := validate.New()
			tc.cfg.Validate(p.At("demo"))
			var got []string
			var errs validate.Errors
			if errors.As(p.Err(), &errs) {
				for _, e := range errs {
					got = append(got, e.Error())
				}
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestSourceLifecycle(t *testing.T) {
	s, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if s.Queues() != nil {
		t.Fatal("queues before Start")
	}
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if s.Start(t.Context()) == nil {
		t.Error("second Start succeeded")
	}
	q := s.Queues()[0]
	frames := make([]capture.Frame, 64)
	got := 0
	for i := 0; i < 1000 && got == 0; i++ { // real clock: a burst is due within a few ms
		n, err := q.Recv(frames)
		if err != nil {
			t.Fatal(err)
		}
		got += n
		q.Release()
	}
	if got == 0 || s.Stats()[0].Packets != uint64(got) {
		t.Errorf("received %d frames, stats %+v", got, s.Stats())
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{}); err == nil || !strings.Contains(err.Error(), "rate") {
		t.Errorf("New(Config{}) = %v, want a validation error", err)
	}
}

func BenchmarkRecv(b *testing.B) {
	cfg := DefaultConfig()
	cfg.Rate, cfg.Attack.Start = maxRate, 0
	q, c, _ := testQueue(cfg)
	frames := make([]capture.Frame, 64)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		c.t = c.t.Add(10 * time.Microsecond)
		m, _ := q.Recv(frames)
		n += m
		q.Release()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(max(n, 1)), "ns/frame")
}
