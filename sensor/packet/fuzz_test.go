package packet_test

import (
	"testing"

	"github.com/rampartnet/rampart/sensor/packet"
)

// FuzzDecode checks the decoder's invariants on any bytes: exactly one
// counter moves, the fast path and the general walk agree, and a decoded
// header is self-consistent.
func FuzzDecode(f *testing.F) {
	for _, tc := range decodeCases() {
		f.Add(tc.frame.Bytes())
	}
	for _, tc := range errorCases() {
		f.Add(tc.frame)
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		var d packet.Decoder
		var h packet.Header
		ok := d.Decode(frame, &h)
		if ok != (d.Decoded == 1) || d.Decoded+d.Skipped() != 1 {
			t.Fatalf("ok=%v but decoded=%d errors=%v", ok, d.Decoded, d.Errors)
		}
		// An untagged IPv4 frame with a VLAN tag added takes the general
		// walk: it must give the same answer, so Decode's fast path agrees
		// with that walk.
		if len(frame) >= 14 && frame[12] == 0x08 && frame[13] == 0x00 {
			tagged := append(append(append([]byte{}, frame[:12]...), 0x81, 0x00, 0x00, 0x01), frame[12:]...)
			var dt packet.Decoder
			var ht packet.Header
			okt := dt.Decode(tagged, &ht)
			ht.VLAN = h.VLAN // the one field the tag changes
			if okt != ok || dt != d || ok && ht != h {
				t.Fatalf("tagged frame decodes differently: %v %+v %+v, untagged %v %+v %+v", okt, ht, dt, ok, h, d)
			}
		}
		if !ok {
			return
		}
		switch h.Family {
		case packet.IPv4:
			if h.IPLen < 20 || h.Src6 != [16]byte{} || h.Dst6 != [16]byte{} {
				t.Fatalf("bad IPv4 header %+v", h)
			}
		case packet.IPv6:
			if h.IPLen < 40 || h.Src4 != 0 || h.Dst4 != 0 {
				t.Fatalf("bad IPv6 header %+v", h)
			}
		default:
			t.Fatalf("family %d", h.Family)
		}
		if h.Frag == packet.FragLater && (h.SrcPort|h.DstPort != 0 || h.TCPFlags != 0 || h.ICMPType != 0) {
			t.Fatalf("later fragment with L4 fields %+v", h)
		}
		if h.Frag > packet.FragLater {
			t.Fatalf("frag %d", h.Frag)
		}
		if h.Proto != packet.ProtoTCP && h.Proto != packet.ProtoUDP && h.SrcPort|h.DstPort != 0 {
			t.Fatalf("ports on protocol %d", h.Proto)
		}
		if h.Proto != packet.ProtoTCP && h.TCPFlags != 0 {
			t.Fatalf("tcp flags on protocol %d", h.Proto)
		}
		if h.VLAN > 0x0fff {
			t.Fatalf("vlan %d", h.VLAN)
		}
		// Decoding is a pure function of the bytes.
		var h2 packet.Header
		if _, ok2 := packet.Parse(frame, &h2); !ok2 || h2 != h {
			t.Fatalf("second parse differs: %+v vs %+v", h2, h)
		}
	})
}
