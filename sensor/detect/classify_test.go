package detect

import (
	"math/rand/v2"
	"testing"

	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/packet"
	"github.com/rampartnet/rampart/sensor/sample"
)

// demoMix is the inbound half of the demo's benign traffic to a busy host
// (sensor/capture/demosrc/templates.go, by weight): web requests and their
// ACKs with data (ACK|PSH), new connections, DNS queries, QUIC, pings and
// fragmented UDP, from a /24 of clients on random source ports.
func demoMix(r *rand.Rand, h *packet.Header) {
	h.Src4 = 0xcb007100 | 1 + r.Uint32N(255) // 203.0.113.0/24
	sport := uint16(1024 + r.IntN(64512))
	switch w := r.IntN(48); {
	case w < 30: // web request / ack in
		h.Proto, h.TCPFlags, h.IPLen = packet.ProtoTCP, packet.TCPAck|packet.TCPPsh, uint16(40+r.IntN(500))
		h.SrcPort, h.DstPort = sport, 443
	case w < 32: // new connection
		h.Proto, h.TCPFlags, h.IPLen = packet.ProtoTCP, packet.TCPSyn, 40
		h.SrcPort, h.DstPort = sport, []uint16{443, 80, 22}[r.IntN(3)]
	case w < 38: // DNS query
		h.Proto, h.IPLen = packet.ProtoUDP, uint16(28+30+r.IntN(30))
		h.SrcPort, h.DstPort = sport, 53
	case w < 46: // QUIC
		h.Proto, h.IPLen = packet.ProtoUDP, uint16(28+1200+r.IntN(50))
		h.SrcPort, h.DstPort = sport, 443
	case w < 47: // ping
		h.Proto, h.ICMPType, h.IPLen = packet.ProtoICMP, 8, 84
	default: // large UDP, fragmented
		h.Proto = packet.ProtoUDP
		if r.IntN(2) == 0 {
			h.Frag, h.IPLen, h.SrcPort, h.DstPort = packet.FragFirst, 1428, sport, 4789
		} else {
			h.Frag, h.IPLen = packet.FragLater, 1220
		}
	}
}

// The demo's benign mix at the peak the demo showed (38k pps) crosses a
// 20k pps threshold: it may be flagged, but it is many established flows
// with data of mixed sizes, never an ACK (or SYN) flood.
func TestBenignMixNotACKFlood(t *testing.T) {
	h := newHarness(t, testConfig(), nil)
	h.runTo(40, newTraffic("203.0.113.9", aggregate.In, 38_000, sec, 4*sec, demoMix, 5))
	for _, a := range h.attacks() {
		if a.Type == TypeACKFlood || a.Type == TypeSYNFlood {
			t.Errorf("typed %q: %+v", a.Type, a.Fingerprint)
		}
	}
}

// ack_flood needs bare ACKs (no data, no PSH) to be most of the TCP, of
// uniform length, and mostly a flow each; anything else with ACKs is not.
func TestClassifyACK(t *testing.T) {
	for _, tc := range []struct {
		name string
		gen  func(r *rand.Rand, h *packet.Header)
		want string
	}{
		{"ack flood", ackFlood, TypeACKFlood},
		{"ack flood ipv6", func(r *rand.Rand, h *packet.Header) {
			ackFlood(r, h)
			h.Family, h.Src4, h.IPLen = packet.IPv6, 0, 72
			h.Src6[0], h.Src6[15] = 0x20, byte(r.IntN(256))
		}, TypeACKFlood},
		{"demo mix", demoMix, TypeUnknown},
		{"acks with data", func(r *rand.Rand, h *packet.Header) {
			ackFlood(r, h)
			h.IPLen = uint16(40 + r.IntN(1460))
		}, TypeUnknown},
		{"ack-psh", func(r *rand.Rand, h *packet.Header) {
			ackFlood(r, h)
			h.TCPFlags |= packet.TCPPsh
		}, TypeUnknown},
		{"acks of an upload in 4 flows", func(r *rand.Rand, h *packet.Header) {
			f := uint16(r.IntN(4))
			h.Src4, h.Proto, h.TCPFlags, h.IPLen = 0x0d000001, packet.ProtoTCP, packet.TCPAck, 52
			h.SrcPort, h.DstPort = 443, 40000+f
		}, TypeUnknown},
		{"acks of mixed lengths", func(r *rand.Rand, h *packet.Header) {
			ackFlood(r, h)
			h.IPLen = uint16(40 + r.IntN(40))
		}, TypeUnknown},
		{"ack flood under half of the tcp", func(r *rand.Rand, h *packet.Header) {
			if r.IntN(2) == 0 {
				ackFlood(r, h)
				return
			}
			demoMix(r, h)
			h.Proto, h.TCPFlags, h.IPLen, h.Frag = packet.ProtoTCP, packet.TCPAck|packet.TCPPsh, 600, packet.FragNone
		}, TypeUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(7, 7))
			recs := make([]sample.Record, 2000)
			for i := range recs {
				h := &recs[i].Header
				h.Family, h.Dst4 = packet.IPv4, 0xcb007109
				tc.gen(r, h)
			}
			prof := fingerprint(recs, sampleRate)
			var rates [aggregate.NumSeries]uint64
			lim := Limits{}
			for s := range lim {
				lim[s] = Off
			}
			if got := classify(&prof, &rates, &lim, 10); got != tc.want {
				t.Errorf("classified %q, want %q (fingerprint %+v)", got, tc.want, prof.fp)
			}
		})
	}
}
