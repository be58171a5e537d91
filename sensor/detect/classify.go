package detect

import (
	"github.com/rampartnet/rampart/sensor/aggregate"
)

// Attack types.
const (
	TypeSYNFlood        = "syn_flood"
	TypeACKFlood        = "ack_flood"
	TypeRSTFlood        = "rst_flood"
	TypeUDPFlood        = "udp_flood"
	TypeICMPFlood       = "icmp_flood"
	TypeFragmentation   = "ip_fragmentation"
	TypeUnknown         = "unknown"
	TypeManual          = "manual" // a manual ban without samples to tell
	amplificationSuffix = "_amplification"
)

// amplifiers are UDP services abused as reflectors, by source port.
var amplifiers = map[uint16]string{
	17:    "qotd",
	19:    "chargen",
	53:    "dns",
	69:    "tftp",
	111:   "portmap",
	123:   "ntp",
	137:   "netbios",
	161:   "snmp",
	389:   "cldap",
	427:   "slp",
	520:   "rip",
	1194:  "openvpn",
	1434:  "mssql",
	1900:  "ssdp",
	3283:  "ard",
	3702:  "wsd",
	5351:  "natpmp",
	5353:  "mdns",
	5683:  "coap",
	10001: "ubiquiti",
	11211: "memcached",
	32414: "plex",
	37810: "dvr",
}

// Shares above which a kind of traffic dominates.
const (
	dominant     = 0.5 // protocol or fragment share of all samples
	synDominant  = 0.6 // SYN-without-ACK share of TCP: below it, connections are mostly established
	ackDominant  = 0.6 // bare ACK share of TCP for an ACK flood
	ampPortShare = 0.5 // top UDP source port share of UDP with ports
	benignShare  = 0.9 // established TCP share of samples for a transfer
	// An ACK flood's packets are built alike (uniform length, within this
	// spread) and spoofed: most samples are a flow of their own (random
	// sources or ports). The ACKs of established connections come many per
	// flow, and a busy host's TCP mixes in data (PSH, payload).
	ackFloodSpread    = 24
	ackFloodFlowShare = 0.5
)

// classify names the attack from its samples, or from its rates when there
// are too few samples. rates are the tick rates, lim the host's limits.
func classify(p *profile, rates *[aggregate.NumSeries]uint64, lim *Limits, minSamples int) string {
	synOver := lim[aggregate.SYNPPS] == Off || rates[aggregate.SYNPPS] > lim[aggregate.SYNPPS]
	if p.n < minSamples {
		return classifyRates(rates, synOver)
	}
	n := float64(p.n)
	if float64(p.udp)/n >= dominant && p.udpL4 > 0 && float64(p.udpTopSrcN)/float64(p.udpL4) >= ampPortShare {
		if name, ok := amplifiers[p.udpTopSrcPort]; ok {
			return name + amplificationSuffix
		}
	}
	if float64(p.frag)/n >= dominant {
		return TypeFragmentation
	}
	if float64(p.tcp)/n >= dominant {
		if p.tcpL4 == 0 {
			return TypeUnknown
		}
		l4 := float64(p.tcpL4)
		switch {
		case float64(p.syn)/l4 >= synDominant && synOver:
			return TypeSYNFlood
		case float64(p.rst)/l4 >= dominant:
			return TypeRSTFlood
		case isACKFlood(p):
			return TypeACKFlood
		}
		return TypeUnknown
	}
	if float64(p.udp)/n >= dominant {
		return TypeUDPFlood
	}
	if float64(p.icmp)/n >= dominant {
		return TypeICMPFlood
	}
	return TypeUnknown
}

// isACKFlood reports what real ACK floods look like: bare ACKs (no data, no
// PSH) are most of the TCP, of nearly one length, and mostly each a new flow.
func isACKFlood(p *profile) bool {
	return p.bareACK > 0 && float64(p.bareACK)/float64(p.tcpL4) >= ackDominant &&
		p.bareACKSpread <= ackFloodSpread && float64(p.bareACKFlows)/float64(p.bareACK) >= ackFloodFlowShare
}

// classifyRates is classify from the counters alone: no ports, no flags but SYN.
func classifyRates(r *[aggregate.NumSeries]uint64, synOver bool) string {
	pps := float64(r[aggregate.PPS])
	if pps == 0 {
		return TypeUnknown
	}
	switch {
	case float64(r[aggregate.FragPPS])/pps >= dominant:
		return TypeFragmentation
	case float64(r[aggregate.TCPPPS])/pps >= dominant:
		if r[aggregate.TCPPPS] > 0 && float64(r[aggregate.SYNPPS])/float64(r[aggregate.TCPPPS]) >= synDominant && synOver {
			return TypeSYNFlood
		}
	case float64(r[aggregate.UDPPPS])/pps >= dominant:
		return TypeUDPFlood
	case float64(r[aggregate.ICMPPPS])/pps >= dominant:
		return TypeICMPFlood
	}
	return TypeUnknown
}

// volumeOnly are the series a bulk transfer crosses on its own.
const volumeOnly = 1<<aggregate.PPS | 1<<aggregate.BPS | 1<<aggregate.TCPPPS

// benign reports a bulk transfer: only volume thresholds crossed, and the
// samples are established TCP in at most maxFlows flows (a download or a
// speed test, not a flood, which comes from many sources or ports).
func benign(p *profile, over uint16, maxFlows, minSamples int) bool {
	if maxFlows == 0 || p.n < minSamples || over&^volumeOnly != 0 {
		return false
	}
	return p.flows <= maxFlows && float64(p.established)/float64(p.n) >= benignShare
}
