package detect

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/hosts"
	"github.com/rampartnet/rampart/sensor/packet"
	"github.com/rampartnet/rampart/sensor/sample"
)

// Each attack at 3x its threshold, starting anywhere in a tick, is detected
// within 300 ms with the right type and a rule that matches the attack.
func TestAttackTypes(t *testing.T) {
	tcp, udp, icmp := []Protocol{6}, []Protocol{17}, []Protocol{1}
	for _, tc := range []struct {
		name      string
		gen       func(*rand.Rand, *packet.Header)
		pps       float64
		offset    time.Duration // attack start after a tick boundary
		wantType  string
		wantProto []Protocol
		wantRule  func(*Rule) bool
	}{
		{"syn", synFlood, 3 * 5_000, 0, TypeSYNFlood, tcp, func(r *Rule) bool {
			return r.TCPFlags != nil && r.TCPFlags.Bits&packet.TCPSyn != 0 && r.TCPFlags.Mask&packet.TCPAck != 0 &&
				slices.Equal(r.DestinationPorts, []PortRange{{443, 443}})
		}},
		{"ack", ackFlood, 3 * 20_000, 37 * time.Millisecond, TypeACKFlood, tcp, func(r *Rule) bool { return r.TCPFlags != nil }},
		{"rst", rstFlood, 3 * 20_000, 66 * time.Millisecond, TypeRSTFlood, tcp, func(r *Rule) bool {
			return r.TCPFlags != nil && r.TCPFlags.Bits&packet.TCPRst != 0
		}},
		{"udp", udpFlood, 3 * 10_000, 99 * time.Millisecond, TypeUDPFlood, udp, nil},
		{"dns", amplification(53, 1200, 1500), 3 * 10_000, 50 * time.Millisecond, "dns_amplification", udp, func(r *Rule) bool {
			return slices.Equal(r.SourcePorts, []PortRange{{53, 53}}) && r.PacketLength != nil && r.PacketLength.From >= 1200
		}},
		{"ntp", amplification(123, 468, 468), 3 * 10_000, 10 * time.Millisecond, "ntp_amplification", udp, func(r *Rule) bool {
			return slices.Equal(r.SourcePorts, []PortRange{{123, 123}}) && *r.PacketLength == Range{468, 468}
		}},
		{"memcached", amplification(11211, 1400, 1428), 3 * 10_000, 80 * time.Millisecond, "memcached_amplification", udp, func(r *Rule) bool {
			return slices.Equal(r.SourcePorts, []PortRange{{11211, 11211}})
		}},
		{"ssdp", amplification(1900, 300, 350), 3 * 10_000, 20 * time.Millisecond, "ssdp_amplification", udp, nil},
		{"icmp", icmpFlood, 3 * 2_000, 70 * time.Millisecond, TypeICMPFlood, icmp, nil},
		{"frag", fragFlood, 3 * 2_000, 5 * time.Millisecond, TypeFragmentation, udp, func(r *Rule) bool { return r.Fragment == FragIs }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, testConfig(), nil)
			start := 2*sec + int64(tc.offset)
			atk := newTraffic("203.0.113.7", aggregate.In, tc.pps, start, 4*sec, tc.gen, 1)
			bg := newTraffic("203.0.113.8", aggregate.In, 2_000, 0, 4*sec, download(40), 2) // a benign neighbour
			h.runTo(40, atk, bg)
			as := h.attacks()
			if len(as) != 1 {
				t.Fatalf("got %d attacks, want 1: %+v", len(as), as)
			}
			a := as[0]
			if a.IP != "203.0.113.7" || a.Direction != "in" || a.Type != tc.wantType {
				t.Errorf("attack %s %s type %q, want 203.0.113.7 in %q", a.IP, a.Direction, a.Type, tc.wantType)
			}
			if delay := a.DetectedNs - start; delay <= 0 || delay >= int64(300*time.Millisecond) {
				t.Errorf("detected %v after the start, want within 300ms", time.Duration(delay))
			}
			// A tick only partly flooded may stay under the threshold.
			if a.StartedNs > start+tickNs || a.StartedNs < start-tickNs {
				t.Errorf("started_at %d, want within a tick of the start %d", a.StartedNs, start)
			}
			m := a.Mitigation
			if m.Action != ActionFlowSpec || m.Rule == nil {
				t.Fatalf("mitigation %+v, want a flowspec rule", m)
			}
			r := m.Rule
			if r.Destination.String() != "203.0.113.7/32" || !slices.Equal(r.Protocols, tc.wantProto) {
				t.Errorf("rule %s: want dst 203.0.113.7/32 proto %v", r, tc.wantProto)
			}
			if tc.wantRule != nil && !tc.wantRule(r) {
				t.Errorf("rule %s lacks the expected components", r)
			}
			// The rule matches fresh packets of the attack, and not the neighbour's.
			matched := 0
			for range 1000 {
				ph := atk.header()
				if r.Matches(&ph) {
					matched++
				}
				if nh := bg.header(); r.Matches(&nh) {
					t.Fatalf("rule %s matches the neighbour's packet %+v", r, nh)
				}
			}
			if matched < 900 {
				t.Errorf("rule %s matches %d of 1000 new attack packets, want >= 900", r, matched)
			}
			reqs := h.requests()
			if len(reqs) != 1 || reqs[0].ID != a.ID || reqs[0].Rule == nil || reqs[0].Rule.String() != r.String() {
				t.Errorf("requests %+v, want the attack's rule", reqs)
			}
			if a.PeakPPS < uint64(tc.pps*0.9) || a.Fingerprint == nil || a.Fingerprint.Samples < 10 {
				t.Errorf("peak pps %d (want ~%v), fingerprint %+v", a.PeakPPS, tc.pps, a.Fingerprint)
			}
		})
	}
}

