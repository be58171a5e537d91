package main

import (
	"encoding/json"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampartnet/rampart/sensor/packet"
	"github.com/rampartnet/rampart/sensor/packet/packettest"
)

var (
	web1   = netip.MustParseAddr("198.51.100.10")
	web2   = netip.MustParseAddr("198.51.100.20")
	other  = netip.MustParseAddr("198.51.100.200") // monitored, default group
	v6host = netip.MustParseAddr("2001:db8:100::10")
	remote = netip.MustParseAddr("203.0.113.5")
	far6   = netip.MustParseAddr("2001:db8:ffff::1")
	t0     = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC).UnixNano()
)

// mixedTrace covers every kind of counting: TCP with SYN and ACK, UDP, ICMP,
// fragments, VLAN, IPv6, traffic between two monitored hosts, unmonitored
// traffic, and frames the decoder must skip.
func mixedTrace() []packettest.Timed {
	sec := time.Second
	pkts := packettest.Generate(t0, 7,
		packettest.Flow{Frame: packettest.Frame{Src: remote, Dst: web1, Proto: packet.ProtoTCP, SrcPort: 40000, DstPort: 443, TCPFlags: packet.TCPSyn}, PPS: 200, End: 2 * sec, RandSrcPort: true},
		packettest.Flow{Frame: packettest.Frame{Src: web1, Dst: remote, Proto: packet.ProtoTCP, SrcPort: 443, DstPort: 40000, TCPFlags: packet.TCPSyn | packet.TCPAck, Payload: 1000}, PPS: 100, End: 2 * sec},
		packettest.Flow{Frame: packettest.Frame{Src: remote, Dst: web2, Proto: packet.ProtoUDP, SrcPort: 53, DstPort: 5353, Payload: 400, VLANs: []uint16{100}}, PPS: 300, Start: sec / 2, End: 3 * sec / 2},
		packettest.Flow{Frame: packettest.Frame{Src: remote, Dst: web2, Proto: packet.ProtoUDP, SrcPort: 53, DstPort: 5353, Payload: 1400, MoreFrags: true, FragID: 9}, PPS: 20, End: sec},
		packettest.Flow{Frame: packettest.Frame{Src: remote, Dst: web2, Proto: packet.ProtoUDP, FragOffset: 185, FragID: 9, Payload: 200}, PPS: 20, End: sec},
		packettest.Flow{Frame: packettest.Frame{Src: web1, Dst: other, Proto: packet.ProtoICMP, ICMPType: 8, Payload: 56}, PPS: 10, End: 2 * sec},
		packettest.Flow{Frame: packettest.Frame{Src: far6, Dst: v6host, Proto: packet.ProtoTCP, SrcPort: 5000, DstPort: 22, TCPFlags: packet.TCPAck, IPv6Ext: []uint8{packettest.ExtHopByHop}}, PPS: 50, End: 2 * sec},
		packettest.Flow{Frame: packettest.Frame{Src: remote, Dst: netip.MustParseAddr("192.0.2.1"), Proto: packet.ProtoUDP, SrcPort: 1, DstPort: 2}, PPS: 5, End: sec},
	)
	arp := packettest.Ethernet(0x0806, 60)
	truncated := packettest.Frame{Src: remote, Dst: web1, Proto: packet.ProtoTCP}.Bytes()[:30]
	return append(pkts,
		packettest.Timed{TimeNs: pkts[len(pkts)-1].TimeNs + 1, Raw: arp},
		packettest.Timed{TimeNs: pkts[len(pkts)-1].TimeNs + 2, Raw: truncated},
	)
}

type replayJSON struct {
	Packets      uint64            `json:"packets"`
	Bytes        uint64            `json:"bytes"`
	DecodeErrors map[string]uint64 `json:"decode_errors"`
	OtherPackets uint64            `json:"other_packets"`
	Hosts        []map[string]any  `json:"hosts"`
	Attacks      []any             `json:"attacks"`
}

