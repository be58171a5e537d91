package hosts

import "github.com/rampartnet/rampart/sensor/packet"

// Slots of dirCounters after the Metrics: slotSink absorbs the protocol
// counts of protocols without a Metric (so that counting has no branch on
// the protocol) and is never read; slotFlows holds the new-flow count.
const (
	slotSink  = 6
	slotFlows = 7
)

// dirCounters needs exactly the six Metrics before its extra slots.
var _ = [1]struct{}{}[NumMetrics-slotSink]

// Directions, as indexes of hostCounters.
const (
	dirIn  = 0
	dirOut = 1
)

// dirCounters is one host's counts in one direction since the last flush:
// one 64-byte cache line, so a packet writes one line per host. 32 bits
// suffice for a tick (100 ms at 40 Gbit/s is 500 MB); larger additions,
// which only flow records with big multipliers make, spill to a Delta
// before a counter could wrap (see Table.spillHost).
type dirCounters struct {
	packets [8]uint32 // Metrics, slotSink, slotFlows
	bytes   [8]uint32 // Metrics, slotSink, unused
}

// hostCounters is one host's tick: [dirIn] and [dirOut], 128 bytes.
type hostCounters [2]dirCounters

// class is where one packet's counts go besides Total.
type class struct {
	l4   uint8 // TCP, UDP, ICMP, or slotSink for other protocols
	syn  bool
	frag bool
}

// l4v4 and l4v6 map an IP protocol number to its Metric, per family.
var l4v4, l4v6 = l4Table(packet.ProtoICMP), l4Table(packet.ProtoICMPv6)

func l4Table(icmp uint8) *[256]uint8 {
	var t [256]uint8
	for i := range t {
		t[i] = slotSink
	}
	t[packet.ProtoTCP], t[packet.ProtoUDP], t[icmp] = uint8(TCP), uint8(UDP), uint8(ICMP)
	return &t
}

func classify(h *packet.Header, l4 *[256]uint8) class {
	return class{
		l4:   l4[h.Proto],
		syn:  h.Frag != packet.FragLater && h.IsSYN(),
		frag: h.Frag != packet.FragNone,
	}
}

// fits reports whether adding p and b keeps every counter within 32 bits.
// Total bounds every other metric, and flows grow by at most one per
// addition of at least one packet, so checking Total is enough.
func (d *dirCounters) fits(p, b uint64) bool {
	return (p|b|(uint64(d.packets[Total])+p)|(uint64(d.bytes[Total])+b))>>32 == 0
}

// add counts one packet of class c (or one record). SYN and fragments
// take branches: they are rare, or all there is during a flood, so the
// branches predict well and common packets write only four counters.
func (d *dirCounters) add(c class, p, b, flow uint32) {
	d.packets[Total] += p
	d.bytes[Total] += b
	d.packets[c.l4&7] += p
	d.bytes[c.l4&7] += b
	d.packets[slotFlows] += flow
	if c.syn {
		d.packets[SYN] += p
		d.bytes[SYN] += b
	}
	if c.frag {
		d.packets[Frag] += p
		d.bytes[Frag] += b
	}
}

func (d *dirCounters) export(out *Counters) {
	for m := range NumMetrics {
		out.Packets[m] = uint64(d.packets[m])
		out.Bytes[m] = uint64(d.bytes[m])
	}
	out.Flows = uint64(d.packets[slotFlows])
}

// addTo adds one packet class's counts to wide counters, for additions too
// large for dirCounters.
func (c class) addTo(out *Counters, p, b uint64, flow uint32) {
	var one dirCounters
	one.add(c, 1, 1, flow)
	for m := range NumMetrics {
		out.Packets[m] += p * uint64(one.packets[m])
		out.Bytes[m] += b * uint64(one.bytes[m])
	}
	out.Flows += uint64(flow)
}

// pending reports counts not yet flushed (Count adds at least one packet).
func (h *hostCounters) pending() bool {
	return h[dirIn].packets[Total]|h[dirOut].packets[Total] != 0
}

// untouched is pending's negation that reads the other direction's cache
// line only on the first packet of a tick in direction dir.
func (h *hostCounters) untouched(dir int) bool {
	return h[dir&1].packets[Total] == 0 && h[(dir^1)&1].packets[Total] == 0
}
