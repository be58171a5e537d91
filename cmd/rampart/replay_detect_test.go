package main

import (
	"encoding/json"
	"net/netip"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/rampartnet/rampart/sensor/packet"
	"github.com/rampartnet/rampart/sensor/packet/packettest"
)

// attackCase is one attack at 3x its threshold (testdata/detect.yaml),
// starting at a known packet time and lasting two seconds.
type attackCase struct {
	victim   string
	start    time.Duration
	flow     packettest.Flow
	wantType string
	wantRule func(t *testing.T, rule map[string]any)
}

func host(s string) netip.Addr { return netip.MustParseAddr(s) }

var botnet = netip.MustParsePrefix("203.0.0.0/16")

func attackCases() []attackCase {
	sec := time.Second
	flood := func(f packettest.Frame, pps float64) packettest.Flow {
		return packettest.Flow{Frame: f, PPS: pps, SrcPrefix: botnet}
	}
	proto := func(name string) func(*testing.T, map[string]any) {
		return func(t *testing.T, r map[string]any) {
			t.Helper()
			if ps, _ := r["protocols"].([]any); len(ps) != 1 || ps[0] != name {
				t.Errorf("rule protocols = %v, want [%s]", r["protocols"], name)
			}
		}
	}
	srcPort := func(name string, port float64) func(*testing.T, map[string]any) {
		return func(t *testing.T, r map[string]any) {
			t.Helper()
			proto(name)(t, r)
			ps, _ := r["source_ports"].([]any)
			if len(ps) != 1 || ps[0].(map[string]any)["from"] != port || ps[0].(map[string]any)["to"] != port {
				t.Errorf("rule source_ports = %v, want =%v", r["source_ports"], port)
			}
		}
	}
	return []attackCase{
		{"198.51.100.11", 1 * sec, packettest.Flow{Frame: packettest.Frame{Dst: host("198.51.100.11"), Proto: packet.ProtoTCP, DstPort: 443, TCPFlags: packet.TCPSyn}, PPS: 6000, SrcPrefix: botnet, RandSrcPort: true},
			"syn_flood", proto("tcp")},
		{"198.51.100.12", 1300 * time.Millisecond, flood(packettest.Frame{Dst: host("198.51.100.12"), Proto: packet.ProtoUDP, SrcPort: 53, DstPort: 31000, Payload: 1200}, 12000),
			"dns_amplification", srcPort("udp", 53)},
		{"198.51.100.13", 1550 * time.Millisecond, flood(packettest.Frame{Dst: host("198.51.100.13"), Proto: packet.ProtoUDP, SrcPort: 123, DstPort: 40000, Payload: 440}, 12000),
			"ntp_amplification", srcPort("udp", 123)},
		{"198.51.100.14", 2 * sec, flood(packettest.Frame{Dst: host("198.51.100.14"), Proto: packet.ProtoICMP, ICMPType: 8, Payload: 56}, 3000),
			"icmp_flood", proto("icmp")},
		{"198.51.100.15", 2250 * time.Millisecond, flood(packettest.Frame{Dst: host("198.51.100.15"), Proto: packet.ProtoUDP, FragOffset: 100, FragID: 7, Payload: 800}, 3000),
			"ip_fragmentation", func(t *testing.T, r map[string]any) {
				if r["fragment"] == "" || r["fragment"] == nil {
					t.Errorf("rule fragment = %v, want a fragment match", r["fragment"])
				}
			}},
		{"198.51.100.16", 2600 * time.Millisecond, packettest.Flow{Frame: packettest.Frame{Dst: host("198.51.100.16"), Proto: packet.ProtoTCP, DstPort: 80, TCPFlags: packet.TCPAck}, PPS: 15000, SrcPrefix: botnet, RandSrcPort: true},
			"ack_flood", proto("tcp")},
		{"2001:db8:100::20", 3 * sec, packettest.Flow{Frame: packettest.Frame{Src: host("2001:db8:ffff::1"), Dst: host("2001:db8:100::20"), Proto: packet.ProtoTCP, DstPort: 22, TCPFlags: packet.TCPSyn}, PPS: 6000, RandSrcPort: true},
			"syn_flood", proto("tcp")},
	}
}

