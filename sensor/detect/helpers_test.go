package detect

import (
	"math/rand/v2"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/hostgroup"
	"github.com/rampartnet/rampart/sensor/hosts"
	"github.com/rampartnet/rampart/sensor/packet"
	"github.com/rampartnet/rampart/sensor/ring"
	"github.com/rampartnet/rampart/sensor/sample"
	"github.com/rs/zerolog"
)

const (
	tickNs     = int64(100 * time.Millisecond)
	sampleRate = 16
)

func fp(v float64) *float64 { return &v }

// testLimits are low, so tests generate few packets: 3x is 60k pps.
func testLimits() hostgroup.Limits {
	return hostgroup.Limits{
		PPS: fp(20_000), Mbps: fp(200), Flows: fp(2_000), SYNPPS: fp(5_000),
		UDPPPS: fp(10_000), ICMPPPS: fp(2_000), FragPPS: fp(2_000),
	}
}

func testGroups() []hostgroup.Config {
	return []hostgroup.Config{
		{Name: hostgroup.DefaultName, Action: hostgroup.ActionFlowSpec, Thresholds: hostgroup.Thresholds{In: testLimits(), Out: testLimits()}},
		{Name: "dns", Action: hostgroup.ActionBlackhole, Prefixes: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/28")}, Thresholds: hostgroup.Thresholds{In: testLimits()}},
		{Name: "lab", Action: hostgroup.ActionNone, Prefixes: []netip.Prefix{netip.MustParsePrefix("198.51.100.16/28")}, Thresholds: hostgroup.Thresholds{In: testLimits()}},
		{Name: "scrubbed", Action: hostgroup.ActionScrub, Prefixes: []netip.Prefix{netip.MustParsePrefix("198.51.100.32/28")}, Thresholds: hostgroup.Thresholds{In: testLimits()}},
	}
}

func testConfig() Config {
	c := DefaultConfig()
	c.HoldTime = time.Second
	c.MinBanTime = 2 * time.Second
	c.UnbanGrace = 5 * time.Second
	c.FingerprintLookback = time.Second
	return c
}

// recMitigator records requests and withdrawals.
type recMitigator struct {
	mu        sync.Mutex
	reqs      []Request
	withdrawn []string
}

func (m *recMitigator) Mitigate(r Request) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reqs = append(m.reqs, r)
	return nil
}

func (m *recMitigator) Withdraw(id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.withdrawn = append(m.withdrawn, id)
	return nil
}

// harness runs an aggregator in synchronous mode into a detector, with a
// sample store filled from the same generated packets.
type harness struct {
	t     testing.TB
	agg   *aggregate.Aggregator
	det   *Detector
	store adder
	mit   *recMitigator
	tick  int64 // last closed tick
	flows map[flowKey]bool
	nth   int // sampling counter
}

type harnessOpt func(*Deps)

func newHarness(t testing.TB, cfg Config, learned Learned, opts ...harnessOpt) *harness {
	t.Helper()
	th, err := NewThresholds(testGroups(), learned)
	if err != nil {
		t.Fatal(err)
	}
	store := sample.NewStore(1 << 16)
	h := &harness{t: t, store: store, mit: &recMitigator{}, flows: map[flowKey]bool{}}
	deps := Deps{Log: zerolog.Nop(), Thresholds: th, Partition: 1, Tick: time.Duration(tickNs),
		SampleRate: sampleRate, Samples: store, Mitigator: h.mit}
	for _, o := range opts {
		o(&deps)
	}
	if a, ok := deps.Samples.(adder); ok {
		h.store = a
	}
	if h.det, err = New(cfg, deps); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.det.Close() })
	acfg := aggregate.DefaultConfig()
	acfg.Tick = time.Duration(tickNs)
	h.agg, err = aggregate.New(acfg, aggregate.Options{
		Partitions: []aggregate.Partition{th.Partition()},
		OnTick:     h.det.OnTick,
	})
	if err != nil {
		t.Fatal(err)
	}
	h.tick = 9 // traffic starts at 1 s
	h.agg.CloseTick(h.tick * tickNs)
	return h
}

