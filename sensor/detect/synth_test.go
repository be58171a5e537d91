package detect

import (
	"math/rand/v2"
	"testing"

	"github.com/rampartnet/rampart/sensor/packet"
	"github.com/rampartnet/rampart/sensor/sample"
)

// randomMix draws samples from a few random packet kinds with random weights,
// so some mixes have a dominant kind and some do not.
func randomMix(r *rand.Rand, n int) []sample.Record {
	kinds := 1 + r.IntN(4)
	gens := make([]packet.Header, kinds)
	weights := make([]int, kinds)
	for k := range gens {
		g := &gens[k]
		g.Family, g.Dst4 = packet.IPv4, 0xcb007107
		g.Proto = []uint8{packet.ProtoTCP, packet.ProtoUDP, packet.ProtoICMP, 47}[r.IntN(4)]
		g.SrcPort, g.DstPort = uint16(r.IntN(4)), uint16(r.IntN(3)*1000)
		g.TCPFlags = uint8(r.IntN(64))
		g.Frag = packet.Frag(r.IntN(3))
		g.IPLen = uint16(40 + r.IntN(1460))
		weights[k] = 1 + r.IntN(100)
	}
	recs := make([]sample.Record, n)
	for i := range recs {
		k := pick(r, weights)
		h := gens[k]
		h.Src4 = r.Uint32()
		if r.IntN(3) == 0 {
			h.IPLen += uint16(r.IntN(40)) // jitter
		}
		if r.IntN(4) == 0 {
			h.SrcPort = uint16(r.IntN(65536))
		}
		recs[i].Header = h
	}
	return recs
}

func pick(r *rand.Rand, w []int) int {
	total := 0
	for _, v := range w {
		total += v
	}
	x := r.IntN(total)
	for i, v := range w {
		if x < v {
			return i
		}
		x -= v
	}
	return len(w) - 1
}

// Property: the rule matches exactly the samples it claims, its claim is at
// least the wanted share unless it fell back, and a fallback says why.
func TestSynthesisProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	fallbacks := 0
	for i := range 500 {
		n := 1 + r.IntN(400)
		want := []float64{0.5, 0.8, 0.95, 0.99, 1}[r.IntN(5)]
		recs := randomMix(r, n)
		base := Rule{Destination: mustPrefix("203.0.113.7/32")}
		s := synthesize(recs, base, want, 10)
		matched := 0
		for j := range recs {
			if s.rule.Matches(&recs[j].Header) {
				matched++
			}
		}
		if n >= 10 && matched != s.matched {
			t.Fatalf("case %d: rule %s matches %d samples, claims %d", i, &s.rule, matched, s.matched)
		}
		if s.ok && float64(s.matched) < want*float64(n)-1e-9 {
			t.Fatalf("case %d: rule %s covers %d/%d, below %v", i, &s.rule, s.matched, n, want)
		}
		if !s.ok {
			fallbacks++
			if s.reason == "" {
				t.Fatalf("case %d: fallback without a reason", i)
			}
		}
	}
	if fallbacks == 0 || fallbacks == 500 {
		t.Errorf("%d of 500 fell back: the mixes do not exercise both outcomes", fallbacks)
	}
}

// Examples of what synthesis picks, and when it falls back.
func TestSynthesisExamples(t *testing.T) {
	udp53 := packet.Header{Family: packet.IPv4, Dst4: 0xcb007107, Proto: packet.ProtoUDP, SrcPort: 53, DstPort: 3333, IPLen: 1400}
	mixed := func(n, every int, other packet.Header) []sample.Record {
		recs := make([]sample.Record, n)
		for i := range recs {
			recs[i].Header = udp53
			if every > 0 && i%every == 0 {
				recs[i].Header = other
			}
		}
		return recs
	}
	tcp := udp53
	tcp.Proto, tcp.SrcPort, tcp.TCPFlags = packet.ProtoTCP, 4444, packet.TCPAck
	for _, tc := range []struct {
		name string
		recs []sample.Record
		ok   bool
		text string
	}{
		{"pure", mixed(100, 0, tcp), true, "dst 203.0.113.7/32 proto udp src-port =53 dst-port =3333 len 1400..1400 → discard"},
		{"4% other", mixed(100, 25, tcp), true, "dst 203.0.113.7/32 proto udp src-port =53 dst-port =3333 len 1400..1400 → discard"},
		{"half other", mixed(100, 2, tcp), true, "dst 203.0.113.7/32 proto tcp,udp src-port =53,=4444 dst-port =3333 len 1400..1400 → discard"},
		{"too few", mixed(5, 0, tcp), false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := synthesize(tc.recs, Rule{Destination: mustPrefix("203.0.113.7/32")}, 0.95, 10)
			if s.ok != tc.ok || (tc.ok && s.rule.String() != tc.text) {
				t.Errorf("ok=%v rule %q (reason %q), want ok=%v %q", s.ok, s.rule.String(), s.reason, tc.ok, tc.text)
			}
		})
	}
}

// Property: a rule's span differs from the rule only in its length range,
// matches every sample the rule matches, and no sample of another length
// the other components exclude.
func TestSpanProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	for i := range 300 {
		recs := randomMix(r, 10+r.IntN(400))
		s := synthesize(recs, Rule{Destination: mustPrefix("203.0.113.7/32")}, 0.95, 10)
		if !s.ok {
			continue
		}
		noLen, spanNoLen := s.rule, s.span
		noLen.PacketLength, spanNoLen.PacketLength = nil, nil
		if noLen.String() != spanNoLen.String() {
			t.Fatalf("case %d: span %s differs from rule %s beyond length", i, &s.span, &s.rule)
		}
		for j := range recs {
			h := &recs[j].Header
			if s.rule.Matches(h) && !s.span.Matches(h) {
				t.Fatalf("case %d: rule %s matches %+v, its span %s does not", i, &s.rule, *h, &s.span)
			}
			if s.span.Matches(h) != noLen.Matches(h) {
				t.Fatalf("case %d: span %s and rule without length %s disagree on %+v", i, &s.span, &noLen, *h)
			}
		}
	}
}