// Heavy transfers are not attacks, and heavy TCP data is never a SYN flood.
func TestBenignHeavyHosts(t *testing.T) {
	for _, tc := range []struct {
		name     string
		dir      aggregate.Dir
		gen      func(*rand.Rand, *packet.Header)
		pps      float64
		flagged  bool     // may be detected (too many flows to call it a transfer)
		notTypes []string // but never as these
	}{
		{"download", aggregate.In, download(1), 60_000, false, nil},
		{"speed test down", aggregate.In, download(8), 80_000, false, nil},
		{"speed test up", aggregate.Out, upload(8), 80_000, false, nil},
		{"busy server", aggregate.In, download(500), 60_000, true, []string{TypeSYNFlood, TypeACKFlood}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, testConfig(), nil)
			h.runTo(40, newTraffic("203.0.113.9", tc.dir, tc.pps, sec, 4*sec, tc.gen, 3))
			as := h.attacks()
			if !tc.flagged && len(as) != 0 {
				t.Fatalf("flagged: %+v", as)
			}
			for _, a := range as {
				if slices.Contains(tc.notTypes, a.Type) {
					t.Errorf("typed %q: %+v", a.Type, a.Fingerprint)
				}
			}
			if st := h.det.Stats(); !tc.flagged && st.Benign == 0 {
				t.Errorf("Stats.Benign = 0, want the transfer counted")
			}
		})
	}
}

// A whitelisted host is detected and logged but not mitigated.
func TestWhitelist(t *testing.T) {
	h := newHarness(t, testConfig(), nil, func(d *Deps) { d.Whitelist = append(d.Whitelist, mustPrefix("203.0.113.0/29")) })
	h.runTo(30, newTraffic("203.0.113.7", aggregate.In, 30_000, 2*sec, 3*sec, udpFlood, 1))
	as := h.attacks()
	if len(as) != 1 || as[0].Mitigation.Action != ActionNone || as[0].Mitigation.Reason != "whitelisted" || as[0].State == StateMitigating {
		t.Fatalf("attacks %+v, want one with action none, whitelisted", as)
	}
	if n := len(h.requests()); n != 0 {
		t.Errorf("%d mitigation requests, want none", n)
	}
	if st := h.det.Stats(); st.Whitelisted != 1 || st.Detected != 1 {
		t.Errorf("stats %+v, want 1 whitelisted of 1 detected", st)
	}
}

// Group actions decide the request: blackhole, scrub (redirect), none.
func TestGroupActions(t *testing.T) {
	for _, tc := range []struct {
		ip, action string
		requested  bool
	}{
		{"198.51.100.5", ActionBlackhole, true},
		{"198.51.100.20", ActionNone, false},
		{"198.51.100.40", ActionRedirect, true},
		{"198.51.100.200", ActionFlowSpec, true},
	} {
		t.Run(tc.action, func(t *testing.T) {
			h := newHarness(t, testConfig(), nil)
			h.runTo(30, newTraffic(tc.ip, aggregate.In, 30_000, 2*sec, 3*sec, udpFlood, 1))
			as := h.attacks()
			if len(as) != 1 || as[0].Mitigation.Action != tc.action {
				t.Fatalf("attacks %+v, want one with action %s", as, tc.action)
			}
			reqs := h.requests()
			if (len(reqs) == 1) != tc.requested {
				t.Fatalf("requests %+v, want requested=%v", reqs, tc.requested)
			}
			if tc.requested && tc.action != ActionFlowSpec && (reqs[0].Action != tc.action || reqs[0].Prefix.String() != tc.ip+"/32") {
				t.Errorf("request %+v, want %s of %s/32", reqs[0], tc.action, tc.ip)
			}
		})
	}
}

