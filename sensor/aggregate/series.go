package aggregate

import (
	"math"
	"math/bits"

	"github.com/rampartnet/rampart/sensor/hosts"
)

// Dir is a traffic direction as seen from the host.
type Dir uint8

const (
	In  Dir = iota // the host is the destination
	Out            // the host is the source
	NumDirs
)

func (d Dir) String() string {
	if d == In {
		return "in"
	}
	return "out"
}

// Series is a thresholded per-second rate, the metrics a hostgroup limits.
type Series uint8

const (
	PPS     Series = iota // packets
	BPS                   // bits
	FlowsPS               // new flows
	TCPPPS
	SYNPPS
	UDPPPS
	ICMPPPS
	FragPPS
	NumSeries
)

var seriesNames = [NumSeries]string{"pps", "bps", "flows", "tcp_pps", "syn_pps", "udp_pps", "icmp_pps", "frag_pps"}

func (s Series) String() string {
	if s < NumSeries {
		return seriesNames[s]
	}
	return "unknown"
}

// Window sums are kept in slots: packets per hosts.Metric, then flows, then bytes.
const (
	slotFlows = int(hosts.NumMetrics)
	slotBytes = slotFlows + 1
	numSlots  = slotBytes + 1
	numNarrow = slotFlows + 1 // slots that fit a uint32 per tick
)

var seriesSlot = [NumSeries]int{
	PPS: int(hosts.Total), BPS: slotBytes, FlowsPS: slotFlows,
	TCPPPS: int(hosts.TCP), SYNPPS: int(hosts.SYN), UDPPPS: int(hosts.UDP),
	ICMPPPS: int(hosts.ICMP), FragPPS: int(hosts.Frag),
}

// sums are window sums per direction and slot.
type sums [NumDirs][numSlots]uint64

// counts are one host's windowed counts in a narrow form: one tick of traffic
// (log entries) or a peak window sum. Packets and flows of a single host in a
// tick or a window of at most MaxBuckets ticks stay far below 2^32 at any line
// rate a sensor sees; they saturate rather than wrap if not. Bytes stay 64-bit.
type counts struct {
	bytes [NumDirs]uint64
	n     [NumDirs][numNarrow]uint32
}

func sat32(v uint64) uint32 { return uint32(min(v, math.MaxUint32)) }

// The four functions below are most of what a tick costs per host (see
// floor_test.go): each has an AVX-512 form (kernels_amd64.s), used when the
// CPU has one, and the Go form beside it, which is the specification the
// kernel tests compare it to.

// addBoth adds both directions of x to dst (host totals, group ticks).
func addBoth(dst *[NumDirs]hosts.Counters, x *hosts.Delta) {
	if useAVX512 {
		addBothAVX512(dst, x)
		return
	}
	addBothGo(dst, x)
}

func addBothGo(dst *[NumDirs]hosts.Counters, x *hosts.Delta) {
	addCounters(&dst[In], &x.In)
	addCounters(&dst[Out], &x.Out)
}

// set makes c the narrow form of one delta.
func (c *counts) set(x *hosts.Delta) {
	if useAVX512 {
		setAVX512(c, x)
		return
	}
	c.setGo(x)
}

func (c *counts) setGo(x *hosts.Delta) {
	*c = counts{}
	c.addGo(x)
}

// add adds a further delta of the same host and tick.
func (c *counts) add(x *hosts.Delta) {
	if useAVX512 {
		addAVX512(c, x)
		return
	}
	c.addGo(x)
}

func (c *counts) addGo(x *hosts.Delta) {
	for d, xc := range [NumDirs]*hosts.Counters{&x.In, &x.Out} {
		n := &c.n[d]
		for m := range hosts.NumMetrics {
			n[m] = sat32(uint64(n[m]) + xc.Packets[m])
		}
		n[slotFlows] = sat32(uint64(n[slotFlows]) + xc.Flows)
		c.bytes[d] += xc.Bytes[hosts.Total]
	}
}

// sub takes c out of the window sums s.
func (s *sums) sub(c *counts) {
	if useAVX512 {
		subAVX512(s, c)
		return
	}
	s.subGo(c)
}

func (s *sums) subGo(c *counts) {
	for d := range NumDirs {
		for i, v := range c.n[d] {
			s[d][i] -= uint64(v)
		}
		s[d][slotBytes] -= c.bytes[d]
	}
}

// addRaise adds c to s and lifts the peak p to the new sums where they are
// higher: one pass over the host's window for a busy tick.
func (s *sums) addRaise(c, p *counts) {
	if useAVX512 {
		addRaiseAVX512(s, c, p)
		return
	}
	s.addRaiseGo(c, p)
}

func (s *sums) addRaiseGo(c, p *counts) {
	for d := range NumDirs {
		for i, v := range c.n[d] {
			x := s[d][i] + uint64(v)
			s[d][i] = x
			p.n[d][i] = max(p.n[d][i], sat32(x))
		}
		x := s[d][slotBytes] + c.bytes[d]
		s[d][slotBytes] = x
		p.bytes[d] = max(p.bytes[d], x)
	}
}

// raise lifts the peak c to s where s is higher.
func (c *counts) raise(s *sums) {
	for d := range NumDirs {
		for i := range numNarrow {
			c.n[d][i] = max(c.n[d][i], sat32(s[d][i]))
		}
		c.bytes[d] = max(c.bytes[d], s[d][slotBytes])
	}
}

// lift raises c to p where p is higher.
func (c *counts) lift(p *counts) {
	for d := range NumDirs {
		for i, v := range p.n[d] {
			c.n[d][i] = max(c.n[d][i], v)
		}
		c.bytes[d] = max(c.bytes[d], p.bytes[d])
	}
}

func (c *counts) slot(d Dir, i int) uint64 {
	if i == slotBytes {
		return c.bytes[d]
	}
	return uint64(c.n[d][i])
}

// addCounters adds per-metric counters (totals, group tick sums).
func addCounters(dst, src *hosts.Counters) {
	for m := range hosts.NumMetrics {
		dst.Packets[m] += src.Packets[m]
		dst.Bytes[m] += src.Bytes[m]
	}
	dst.Flows += src.Flows
}

// perSecond turns window sums into per-second rates: rate = sum * num / den,
// with num/den = 1s / window reduced, so a 1 s window is a plain copy.
type perSecond struct {
	num, den uint64
}

func newPerSecond(windowNs int64) perSecond {
	num, den := uint64(1e9), uint64(windowNs)
	a, b := num, den
	for b != 0 {
		a, b = b, a%b
	}
	return perSecond{num: num / a, den: den / a}
}

// rate converts a window sum of series s (bytes become bits), saturating.
func (p perSecond) rate(s Series, sum uint64) uint64 {
	num := p.num
	if s == BPS {
		num *= 8
	}
	hi, lo := bits.Mul64(sum, num)
	if hi >= p.den {
		return math.MaxUint64
	}
	q, _ := bits.Div64(hi, lo, p.den)
	return q
}
