package packet_test

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/rampartnet/rampart/sensor/packet"
	"github.com/rampartnet/rampart/sensor/packet/packettest"
)

var (
	v4a = netip.MustParseAddr("198.51.100.7")
	v4b = netip.MustParseAddr("203.0.113.9")
	v6a = netip.MustParseAddr("2001:db8:100::7")
	v6b = netip.MustParseAddr("2001:db8:ffff::9")
)

const (
	v4aInt = 198<<24 | 51<<16 | 100<<8 | 7
	v4bInt = 203<<24 | 0<<16 | 113<<8 | 9
)

func v4hdr(h packet.Header) packet.Header {
	h.Family, h.Src4, h.Dst4 = packet.IPv4, v4aInt, v4bInt
	return h
}

func v6hdr(h packet.Header) packet.Header {
	h.Family, h.Src6, h.Dst6 = packet.IPv6, v6a.As16(), v6b.As16()
	return h
}

type decodeCase struct {
	name   string
	frame  packettest.Frame
	want   packet.Header
	hdrLen int // bytes up to the end of the last header the decoder needs; -1: skip the cut test
}

func decodeCases() []decodeCase {
	tcp4 := func(flags uint8) packettest.Frame {
		return packettest.Frame{Src: v4a, Dst: v4b, Proto: 6, SrcPort: 40000, DstPort: 443, TCPFlags: flags}
	}
	tcp6 := packettest.Frame{Src: v6a, Dst: v6b, Proto: 6, SrcPort: 40000, DstPort: 443, TCPFlags: packet.TCPAck}
	tcp6want := v6hdr(packet.Header{Proto: 6, SrcPort: 40000, DstPort: 443, TCPFlags: packet.TCPAck})
	withExt := func(ext ...uint8) packettest.Frame {
		f := tcp6
		f.IPv6Ext = ext
		return f
	}
	withIPLen := func(h packet.Header, n uint16) packet.Header { h.IPLen = n; return h }
	withVLAN := func(f packettest.Frame, vlans ...uint16) packettest.Frame { f.VLANs = vlans; return f }
	withMPLS := func(f packettest.Frame, labels ...uint32) packettest.Frame { f.MPLS = labels; return f }
	syn := tcp4(packet.TCPSyn)
	synWant := v4hdr(packet.Header{Proto: 6, SrcPort: 40000, DstPort: 443, TCPFlags: packet.TCPSyn, IPLen: 40})
	return []decodeCase{
		{"v4 tcp syn", syn, synWant, 54},
		{"v4 tcp syn-ack", tcp4(packet.TCPSyn | packet.TCPAck),
			v4hdr(packet.Header{Proto: 6, SrcPort: 40000, DstPort: 443, TCPFlags: 0x12, IPLen: 40}), 54},
		{"v4 tcp fin-psh-ack with payload", packettest.Frame{Src: v4a, Dst: v4b, Proto: 6, SrcPort: 1, DstPort: 2, TCPFlags: 0x19, Payload: 1000},
			v4hdr(packet.Header{Proto: 6, SrcPort: 1, DstPort: 2, TCPFlags: 0x19, IPLen: 1040}), 54},
		{"v4 options", packettest.Frame{Src: v4a, Dst: v4b, Proto: 6, SrcPort: 5, DstPort: 6, TCPFlags: packet.TCPRst, IPv4Options: 40},
			v4hdr(packet.Header{Proto: 6, SrcPort: 5, DstPort: 6, TCPFlags: packet.TCPRst, IPLen: 80}), 94},
		{"v4 udp", packettest.Frame{Src: v4a, Dst: v4b, Proto: 17, SrcPort: 53, DstPort: 3333, Payload: 100},
			v4hdr(packet.Header{Proto: 17, SrcPort: 53, DstPort: 3333, IPLen: 128}), 42},
		{"v4 icmp echo", packettest.Frame{Src: v4a, Dst: v4b, Proto: 1, ICMPType: 8, Payload: 56},
			v4hdr(packet.Header{Proto: 1, ICMPType: 8, IPLen: 84}), 38},
		{"v4 gre is ip without ports", packettest.Frame{Src: v4a, Dst: v4b, Proto: 47, Payload: 30},
			v4hdr(packet.Header{Proto: 47, IPLen: 50}), 34},
		{"v4 first fragment", packettest.Frame{Src: v4a, Dst: v4b, Proto: 17, SrcPort: 53, DstPort: 9, MoreFrags: true, Payload: 1472},
			v4hdr(packet.Header{Proto: 17, SrcPort: 53, DstPort: 9, Frag: packet.FragFirst, IPLen: 1500}), 34},
		{"v4 later fragment", packettest.Frame{Src: v4a, Dst: v4b, Proto: 17, SrcPort: 53, DstPort: 9, FragOffset: 185, MoreFrags: true, Payload: 1480},
			v4hdr(packet.Header{Proto: 17, Frag: packet.FragLater, IPLen: 1500}), 34},
		{"v4 last fragment", packettest.Frame{Src: v4a, Dst: v4b, Proto: 6, SrcPort: 53, DstPort: 9, FragOffset: 370, Payload: 8},
			v4hdr(packet.Header{Proto: 6, Frag: packet.FragLater, IPLen: 28}), 34},
		{"v4 tiny first fragment keeps counting", packettest.Frame{Src: v4a, Dst: v4b, Proto: 6, MoreFrags: true, MinLen: 60},
			v4hdr(packet.Header{Proto: 6, Frag: packet.FragFirst, SrcPort: 0, IPLen: 40}), -1},
		{"vlan", withVLAN(syn, 100), with(synWant, func(h *packet.Header) { h.VLAN = 100 }), 58},
		{"qinq", withVLAN(syn, 200, 300), with(synWant, func(h *packet.Header) { h.VLAN = 200 }), 62},
		{"three tags", withVLAN(syn, 1, 2, 3), with(synWant, func(h *packet.Header) { h.VLAN = 1 }), 66},
		{"mpls one label", withMPLS(syn, 16), synWant, 58},
		{"mpls three labels v6", withMPLS(tcp6, 16, 17, 18), withIPLen(tcp6want, 60), 86},
		{"vlan then mpls", withMPLS(withVLAN(syn, 7), 1000), with(synWant, func(h *packet.Header) { h.VLAN = 7 }), 62},
		{"v6 tcp", tcp6, withIPLen(tcp6want, 60), 74},
		{"v6 udp", packettest.Frame{Src: v6a, Dst: v6b, Proto: 17, SrcPort: 123, DstPort: 5000, Payload: 48},
			v6hdr(packet.Header{Proto: 17, SrcPort: 123, DstPort: 5000, IPLen: 96}), 62},
		{"v6 icmpv6", packettest.Frame{Src: v6a, Dst: v6b, Proto: 58, ICMPType: 128, Payload: 56},
			v6hdr(packet.Header{Proto: 58, ICMPType: 128, IPLen: 104}), 58},
		{"v6 hop-by-hop", withExt(packettest.ExtHopByHop), withIPLen(tcp6want, 76), 90},
		{"v6 routing", withExt(packettest.ExtRouting), withIPLen(tcp6want, 76), 90},
		{"v6 destination options", withExt(packettest.ExtDestOpts), withIPLen(tcp6want, 76), 90},
		{"v6 ah", withExt(packettest.ExtAH), withIPLen(tcp6want, 84), 98},
		{"v6 full chain", withExt(0, 60, 43, 51, 60), withIPLen(tcp6want, 148), 162},
		{"v6 eight extension headers", withExt(0, 60, 60, 60, 60, 60, 60, 60), withIPLen(tcp6want, 188), 202},
		{"v6 atomic fragment", withExt(packettest.ExtFragment), withIPLen(tcp6want, 68), 82},
		{"v6 first fragment", packettest.Frame{Src: v6a, Dst: v6b, Proto: 17, SrcPort: 53, DstPort: 7, MoreFrags: true, Payload: 1000},
			v6hdr(packet.Header{Proto: 17, SrcPort: 53, DstPort: 7, Frag: packet.FragFirst, IPLen: 1056}), 62},
		{"v6 later fragment after hop-by-hop", packettest.Frame{Src: v6a, Dst: v6b, Proto: 17, SrcPort: 53, DstPort: 7, IPv6Ext: []uint8{0}, FragOffset: 125, Payload: 100},
			v6hdr(packet.Header{Proto: 17, Frag: packet.FragLater, IPLen: 164}), 78},
	}
}