// The ban ends at the first tick where the host was calm for hold_time and
// min_ban_time has passed since detection (or since a re-trigger).
func TestLifecycle(t *testing.T) {
	for _, tc := range []struct {
		name       string
		hold, ban  time.Duration
		bursts     [][2]int64 // attack intervals
		retriggers int
	}{
		{"min ban dominates", 500 * time.Millisecond, 3 * time.Second, [][2]int64{{2 * sec, 3 * sec}}, 0},
		{"hold dominates", 2 * time.Second, time.Second, [][2]int64{{2 * sec, 4 * sec}}, 0},
		{"re-trigger extends", 2 * time.Second, 3 * time.Second, [][2]int64{{2 * sec, 3 * sec}, {4 * sec, 4*sec + 500*1e6}}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.HoldTime, cfg.MinBanTime = tc.hold, tc.ban
			h := newHarness(t, cfg, nil)
			var trs []*traffic
			for i, b := range tc.bursts {
				trs = append(trs, newTraffic("203.0.113.7", aggregate.In, 30_000, b[0], b[1], udpFlood, uint64(i)))
			}
			h.runTo(150, trs...)
			as := h.attacks()
			if len(as) != 1 {
				t.Fatalf("got %d attacks, want 1: %+v", len(as), as)
			}
			a := as[0]
			last := tc.bursts[len(tc.bursts)-1]
			lastAbove := last[1] // the tick that ends at the burst's end is the last above
			banFrom := a.DetectedNs
			if tc.retriggers > 0 {
				banFrom = last[0] + 2*tickNs // trigger_ticks after the burst starts
			}
			want := max(lastAbove+int64(tc.hold), banFrom+int64(tc.ban))
			if a.EndedNs != want || a.Mitigation.EndedBy != EndedExpired || a.State != StateEnded {
				t.Errorf("ended at %v by %q (state %s), want %v by expired", time.Duration(a.EndedNs), a.Mitigation.EndedBy, a.State, time.Duration(want))
			}
			if a.Retriggers != tc.retriggers {
				t.Errorf("retriggers %d, want %d", a.Retriggers, tc.retriggers)
			}
			if w := h.withdrawn(); !slices.Equal(w, []string{a.ID}) {
				t.Errorf("withdrawn %v, want [%s]", w, a.ID)
			}
		})
	}
}

// Manual bans mitigate a quiet host for their duration; Unban ends an
// attack and keeps the host undetected for unban_grace.
func TestManualBanUnban(t *testing.T) {
	h := newHarness(t, testConfig(), nil)
	quiet, loud := KeyOf(ip4("203.0.113.20")), KeyOf(ip4("203.0.113.21"))
	if err := h.det.Ban(quiet, aggregate.In, "ticket 42", 3*time.Second); err != nil {
		t.Fatal(err)
	}
	atk := newTraffic("203.0.113.21", aggregate.In, 30_000, sec, 20*sec, udpFlood, 1)
	h.runTo(30, atk) // to 3 s
	as := h.attacks()
	if len(as) != 2 {
		t.Fatalf("got %d attacks, want the ban and the flood: %+v", len(as), as)
	}
	ban := as[0]
	if !ban.Manual || ban.Type != TypeManual || ban.ManualReason != "ticket 42" || ban.Mitigation.Action != ActionBlackhole {
		t.Errorf("ban %+v: want manual, blackhole (no samples to build a rule from)", ban)
	}
	if err := h.det.Unban(loud, "false positive"); err != nil {
		t.Fatal(err)
	}
	h.runTo(31, atk)
	unbanned := 3*sec + tickNs
	as = h.attacks()
	flood := as[1]
	if flood.EndedNs != unbanned || flood.Mitigation.EndedBy != EndedManual {
		t.Errorf("flood ended at %v by %q, want %v manual", time.Duration(flood.EndedNs), flood.Mitigation.EndedBy, time.Duration(unbanned))
	}
	h.runTo(100, atk) // the flood goes on to 20 s; grace is 5 s
	as = h.attacks()
	if as[0].EndedNs != 10*tickNs+3*sec || as[0].Mitigation.EndedBy != EndedExpired {
		t.Errorf("ban ended at %v by %q, want 4s expired", time.Duration(as[0].EndedNs), as[0].Mitigation.EndedBy)
	}
	if len(as) != 3 || as[2].DetectedNs != unbanned+5*sec {
		t.Fatalf("attacks %+v, want the flood detected again when grace ends at %v", as, time.Duration(unbanned+5*sec))
	}
	if err := h.det.Ban(quiet, 7, "", 0); err == nil {
		t.Error("Ban with direction 7: want an error")
	}
}

