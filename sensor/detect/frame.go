package detect

import (
	"encoding/binary"

	"github.com/rampartnet/rampart/sensor/packet"
)

// Samples are decoded headers, not frames. appendFrame rebuilds the headers of
// a minimal valid frame from one: Ethernet (locally administered MACs, the
// VLAN tag if any), IPv4 or IPv6 (a fragment header for IPv6 fragments) and
// the TCP, UDP or ICMP header unless it is a later fragment. The IP length
// fields keep the original length, so the capture shows as cut at the
// headers; L4 checksums are zero (the payload is gone).
func appendFrame(b []byte, h *packet.Header) []byte {
	b = append(b, 0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01)
	if h.VLAN != 0 {
		b = binary.BigEndian.AppendUint16(b, 0x8100)
		b = binary.BigEndian.AppendUint16(b, h.VLAN&0x0fff)
	}
	l4 := l4Len(h)
	if h.Family == packet.IPv4 {
		b = binary.BigEndian.AppendUint16(b, 0x0800)
		ip := len(b)
		total := max(h.IPLen, uint16(20+l4))
		var frag uint16
		switch h.Frag {
		case packet.FragFirst:
			frag = 0x2000 // more fragments, offset 0
		case packet.FragLater:
			frag = 185 // offset 1480 bytes: an arbitrary later position
		}
		b = append(b, 0x45, 0)
		b = binary.BigEndian.AppendUint16(b, total)
		b = append(b, 0, 0)
		b = binary.BigEndian.AppendUint16(b, frag)
		b = append(b, 64, h.Proto, 0, 0)
		b = binary.BigEndian.AppendUint32(b, h.Src4)
		b = binary.BigEndian.AppendUint32(b, h.Dst4)
		binary.BigEndian.PutUint16(b[ip+10:], ipChecksum(b[ip:ip+20]))
		return appendL4(b, h, total-20)
	}
	b = binary.BigEndian.AppendUint16(b, 0x86dd)
	ext := 0
	next := h.Proto
	if h.Frag != packet.FragNone {
		ext, next = 8, 44
	}
	payload := max(int(h.IPLen)-40, ext+l4)
	b = append(b, 0x60, 0, 0, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(payload))
	b = append(b, next, 64)
	b = append(b, h.Src6[:]...)
	b = append(b, h.Dst6[:]...)
	if ext > 0 {
		off := uint16(1) // offset 0, more fragments
		if h.Frag == packet.FragLater {
			off = 185 << 3
		}
		b = append(b, h.Proto, 0)
		b = binary.BigEndian.AppendUint16(b, off)
		b = append(b, 0, 0, 0, 0)
	}
	return appendL4(b, h, uint16(payload-ext))
}

func l4Len(h *packet.Header) int {
	if h.Frag == packet.FragLater {
		return 0
	}
	switch h.Proto {
	case packet.ProtoTCP:
		return 20
	case packet.ProtoUDP, packet.ProtoICMP, packet.ProtoICMPv6:
		return 8
	}
	return 0
}

func appendL4(b []byte, h *packet.Header, l4Total uint16) []byte {
	if h.Frag == packet.FragLater {
		return b
	}
	switch h.Proto {
	case packet.ProtoTCP:
		b = binary.BigEndian.AppendUint16(b, h.SrcPort)
		b = binary.BigEndian.AppendUint16(b, h.DstPort)
		b = append(b, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, h.TCPFlags, 0xff, 0xff, 0, 0, 0, 0)
	case packet.ProtoUDP:
		b = binary.BigEndian.AppendUint16(b, h.SrcPort)
		b = binary.BigEndian.AppendUint16(b, h.DstPort)
		b = binary.BigEndian.AppendUint16(b, l4Total)
		b = append(b, 0, 0)
	case packet.ProtoICMP, packet.ProtoICMPv6:
		b = append(b, h.ICMPType, 0, 0, 0, 0, 0, 0, 0)
	}
	return b
}

func ethHeaderLen(h *packet.Header) int {
	if h.VLAN != 0 {
		return 18
	}
	return 14
}

func ipChecksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}
