package packettest

import (
	"encoding/binary"
	"net/netip"
	"testing"
)

var (
	a4 = netip.MustParseAddr("198.51.100.1")
	b4 = netip.MustParseAddr("203.0.113.2")
	a6 = netip.MustParseAddr("2001:db8::1")
	b6 = netip.MustParseAddr("2001:db8::2")
)

// l4Checksum verifies a TCP/UDP/ICMPv6 checksum over its pseudo-header.
func l4Checksum(src, dst []byte, proto uint8, l4 []byte) uint16 {
	s := sum(0, src)
	s = sum(s, dst)
	s += uint32(proto) + uint32(len(l4))
	return ^fold(sum(s, l4))
}

func TestIPv4Frames(t *testing.T) {
	for _, f := range []Frame{
		{Src: a4, Dst: b4, Proto: 6, SrcPort: 1, DstPort: 2, TCPFlags: 0x02},
		{Src: a4, Dst: b4, Proto: 17, SrcPort: 53, DstPort: 9, Payload: 101, IPv4Options: 7},
		{Src: a4, Dst: b4, Proto: 1, ICMPType: 8, Payload: 56, VLANs: []uint16{5, 6}},
		{Src: a4, Dst: b4, Proto: 6, MPLS: []uint32{100, 200}, Payload: 3},
	} {
		b := f.Bytes()
		ip := 14 + 4*len(f.VLANs) + 4*len(f.MPLS)
		if ip > 14 && len(f.MPLS) > 0 && b[ip-2]&1 != 1 {
			t.Errorf("%+v: bottom of stack not set", f)
		}
		hl := int(b[ip]&0xf) * 4
		total := int(binary.BigEndian.Uint16(b[ip+2:]))
		if want := 20 + (f.IPv4Options+3)&^3; hl != want {
			t.Errorf("%+v: header length %d, want %d", f, hl, want)
		}
		if Checksum(b[ip:ip+hl]) != 0 {
			t.Errorf("%+v: bad IPv4 header checksum", f)
		}
		if len(b) < 60 || len(b) < ip+total {
			t.Errorf("%+v: frame %d bytes, IP total %d", f, len(b), total)
		}
		l4 := b[ip+hl : ip+total]
		var c uint16
		if f.Proto == 1 {
			c = Checksum(l4)
		} else {
			c = l4Checksum(b[ip+12:ip+16], b[ip+16:ip+20], f.Proto, l4)
		}
		if c != 0 {
			t.Errorf("%+v: bad L4 checksum", f)
		}
	}
}

func TestIPv6Frames(t *testing.T) {
	for _, f := range []Frame{
		{Src: a6, Dst: b6, Proto: 6, SrcPort: 1, DstPort: 2, TCPFlags: 0x12},
		{Src: a6, Dst: b6, Proto: 58, ICMPType: 128, IPv6Ext: []uint8{ExtHopByHop, ExtDestOpts, ExtRouting, ExtAH}},
		{Src: a6, Dst: b6, Proto: 17, Payload: 9, IPv6Ext: []uint8{ExtFragment}},
	} {
		b := f.Bytes()
		payload := int(binary.BigEndian.Uint16(b[18:]))
		// Walk the chain as the builder promises to write it.
		next, off := b[20], 54
		for _, e := range f.IPv6Ext {
			if next != e {
				t.Fatalf("%+v: next header %d, want %d", f, next, e)
			}
			next = b[off]
			off += extSize(e)
		}
		if next != f.Proto {
			t.Fatalf("%+v: upper layer %d, want %d", f, next, f.Proto)
		}
		if 54+payload != len(b) && len(b) != 60 {
			t.Errorf("%+v: payload length %d for frame of %d", f, payload, len(b))
		}
		if c := l4Checksum(b[22:38], b[38:54], f.Proto, b[off:54+payload]); c != 0 {
			t.Errorf("%+v: bad L4 checksum", f)
		}
	}
}

func TestFragments(t *testing.T) {
	later := Frame{Src: a4, Dst: b4, Proto: 17, FragOffset: 10, Payload: 80}
	b := later.Bytes()
	if got := binary.BigEndian.Uint16(b[20:]); got != 10 {
		t.Errorf("v4 later fragment field %#x, want 0x000a", got)
	}
	if got := binary.BigEndian.Uint16(b[16:]); got != 100 {
		t.Errorf("v4 later fragment total %d, want 100 (no UDP header)", got)
	}
	first := Frame{Src: a6, Dst: b6, Proto: 17, MoreFrags: true, FragID: 7, Payload: 8}
	b = first.Bytes()
	if b[20] != ExtFragment || binary.BigEndian.Uint16(b[56:]) != 1 || binary.BigEndian.Uint32(b[58:]) != 7 {
		t.Errorf("v6 first fragment header wrong: % x", b[54:62])
	}
}

func TestMinLen(t *testing.T) {
	f := Frame{Src: a4, Dst: b4, MinLen: 128}
	if n := len(f.Bytes()); n != 128 {
		t.Errorf("MinLen 128 gave %d bytes", n)
	}
	if n := len(Ethernet(EtherARP, 28)); n != 60 {
		t.Errorf("ARP frame %d bytes, want 60", n)
	}
}