// fixedLearned sets every inbound threshold of one host to limit.
type fixedLearned struct {
	key   hosts.Key
	limit uint64
	calls int
}

func (f *fixedLearned) Override(key hosts.Key, _ int, d aggregate.Dir, l *Limits) {
	f.calls++
	if key == f.key && d == aggregate.In {
		for s := range l {
			l[s] = f.limit
		}
	}
}

// Learned thresholds replace the group's: lower ones detect what the group
// would not, higher ones hold back what it would.
func TestLearnedThresholds(t *testing.T) {
	for _, tc := range []struct {
		name    string
		limit   uint64
		pps     float64
		flagged bool
	}{
		{"lower", 1_000, 5_000, true},
		{"higher", 1e12, 50_000, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &fixedLearned{key: KeyOf(ip4("203.0.113.7")), limit: tc.limit}
			h := newHarness(t, testConfig(), l)
			h.runTo(30, newTraffic("203.0.113.7", aggregate.In, tc.pps, sec, 3*sec, udpFlood, 1))
			if got := len(h.attacks()) == 1; got != tc.flagged || l.calls == 0 {
				t.Errorf("flagged %v (want %v), learned consulted %d times", got, tc.flagged, l.calls)
			}
		})
	}
}

// Many attacks opening in one tick: a SampleRanger reads the samples once
// for all; a plain store is scanned for at most maxScansPerTick of them and
// the rest open a tick later. Either way each gets its own samples.
func TestCarpetBombing(t *testing.T) {
	const targets = maxScansPerTick + 8
	for _, tc := range []struct {
		name     string
		ranger   bool
		deferred uint64
	}{{"store", false, targets - maxScansPerTick}, {"ranger", true, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []harnessOpt
			if !tc.ranger {
				opts = append(opts, func(d *Deps) { d.Samples = forHostOnly{sample.NewStore(1 << 16)} })
			}
			h := newHarness(t, testConfig(), nil, opts...)
			var trs []*traffic
			for i := range targets {
				ip := netip.AddrFrom4([4]byte{203, 0, 113, byte(100 + i)}).String()
				trs = append(trs, newTraffic(ip, aggregate.In, 30_000, 2*sec, 3*sec, amplification(uint16(123), 468, 468), uint64(i)))
			}
			h.runTo(23, trs...)
			as := h.attacks()
			if len(as) != targets {
				t.Fatalf("%d attacks, want %d", len(as), targets)
			}
			for _, a := range as {
				if a.Type != "ntp_amplification" || a.Mitigation.Rule == nil || a.Mitigation.Rule.Destination.Addr().String() != a.IP {
					t.Errorf("attack %s: type %s, rule %v", a.IP, a.Type, a.Mitigation.Rule)
				}
			}
			if st := h.det.Stats(); st.TriggersDeferred != tc.deferred {
				t.Errorf("TriggersDeferred = %d, want %d", st.TriggersDeferred, tc.deferred)
			}
		})
	}
}

// A sensor that stops mid-attack records the attack as ended by shutdown but
// leaves its mitigation in place: the mitigator persists it over the restart.
func TestShutdownKeepsMitigations(t *testing.T) {
	h := newHarness(t, testConfig(), nil)
	h.runTo(30, newTraffic("203.0.113.7", aggregate.In, 30_000, 1*sec, 10*sec, udpFlood, 1))
	if len(h.mit.reqs) != 1 {
		t.Fatalf("%d mitigation requests, want 1", len(h.mit.reqs))
	}
	if err := h.det.Close(); err != nil {
		t.Fatal(err)
	}
	as := h.attacks()
	if len(as) != 1 || as[0].Mitigation.EndedBy != EndedShutdown {
		t.Fatalf("attacks after Close = %+v, want one ended by %s", as, EndedShutdown)
	}
	if w := h.withdrawn(); len(w) != 0 {
		t.Errorf("Close withdrew %v; a stopping sensor must leave its mitigations in place", w)
	}
}
