package detect

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/rampartnet/rampart/sensor/packet"
)

// Mitigation actions, as in Request.Action and Attack.Mitigation.Action.
const (
	ActionNone      = "none"
	ActionFlowSpec  = "flowspec"
	ActionBlackhole = "blackhole"
	ActionRedirect  = "redirect" // divert to scrubbing (hostgroup action "scrub")
)

// Fragment matches, as in Rule.Fragment.
const (
	FragAny   = ""               // no fragment component
	FragIs    = "is-fragment"    // any fragment
	FragFirst = "first-fragment" // the fragment that carries the L4 header
)

// Rule is a FlowSpec match (RFC 8955/8956) and its action. Empty components
// match everything. Ports and TCP flags never match a later fragment, which
// has no L4 header: routers behave the same way.
type Rule struct {
	Destination      netip.Prefix `json:"destination,omitzero"` // the host, for attacks on it
	Source           netip.Prefix `json:"source,omitzero"`      // the host, for attacks from it (direction out)
	Protocols        []Protocol   `json:"protocols"`
	SourcePorts      []PortRange  `json:"source_ports"`
	DestinationPorts []PortRange  `json:"destination_ports"`
	PacketLength     *Range       `json:"packet_length"` // IP total length
	TCPFlags         *FlagMatch   `json:"tcp_flags"`
	Fragment         string       `json:"fragment,omitempty"`
	Then             Then         `json:"then"`
}

// Protocol is an IP protocol number; JSON and text carry its name.
type Protocol uint8

var protoNames = map[Protocol]string{1: "icmp", 6: "tcp", 17: "udp", 58: "icmpv6", 47: "gre", 50: "esp"}

func (p Protocol) String() string {
	if n, ok := protoNames[p]; ok {
		return n
	}
	return strconv.Itoa(int(p))
}

// MarshalText names the protocol (also keeps []Protocol a JSON array).
func (p Protocol) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads a name or a number.
func (p *Protocol) UnmarshalText(b []byte) error {
	for k, n := range protoNames {
		if n == string(b) {
			*p = k
			return nil
		}
	}
	v, err := strconv.ParseUint(string(b), 10, 8)
	if err != nil {
		return fmt.Errorf("detect: protocol must be a name or 0..255, got %q", b)
	}
	*p = Protocol(v)
	return nil
}

// PortRange is From..To inclusive; a single port has From == To.
type PortRange struct {
	From uint16 `json:"from"`
	To   uint16 `json:"to"`
}

// Range is an inclusive range of packet lengths.
type Range struct {
	From uint16 `json:"from"`
	To   uint16 `json:"to"`
}

// FlagMatch matches TCP flags f when f&Mask == Bits: bits in Mask but not in
// Bits must be clear.
type FlagMatch struct {
	Bits uint8 `json:"bits"`
	Mask uint8 `json:"mask"`
}

// Then is the FlowSpec action.
type Then struct {
	Action string `json:"action"` // "discard"
}

// ThenDiscard drops the matching traffic.
const ThenDiscard = "discard"

// Matches reports whether a packet with header h matches the rule.
func (r *Rule) Matches(h *packet.Header) bool {
	if r.Destination.IsValid() && !r.Destination.Contains(dstAddr(h)) {
		return false
	}
	if r.Source.IsValid() && !r.Source.Contains(srcAddr(h)) {
		return false
	}
	if len(r.Protocols) > 0 && !hasProto(r.Protocols, h.Proto) {
		return false
	}
	hasL4 := h.Frag != packet.FragLater
	ports := hasPorts(h)
	if len(r.SourcePorts) > 0 && !(ports && portIn(r.SourcePorts, h.SrcPort)) {
		return false
	}
	if len(r.DestinationPorts) > 0 && !(ports && portIn(r.DestinationPorts, h.DstPort)) {
		return false
	}
	if r.PacketLength != nil && (h.IPLen < r.PacketLength.From || h.IPLen > r.PacketLength.To) {
		return false
	}
	if r.TCPFlags != nil && !(hasL4 && h.Proto == packet.ProtoTCP && h.TCPFlags&r.TCPFlags.Mask == r.TCPFlags.Bits) {
		return false
	}
	switch r.Fragment {
	case FragIs:
		return h.Frag != packet.FragNone
	case FragFirst:
		return h.Frag == packet.FragFirst
	}
	return true
}