func detectTrace(t *testing.T) (string, []attackCase) {
	t.Helper()
	sec := time.Second
	var flows []packettest.Flow
	// Benign background: 40 hosts, each a few hundred pps of web traffic.
	for i := 0; i < 40; i++ {
		h := netip.AddrFrom4([4]byte{198, 51, 100, byte(100 + i)})
		flows = append(flows,
			packettest.Flow{Frame: packettest.Frame{Src: remote, Dst: h, Proto: packet.ProtoTCP, SrcPort: 50000, DstPort: 443, TCPFlags: packet.TCPAck | packet.TCPPsh, Payload: 500}, PPS: 300, End: 10 * sec, RandSrcPort: true},
			packettest.Flow{Frame: packettest.Frame{Src: remote, Dst: h, Proto: packet.ProtoUDP, SrcPort: 53, DstPort: 40000, Payload: 100}, PPS: 50, End: 10 * sec},
		)
	}
	// A big download: one flow, 8000 pps of full-size segments (~96 Mbit/s,
	// over the mbps threshold), which must not be taken for an attack.
	flows = append(flows, packettest.Flow{Frame: packettest.Frame{Src: remote, Dst: host("198.51.100.18"), Proto: packet.ProtoTCP, SrcPort: 443, DstPort: 51000, TCPFlags: packet.TCPAck, Payload: 1448}, PPS: 8000, Start: 2 * sec, End: 5 * sec})
	// A SYN flood on a whitelisted host: detected, never mitigated.
	flows = append(flows, packettest.Flow{Frame: packettest.Frame{Dst: host("198.51.100.17"), Proto: packet.ProtoTCP, DstPort: 443, TCPFlags: packet.TCPSyn}, PPS: 6000, SrcPrefix: botnet, RandSrcPort: true, Start: 1 * sec, End: 3 * sec})
	cases := attackCases()
	for _, c := range cases {
		f := c.flow
		f.Start, f.End = c.start, c.start+2*sec
		flows = append(flows, f)
	}
	path := filepath.Join(t.TempDir(), "attacks.pcap")
	if err := packettest.WritePcap(path, packettest.Generate(t0, 11, flows...)); err != nil {
		t.Fatal(err)
	}
	return path, cases
}

type attackJSON struct {
	IP         string `json:"ip"`
	Direction  string `json:"direction"`
	Type       string `json:"type"`
	State      string `json:"state"`
	StartedAt  string `json:"started_at"`
	DetectedAt string `json:"detected_at"`
	EndedAt    string `json:"ended_at"`
	PeakPPS    uint64 `json:"peak_pps"`
	Mitigation struct {
		Action string         `json:"action"`
		Reason string         `json:"reason"`
		Rule   map[string]any `json:"rule"`
	} `json:"mitigation"`
}

func TestReplayDetectsAttacks(t *testing.T) {
	pcap, cases := detectTrace(t)
	stdout, stderr, code := run(t, "replay", "--config", "testdata/detect.yaml", "--json", pcap)
	if code != 0 {
		t.Fatalf("replay exit %d: %s", code, stderr)
	}
	var got struct {
		Attacks []attackJSON `json:"attacks"`
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatal(err)
	}
	byIP := map[string]attackJSON{}
	for _, a := range got.Attacks {
		if _, dup := byIP[a.IP]; dup {
			t.Errorf("%s: more than one attack: %+v", a.IP, got.Attacks)
		}
		byIP[a.IP] = a
	}
	for _, c := range cases {
		t.Run(c.wantType+"/"+c.victim, func(t *testing.T) {
			a, ok := byIP[c.victim]
			if !ok {
				t.Fatalf("attack on %s not detected", c.victim)
			}
			if a.Type != c.wantType || a.Direction != "in" {
				t.Errorf("type %q direction %q, want %q in", a.Type, a.Direction, c.wantType)
			}
			detected, err := time.Parse(time.RFC3339Nano, a.DetectedAt)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Unix(0, t0).Add(c.start)
			if lag := detected.Sub(start); lag < 0 || lag >= 300*time.Millisecond {
				t.Errorf("detected %v after the attack started, want < 300ms", lag)
			}
			if a.Mitigation.Action != "flowspec" || a.Mitigation.Rule == nil {
				t.Fatalf("mitigation = %+v, want a flowspec rule", a.Mitigation)
			}
			wantDst := c.victim + "/32"
			if netip.MustParseAddr(c.victim).Is6() {
				wantDst = c.victim + "/128"
			}
			if a.Mitigation.Rule["destination"] != wantDst {
				t.Errorf("rule destination = %v, want %s", a.Mitigation.Rule["destination"], wantDst)
			}
			c.wantRule(t, a.Mitigation.Rule)
			// Two seconds of attack, then hold 1 s and a 2 s minimum ban:
			// over well before the trace's 10 s end.
			if a.State != "ended" || a.EndedAt == "" {
				t.Errorf("state %q ended_at %q, want ended", a.State, a.EndedAt)
			}
		})
	}
	white, ok := byIP["198.51.100.17"]
	if !ok || white.Mitigation.Action != "none" || white.Mitigation.Reason != "whitelisted" {
		t.Errorf("whitelisted victim: %+v (found %v), want detected with action none, reason whitelisted", white, ok)
	}
	for ip := range byIP {
		if ip == "198.51.100.17" || slices.ContainsFunc(cases, func(c attackCase) bool { return c.victim == ip }) {
			continue
		}
		t.Errorf("benign host %s flagged: %+v", ip, byIP[ip])
	}
}

// The same trace gives the same attacks on every run.
func TestReplayDetectionIsDeterministic(t *testing.T) {
	pcap, _ := detectTrace(t)
	first, _, _ := run(t, "replay", "--config", "testdata/detect.yaml", "--json", pcap)
	second, _, _ := run(t, "replay", "--config", "testdata/detect.yaml", "--json", pcap)
	if first != second {
		t.Error("two replays of the same trace differ")
	}
}

func TestReplayDetectTextGolden(t *testing.T) {
	pcap, _ := detectTrace(t)
	text, stderr, code := run(t, "replay", "--config", "testdata/detect.yaml", pcap)
	if code != 0 {
		t.Fatalf("replay exit %d: %s", code, stderr)
	}
	golden(t, "replay_detect_text", text)
}
