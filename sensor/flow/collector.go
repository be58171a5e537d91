// Package flow collects flow telemetry (NetFlow v5, NetFlow v9, IPFIX and
// sFlow v5 over UDP) and counts its records into the same host tables as
// captured packets: each record becomes a packet.Header counted with its
// packets and bytes, multiplied by the sampling rate.
//
// The decoders are the package's own: they read datagrams in place, keep
// templates per exporter and observation domain, allocate nothing per
// record, and drop and count what does not parse (see ErrKind).
package flow

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"net/netip"
	"time"

	"github.com/rampartnet/rampart/internal/validate"
	"github.com/rampartnet/rampart/sensor/packet"
)

// Counter is what records are counted into: a worker's host table
// (hosts.Table satisfies it). packets and bytes have sampling applied.
type Counter interface {
	Count(h *packet.Header, packets, bytes uint64, nowNs int64)
}

// Protocols is the set of formats a Collector decodes.
type Protocols uint8

const (
	NetFlow      Protocols = 1 << iota // NetFlow v5, v9 and IPFIX
	SFlow                              // sFlow v5
	AllProtocols = NetFlow | SFlow
)

// ProtocolsOf returns the formats of a listener's protocol setting.
func ProtocolsOf(protocol string) (Protocols, error) {
	switch protocol {
	case ProtoNetFlow:
		return NetFlow, nil
	case ProtoSFlow:
		return SFlow, nil
	}
	return 0, fmt.Errorf("flow: protocol must be %s or %s, got %q", ProtoNetFlow, ProtoSFlow, protocol)
}

// sweepEvery is how often Tick forgets silent exporters and stale templates.
const sweepEvery = int64(time.Second)

// Collector decodes the datagrams of one listener (or of a replay) and
// counts their records. It is not safe for concurrent use: the goroutine
// that owns it calls HandleDatagram and Tick, and Stats between them.
type Collector struct {
	out       Counter
	protocols Protocols
	spread    bool
	minSpread int64
	maxSpread int64
	expiry    int64
	maxExp    int
	maxTmpl   int
	overrides map[netip.Addr]uint32

	exporters map[netip.AddrPort]*exporter
	pending   []pending // capacity max_pending_spreads, allocated in New
	nextSweep int64
	dec       packet.Decoder
	frame     [frameScratch]byte // sFlow IP headers get an Ethernet header here
	scratch   rec                // the record being decoded: a local would escape into Counter.Count
	stats     Stats
}

// New returns a Collector decoding protocols and counting into out.
func New(cfg Config, protocols Protocols, out Counter) (*Collector, error) {
	p := validate.New()
	cfg.Validate(p)
	if err := p.Err(); err != nil {
		return nil, err
	}
	if out == nil {
		return nil, fmt.Errorf("flow: nil Counter")
	}
	if protocols&AllProtocols == 0 {
		return nil, fmt.Errorf("flow: no protocol to decode (protocols %#x)", uint8(protocols))
	}
	return &Collector{
		out:       out,
		protocols: protocols,
		spread:    cfg.Accounting == AccountSpread,
		minSpread: int64(cfg.MinSpread),
		maxSpread: int64(cfg.MaxSpread),
		expiry:    int64(cfg.TemplateExpiry),
		maxExp:    cfg.MaxExporters,
		maxTmpl:   cfg.MaxTemplates,
		overrides: cfg.overrides(),
		exporters: make(map[netip.AddrPort]*exporter),
		pending:   make([]pending, 0, cfg.MaxPendingSpreads),
	}, nil
}

// Datagram formats.
const (
	fmtNone uint8 = iota
	fmtV5
	fmtV9
	fmtIPFIX
	fmtSFlow
)

// Shortest headers of each format.
const (
	v5HeaderLen    = 24
	v9HeaderLen    = 20
	ipfixHeaderLen = 16
	sflowMinHeader = 28 // with an IPv4 agent address
)

// detect tells the format of a datagram from its version field and checks
// that its fixed header is there.
func (c *Collector) detect(d []byte) (format uint8, kind ErrKind) {
	if len(d) < 4 {
		return fmtNone, ErrTruncated
	}
	var min int
	switch v := binary.BigEndian.Uint16(d); {
	case v == 0 && binary.BigEndian.Uint16(d[2:]) == 5 && c.protocols&SFlow != 0:
		format, min = fmtSFlow, sflowMinHeader
	case v == 5 && c.protocols&NetFlow != 0:
		format, min = fmtV5, v5HeaderLen
	case v == 9 && c.protocols&NetFlow != 0:
		format, min = fmtV9, v9HeaderLen
	case v == 10 && c.protocols&NetFlow != 0:
		format, min = fmtIPFIX, ipfixHeaderLen
	default:
		return fmtNone, ErrVersion
	}
	if len(d) < min {
		return fmtNone, ErrTruncated
	}
	return format, 0
}

