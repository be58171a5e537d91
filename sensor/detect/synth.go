package detect

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/rampartnet/rampart/sensor/packet"
	"github.com/rampartnet/rampart/sensor/sample"
)

// Bounds on the values one rule component lists.
const (
	maxProtocols = 3
	maxPorts     = 6
)

// synthesis is the outcome of rule synthesis.
type synthesis struct {
	rule     Rule
	matched  int     // samples the rule matches
	coverage float64 // matched / samples
	ok       bool    // the rule is specific and covers enough; else fall back
	// span is the rule with its packet length widened to every sample the
	// other components match: what the rule's traffic looks like, tails
	// included, to tell that traffic from a new vector.
	span   Rule
	reason string // why not ok
}

// synthesize finds the most specific rule, narrowing base (destination or
// source: the host) one component at a time, most telling first: protocol,
// fragment, source ports, destination ports, TCP flags, packet length. A
// component is narrowed only as far as the rule still matches at least want
// of the samples, so each takes what the earlier ones left of the slack.
func synthesize(recs []sample.Record, base Rule, want float64, minSamples int) synthesis {
	n := len(recs)
	s := synthesis{rule: base}
	s.rule.Then = Then{Action: ThenDiscard}
	if n < minSamples || n == 0 {
		s.reason = fmt.Sprintf("%d samples, fewer than min_samples %d", n, minSamples)
		return s
	}
	need := int(math.Ceil(want*float64(n) - 1e-9))
	m := make([]int, 0, n)
	for i := range recs {
		m = append(m, i)
	}
	r := &s.rule
	m = filter(recs, m, r)

	if vals, ok := cover(m, need, maxProtocols, func(i int) (uint16, bool) { return uint16(recs[i].Header.Proto), true }); ok {
		for _, v := range vals {
			r.Protocols = append(r.Protocols, Protocol(v))
		}
		slices.Sort(r.Protocols)
		m = filter(recs, m, r)
	}
	if count(m, func(i int) bool { return recs[i].Header.Frag != packet.FragNone }) >= need {
		r.Fragment = FragIs
		m = filter(recs, m, r)
	}
	if r.Fragment == FragAny {
		if vals, ok := cover(m, need, maxPorts, func(i int) (uint16, bool) { return recs[i].Header.SrcPort, hasPorts(&recs[i].Header) }); ok {
			r.SourcePorts = ranges(vals)
			m = filter(recs, m, r)
		}
		if vals, ok := cover(m, need, maxPorts, func(i int) (uint16, bool) { return recs[i].Header.DstPort, hasPorts(&recs[i].Header) }); ok {
			r.DestinationPorts = ranges(vals)
			m = filter(recs, m, r)
		}
	}
	if len(r.Protocols) == 1 && r.Protocols[0] == Protocol(packet.ProtoTCP) && r.Fragment == FragAny {
		m = narrowFlags(recs, m, need, r)
	}
	s.span = *r
	if len(m) > 0 {
		lo, hi := recs[m[0]].Header.IPLen, recs[m[0]].Header.IPLen
		for _, i := range m {
			lo, hi = min(lo, recs[i].Header.IPLen), max(hi, recs[i].Header.IPLen)
		}
		s.span.PacketLength = &Range{From: lo, To: hi}
	}
	m = narrowLength(recs, m, need, r)

	s.matched = len(m)
	s.coverage = share(len(m), n)
	specific := len(r.Protocols) == 1 || len(r.SourcePorts) > 0 || len(r.DestinationPorts) > 0 || r.TCPFlags != nil || r.Fragment != FragAny
	switch {
	case s.matched < need:
		s.reason = fmt.Sprintf("best rule covers %.1f%% of %d samples, want %.1f%%", 100*s.coverage, n, 100*want)
	case !specific:
		s.reason = fmt.Sprintf("no rule narrower than the host covers %.1f%% of %d samples", 100*want, n)
	default:
		s.ok = true
	}
	return s
}

// filter keeps the samples r matches.
func filter(recs []sample.Record, m []int, r *Rule) []int {
	out := m[:0]
	for _, i := range m {
		if r.Matches(&recs[i].Header) {
			out = append(out, i)
		}
	}
	return out
}

func count(m []int, fn func(int) bool) int {
	c := 0
	for _, i := range m {
		if fn(i) {
			c++
		}
	}
	return c
}

// cover picks the fewest values (at most limit, most frequent first) whose
// samples number at least need; samples where of reports false have none.
func cover(m []int, need, limit int, of func(int) (uint16, bool)) ([]uint16, bool) {
	counts := map[uint16]int{}
	for _, i := range m {
		if v, ok := of(i); ok {
			counts[v]++
		}
	}
	type vc struct {
		v uint16
		c int
	}
	byCount := make([]vc, 0, len(counts))
	for v, c := range counts {
		byCount = append(byCount, vc{v, c})
	}
	slices.SortFunc(byCount, func(a, b vc) int {
		if c := cmp.Compare(b.c, a.c); c != 0 {
			return c
		}
		return cmp.Compare(a.v, b.v)
	})
	var vals []uint16
	sum := 0
	for _, e := range byCount[:min(limit, len(byCount))] {
		vals = append(vals, e.v)
		if sum += e.c; sum >= need {
			slices.Sort(vals)
			return vals, true
		}
	}
	return nil, false
}

// ranges joins sorted ports into runs.
func ranges(ports []uint16) []PortRange {
	var out []PortRange
	for _, p := range ports {
		if k := len(out); k > 0 && out[k-1].To+1 == p {
			out[k-1].To = p
			continue
		}
		out = append(out, PortRange{From: p, To: p})
	}
	return out
}

// narrowFlags requires each TCP flag set, or clear, where enough samples agree.
func narrowFlags(recs []sample.Record, m []int, need int, r *Rule) []int {
	fm := FlagMatch{}
	for _, fb := range flagBits {
		set, clear := 0, 0
		for _, i := range m {
			h := &recs[i].Header
			if h.Frag == packet.FragLater || h.TCPFlags&fm.Mask != fm.Bits {
				continue
			}
			if h.TCPFlags&fb.bit != 0 {
				set++
			} else {
				clear++
			}
		}
		switch {
		case set >= need:
			fm.Bits |= fb.bit
			fm.Mask |= fb.bit
		case clear >= need:
			fm.Mask |= fb.bit
		}
	}
	if fm.Mask == 0 {
		return m
	}
	r.TCPFlags = &fm
	return filter(recs, m, r)
}

// narrowLength sets the narrowest length range holding need of the samples.
func narrowLength(recs []sample.Record, m []int, need int, r *Rule) []int {
	if len(m) < need || need == 0 {
		return m
	}
	lens := make([]uint16, len(m))
	for k, i := range m {
		lens[k] = recs[i].Header.IPLen
	}
	slices.Sort(lens)
	best := 0
	for i := 1; i+need-1 < len(lens); i++ {
		if lens[i+need-1]-lens[i] < lens[best+need-1]-lens[best] {
			best = i
		}
	}
	r.PacketLength = &Range{From: lens[best], To: lens[best+need-1]}
	return filter(recs, m, r)
}
