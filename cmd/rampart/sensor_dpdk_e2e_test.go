//go:build !nodpdk

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rampartnet/rampart/sensor/packet"
	"github.com/rampartnet/rampart/sensor/packet/packettest"
)

// TestSensorOverDPDK runs `rampart sensor` on DPDK's net_pcap virtual device
// (no NIC, no hugepages): the whole live pipeline — EAL, port, pinned
// worker, decoder, tables, aggregator — counts every frame of the trace,
// and the NIC's own counter agrees.
func TestSensorOverDPDK(t *testing.T) {
	if testing.Short() {
		t.Skip("starts DPDK")
	}
	if os.Geteuid() != 0 {
		t.Skip("DPDK needs root")
	}
	dir := t.TempDir()
	trace := packettest.Generate(t0, 3,
		packettest.Flow{Frame: packettest.Frame{Src: remote, Dst: web1, Proto: packet.ProtoTCP, SrcPort: 1, DstPort: 80, TCPFlags: packet.TCPSyn}, PPS: 20000, End: time.Second, RandSrcPort: true},
		packettest.Flow{Frame: packettest.Frame{Src: far6, Dst: v6host, Proto: packet.ProtoUDP, SrcPort: 53, DstPort: 9, Payload: 200}, PPS: 3000, End: time.Second},
	)
	pcap := filepath.Join(dir, "trace.pcap")
	if err := packettest.WritePcap(pcap, trace); err != nil {
		t.Fatal(err)
	}
	// EAL keeps its runtime directory after exit; this test's is its own.
	prefix := fmt.Sprintf("rampart-e2e-%d", os.Getpid())
	t.Cleanup(func() { os.RemoveAll(filepath.Join("/var/run/dpdk", prefix)) })
	cfg := filepath.Join(dir, "dpdk.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`sensor_id: dpdk-e2e
api: { enabled: false } # 8179 may be a running demo
networks: [198.51.100.0/24, 2001:db8:100::/48]
capture:
  source: dpdk
  dpdk:
    ports: [{device: "net_pcap0,rx_pcap=%s", queues: 1}]
    workers: [1]
    main_core: 0
    no_huge: true
    memory_mb: 256
    file_prefix: %s
`, pcap, prefix)), 0o644); err != nil {
		t.Fatal(err)
	}
	r := startSensor(t, "sensor", "--config", cfg)
	r.waitFor("sensor running", 60*time.Second)
	// net_pcap replays the file once, at once; give it time, then stop.
	time.Sleep(2 * time.Second)
	r.stop(syscall.SIGINT)
	var totals map[string]any
	for _, line := range strings.Split(r.Log(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["message"] == "sensor totals" {
			totals = rec
		}
	}
	if totals == nil {
		t.Fatalf("no totals in the log:\n%s", r.Log())
	}
	want := float64(len(trace))
	if totals["packets"] != want || totals["rx_packets"] != want || totals["rx_missed"] != 0.0 {
		t.Errorf("totals = %v, want %v packets counted and received, none missed", totals, want)
	}
	if totals["hosts"] != 2.0 {
		t.Errorf("hosts = %v, want 2", totals["hosts"])
	}
}