func with(h packet.Header, f func(*packet.Header)) packet.Header { f(&h); return h }

func TestDecode(t *testing.T) {
	for _, tc := range decodeCases() {
		t.Run(tc.name, func(t *testing.T) {
			frame := tc.frame.Bytes()
			var d packet.Decoder
			var h packet.Header
			if !d.Decode(frame, &h) {
				t.Fatalf("Decode = false, errors %v", d.Errors)
			}
			if h != tc.want {
				t.Errorf("header\n got %+v\nwant %+v", h, tc.want)
			}
			if h.Frag == packet.FragLater && (h.SrcPort != 0 || h.DstPort != 0) {
				t.Errorf("later fragment with ports %d, %d", h.SrcPort, h.DstPort)
			}
			if d.Decoded != 1 || d.Skipped() != 0 {
				t.Errorf("counts decoded=%d skipped=%d, want 1, 0", d.Decoded, d.Skipped())
			}
			if tc.hdrLen < 0 {
				return
			}
			// Cut anywhere before the end of the last header: truncated.
			// Cut right there: still decodes to the same header (first
			// fragments need only the IP header, and lose their ports).
			for n := 0; n < tc.hdrLen; n++ {
				if k, ok := packet.Parse(frame[:n], &h); ok || k != packet.ErrTruncated {
					t.Fatalf("cut at %d: Parse = %v, %v, want truncated", n, k, ok)
				}
			}
			want := tc.want
			if want.Frag == packet.FragFirst {
				want.SrcPort, want.DstPort = 0, 0
			}
			if _, ok := packet.Parse(frame[:tc.hdrLen], &h); !ok || h != want {
				t.Errorf("cut at header end %d: ok=%v header %+v", tc.hdrLen, ok, h)
			}
		})
	}
}