// HandleDatagram decodes one datagram from exporter, received at nowNs
// (the wall clock live, the capture timestamp on replay), and counts its
// records. Records that are spread are counted by later Ticks. data is
// only read, and not kept.
func (c *Collector) HandleDatagram(from netip.AddrPort, data []byte, nowNs int64) {
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	format, kind := c.detect(data)
	e := c.exporters[from]
	if e == nil {
		if format == fmtNone { // junk makes no exporter entry
			c.stats.Untracked[kind]++
			return
		}
		if len(c.exporters) >= c.maxExp {
			c.stats.Rejected++
			return
		}
		e = c.newExporter(from)
	}
	e.stats.Datagrams++
	e.stats.LastSeenNs = nowNs
	switch format {
	case fmtNone:
		e.stats.Errors[kind]++
	case fmtV5:
		c.decodeV5(e, data, nowNs)
	case fmtV9:
		c.decodeV9(e, data, nowNs)
	case fmtIPFIX:
		c.decodeIPFIX(e, data, nowNs)
	case fmtSFlow:
		c.decodeSFlow(e, data, nowNs)
	}
}

// newRec returns the zeroed scratch record.
func (c *Collector) newRec() *rec {
	c.scratch = rec{}
	return &c.scratch
}

// record counts one decoded flow record of exporter e, stream s.
func (c *Collector) record(e *exporter, s *stream, r *rec, nowNs int64) {
	e.stats.Records++
	c.stats.Records++
	if !r.finish() {
		c.stats.Skipped++
		return
	}
	rate := e.rateFor(s, r)
	e.stats.SamplingRate = uint32(min(rate, 1<<32-1))
	c.account(r, rate, r.durationNs(), nowNs)
}

// account counts a finished record now, or queues it to be spread.
func (c *Collector) account(r *rec, rate uint64, durNs int64, nowNs int64) {
	p, b := mulSat(r.packets, rate), mulSat(r.octets, rate)
	if r.h.IPLen == 0 {
		r.h.IPLen = uint16(min(b/p, 0xffff))
	}
	c.stats.Packets += p
	c.stats.Bytes += b
	if c.spread && p > 1 && durNs > 0 && durNs >= c.minSpread {
		if len(c.pending) < cap(c.pending) {
			c.pending = append(c.pending, pending{h: r.h, packets: p, bytes: b, startNs: nowNs, spanNs: min(durNs, c.maxSpread)})
			c.stats.Spread++
			return
		}
		c.stats.SpreadOverflow++
	}
	c.stats.Arrival++
	c.out.Count(&r.h, p, b, nowNs)
}

// pending is a record being spread: its counts are released in equal
// shares of time over [startNs, startNs+spanNs).
type pending struct {
	h              packet.Header
	packets, bytes uint64
	relPackets     uint64 // released so far
	relBytes       uint64
	startNs        int64
	spanNs         int64
}

// Tick releases the shares of spread records due by nowNs into the
// Counter, and now and then forgets silent exporters and stale templates.
// The owner calls it once per tick, before flushing the Counter.
//
// A record that arrives at t covering a flow of duration d is counted at a
// constant rate over [t, t+min(d, max_spread)): the flow's past ticks are
// already flushed and cannot be recounted, so its counts are replayed from
// its arrival on, at the rate the flow had. The shares released by a Tick
// are the difference of cumulative integer amounts, so the totals are
// exact and no remainder is lost.
func (c *Collector) Tick(nowNs int64) {
	for i := 0; i < len(c.pending); {
		e := &c.pending[i]
		if el := nowNs - e.startNs; el > 0 {
			due := e.packets
			if el < e.spanNs {
				hi, lo := bits.Mul64(e.packets, uint64(el))
				due, _ = bits.Div64(hi, lo, uint64(e.spanNs)) // < packets: no overflow
			}
			if due > e.relPackets {
				// Bytes follow packets so that a share is never bytes
				// without packets (a Counter ignores those).
				hi, lo := bits.Mul64(e.bytes, due)
				dueBytes, _ := bits.Div64(hi, lo, e.packets)
				c.out.Count(&e.h, due-e.relPackets, dueBytes-e.relBytes, nowNs)
				e.relPackets, e.relBytes = due, dueBytes
			}
		}
		if e.relPackets == e.packets {
			last := len(c.pending) - 1
			c.pending[i] = c.pending[last]
			c.pending = c.pending[:last]
			continue
		}
		i++
	}
	if nowNs >= c.nextSweep {
		c.sweep(nowNs)
		c.nextSweep = nowNs + sweepEvery
	}
}

// Flush counts everything still being spread at nowNs (end of a replay,
// or shutdown).
func (c *Collector) Flush(nowNs int64) {
	for i := range c.pending {
		e := &c.pending[i]
		if e.relPackets < e.packets {
			c.out.Count(&e.h, e.packets-e.relPackets, e.bytes-e.relBytes, nowNs)
		}
	}
	c.pending = c.pending[:0]
}

// Pending is the number of records still being spread: a replay keeps
// ticking after its last packet until they are all counted.
func (c *Collector) Pending() int { return len(c.pending) }
