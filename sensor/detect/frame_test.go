package detect

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rampartnet/rampart/sensor/packet"
	"github.com/rampartnet/rampart/sensor/pcapfile"
	"github.com/rampartnet/rampart/sensor/sample"
)

func frameCases() []packet.Header {
	v6 := func(h packet.Header) packet.Header {
		h.Family, h.Src4, h.Dst4 = packet.IPv6, 0, 0
		h.Src6[0], h.Src6[15], h.Dst6[0], h.Dst6[15] = 0x20, 1, 0x20, 2
		if h.Proto == packet.ProtoICMP {
			h.Proto = packet.ProtoICMPv6
		}
		return h
	}
	base := []packet.Header{
		{Family: packet.IPv4, Proto: packet.ProtoTCP, TCPFlags: packet.TCPSyn, SrcPort: 1234, DstPort: 443, IPLen: 60, Src4: 0x0b000001, Dst4: 0xcb007107},
		{Family: packet.IPv4, Proto: packet.ProtoUDP, SrcPort: 53, DstPort: 5555, IPLen: 1400, VLAN: 42, Src4: 0x0b000001, Dst4: 0xcb007107},
		{Family: packet.IPv4, Proto: packet.ProtoICMP, ICMPType: 8, IPLen: 84, Src4: 1, Dst4: 2},
		{Family: packet.IPv4, Proto: packet.ProtoUDP, Frag: packet.FragFirst, SrcPort: 123, DstPort: 9, IPLen: 1500, Src4: 1, Dst4: 2},
		{Family: packet.IPv4, Proto: packet.ProtoUDP, Frag: packet.FragLater, IPLen: 800, Src4: 1, Dst4: 2},
		{Family: packet.IPv4, Proto: 47, IPLen: 100, Src4: 1, Dst4: 2},
	}
	out := base
	for _, h := range base {
		out = append(out, v6(h))
	}
	return out
}

// Rebuilt frames decode back to the header they came from.
func TestFrameRoundTrip(t *testing.T) {
	var dec packet.Decoder
	for i, want := range frameCases() {
		frame := appendFrame(nil, &want)
		var got packet.Header
		if !dec.Decode(frame, &got) {
			t.Fatalf("case %d: %+v does not decode (errors %v)", i, want, dec.Errors)
		}
		if want.Family == packet.IPv6 && want.IPLen < 40 {
			want.IPLen = 40
		}
		if got != want {
			t.Errorf("case %d: decoded %+v, want %+v", i, got, want)
		}
	}
}

// The pcap of an attack's samples reads back frame by frame.
func TestWritePcap(t *testing.T) {
	var recs []sample.Record
	for i, h := range frameCases() {
		recs = append(recs, sample.Record{Header: h, WireLen: uint32(h.IPLen) + 14, TimeNs: int64(i+1) * 1e6})
	}
	path := filepath.Join(t.TempDir(), "a.pcap")
	if err := writePcap(path, recs); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapfile.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var dec packet.Decoder
	for i := range recs {
		data, wire, ts, err := r.Next()
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		var h packet.Header
		if !dec.Decode(data, &h) || h != recs[i].Header || ts != recs[i].TimeNs || wire != recs[i].WireLen {
			t.Errorf("record %d: %+v at %d wire %d, want %+v at %d wire %d", i, h, ts, wire, recs[i].Header, recs[i].TimeNs, recs[i].WireLen)
		}
	}
}
