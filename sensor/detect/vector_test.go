package detect

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/hosts"
	"github.com/rampartnet/rampart/sensor/packet"
)

// phase is one vector of a multi-vector attack on 203.0.113.7, 2 s long.
type phase struct {
	gen      func(*rand.Rand, *packet.Header)
	pps      float64
	wantType string
	wantRule func(*Rule) bool
}

var (
	synPhase = phase{synFlood, 3 * 5_000, TypeSYNFlood, func(r *Rule) bool {
		return slices.Equal(r.Protocols, []Protocol{6}) && r.TCPFlags != nil && r.TCPFlags.Bits == packet.TCPSyn
	}}
	dnsPhase = phase{amplification(53, 1200, 1500), 3 * 10_000, "dns_amplification", func(r *Rule) bool {
		return slices.Equal(r.Protocols, []Protocol{17}) && slices.Equal(r.SourcePorts, []PortRange{{53, 53}})
	}}
	ntpPhase = phase{amplification(123, 468, 468), 3 * 10_000, "ntp_amplification", func(r *Rule) bool {
		return slices.Equal(r.Protocols, []Protocol{17}) && slices.Equal(r.SourcePorts, []PortRange{{123, 123}})
	}}
	icmpPhase = phase{icmpFlood, 3 * 2_000, TypeICMPFlood, nil}
)

// runPhases floods 203.0.113.7 with each phase in turn from 2 s, 2 s each,
// beside a small benign download to the same host (under the 5% a rule may
// leave out), and runs until the ban is over.
func runPhases(t *testing.T, cfg Config, learned Learned, phases ...phase) (*harness, []*traffic) {
	t.Helper()
	h := newHarness(t, cfg, learned)
	trs := []*traffic{newTraffic("203.0.113.7", aggregate.In, 300, sec, 12*sec, download(40), 99)}
	var atks []*traffic
	for i, p := range phases {
		from := 2*sec + int64(i)*2*sec
		atks = append(atks, newTraffic("203.0.113.7", aggregate.In, p.pps, from, from+2*sec, p.gen, uint64(i+1)))
	}
	h.runTo(150, append(trs, atks...)...)
	return h, atks
}

// A SYN flood that turns into DNS and then NTP amplification is one attack
// with three rules, each asked as the vector appears, each matching its
// vector, all withdrawn at the end.
func TestMultiVector(t *testing.T) {
	phases := []phase{synPhase, dnsPhase, ntpPhase}
	h, atks := runPhases(t, testConfig(), nil, phases...)
	as := h.attacks()
	if len(as) != 1 {
		t.Fatalf("got %d attacks, want 1: %+v", len(as), as)
	}
	a := as[0]
	wantTypes := []string{TypeSYNFlood, "dns_amplification", "ntp_amplification"}
	if a.Type != TypeSYNFlood || !slices.Equal(a.Types, wantTypes) || len(a.Vectors) != 2 {
		t.Fatalf("type %q types %v with %d added vectors, want %v", a.Type, a.Types, len(a.Vectors), wantTypes)
	}
	reqs := h.requests()
	wantIDs := []string{a.ID, a.ID + "-v2", a.ID + "-v3"}
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3: %+v", len(reqs), reqs)
	}
	mits := []Mitigation{a.Mitigation, a.Vectors[0].Mitigation, a.Vectors[1].Mitigation}
	for i, p := range phases {
		r := reqs[i]
		if r.ID != wantIDs[i] || r.Action != ActionFlowSpec || r.Rule == nil || !p.wantRule(r.Rule) {
			t.Errorf("request %d: %s %s %v, want %s: a flowspec rule for %s", i, r.ID, r.Action, r.Rule, wantIDs[i], p.wantType)
			continue
		}
		if mits[i].Rule == nil || mits[i].Rule.String() != r.Rule.String() || mits[i].EndedBy != EndedExpired {
			t.Errorf("vector %d: mitigation %+v, want the requested rule, ended by expiry", i, mits[i])
		}
		matched := 0
		for range 1000 {
			if ph := atks[i].header(); r.Rule.Matches(&ph) {
				matched++
			}
		}
		if matched < 900 {
			t.Errorf("rule %d %s matches %d of 1000 packets of its vector, want >= 900", i, r.Rule, matched)
		}
	}
	for i, v := range a.Vectors {
		switchAt := 2*sec + int64(i+1)*2*sec
		if delay := v.DetectedNs - switchAt; delay <= 0 || delay > int64(300*time.Millisecond) {
			t.Errorf("vector %s added %v after it began, want within 300ms", v.Type, time.Duration(delay))
		}
		if v.RequestID != wantIDs[i+1] || v.Type != wantTypes[i+1] || v.Fingerprint == nil || v.Fingerprint.Samples < 10 {
			t.Errorf("vector %d: %+v", i+1, v)
		}
	}
	if w := h.withdrawn(); !slices.Equal(w, wantIDs) {
		t.Errorf("withdrawn %v, want %v", w, wantIDs)
	}
	if st := h.det.Stats(); st.VectorsAdded != 2 || st.MitigationsRequested != 3 || st.Detected != 1 || len(st.Active) != 0 {
		t.Errorf("stats %+v, want 2 vectors added, 3 requests, 1 attack, none active", st)
	}
	// JSON keeps "type" and "mitigation" of the first vector.
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var j struct {
		Type       string   `json:"type"`
		Types      []string `json:"types"`
		Mitigation struct {
			Action string `json:"action"`
		} `json:"mitigation"`
		Vectors []struct {
			Type      string `json:"type"`
			RequestID string `json:"request_id"`
		} `json:"vectors"`
	}
	if err := json.Unmarshal(b, &j); err != nil {
		t.Fatal(err)
	}
	if j.Type != TypeSYNFlood || !slices.Equal(j.Types, wantTypes) || j.Mitigation.Action != ActionFlowSpec ||
		len(j.Vectors) != 2 || j.Vectors[1].RequestID != wantIDs[2] {
		t.Errorf("json %s", b)
	}
}

