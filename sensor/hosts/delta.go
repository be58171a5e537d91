// Package hosts keeps the per-worker, per-host counters of the hot path.
package hosts

// Metric indexes Counters.Packets and Counters.Bytes.
type Metric uint8

const (
	Total Metric = iota // every IP packet
	TCP
	SYN // TCP SYN without ACK
	UDP
	ICMP // ICMP and ICMPv6
	Frag // IP fragments, first and later
	NumMetrics
)

var metricNames = [NumMetrics]string{"total", "tcp", "syn", "udp", "icmp", "frag"}

func (m Metric) String() string {
	if m < NumMetrics {
		return metricNames[m]
	}
	return "unknown"
}

// Counters are one host's counts in one direction over one tick.
type Counters struct {
	Packets [NumMetrics]uint64
	Bytes   [NumMetrics]uint64
	Flows   uint64 // new flows first seen in this tick
}

// Key names a host: an IPv4 address mapped into IPv6 (::ffff:a.b.c.d), an
// IPv6 /128, or an IPv6 prefix zero-padded when hosts are tracked per /64.
type Key [16]byte

// Delta is what one worker counted for one host during one tick. Workers send
// only the hosts they touched; the aggregator adds deltas from all workers.
type Delta struct {
	Key Key
	In  Counters // destination is this host
	Out Counters // source is this host
}
