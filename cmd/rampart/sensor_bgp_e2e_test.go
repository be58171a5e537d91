package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rampartnet/rampart/sensor/packet"
	"github.com/rampartnet/rampart/sensor/packet/packettest"
)

// freePort asks the kernel for a free TCP port on addr.
func freePort(t *testing.T, addr string) int {
	t.Helper()
	l, err := net.Listen("tcp", addr+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestSensorMitigatesAtBIRD: the live sensor on an attack trace, with a real
// BIRD 2 peer, ends with the synthesized FlowSpec rule in BIRD's flow table;
// when the sensor stops, the session closes and the rule leaves BIRD.
func TestSensorMitigatesAtBIRD(t *testing.T) {
	if testing.Short() {
		t.Skip("starts BIRD and the sensor")
	}
	for _, b := range []string{"bird", "birdc"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("%s not installed (scripts/install-deps.sh test installs it)", b)
		}
	}
	const sensorAddr, birdAddr = "127.0.77.1", "127.0.77.3"
	dir := t.TempDir()
	sensorPort, birdPort := freePort(t, sensorAddr), freePort(t, birdAddr)
	victim := "198.51.100.12"

	// DNS amplification for the whole trace over a little background: looped,
	// it is one attack that never ends on packet time.
	sec := time.Second
	trace := filepath.Join(dir, "amp.pcap")
	if err := packettest.WritePcap(trace, packettest.Generate(t0, 9,
		packettest.Flow{Frame: packettest.Frame{Dst: host(victim), Proto: packet.ProtoUDP, SrcPort: 53, DstPort: 33000, Payload: 1200}, PPS: 12000, End: 5 * sec, SrcPrefix: botnet},
		packettest.Flow{Frame: packettest.Frame{Src: remote, Dst: host("198.51.100.100"), Proto: packet.ProtoTCP, SrcPort: 40000, DstPort: 443, TCPFlags: packet.TCPAck, Payload: 300}, PPS: 500, End: 5 * sec},
	)); err != nil {
		t.Fatal(err)
	}

	birdConf, birdSock := filepath.Join(dir, "bird.conf"), filepath.Join(dir, "bird.ctl")
	if err := os.WriteFile(birdConf, []byte(fmt.Sprintf(`router id %[1]s;
protocol device {}
flow4 table flowtab4;
flow6 table flowtab6;
protocol bgp sensor {
  local %[1]s port %[2]d as 65003;
  neighbor %[3]s port %[4]d as 65001;
  strict bind yes; multihop 2; connect delay time 1; connect retry time 1; error wait time 1,2;
  ipv4 { import all; export none; };
  flow4 { table flowtab4; import all; export none; };
  flow6 { table flowtab6; import all; export none; };
}
`, birdAddr, birdPort, sensorAddr, sensorPort)), 0o644); err != nil {
		t.Fatal(err)
	}
	bird := exec.Command("bird", "-f", "-c", birdConf, "-s", birdSock, "-P", filepath.Join(dir, "bird.pid"))
	if err := bird.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bird.Process.Kill(); bird.Wait() })
	birdc := func(args ...string) string {
		out, _ := exec.Command("birdc", append([]string{"-s", birdSock}, args...)...).CombinedOutput()
		return string(out)
	}
	waitUntil := func(what string, limit time.Duration, ok func() (bool, string)) {
		t.Helper()
		var last string
		for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			var done bool
			if done, last = ok(); done {
				return
			}
		}
		t.Fatalf("%s: not within %v; last:\n%s", what, limit, last)
	}

	cfg := filepath.Join(dir, "rampart.yaml")
	state := filepath.Join(dir, "bgp-state.json")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`sensor_id: bgp-e2e
api: { enabled: false } # 8179 may be a running demo
networks: [198.51.100.0/24]
hostgroups:
  - name: servers
    prefixes: [198.51.100.0/24]
    thresholds:
      in: { pps: 10000, udp_pps: 4000 }
capture:
  source: pcap
  sample_rate: 8
  pcap: { files: ["%s"], loops: 0 }
bgp:
  enabled: true
  router_id: %s
  local_as: 65001
  listen_address: %[2]s
  listen_port: %d
  state_file: %s
  peers:
    - { address: %s, as: 65003, port: %d, local_address: %[2]s, multihop: 2, families: [ipv4-unicast, ipv4-flowspec, ipv6-flowspec] }
`, trace, sensorAddr, sensorPort, state, birdAddr, birdPort)), 0o644); err != nil {
		t.Fatal(err)
	}
	r := startSensor(t, "sensor", "--config", cfg)

	waitUntil("the rule in BIRD's flow table", 30*time.Second, func() (bool, string) {
		out := birdc("show", "route", "table", "flowtab4", "all")
		return strings.Contains(out, "dst "+victim+"/32") && strings.Contains(out, "sport 53"), out
	})
	out := birdc("show", "route", "table", "flowtab4", "all")
	if !strings.Contains(out, "flow4 { dst "+victim+"/32; proto 17; dport 33000; sport 53; length 1228; }") || !strings.Contains(out, "(generic, 0x8006fde9, 0x0)") {
		t.Errorf("rule at BIRD lacks the UDP match or the traffic-rate (discard) action:\n%s", out)
	}

	r.stop(syscall.SIGINT)
	waitUntil("the rule gone with the session", 15*time.Second, func() (bool, string) {
		out := birdc("show", "route", "table", "flowtab4", "all")
		return !strings.Contains(out, "dst "+victim+"/32"), out
	})
}