func TestDecodeSyn(t *testing.T) {
	for _, tc := range []struct {
		flags uint8
		want  bool
	}{{packet.TCPSyn, true}, {packet.TCPSyn | packet.TCPAck, false}, {packet.TCPAck, false}, {packet.TCPSyn | 0xc0, true}} {
		f := packettest.Frame{Src: v4a, Dst: v4b, Proto: 6, TCPFlags: tc.flags}
		var h packet.Header
		if _, ok := packet.Parse(f.Bytes(), &h); !ok || h.IsSYN() != tc.want {
			t.Errorf("flags %#x: ok=%v IsSYN=%v, want %v", tc.flags, ok, h.IsSYN(), tc.want)
		}
	}
}

// patch returns a copy of a built frame with fn applied to its bytes.
func patch(f packettest.Frame, fn func(b []byte)) []byte {
	b := f.Bytes()
	fn(b)
	return b
}

type errorCase struct {
	name  string
	frame []byte
	want  packet.ErrKind
}

// errorCases are frames the decoder must skip, and why (also fuzz seeds).
func errorCases() []errorCase {
	syn4 := packettest.Frame{Src: v4a, Dst: v4b, Proto: 6, TCPFlags: packet.TCPSyn}
	syn6 := packettest.Frame{Src: v6a, Dst: v6b, Proto: 6, TCPFlags: packet.TCPSyn}
	return []errorCase{
		{"empty", nil, packet.ErrTruncated},
		{"arp", packettest.Ethernet(packettest.EtherARP, 28), packet.ErrNonIP},
		{"lldp", packettest.Ethernet(packettest.EtherLLDP, 40), packet.ErrNonIP},
		{"arp in vlan", patch(packettest.Frame{Src: v4a, Dst: v4b, VLANs: []uint16{5}}, func(b []byte) {
			binary.BigEndian.PutUint16(b[16:], packettest.EtherARP)
		}), packet.ErrNonIP},
		{"four vlan tags", (&packettest.Frame{Src: v4a, Dst: v4b, VLANs: []uint16{1, 2, 3, 4}}).Bytes(), packet.ErrTooManyTags},
		{"nine mpls labels", (&packettest.Frame{Src: v4a, Dst: v4b, MPLS: []uint32{1, 2, 3, 4, 5, 6, 7, 8, 9}}).Bytes(), packet.ErrTooManyTags},
		{"mpls pseudowire control word", patch(packettest.Frame{Src: v4a, Dst: v4b, MPLS: []uint32{1}}, func(b []byte) {
			b[18] = 0x00
		}), packet.ErrNonIP},
		{"mpls stack cut before bottom", packettest.Ethernet(packettest.EtherMPLS, 46)[:22], packet.ErrTruncated},
		{"mpls stack of zeros", packettest.Ethernet(packettest.EtherMPLS, 46), packet.ErrTooManyTags},
		{"ipv4 ethertype with version 6", patch(syn4, func(b []byte) { b[14] = 0x65 }), packet.ErrBadIPv4},
		{"ipv4 ihl 4", patch(syn4, func(b []byte) { b[14] = 0x44 }), packet.ErrBadIPv4},
		{"ipv4 total length below header", patch(syn4, func(b []byte) { binary.BigEndian.PutUint16(b[16:], 19) }), packet.ErrBadIPv4},
		{"ipv4 ihl past frame", patch(syn4, func(b []byte) { b[14] = 0x4f; binary.BigEndian.PutUint16(b[16:], 60) }), packet.ErrTruncated},
		{"ipv4 total length hides tcp header", patch(syn4, func(b []byte) { binary.BigEndian.PutUint16(b[16:], 30) }), packet.ErrTruncated},
		{"ipv6 ethertype with version 4", patch(syn6, func(b []byte) { b[14] = 0x45 }), packet.ErrBadIPv6},
		{"ipv6 extension chain too long", (&packettest.Frame{Src: v6a, Dst: v6b, Proto: 6, IPv6Ext: []uint8{0, 60, 60, 60, 60, 60, 60, 60, 60}}).Bytes(), packet.ErrBadIPv6Ext},
		{"ipv6 extension past payload length", patch(packettest.Frame{Src: v6a, Dst: v6b, Proto: 59, IPv6Ext: []uint8{60}}, func(b []byte) {
			b[55] = 200
		}), packet.ErrTruncated},
		{"ipv6 payload length hides udp header", patch(packettest.Frame{Src: v6a, Dst: v6b, Proto: 17}, func(b []byte) {
			binary.BigEndian.PutUint16(b[18:], 4)
		}), packet.ErrTruncated},
	}
}