// An attack that keeps its vector gets no more rules, whatever the spread
// of its lengths and ports beyond what its rule covers.
func TestOneVectorOneRule(t *testing.T) {
	for _, tc := range []struct {
		name     string
		p        phase
		udpLimit uint64 // learned limit of udp_pps, 0 for the group's
	}{
		{"syn", synPhase, 0},
		{"dns", dnsPhase, 0},
		{"udp", phase{udpFlood, 3 * 10_000, TypeUDPFlood, nil}, 0},
		{"ack", phase{ackFlood, 3 * 20_000, TypeACKFlood, nil}, 0},
		{"frag", phase{fragFlood, 3 * 2_000, TypeFragmentation, nil}, 0},
		// The ~5% of its length spread the rule leaves out is itself over the limit.
		{"dns at 30x", dnsPhase, uint64(dnsPhase.pps / 30)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.p
			var learned Learned
			if tc.udpLimit > 0 {
				learned = udpLearned(tc.udpLimit)
			}
			h, _ := runPhases(t, testConfig(), learned, p, p) // 4 s
			as := h.attacks()
			if len(as) != 1 || as[0].Type != p.wantType || len(as[0].Types) != 1 || len(as[0].Vectors) != 0 {
				t.Fatalf("attacks %+v, want one %s attack of one vector", as, p.wantType)
			}
			if reqs := h.requests(); len(reqs) != 1 {
				t.Errorf("%d requests, want 1: %+v", len(reqs), reqs)
			}
			if w := h.withdrawn(); !slices.Equal(w, []string{as[0].ID}) {
				t.Errorf("withdrawn %v, want [%s]", w, as[0].ID)
			}
		})
	}
}

// udpLearned sets the inbound udp_pps limit of every host.
type udpLearned uint64

func (l udpLearned) Override(_ hosts.Key, _ int, d aggregate.Dir, lim *Limits) {
	if d == aggregate.In {
		lim[aggregate.UDPPPS] = uint64(l)
	}
}

// Past max_vectors the host is blackholed, once: no vector is added after.
func TestMaxVectors(t *testing.T) {
	cfg := testConfig()
	cfg.MaxVectors = 2
	h, _ := runPhases(t, cfg, nil, synPhase, dnsPhase, ntpPhase, icmpPhase)
	as := h.attacks()
	if len(as) != 1 {
		t.Fatalf("got %d attacks, want 1: %+v", len(as), as)
	}
	a := as[0]
	reqs := h.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want flowspec, flowspec, blackhole: %+v", len(reqs), reqs)
	}
	if reqs[0].Action != ActionFlowSpec || reqs[1].Action != ActionFlowSpec || !dnsPhase.wantRule(reqs[1].Rule) {
		t.Errorf("requests %+v, want the first two vectors' rules", reqs[:2])
	}
	bh := reqs[2]
	if bh.ID != a.ID+"-v3" || bh.Action != ActionBlackhole || bh.Rule != nil || bh.Prefix.String() != "203.0.113.7/32" {
		t.Errorf("third request %+v, want a blackhole of 203.0.113.7/32 as %s-v3", bh, a.ID)
	}
	if len(a.Vectors) != 2 || a.Vectors[1].Mitigation.Action != ActionBlackhole || a.Vectors[1].Mitigation.Reason == "" {
		t.Errorf("vectors %+v, want the third a blackhole with its reason", a.Vectors)
	}
	if st := h.det.Stats(); st.VectorLimitHits != 1 || st.VectorsAdded != 2 {
		t.Errorf("stats %+v, want one vector over the limit of 2 added", st)
	}
	if w := h.withdrawn(); !slices.Equal(w, []string{a.ID, a.ID + "-v2", a.ID + "-v3"}) {
		t.Errorf("withdrawn %v, want all three", w)
	}
}

// Attacks mitigated host-wide (group blackhole) or not at all (whitelisted)
// have no vectors to add.
func TestNoVectorsWithoutRules(t *testing.T) {
	for _, tc := range []struct {
		ip   string
		opts []harnessOpt
	}{
		{"198.51.100.5", nil}, // group "dns": blackhole
		{"203.0.113.7", []harnessOpt{func(d *Deps) { d.Whitelist = append(d.Whitelist, mustPrefix("203.0.113.0/29")) }}},
	} {
		t.Run(tc.ip, func(t *testing.T) {
			h := newHarness(t, testConfig(), nil, tc.opts...)
			h.runTo(100, newTraffic(tc.ip, aggregate.In, synPhase.pps, 2*sec, 4*sec, synPhase.gen, 1),
				newTraffic(tc.ip, aggregate.In, dnsPhase.pps, 4*sec, 6*sec, dnsPhase.gen, 2))
			as := h.attacks()
			if len(as) != 1 || len(as[0].Vectors) != 0 || len(as[0].Types) != 1 {
				t.Fatalf("attacks %+v, want one of one vector", as)
			}
			if st := h.det.Stats(); st.VectorsAdded != 0 || st.MitigationsRequested > 1 {
				t.Errorf("stats %+v, want no vector, at most one request", st)
			}
		})
	}
}
