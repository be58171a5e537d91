package detect

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/rampartnet/rampart/sensor/packet"
	"github.com/rampartnet/rampart/sensor/sample"
)

// Fingerprint summarises the sampled packets of an attack.
type Fingerprint struct {
	Samples          int           `json:"samples"`
	SampleRate       uint32        `json:"sample_rate"` // 1 in N packets
	Protocols        []ValueShare  `json:"protocols"`
	SourcePorts      []ValueShare  `json:"top_source_ports"`
	DestinationPorts []ValueShare  `json:"top_destination_ports"`
	TCPFlags         []ValueShare  `json:"tcp_flags"` // flag letters, e.g. "S", "AP"
	SourcePrefixes   []ValueShare  `json:"top_source_prefixes"`
	PacketLength     LengthSummary `json:"packet_length"`
	FragmentShare    float64       `json:"fragment_share"`
	Sources          int           `json:"distinct_sources"`
	Flows            int           `json:"distinct_flows"` // (src, dst, proto, ports) in the samples
}

// ValueShare is one value and the share of samples that have it.
type ValueShare struct {
	Value string  `json:"value"`
	Count int     `json:"count"`
	Share float64 `json:"share"`
}

// LengthSummary of IP total lengths.
type LengthSummary struct {
	Min uint16 `json:"min"`
	P5  uint16 `json:"p5"`
	P50 uint16 `json:"p50"`
	P95 uint16 `json:"p95"`
	Max uint16 `json:"max"`
}

const topN = 5

// profile is what classification needs of the samples, beyond the report.
type profile struct {
	n                    int
	tcp, udp, icmp, frag int
	tcpL4                int    // TCP samples with flags (not later fragments)
	syn, rst             int    // of tcpL4: SYN without ACK, RST
	established          int    // of tcpL4: ACK set, SYN and RST clear
	bareACK              int    // of tcpL4: ACK alone (no PSH, URG, FIN), no payload
	bareACKFlows         int    // distinct flows of the bare ACKs
	bareACKSpread        uint16 // p95 - p5 of the bare ACKs' lengths
	udpL4                int    // UDP samples with ports
	udpTopSrcPort        uint16
	udpTopSrcN           int
	flows                int
	p50                  uint16
	fp                   Fingerprint
}

type flowKey struct {
	src, dst     netip.Addr
	proto        uint8
	sport, dport uint16
}

// fingerprint profiles samples (any order).
func fingerprint(recs []sample.Record, rate uint32) profile {
	p := profile{n: len(recs)}
	p.fp = Fingerprint{Samples: len(recs), SampleRate: rate}
	if len(recs) == 0 {
		return p
	}
	protos := map[string]int{}
	sports, dports, flags, prefixes := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	udpSrc := map[uint16]int{}
	sources := map[netip.Addr]struct{}{}
	flows := map[flowKey]struct{}{}
	lens := make([]uint16, 0, len(recs))
	var bareLens []uint16
	bareFlows := map[flowKey]struct{}{}
	for i := range recs {
		h := &recs[i].Header
		l4 := h.Frag != packet.FragLater
		protos[Protocol(h.Proto).String()]++
		src := srcAddr(h)
		sources[src] = struct{}{}
		fk := flowKey{src, dstAddr(h), h.Proto, h.SrcPort, h.DstPort}
		flows[fk] = struct{}{}
		prefixes[sourcePrefix(src).String()]++
		lens = append(lens, h.IPLen)
		if h.Frag != packet.FragNone {
			p.frag++
		}
		switch h.Proto {
		case packet.ProtoTCP:
			p.tcp++
			if l4 {
				p.tcpL4++
				f := h.TCPFlags
				flags[flagLetters(f&0x3f)]++
				switch {
				case f&(packet.TCPSyn|packet.TCPAck) == packet.TCPSyn:
					p.syn++
				case f&packet.TCPRst != 0:
					p.rst++
				}
				if f&packet.TCPAck != 0 && f&(packet.TCPSyn|packet.TCPRst) == 0 {
					p.established++
				}
				if f&0x3f == packet.TCPAck && h.IPLen <= noPayloadLen(h) {
					p.bareACK++
					bareFlows[fk] = struct{}{}
					bareLens = append(bareLens, h.IPLen)
				}
			}
		case packet.ProtoUDP:
			p.udp++
			if l4 {
				p.udpL4++
				udpSrc[h.SrcPort]++
			}
		case packet.ProtoICMP, packet.ProtoICMPv6:
			p.icmp++
		}
		if hasPorts(h) {
			sports[itoa(h.SrcPort)]++
			dports[itoa(h.DstPort)]++
		}
	}
	for port, c := range udpSrc {
		if c > p.udpTopSrcN || (c == p.udpTopSrcN && port < p.udpTopSrcPort) {
			p.udpTopSrcPort, p.udpTopSrcN = port, c
		}
	}
	p.flows = len(flows)
	p.bareACKFlows = len(bareFlows)
	if len(bareLens) > 0 {
		slices.Sort(bareLens)
		p.bareACKSpread = percentile(bareLens, 0.95) - percentile(bareLens, 0.05)
	}
	slices.Sort(lens)
	pct := func(q float64) uint16 { return percentile(lens, q) }
	p.p50 = pct(0.5)
	n := len(recs)
	p.fp.Protocols = top(protos, n)
	p.fp.SourcePorts = top(sports, n)
	p.fp.DestinationPorts = top(dports, n)
	p.fp.TCPFlags = top(flags, n)
	p.fp.SourcePrefixes = top(prefixes, n)
	p.fp.PacketLength = LengthSummary{Min: lens[0], P5: pct(0.05), P50: p.p50, P95: pct(0.95), Max: lens[len(lens)-1]}
	p.fp.FragmentShare = share(p.frag, n)
	p.fp.Sources = len(sources)
	p.fp.Flows = p.flows
	return p
}

// percentile q of sorted, non-empty lens.
func percentile(lens []uint16, q float64) uint16 { return lens[int(q*float64(len(lens)-1)+0.5)] }

// noPayloadLen is the longest IP packet that carries a TCP header with
// options and no data: minimal IP header plus a 60-byte TCP header.
func noPayloadLen(h *packet.Header) uint16 {
	if h.Family == packet.IPv6 {
		return 40 + 60
	}
	return 20 + 60
}

// sourcePrefix is the /24 or /48 a source belongs to.
func sourcePrefix(a netip.Addr) netip.Prefix {
	bits := 48
	if a.Is4() {
		bits = 24
	}
	pfx, _ := a.Prefix(bits)
	return pfx
}

// top lists the topN values by count, ties by value, so reports are stable.
func top(m map[string]int, n int) []ValueShare {
	out := make([]ValueShare, 0, len(m))
	for v, c := range m {
		out = append(out, ValueShare{Value: v, Count: c, Share: share(c, n)})
	}
	slices.SortFunc(out, func(a, b ValueShare) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Value, b.Value)
	})
	return out[:min(len(out), topN)]
}

func share(c, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(c) / float64(n)
}

func itoa(v uint16) string {
	var b [5]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(b[i:])
		}
	}
}