func TestDecodeErrors(t *testing.T) {
	cases := errorCases()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var d packet.Decoder
			var h packet.Header
			if d.Decode(tc.frame, &h) {
				t.Fatalf("Decode = true, header %+v", h)
			}
			for k, n := range d.Errors {
				want := uint64(0)
				if packet.ErrKind(k) == tc.want {
					want = 1
				}
				if n != want {
					t.Errorf("Errors[%v] = %d, want %d", packet.ErrKind(k), n, want)
				}
			}
			if d.Decoded != 0 {
				t.Errorf("Decoded = %d, want 0", d.Decoded)
			}
		})
	}
}

func TestErrKindNames(t *testing.T) {
	seen := map[string]bool{}
	for k := range packet.NumErrKinds {
		s := k.String()
		if s == "unknown" || seen[s] {
			t.Errorf("ErrKind(%d).String() = %q: missing or duplicate", k, s)
		}
		seen[s] = true
	}
	if s := packet.NumErrKinds.String(); s != "unknown" {
		t.Errorf("NumErrKinds.String() = %q, want unknown", s)
	}
}

func TestDecoderAdd(t *testing.T) {
	var a, b packet.Decoder
	var h packet.Header
	a.Decode((&packettest.Frame{Src: v4a, Dst: v4b}).Bytes(), &h)
	b.Decode(nil, &h)
	b.Decode(packettest.Ethernet(packettest.EtherARP, 28), &h)
	a.Add(&b)
	if a.Decoded != 1 || a.Errors[packet.ErrTruncated] != 1 || a.Errors[packet.ErrNonIP] != 1 || a.Skipped() != 2 {
		t.Errorf("after Add: %+v", a)
	}
}

func TestDecodeAllocs(t *testing.T) {
	var frames [][]byte
	for _, tc := range decodeCases() {
		frames = append(frames, tc.frame.Bytes())
	}
	frames = append(frames, packettest.Ethernet(packettest.EtherARP, 28), nil)
	var d packet.Decoder
	var h packet.Header
	allocs := testing.AllocsPerRun(100, func() {
		for _, f := range frames {
			d.Decode(f, &h)
		}
	})
	if allocs != 0 {
		t.Errorf("Decode allocates %v times per run, want 0", allocs)
	}
}