// hasPorts: only TCP and UDP headers carry ports, and later fragments none.
func hasPorts(h *packet.Header) bool {
	return h.Frag != packet.FragLater && (h.Proto == packet.ProtoTCP || h.Proto == packet.ProtoUDP)
}

func hasProto(ps []Protocol, p uint8) bool {
	for _, v := range ps {
		if uint8(v) == p {
			return true
		}
	}
	return false
}

func portIn(rs []PortRange, p uint16) bool {
	for _, r := range rs {
		if p >= r.From && p <= r.To {
			return true
		}
	}
	return false
}

func dstAddr(h *packet.Header) netip.Addr {
	if h.Family == packet.IPv4 {
		return addr4(h.Dst4)
	}
	return netip.AddrFrom16(h.Dst6)
}

func srcAddr(h *packet.Header) netip.Addr {
	if h.Family == packet.IPv4 {
		return addr4(h.Src4)
	}
	return netip.AddrFrom16(h.Src6)
}

func addr4(a uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)})
}

// String is the rule in FlowSpec-like text, e.g.
// "dst 198.51.100.10/32 proto udp src-port =53 len 512..1500 → discard".
func (r *Rule) String() string {
	var b strings.Builder
	sep := func() {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
	}
	if r.Destination.IsValid() {
		b.WriteString("dst " + r.Destination.String())
	}
	if r.Source.IsValid() {
		sep()
		b.WriteString("src " + r.Source.String())
	}
	if len(r.Protocols) > 0 {
		sep()
		b.WriteString("proto ")
		for i, p := range r.Protocols {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(p.String())
		}
	}
	for _, ports := range []struct {
		name string
		rs   []PortRange
	}{{"src-port", r.SourcePorts}, {"dst-port", r.DestinationPorts}} {
		if len(ports.rs) == 0 {
			continue
		}
		sep()
		b.WriteString(ports.name + " ")
		for i, pr := range ports.rs {
			if i > 0 {
				b.WriteByte(',')
			}
			if pr.From == pr.To {
				fmt.Fprintf(&b, "=%d", pr.From)
			} else {
				fmt.Fprintf(&b, "%d..%d", pr.From, pr.To)
			}
		}
	}
	if r.PacketLength != nil {
		sep()
		fmt.Fprintf(&b, "len %d..%d", r.PacketLength.From, r.PacketLength.To)
	}
	if r.TCPFlags != nil {
		sep()
		b.WriteString("tcp-flags " + r.TCPFlags.String())
	}
	if r.Fragment != FragAny {
		sep()
		b.WriteString("frag " + r.Fragment)
	}
	b.WriteString(" → " + r.Then.Action)
	return b.String()
}

// String is set/mask in flag letters, e.g. "S/SAFR" (SYN set, ACK FIN RST clear).
func (f FlagMatch) String() string { return flagLetters(f.Bits) + "/" + flagLetters(f.Mask) }

var flagBits = [...]struct {
	bit    uint8
	letter byte
}{{packet.TCPSyn, 'S'}, {packet.TCPAck, 'A'}, {packet.TCPFin, 'F'}, {packet.TCPRst, 'R'}, {packet.TCPPsh, 'P'}, {packet.TCPUrg, 'U'}, {0x40, 'E'}, {0x80, 'C'}}

func flagLetters(f uint8) string {
	var b []byte
	for _, fb := range flagBits {
		if f&fb.bit != 0 {
			b = append(b, fb.letter)
		}
	}
	if len(b) == 0 {
		return "-"
	}
	return string(b)
}