func TestReplayGolden(t *testing.T) {
	pcap := filepath.Join(t.TempDir(), "mixed.pcap")
	trace := mixedTrace()
	if err := packettest.WritePcap(pcap, trace); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := run(t, "replay", "--config", "testdata/replay.yaml", "--json", pcap)
	if code != 0 {
		t.Fatalf("replay exit %d: %s", code, stderr)
	}
	golden(t, "replay_mixed_json", stdout)
	text, _, _ := run(t, "replay", "--config", "testdata/replay.yaml", pcap)
	golden(t, "replay_mixed_text", text)

	var got replayJSON
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatal(err)
	}
	// The expected counts come from the generator's own list, not the sensor.
	want := expectedCounts(trace)
	if got.Packets != uint64(len(trace)) {
		t.Errorf("packets = %d, want %d", got.Packets, len(trace))
	}
	if got.DecodeErrors["non_ip"] != 1 || got.DecodeErrors["truncated"] != 1 {
		t.Errorf("decode_errors = %v, want non_ip 1 and truncated 1", got.DecodeErrors)
	}
	if got.OtherPackets != want.other {
		t.Errorf("other_packets = %d, want %d", got.OtherPackets, want.other)
	}
	if len(got.Hosts) != len(want.hosts) {
		t.Errorf("%d hosts, want %d", len(got.Hosts), len(want.hosts))
	}
	for _, h := range got.Hosts {
		ip := h["ip"].(string)
		w, ok := want.hosts[ip]
		if !ok {
			t.Errorf("unexpected host %s", ip)
			continue
		}
		for k, v := range w {
			if uint64(h[k].(float64)) != v {
				t.Errorf("%s %s = %v, want %d", ip, k, h[k], v)
			}
		}
	}
}

type counts struct {
	hosts map[string]map[string]uint64
	other uint64
}

// expectedCounts counts the trace the way the sensor must: by direction
// relative to the monitored networks of testdata/replay.yaml.
func expectedCounts(trace []packettest.Timed) counts {
	nets := []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("2001:db8:100::/48")}
	inside := func(a netip.Addr) bool {
		for _, n := range nets {
			if n.Contains(a) {
				return true
			}
		}
		return false
	}
	c := counts{hosts: map[string]map[string]uint64{}}
	add := func(a netip.Addr, dir string, f packettest.Frame, size uint64) {
		m := c.hosts[a.String()]
		if m == nil {
			m = map[string]uint64{}
			c.hosts[a.String()] = m
		}
		m[dir+"packets"]++
		m[dir+"bytes"] += size
		switch f.Proto {
		case packet.ProtoTCP:
			m[dir+"tcp_packets"]++
			if f.TCPFlags&(packet.TCPSyn|packet.TCPAck) == packet.TCPSyn && f.FragOffset == 0 {
				m[dir+"syn_packets"]++
			}
		case packet.ProtoUDP:
			m[dir+"udp_packets"]++
		case packet.ProtoICMP, packet.ProtoICMPv6:
			m[dir+"icmp_packets"]++
		}
		if f.IsFragment() {
			m[dir+"frag_packets"]++
		}
	}
	for _, p := range trace {
		if p.Raw != nil {
			continue
		}
		size := uint64(len(p.Frame.Bytes()))
		dIn, sIn := inside(p.Frame.Dst), inside(p.Frame.Src)
		if dIn {
			add(p.Frame.Dst, "in_", p.Frame, size)
		}
		if sIn {
			add(p.Frame.Src, "out_", p.Frame, size)
		}
		if !dIn && !sIn {
			c.other++
		}
	}
	return c
}

// TestReplayMatchesTshark checks the per-host packet counts against an
// independent decoder.
func TestReplayMatchesTshark(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed (scripts/install-deps.sh test installs it)")
	}
	pcap := filepath.Join(t.TempDir(), "mixed.pcap")
	if err := packettest.WritePcap(pcap, mixedTrace()); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("tshark", "-r", pcap, "-T", "fields", "-E", "separator=,", "-e", "ip.src", "-e", "ip.dst", "-e", "ipv6.src", "-e", "ipv6.dst").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	inPkts := map[string]uint64{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, ",")
		if len(f) < 4 {
			continue
		}
		dst := f[1]
		if dst == "" {
			dst = f[3]
		}
		if a, err := netip.ParseAddr(dst); err == nil && (netip.MustParsePrefix("198.51.100.0/24").Contains(a) || netip.MustParsePrefix("2001:db8:100::/48").Contains(a)) {
			inPkts[a.String()]++
		}
	}
	stdout, stderr, code := run(t, "replay", "--config", "testdata/replay.yaml", "--json", pcap)
	if code != 0 {
		t.Fatalf("replay exit %d: %s", code, stderr)
	}
	var got replayJSON
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatal(err)
	}
	for _, h := range got.Hosts {
		ip := h["ip"].(string)
		if n := uint64(h["in_packets"].(float64)); n != inPkts[ip] {
			t.Errorf("%s: replay counted %d incoming packets, tshark %d", ip, n, inPkts[ip])
		}
		delete(inPkts, ip)
	}
	for ip, n := range inPkts {
		if n > 0 {
			t.Errorf("%s: tshark saw %d incoming packets, replay reported no host", ip, n)
		}
	}
}
