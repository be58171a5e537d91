// Package packettest builds valid Ethernet frames for tests, golden pcaps and
// the demo generator: any mix of VLAN tags, MPLS labels, IPv4 options, IPv6
// extension headers, fragments and TCP/UDP/ICMP, with correct lengths and
// checksums.
package packettest

import (
	"encoding/binary"
	"net/netip"
)

// EtherTypes and TPIDs the builder writes.
const (
	EtherIPv4   = 0x0800
	EtherIPv6   = 0x86dd
	EtherARP    = 0x0806
	EtherVLAN   = 0x8100
	EtherQinQ   = 0x88a8
	EtherMPLS   = 0x8847
	EtherLLDP   = 0x88cc
	minFrameLen = 60 // Ethernet minimum without FCS: NICs pad shorter frames
)

// IPv6 extension header types accepted in Frame.IPv6Ext.
const (
	ExtHopByHop = 0
	ExtRouting  = 43
	ExtFragment = 44
	ExtAH       = 51
	ExtDestOpts = 60
)

// Frame describes one frame. The zero value plus addresses is a valid IP
// packet with protocol 0; set Proto and the L4 fields for more.
type Frame struct {
	Src, Dst netip.Addr // both IPv4 or both IPv6 (an IPv4-mapped IPv6 counts as IPv4)
	Proto    uint8      // IP protocol (TCP 6, UDP 17, ICMP 1, ICMPv6 58, or any other)
	SrcPort  uint16     // TCP/UDP
	DstPort  uint16
	TCPFlags uint8 // TCP flags byte
	ICMPType uint8 // ICMP / ICMPv6 type

	VLANs []uint16 // VLAN IDs, outermost first; with two or more the outer TPID is 802.1ad
	MPLS  []uint32 // MPLS labels (20 bits), outermost first; bottom of stack set on the last

	IPv4Options int     // bytes of IPv4 options (NOP padded), rounded up to a multiple of 4, at most 40
	IPv6Ext     []uint8 // IPv6 extension headers in order (ExtHopByHop, ExtRouting, ExtDestOpts, ExtAH, ExtFragment)

	FragOffset uint16 // fragment offset in 8-byte units; > 0 makes a later fragment (no L4 header)
	MoreFrags  bool   // more fragments follow
	FragID     uint32 // fragment identification
	TTL        uint8  // IPv4 TTL / IPv6 hop limit; 0 means 64

	Payload int // bytes after the L4 header (after the IP header for later fragments)
	MinLen  int // pad the frame to at least this many bytes (default and floor: 60)
}

// IsFragment reports whether the frame's IP packet is a fragment.
func (f Frame) IsFragment() bool { return f.FragOffset != 0 || f.MoreFrags }

// Bytes returns the frame in a new slice.
func (f Frame) Bytes() []byte { return f.AppendTo(nil) }

// AppendTo appends the frame to b and returns the extended slice.
func (f Frame) AppendTo(b []byte) []byte {
	start := len(b)
	b = append(b,
		0x02, 0x00, 0x00, 0x00, 0x00, 0x02, // dst MAC, locally administered
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01) // src MAC
	for i, id := range f.VLANs {
		tpid := uint16(EtherVLAN)
		if i == 0 && len(f.VLANs) > 1 {
			tpid = EtherQinQ
		}
		b = binary.BigEndian.AppendUint16(b, tpid)
		b = binary.BigEndian.AppendUint16(b, id&0x0fff)
	}
	v6 := f.Src.Unmap().Is6()
	switch {
	case len(f.MPLS) > 0:
		b = binary.BigEndian.AppendUint16(b, EtherMPLS)
		for i, label := range f.MPLS {
			entry := label<<12 | 64 // TTL 64
			if i == len(f.MPLS)-1 {
				entry |= 1 << 8
			}
			b = binary.BigEndian.AppendUint32(b, entry)
		}
	case v6:
		b = binary.BigEndian.AppendUint16(b, EtherIPv6)
	default:
		b = binary.BigEndian.AppendUint16(b, EtherIPv4)
	}
	if v6 {
		b = f.appendIPv6(b)
	} else {
		b = f.appendIPv4(b)
	}
	minLen := max(f.MinLen, minFrameLen)
	for len(b)-start < minLen {
		b = append(b, 0)
	}
	return b
}

func (f Frame) ttl() uint8 {
	if f.TTL == 0 {
		return 64
	}
	return f.TTL
}

// hasL4 reports whether the packet carries the L4 header (not a later fragment).
func (f Frame) hasL4() bool { return f.FragOffset == 0 }

func (f Frame) l4Len() int {
	if !f.hasL4() {
		return f.Payload
	}
	switch f.Proto {
	case 6:
		return 20 + f.Payload
	case 17:
		return 8 + f.Payload
	case 1, 58:
		return 8 + f.Payload
	}
	return f.Payload
}

func (f Frame) appendIPv4(b []byte) []byte {
	opts := (min(f.IPv4Options, 40) + 3) &^ 3
	hl := 20 + opts
	ip := len(b)
	frag := f.FragOffset & 0x1fff
	if f.MoreFrags {
		frag |= 0x2000
	}
	src, dst := f.Src.Unmap().As4(), f.Dst.Unmap().As4()
	b = append(b, byte(0x40|hl/4), 0)
	b = binary.BigEndian.AppendUint16(b, uint16(hl+f.l4Len()))
	b = binary.BigEndian.AppendUint16(b, uint16(f.FragID))
	b = binary.BigEndian.AppendUint16(b, frag)
	b = append(b, f.ttl(), f.Proto, 0, 0)
	b = append(b, src[:]...)
	b = append(b, dst[:]...)
	for range opts {
		b = append(b, 1) // NOP
	}
	binary.BigEndian.PutUint16(b[ip+10:], ^fold(sum(0, b[ip:ip+hl])))
	pseudo := sum(0, src[:])
	pseudo = sum(pseudo, dst[:])
	pseudo += uint32(f.Proto) + uint32(f.l4Len())
	return f.appendL4(b, pseudo)
}