// traffic is packets to (or from) one host at a rate, over [from, to).
type traffic struct {
	host     hosts.Key
	dir      aggregate.Dir
	pps      float64
	from, to int64
	gen      func(r *rand.Rand, h *packet.Header) // fills everything but the host's address
	rng      *rand.Rand
}

func ip4(s string) netip.Addr { return netip.MustParseAddr(s) }

func u32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// header makes one packet of tr, at time ts.
func (tr *traffic) header() packet.Header {
	var h packet.Header
	h.Family = packet.IPv4
	tr.gen(tr.rng, &h)
	a := u32(addrOf(tr.host))
	if tr.dir == aggregate.In {
		h.Dst4 = a
	} else {
		h.Src4 = a
	}
	return h
}

// runTo closes ticks up to and including tick n with the given traffic.
func (h *harness) runTo(n int64, trs ...*traffic) {
	for h.tick < n {
		h.tick++
		lo, hi := (h.tick-1)*tickNs, h.tick*tickNs
		deltas := map[hosts.Key]*hosts.Delta{}
		var recs []sample.Record
		for _, tr := range trs {
			s, e := max(lo, tr.from), min(hi, tr.to)
			if e <= s {
				continue
			}
			pkts := int(tr.pps * float64(e-s) / 1e9)
			d := deltas[tr.host]
			if d == nil {
				d = &hosts.Delta{Key: tr.host}
				deltas[tr.host] = d
			}
			c := &d.In
			if tr.dir == aggregate.Out {
				c = &d.Out
			}
			for i := range pkts {
				ph := tr.header()
				countPacket(c, &ph)
				fk := flowKey{srcAddr(&ph), dstAddr(&ph), ph.Proto, ph.SrcPort, ph.DstPort}
				if !h.flows[fk] {
					h.flows[fk] = true
					c.Flows++
				}
				if h.nth++; h.nth%sampleRate == 0 {
					recs = append(recs, sample.Record{Header: ph, WireLen: uint32(ph.IPLen) + 14, TimeNs: s + int64(i)*(e-s)/int64(pkts)})
				}
			}
		}
		h.store.Add(recs)
		b := &ring.Batch{TickEnd: hi, Final: true}
		for _, d := range deltas {
			b.Deltas = append(b.Deltas, *d)
		}
		h.agg.Apply(b)
		h.agg.CloseTick(hi)
	}
}

func countPacket(c *hosts.Counters, h *packet.Header) {
	add := func(m hosts.Metric) {
		c.Packets[m]++
		c.Bytes[m] += uint64(h.IPLen)
	}
	add(hosts.Total)
	switch h.Proto {
	case packet.ProtoTCP:
		add(hosts.TCP)
		if h.IsSYN() {
			add(hosts.SYN)
		}
	case packet.ProtoUDP:
		add(hosts.UDP)
	case packet.ProtoICMP:
		add(hosts.ICMP)
	}
	if h.Frag != packet.FragNone {
		add(hosts.Frag)
	}
}

func (h *harness) attacks() []Attack { return h.det.Attacks() }

func (h *harness) requests() []Request {
	h.mit.mu.Lock()
	defer h.mit.mu.Unlock()
	return append([]Request(nil), h.mit.reqs...)
}

func (h *harness) withdrawn() []string {
	h.mit.mu.Lock()
	defer h.mit.mu.Unlock()
	return append([]string(nil), h.mit.withdrawn...)
}

// Generators of packet kinds.

func randSrc(r *rand.Rand, h *packet.Header) { h.Src4 = 0x0b000000 | r.Uint32N(1<<24) } // 11.0.0.0/8

