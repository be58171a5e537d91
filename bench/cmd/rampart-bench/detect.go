package main

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/rampartnet/rampart/bench/harness"
	"github.com/rampartnet/rampart/sensor/packet"
	"github.com/rampartnet/rampart/sensor/packet/packettest"
)

const (
	sensorAddr = "127.0.77.1"
	birdAddr   = "127.0.77.3"
	victim     = "198.51.100.12"
)

// bird is a BIRD 2 peer on loopback with its own control socket.
type bird struct {
	p    *proc
	sock string
}

func (e *env) startBird(port, sensorPort int) (*bird, error) {
	conf, sock := filepath.Join(e.work, "bird.conf"), filepath.Join(e.work, "bird.ctl")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`router id %[1]s;
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
`, birdAddr, port, sensorAddr, sensorPort)), 0o644); err != nil {
		return nil, err
	}
	p, err := start(filepath.Join(e.work, "bird.log"), nil, "bird", "-f", "-c", conf, "-s", sock, "-P", filepath.Join(e.work, "bird.pid"))
	if err != nil {
		return nil, err
	}
	return &bird{p: p, sock: sock}, nil
}

func (b *bird) birdc(args ...string) string {
	out, _ := exec.Command("birdc", append([]string{"-s", b.sock}, args...)...).CombinedOutput()
	return string(out)
}

func (b *bird) hasVictimRoute() bool {
	return strings.Contains(b.birdc("show", "route", "table", "flowtab4"), "dst "+victim+"/32")
}

// waitFor polls ok every step until it holds or limit passes; it returns
// when ok first held.
func waitFor(limit, step time.Duration, ok func() bool) (time.Time, bool) {
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(step) {
		if ok() {
			return time.Now(), true
		}
	}
	return time.Time{}, false
}

func writeTimed(path string, flows ...packettest.Flow) error {
	return packettest.WritePcap(path, packettest.Generate(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano(), 7, flows...))
}

