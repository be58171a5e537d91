package main

import (
	"context"
	"encoding/json"
	"net"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/rampartnet/rampart/sensor/packet"
	"github.com/rampartnet/rampart/sensor/packet/packettest"
)

// TestFlowFloodDetected: a SYN flood, exported as NetFlow v9 by the real
// softflowd from a generated trace, is detected and typed from the flow
// records alone. The test catches softflowd's datagrams on loopback and
// replays them on packet time, so the result does not depend on timing.
func TestFlowFloodDetected(t *testing.T) {
	bin, err := exec.LookPath("softflowd")
	if err != nil {
		t.Skip("softflowd not installed (scripts/install-deps.sh test installs it)")
	}
	sec := time.Second
	victim := host("198.51.100.11")
	var flows []packettest.Flow
	// 300 bots, each sending SYNs from one source port for 3 s: 6,000 SYN/s
	// in total (3x syn_pps), as 300 long flows that exporters report whole.
	for i := 0; i < 300; i++ {
		flows = append(flows, packettest.Flow{
			Frame: packettest.Frame{Src: netip.AddrFrom4([4]byte{203, 0, byte(i / 200), byte(1 + i%200)}), Dst: victim, Proto: packet.ProtoTCP,
				SrcPort: uint16(20000 + i), DstPort: 443, TCPFlags: packet.TCPSyn, MinLen: 54},
			PPS: 20, Start: sec, End: 4 * sec,
		})
	}
	// Background web traffic to a few hosts.
	for i := 0; i < 5; i++ {
		flows = append(flows, packettest.Flow{Frame: packettest.Frame{Src: remote, Dst: netip.AddrFrom4([4]byte{198, 51, 100, byte(100 + i)}),
			Proto: packet.ProtoTCP, SrcPort: uint16(40000 + i), DstPort: 443, TCPFlags: packet.TCPAck, Payload: 500}, PPS: 100, End: 5 * sec})
	}
	dir := t.TempDir()
	trace := filepath.Join(dir, "flood.pcap")
	if err := packettest.WritePcap(trace, packettest.Generate(t0, 5, flows...)); err != nil {
		t.Fatal(err)
	}

	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	port := conn.LocalAddr().(*net.UDPAddr).Port
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-r", trace, "-n", "127.0.0.1:"+strconv.Itoa(port), "-v", "9", "-D", "-c", "none")
	done := make(chan error, 1)
	go func() { out, err := cmd.CombinedOutput(); _ = out; done <- err }()

	// The exports, stamped after the trace in arrival order, 1 ms apart.
	var exports []packettest.Timed
	buf := make([]byte, 65536)
	exited := false
	for i := 0; i < 100000; i++ {
		_ = conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		n, from, err := conn.ReadFromUDP(buf)
		if err != nil {
			if exited {
				break // softflowd gone and the socket quiet
			}
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("softflowd: %v", err)
				}
				exited = true
			case <-ctx.Done():
				t.Fatal("softflowd did not finish in 30s")
			default:
			}
			continue
		}
		frame := packettest.Frame{Src: host("192.0.2.50"), Dst: host("192.0.2.60"), Proto: packet.ProtoUDP,
			SrcPort: uint16(from.Port), DstPort: uint16(port), Payload: n}.Bytes()
		copy(frame[14+20+8:], buf[:n])
		exports = append(exports, packettest.Timed{TimeNs: t0 + int64(5*sec) + int64(len(exports))*int64(time.Millisecond), Raw: frame})
	}
	if len(exports) == 0 {
		t.Fatal("softflowd exported nothing")
	}
	flowPcap := filepath.Join(dir, "exports.pcap")
	if err := packettest.WritePcap(flowPcap, exports); err != nil {
		t.Fatal(err)
	}

	stdout, stderr, code := run(t, "replay", "--config", "testdata/detect.yaml", "--json", "--flow-ports", strconv.Itoa(port), flowPcap)
	if code != 0 {
		t.Fatalf("replay exit %d: %s", code, stderr)
	}
	var got struct {
		Hosts   []map[string]any `json:"hosts"`
		Attacks []attackJSON     `json:"attacks"`
		Flow    struct {
			Records uint64 `json:"records"`
		} `json:"flow"`
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d datagrams, %d records", len(exports), got.Flow.Records)
	var syn float64
	for _, h := range got.Hosts {
		if h["ip"] == victim.String() {
			syn = h["in_syn_packets"].(float64)
		}
	}
	if syn != 300*60 {
		t.Errorf("victim in_syn_packets = %v, want %d (every SYN the trace holds)", syn, 300*60)
	}
	if len(got.Attacks) != 1 {
		t.Fatalf("attacks = %+v, want one on %s", got.Attacks, victim)
	}
	a := got.Attacks[0]
	if a.IP != victim.String() || a.Type != "syn_flood" || a.Mitigation.Action != "flowspec" ||
		a.Mitigation.Rule["destination"] != victim.String()+"/32" {
		t.Errorf("attack = %+v, want a syn_flood on %s mitigated by a flowspec rule", a, victim)
	}
}