func (f Frame) appendIPv6(b []byte) []byte {
	ext := f.IPv6Ext
	if f.IsFragment() && !containsFrag(ext) {
		ext = append(ext[:len(ext):len(ext)], ExtFragment)
	}
	extLen := 0
	for _, e := range ext {
		extLen += extSize(e)
	}
	src, dst := f.Src.As16(), f.Dst.As16()
	b = append(b, 0x60, 0, 0, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(extLen+f.l4Len()))
	next := f.Proto
	if len(ext) > 0 {
		next = ext[0]
	}
	b = append(b, next, f.ttl())
	b = append(b, src[:]...)
	b = append(b, dst[:]...)
	for i, e := range ext {
		next := f.Proto
		if i+1 < len(ext) {
			next = ext[i+1]
		}
		b = appendExt(b, e, next, f)
	}
	pseudo := sum(0, src[:])
	pseudo = sum(pseudo, dst[:])
	pseudo += uint32(f.l4Len()) + uint32(f.Proto)
	return f.appendL4(b, pseudo)
}

func containsFrag(ext []uint8) bool {
	for _, e := range ext {
		if e == ExtFragment {
			return true
		}
	}
	return false
}

// extSize is the length the builder gives each extension header: the
// fragment header is fixed, AH carries a 12-byte ICV, options headers carry
// one PadN option to 16 bytes so that the length field is exercised.
func extSize(e uint8) int {
	switch e {
	case ExtFragment:
		return 8
	case ExtAH:
		return 24
	}
	return 16
}

func appendExt(b []byte, e, next uint8, f Frame) []byte {
	switch e {
	case ExtFragment:
		off := f.FragOffset << 3
		if f.MoreFrags {
			off |= 1
		}
		b = append(b, next, 0)
		b = binary.BigEndian.AppendUint16(b, off)
		return binary.BigEndian.AppendUint32(b, f.FragID)
	case ExtAH:
		b = append(b, next, 24/4-2, 0, 0)
		b = binary.BigEndian.AppendUint32(b, 0x100) // SPI
		b = binary.BigEndian.AppendUint32(b, 1)     // sequence
		return append(b, make([]byte, 12)...)       // ICV
	case ExtRouting:
		b = append(b, next, 1, 4, 0) // type 4 (segment routing), 0 segments left
		return append(b, make([]byte, 12)...)
	}
	b = append(b, next, 1, 1, 12) // PadN with 12 bytes
	return append(b, make([]byte, 12)...)
}

// appendL4 writes the L4 header and payload; pseudo is the pseudo-header sum.
func (f Frame) appendL4(b []byte, pseudo uint32) []byte {
	l4 := len(b)
	if !f.hasL4() {
		return append(b, make([]byte, f.Payload)...)
	}
	csumAt := -1
	switch f.Proto {
	case 6:
		b = binary.BigEndian.AppendUint16(b, f.SrcPort)
		b = binary.BigEndian.AppendUint16(b, f.DstPort)
		b = binary.BigEndian.AppendUint32(b, 1000) // seq
		ack := uint32(0)
		if f.TCPFlags&0x10 != 0 {
			ack = 2000
		}
		b = binary.BigEndian.AppendUint32(b, ack)
		b = append(b, 5<<4, f.TCPFlags, 0xff, 0xff, 0, 0, 0, 0)
		csumAt = l4 + 16
	case 17:
		b = binary.BigEndian.AppendUint16(b, f.SrcPort)
		b = binary.BigEndian.AppendUint16(b, f.DstPort)
		b = binary.BigEndian.AppendUint16(b, uint16(8+f.Payload))
		b = append(b, 0, 0)
		csumAt = l4 + 6
	case 1, 58:
		b = append(b, f.ICMPType, 0, 0, 0, 0, 1, 0, 1) // id 1, seq 1
		csumAt = l4 + 2
	}
	b = append(b, make([]byte, f.Payload)...)
	if csumAt < 0 || f.MoreFrags {
		return b // a first fragment's checksum covers bytes it does not hold
	}
	s := sum(0, b[l4:])
	if f.Proto != 1 { // ICMPv4 has no pseudo-header
		s += pseudo
	}
	c := ^fold(s)
	if c == 0 && f.Proto == 17 {
		c = 0xffff // zero means "no checksum" in UDP
	}
	binary.BigEndian.PutUint16(b[csumAt:], c)
	return b
}

// sum adds b as big-endian 16-bit words to s (one's complement, unfolded).
func sum(s uint32, b []byte) uint32 {
	for len(b) >= 2 {
		s += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	return s
}

func fold(s uint32) uint16 {
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}

// Checksum is the Internet checksum of b: zero when b holds a correct
// checksum field.
func Checksum(b []byte) uint16 { return ^fold(sum(0, b)) }

// Ethernet returns a frame of the given EtherType with n payload bytes, for
// non-IP cases (ARP, LLDP).
func Ethernet(etherType uint16, n int) []byte {
	b := make([]byte, 14, 14+max(n, minFrameLen-14))
	b[0], b[5], b[6], b[11] = 0x02, 0x02, 0x02, 0x01
	binary.BigEndian.PutUint16(b[12:], etherType)
	b = append(b, make([]byte, n)...)
	for len(b) < minFrameLen {
		b = append(b, 0)
	}
	return b
}
