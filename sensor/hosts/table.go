package hosts

import (
	"net/netip"
	"unsafe"

	"github.com/rampartnet/rampart/internal/validate"
	"github.com/rampartnet/rampart/sensor/packet"
)

// Table is one worker's host counters for the current tick. It is not safe
// for concurrent use: each worker owns one, so counting needs no locks or
// atomics.
//
// Direction: a packet whose destination is monitored counts as incoming
// for that host, one whose source is monitored as outgoing for that host;
// when both are monitored it counts for both hosts (so per-host sums exceed
// the traffic total); when neither is, only in Stats.OtherPackets/Bytes.
type Table struct {
	v4       v4Index
	blocks4  int
	maxBlk4  int
	touched4 []uint32 // IPv4 hosts with counts since the last flush

	v6       v6Ranges
	hosts6   *v6Table // nil when no IPv6 network is monitored
	touched6 []uint32 // slot indexes with counts since the last flush

	flows flowCache
	spill []Delta // counts moved out before 32-bit counters could wrap

	otherPackets, otherBytes uint64
	full4, full6             uint64
	spills                   uint64

	prefetch [maxPrefetch]unsafe.Pointer // Prefetch's line addresses
	sink     byte                        // keeps Prefetch's loads
}

// Stats are a table's gauges and its counters since New.
type Stats struct {
	OtherPackets uint64 // neither address monitored (or not IP)
	OtherBytes   uint64
	V4Blocks     int    // 256-host IPv4 blocks allocated (32 KiB each)
	V4Full       uint64 // host packet counts dropped: max_ipv4_blocks reached
	V6Entries    int    // IPv6 slots holding a host, idle or not: slots are reused, never emptied
	V6Evicted    uint64 // idle IPv6 slots reused for another host
	V6Full       uint64 // host packet counts dropped: no free or idle slot within the probe limit
	NewFlows     uint64 // flow cache misses (flows first seen within the idle timeout)
	FlowsEvicted uint64 // live flows pushed out of the cache early: each may count again
	Spills       uint64 // early hand-offs before a 32-bit tick counter could wrap
}

// New builds a table counting the hosts of networks (IPv4 and IPv6; nested
// prefixes are merged; IPv4 prefixes must be /8 or longer). Memory for IPv4
// hosts is allocated per /24 on first touch; IPv6 slots and the flow cache
// are allocated here.
func New(cfg Config, networks []netip.Prefix) (*Table, error) {
	p := validate.New()
	cfg.Validate(p)
	if err := p.Err(); err != nil {
		return nil, err
	}
	v4, v6, err := normalize(networks)
	if err != nil {
		return nil, err
	}
	t := &Table{
		v4:      newV4Index(v4),
		maxBlk4: cfg.MaxIPv4Blocks,
		v6:      newV6Ranges(v6),
		flows:   newFlowCache(cfg.FlowCacheSize, cfg.FlowIdleTimeout),
	}
	if len(v6) > 0 {
		t.hosts6 = newV6Table(cfg.IPv6Capacity, cfg.IPv6PrefixLen, cfg.IPv6IdleTimeout)
		t.touched6 = make([]uint32, 0, cfg.IPv6Capacity)
	}
	return t, nil
}

// Count adds one packet, or one flow record standing for packets packets
// and bytes bytes (sampling multiplier applied), seen at nowNs (the
// injected clock: wall time live, packet time on replay). Records with
// zero packets are ignored. Later fragments (packet.FragLater) carry no
// ports and take no part in flow detection.
//
// Count does not allocate, except on the first touch of a /24 (a 32 KiB
// block, bounded by max_ipv4_blocks) and when a flow record is too large
// for the 32-bit tick counters (see Stats.Spills).
func (t *Table) Count(h *packet.Header, packets, bytes uint64, nowNs int64) {
	if packets == 0 {
		return
	}
	switch h.Family {
	case packet.IPv4:
		t.count4(h, packets, bytes, nowNs)
	case packet.IPv6:
		t.count6(h, packets, bytes, nowNs)
	default:
		t.otherPackets += packets
		t.otherBytes += bytes
	}
}

// spillHost moves hc's counts to a Delta of their own so that adding p
// and b cannot wrap a 32-bit counter; only flow records with large
// multipliers get here. It reports true when this addition alone exceeds
// 32 bits and went out as a Delta too. Flush then emits more than one Delta
// for that host in one tick: consumers add Deltas, they never replace.
func (t *Table) spillHost(hc *hostCounters, k Key, dir int, c class, p, b uint64, flow uint32) bool {
	t.spills++
	if hc.pending() {
		t.spill = append(t.spill, Delta{Key: k})
		d := &t.spill[len(t.spill)-1]
		hc[dirIn].export(&d.In)
		hc[dirOut].export(&d.Out)
	}
	*hc = hostCounters{}
	if (p|b)>>32 == 0 {
		return false
	}
	t.spill = append(t.spill, Delta{Key: k})
	d := &t.spill[len(t.spill)-1]
	if dir == dirIn {
		c.addTo(&d.In, p, b, flow)
	} else {
		c.addTo(&d.Out, p, b, flow)
	}
	return true
}

// Stats returns the table's current gauges and counters.
func (t *Table) Stats() Stats {
	s := Stats{
		OtherPackets: t.otherPackets,
		OtherBytes:   t.otherBytes,
		V4Blocks:     t.blocks4,
		V4Full:       t.full4,
		V6Full:       t.full6,
		NewFlows:     t.flows.news,
		FlowsEvicted: t.flows.evictedLive,
		Spills:       t.spills,
	}
	if t.hosts6 != nil {
		s.V6Entries = t.hosts6.used
		s.V6Evicted = t.hosts6.evicted
	}
	return s
}
