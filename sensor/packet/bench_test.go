package packet_test

import (
	"testing"

	"github.com/rampartnet/rampart/sensor/packet"
	"github.com/rampartnet/rampart/sensor/packet/packettest"
)

// benchFrames are 64-byte-on-the-wire frames (60 bytes captured + FCS) to
// many destinations, so the branch predictor sees one shape but varied data.
func benchFrames(f packettest.Frame) [][]byte {
	frames := make([][]byte, 256)
	for i := range frames {
		f.DstPort = uint16(i)
		f.SrcPort = uint16(1024 + i)
		frames[i] = f.Bytes()
	}
	return frames
}

func benchDecode(b *testing.B, f packettest.Frame) {
	frames := benchFrames(f)
	var d packet.Decoder
	var h packet.Header
	var sink uint64
	b.SetBytes(int64(len(frames[0])))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if d.Decode(frames[i&255], &h) {
			sink += uint64(h.DstPort)
		}
	}
	if d.Decoded == 0 || sink == 0 {
		b.Fatal("nothing decoded")
	}
}

func BenchmarkDecodeTCP4(b *testing.B) {
	benchDecode(b, packettest.Frame{Src: v4a, Dst: v4b, Proto: 6, TCPFlags: packet.TCPSyn})
}

func BenchmarkDecodeTCP6(b *testing.B) {
	benchDecode(b, packettest.Frame{Src: v6a, Dst: v6b, Proto: 6, TCPFlags: packet.TCPAck})
}

func BenchmarkDecodeVLANUDP4(b *testing.B) {
	benchDecode(b, packettest.Frame{Src: v4a, Dst: v4b, Proto: 17, VLANs: []uint16{10}})
}

func BenchmarkDecodeQinQTCP4(b *testing.B) {
	benchDecode(b, packettest.Frame{Src: v4a, Dst: v4b, Proto: 6, VLANs: []uint16{10, 20}})
}

func BenchmarkDecodeV6Ext(b *testing.B) {
	benchDecode(b, packettest.Frame{Src: v6a, Dst: v6b, Proto: 17, IPv6Ext: []uint8{0, 60}})
}