func synFlood(r *rand.Rand, h *packet.Header) {
	randSrc(r, h)
	h.Proto, h.TCPFlags, h.IPLen = packet.ProtoTCP, packet.TCPSyn, 60
	h.SrcPort, h.DstPort = uint16(1024+r.IntN(60000)), 443
}

func ackFlood(r *rand.Rand, h *packet.Header) {
	randSrc(r, h)
	h.Proto, h.TCPFlags, h.IPLen = packet.ProtoTCP, packet.TCPAck, 52
	h.SrcPort, h.DstPort = uint16(1024+r.IntN(60000)), uint16(r.IntN(65536))
}

func rstFlood(r *rand.Rand, h *packet.Header) {
	ackFlood(r, h)
	h.TCPFlags = packet.TCPRst | packet.TCPAck
	h.IPLen = 40
}

func udpFlood(r *rand.Rand, h *packet.Header) {
	randSrc(r, h)
	h.Proto, h.IPLen = packet.ProtoUDP, uint16(28+r.IntN(1400))
	h.SrcPort, h.DstPort = uint16(r.IntN(65536)), uint16(r.IntN(65536))
}

func amplification(port uint16, lo, hi int) func(r *rand.Rand, h *packet.Header) {
	return func(r *rand.Rand, h *packet.Header) {
		h.Src4 = 0x0c000000 | r.Uint32N(2000) // 2,000 reflectors
		h.Proto, h.IPLen = packet.ProtoUDP, uint16(lo+r.IntN(hi-lo+1))
		h.SrcPort, h.DstPort = port, uint16(1024+r.IntN(60000))
	}
}

func icmpFlood(r *rand.Rand, h *packet.Header) {
	randSrc(r, h)
	h.Proto, h.ICMPType, h.IPLen = packet.ProtoICMP, 8, 84
}

func fragFlood(r *rand.Rand, h *packet.Header) {
	randSrc(r, h)
	h.Proto, h.Frag, h.IPLen = packet.ProtoUDP, packet.FragLater, 1500
}

// download is bulk TCP data from a few servers in established flows.
func download(flows int) func(r *rand.Rand, h *packet.Header) {
	return func(r *rand.Rand, h *packet.Header) {
		f := r.IntN(flows)
		h.Src4 = 0x0d000001 + uint32(f%2)
		h.Proto, h.IPLen = packet.ProtoTCP, 1500
		h.TCPFlags = packet.TCPAck
		if r.IntN(4) == 0 {
			h.TCPFlags |= packet.TCPPsh
		}
		h.SrcPort, h.DstPort = 443, uint16(40000+f)
	}
}

// upload is the same from the host's side (direction out): data to a server.
func upload(flows int) func(r *rand.Rand, h *packet.Header) {
	return func(r *rand.Rand, h *packet.Header) {
		f := r.IntN(flows)
		h.Dst4 = 0x0d000001
		h.Proto, h.IPLen, h.TCPFlags = packet.ProtoTCP, 1500, packet.TCPAck|packet.TCPPsh
		h.SrcPort, h.DstPort = uint16(40000+f), 8080
	}
}

func newTraffic(host string, dir aggregate.Dir, pps float64, from, to int64, gen func(*rand.Rand, *packet.Header), seed uint64) *traffic {
	return &traffic{host: KeyOf(ip4(host)), dir: dir, pps: pps, from: from, to: to, gen: gen, rng: rand.New(rand.NewPCG(seed, 1))}
}

const sec = int64(time.Second)

type adder interface{ Add([]sample.Record) }

// forHostOnly hides sample.Store's Range, to test the detector on a sample
// memory that can only be asked host by host.
type forHostOnly struct{ s *sample.Store }

func (f forHostOnly) Add(recs []sample.Record) { f.s.Add(recs) }

func (f forHostOnly) ForHost(dst []sample.Record, key hosts.Key, dir sample.Dir, sinceNs int64, prefixLen6 int) []sample.Record {
	return f.s.ForHost(dst, key, dir, sinceNs, prefixLen6)
}

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