// scenarioDetection: a generator switches from benign traffic to an attack
// at a known wall-clock time; the harness sees the sensor log the attack
// and polls a real BIRD for the FlowSpec route.
func scenarioDetection(e *env) (*harness.Result, error) {
	r := e.result("3-detection", "Detection latency: attack start → detected → FlowSpec route in BIRD")
	reps := pick(e, 20, 50)
	const benignPPS, attackPPS = 5000, 40000
	r.Settings["repetitions"] = fmt.Sprint(reps)
	r.Settings["traffic"] = fmt.Sprintf("tcpreplay on a veth pair (net_af_packet): benign TCP to 20 hosts at %d pps throughout, then a DNS amplification flood (UDP sport 53, 442-byte frames) to %s at %d pps", benignPPS, victim, attackPPS)
	r.Settings["detection"] = "thresholds in: pps 10000, udp_pps 4000; tick 100ms, trigger_ticks 2, sample_rate 8, hold_time 1s, min_ban_time 1s"
	r.Settings["measure"] = "attack start = the first attack frame seen on the sensor's interface by the harness's own AF_PACKET socket; detected = the sensor's \"attack detected\" log line read by the harness; BIRD = the first `birdc show route table flowtab4` (polled every 20 ms) listing the rule. launch_* count from tcpreplay's start instead"

	v, err := newVeth()
	if err != nil {
		return r, err
	}
	benign, attack := filepath.Join(e.work, "benign.pcap"), filepath.Join(e.work, "attack.pcap")
	var flows []packettest.Flow
	for i := 0; i < 20; i++ {
		flows = append(flows, packettest.Flow{Frame: packettest.Frame{Src: netip.MustParseAddr("203.0.113.7"),
			Dst: netip.AddrFrom4([4]byte{198, 51, 100, byte(100 + i)}), Proto: packet.ProtoTCP, SrcPort: uint16(40000 + i), DstPort: 443,
			TCPFlags: packet.TCPAck, Payload: 300}, PPS: benignPPS / 20, End: 2 * time.Second})
	}
	if err := writeTimed(benign, flows...); err != nil {
		return r, err
	}
	if err := writeTimed(attack, packettest.Flow{Frame: packettest.Frame{Dst: netip.MustParseAddr(victim), Proto: packet.ProtoUDP,
		SrcPort: 53, DstPort: 33000, Payload: 400}, PPS: attackPPS, End: time.Second, SrcPrefix: netip.MustParsePrefix("192.0.2.0/24")}); err != nil {
		return r, err
	}

	birdPort, sensorPort, apiPort := freePort(), freePort(), freePort()
	b, err := e.startBird(birdPort, sensorPort)
	if err != nil {
		return r, err
	}
	defer b.p.stop(syscall.SIGTERM, 5*time.Second)
	cfg := e.sensorDPDK("det", v.vdev(), "[198.51.100.0/24]", apiPort, 512, 8192, fmt.Sprintf(`  sample_rate: 8
hostgroups:
  - name: servers
    prefixes: [198.51.100.0/24]
    thresholds:
      in: { pps: 10000, udp_pps: 4000 }
detection: { trigger_ticks: 2, hold_time: 1s, min_ban_time: 1s }
bgp:
  enabled: true
  router_id: %[1]s
  local_as: 65001
  listen_address: %[1]s
  listen_port: %[2]d
  peers:
    - { address: %[3]s, as: 65003, port: %[4]d, local_address: %[1]s, multihop: 2, families: [ipv4-unicast, ipv4-flowspec, ipv6-flowspec] }
`, sensorAddr, sensorPort, birdAddr, birdPort))
	lines := make(chan string, 4096)
	s, err := e.startSensor("det", cfg, fmt.Sprintf("127.0.0.1:%d", apiPort), lines)
	if err != nil {
		return r, err
	}
	defer s.stop()
	detected := make(chan detection, 16)
	go watchDetections(lines, detected)
	if _, ok := waitFor(30*time.Second, 200*time.Millisecond, func() bool {
		return strings.Contains(b.birdc("show", "protocols", "sensor"), "Established")
	}); !ok {
		return r, fmt.Errorf("BGP session with BIRD not established within 30s: %s", b.birdc("show", "protocols", "all", "sensor"))
	}
	wire, err := watchFirst(v.outside, netip.MustParseAddr(victim))
	if err != nil {
		return r, err
	}
	defer wire.close()
	bg, err := e.tcpreplay(v, "benign", benign, benignPPS, 1000000)
	if err != nil {
		return r, err
	}
	defer bg.stop(syscall.SIGINT, 3*time.Second)
	time.Sleep(3 * time.Second) // the benign hosts are known and steady

	for i := 1; i <= reps; i++ {
		if _, ok := waitFor(30*time.Second, 100*time.Millisecond, func() bool { return !b.hasVictimRoute() }); !ok {
			return r, fmt.Errorf("repetition %d: the previous rule was not withdrawn from BIRD within 30s", i)
		}
		drain(detected)
		wire.arm()
		t0 := time.Now()
		atk, err := e.tcpreplay(v, fmt.Sprintf("attack-%d", i), attack, attackPPS, 10)
		if err != nil {
			return r, err
		}
		tBird, ok := waitFor(10*time.Second, 20*time.Millisecond, b.hasVictimRoute)
		atk.stop(syscall.SIGINT, 3*time.Second)
		if !ok {
			r.Notes = append(r.Notes, fmt.Sprintf("repetition %d: no route at BIRD within 10s", i))
			e.logf("repetition %d: no route at BIRD within 10s", i)
			continue
		}
		m := map[string]float64{"launch_to_bird_ms": ms(tBird.Sub(t0))}
		select {
		case tw := <-wire.seen:
			m["bird_ms"] = ms(tBird.Sub(tw))
			m["launch_to_wire_ms"] = ms(tw.Sub(t0))
		default:
			r.Notes = append(r.Notes, fmt.Sprintf("repetition %d: the first attack frame was not seen on %s", i, v.outside))
		}
		select {
		case d := <-detected:
			if tw, ok := m["launch_to_wire_ms"]; ok {
				m["detected_ms"] = ms(d.at.Sub(t0)) - tw
			}
			m["sensor_delay_ms"] = ms(d.delay)
		case <-time.After(2 * time.Second):
			r.Notes = append(r.Notes, fmt.Sprintf("repetition %d: route at BIRD but no \"attack detected\" line read", i))
		}
		e.sawLoad()
		e.logf("repetition %d: %v", i, m)
		r.Runs = append(r.Runs, harness.Run{Group: "dns-amplification", Variant: "rampart", Pair: i, Metrics: m})
		time.Sleep(300 * time.Millisecond)
	}
	r.Summary = harness.Summarize(r.Runs, "")
	r.Charts = []harness.Chart{{Kind: "cdf", Metric: "bird_ms", Title: "Attack start to FlowSpec route at BIRD", Unit: "ms", File: "3-detection-bird.png"}}
	if s, ok := r.Find("dns-amplification", "bird_ms", "rampart"); ok {
		met50, met99 := s.Median < 300, s.P99 < 1000
		r.Headlines = append(r.Headlines,
			harness.Headline{Name: fmt.Sprintf("attack start → FlowSpec at BIRD, p50 (%d reps)", s.N), Value: harness.Num(s.Median) + " ms", Target: "< 300 ms", Met: &met50},
			harness.Headline{Name: fmt.Sprintf("attack start → FlowSpec at BIRD, p99 (%d reps)", s.N), Value: harness.Num(s.P99) + " ms", Target: "< 1000 ms", Met: &met99})
	}
	if s, ok := r.Find("dns-amplification", "detected_ms", "rampart"); ok {
		r.Headlines = append(r.Headlines, harness.Headline{Name: "attack start → detected (sensor log), p50 / p99", Value: harness.Num(s.Median) + " / " + harness.Num(s.P99) + " ms"})
	}
	r.Notes = append(r.Notes, "sensor_delay_ms is the detector's own detection_delay (detection tick minus the tick the attack began in), so it does not include tcpreplay's start-up or BGP.")
	return r, nil
}

type detection struct {
	at    time.Time
	delay time.Duration
}

// watchDetections sends the time each "attack detected" line for the
// victim was read, with the detector's own delay.
func watchDetections(lines <-chan string, out chan<- detection) {
	for line := range lines {
		if !strings.Contains(line, `"attack detected"`) {
			continue
		}
		at := time.Now()
		var rec struct {
			IP    string  `json:"ip"`
			Delay float64 `json:"detection_delay"` // zerolog: milliseconds
		}
		if json.Unmarshal([]byte(line), &rec) != nil || rec.IP != victim {
			continue
		}
		select {
		case out <- detection{at: at, delay: time.Duration(rec.Delay * float64(time.Millisecond))}:
		default:
		}
	}
}

func drain(c chan detection) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
