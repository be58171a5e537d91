// Package packet decodes frames in place into a Header the caller owns, and
// defines that Header: the one set of fields every source (captured frames,
// flow records, sFlow samples) hands to the host tables.
package packet

// Fragment position of an IP packet.
type Frag uint8

const (
	FragNone  Frag = iota // not a fragment
	FragFirst             // offset 0, more fragments follow: carries the L4 header
	FragLater             // offset > 0: no L4 header, ports are zero
)

// IP families, as in Header.Family.
const (
	IPv4 uint8 = 4
	IPv6 uint8 = 6
)

// TCP flag bits, as in Header.TCPFlags.
const (
	TCPFin uint8 = 0x01
	TCPSyn uint8 = 0x02
	TCPRst uint8 = 0x04
	TCPPsh uint8 = 0x08
	TCPAck uint8 = 0x10
	TCPUrg uint8 = 0x20
)

// IP protocol numbers the counters distinguish.
const (
	ProtoICMP   uint8 = 1
	ProtoTCP    uint8 = 6
	ProtoUDP    uint8 = 17
	ProtoICMPv6 uint8 = 58
)

// Header is what the counters need of one packet (or one flow record).
// Addresses are kept as integers/arrays, not netip.Addr, so that a Header
// holds no pointers and filling it costs no GC write barriers.
type Header struct {
	Family   uint8  // IPv4 or IPv6
	Proto    uint8  // L4 protocol, after IPv6 extension headers
	TCPFlags uint8  // valid when Proto == ProtoTCP and Frag != FragLater
	ICMPType uint8  // valid for ICMP and ICMPv6
	Frag     Frag   // fragment position
	SrcPort  uint16 // TCP/UDP; zero otherwise and for FragLater
	DstPort  uint16
	IPLen    uint16 // IP packet length from the IP header (IPv6: payload + 40)
	VLAN     uint16 // outermost 802.1Q VLAN ID, 0 when untagged
	Src4     uint32 // IPv4 source, host byte order (valid when Family == IPv4)
	Dst4     uint32
	Src6     [16]byte // IPv6 source (valid when Family == IPv6)
	Dst6     [16]byte
}

// IsSYN reports a connection attempt: SYN without ACK.
func (h *Header) IsSYN() bool {
	return h.Proto == ProtoTCP && h.TCPFlags&(TCPSyn|TCPAck) == TCPSyn
}
