package flow

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rampartnet/rampart/sensor/packet"
	"github.com/rampartnet/rampart/sensor/packet/packettest"
	"github.com/rampartnet/rampart/sensor/pcapfile"
)

// Tests against real exporters from Debian: their exports of known traffic
// must count to the traffic's own per-host totals.

// hostTotals are packets and bytes per address, each packet counted for its
// source and its destination.
type hostTotals map[netip.Addr][2]uint64

func (t hostTotals) add(h *packet.Header, p, b uint64) {
	for _, a := range headerAddrs(h) {
		v := t[a]
		t[a] = [2]uint64{v[0] + p, v[1] + b}
	}
}

func headerAddrs(h *packet.Header) [2]netip.Addr {
	if h.Family == packet.IPv6 {
		return [2]netip.Addr{netip.AddrFrom16(h.Src6), netip.AddrFrom16(h.Dst6)}
	}
	var s, d [4]byte
	be.PutUint32(s[:], h.Src4)
	be.PutUint32(d[:], h.Dst4)
	return [2]netip.Addr{netip.AddrFrom4(s), netip.AddrFrom4(d)}
}

// hostCounter is a Counter that keeps hostTotals; safe for one listener
// goroutine and a reader after it stopped.
type hostCounter struct {
	mu     sync.Mutex
	totals hostTotals
}

func (c *hostCounter) Count(h *packet.Header, p, b uint64, nowNs int64) {
	c.mu.Lock()
	c.totals.add(h, p, b)
	c.mu.Unlock()
}

// traceFrames is a deterministic mix of TCP, UDP and ICMP flows between a
// few IPv4 and IPv6 hosts, frames 10 ms apart.
func traceFrames(v6 bool) [][]byte {
	var frames [][]byte
	for i := range 400 {
		f := packettest.Frame{
			Src:     netip.AddrFrom4([4]byte{10, 1, 0, byte(1 + i%7)}),
			Dst:     netip.AddrFrom4([4]byte{10, 2, 0, byte(1 + i%3)}),
			Proto:   []uint8{6, 17, 1}[i%3],
			SrcPort: uint16(10000 + i%11),
			DstPort: 80,
			Payload: 20 + (i*37)%1200, // no Ethernet padding: softflowd counts it as IP bytes
		}
		if f.Proto == 6 {
			f.TCPFlags = packet.TCPAck | packet.TCPPsh
		}
		if f.Proto == 1 {
			f.ICMPType = 8
		}
		if v6 && i%4 == 0 {
			f.Src = netip.MustParseAddr(fmt.Sprintf("2001:db8::%x", 1+i%5))
			f.Dst = netip.MustParseAddr("2001:db8:1::1")
			if f.Proto == 1 {
				f.Proto = 58
				f.ICMPType = 128
			}
		}
		frames = append(frames, f.Bytes())
	}
	return frames
}

// traceTotals counts frames as captured packets: IP length as bytes.
func traceTotals(frames [][]byte) hostTotals {
	t := hostTotals{}
	for _, fr := range frames {
		var h packet.Header
		if _, ok := packet.Parse(fr, &h); ok {
			t.add(&h, 1, uint64(h.IPLen))
		}
	}
	return t
}

func writePcap(t *testing.T, frames [][]byte) string {
	t.Helper()
	var buf bytes.Buffer
	w, err := pcapfile.NewWriter(&buf, pcapfile.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano()
	for i, fr := range frames {
		if err := w.WritePacket(start+int64(i)*int64(10*time.Millisecond), uint32(len(fr)), fr); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "trace.pcap")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// startServer runs one listener on a free loopback port counting into a
// hostCounter.
func startServer(t *testing.T, protocol string) (*Server, *hostCounter, netip.AddrPort) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Listeners = []ListenerConfig{{Listen: "127.0.0.1:0", Protocol: protocol}}
	hc := &hostCounter{totals: hostTotals{}}
	s, err := NewServer(cfg, 100*time.Millisecond, wallClock{}, func(int, ListenerConfig) Sink { return Sink{Counter: hc} })
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s, hc, s.Addrs()[0]
}

type wallClock struct{}

func (wallClock) Now() int64 { return time.Now().UnixNano() }

func needBinary(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (scripts/install-deps.sh test installs it)", name)
	}
	return p
}

func compareTotals(t *testing.T, got, want hostTotals, tolerance float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d hosts, want %d: %v vs %v", len(got), len(want), got, want)
	}
	for a, w := range want {
		g := got[a]
		for i, what := range []string{"packets", "bytes"} {
			diff := float64(g[i]) - float64(w[i])
			if diff < 0 {
				diff = -diff
			}
			if diff > tolerance*float64(w[i]) {
				t.Errorf("%v %s = %d, want %d (tolerance %.0f%%)", a, what, g[i], w[i], tolerance*100)
			}
		}
	}
}

// waitStats polls until the listener's published stats satisfy done.
func waitStats(t *testing.T, s *Server, timeout time.Duration, done func(Stats) bool) Stats {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st := s.Stats()[0]
		if done(st) || time.Now().After(deadline) {
			return st
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSoftflowd(t *testing.T) {
	bin := needBinary(t, "softflowd")
	for _, version := range []string{"9", "10"} {
		t.Run("v"+version, func(t *testing.T) {
			frames := traceFrames(true)
			pcap := writePcap(t, frames)
			s, hc, addr := startServer(t, ProtoNetFlow)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "-r", pcap, "-n", addr.String(), "-v", version, "-D", "-c", "none") // -D: foreground, exits at the end of the file; a control socket would keep it running
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("softflowd: %v\n%s", err, out)
			}
			want := traceTotals(frames)
			var wantPackets uint64
			for _, v := range want {
				wantPackets += v[0]
			}
			// Every packet is counted for two hosts: wait for all of them.
			st := waitStats(t, s, 5*time.Second, func(st Stats) bool { return st.Packets*2 >= wantPackets })
			s.Stop()
			hc.mu.Lock()
			defer hc.mu.Unlock()
			compareTotals(t, hc.totals, want, 0)
			if len(st.Exporters) != 1 {
				t.Fatalf("exporters %+v, want 1", st.Exporters)
			}
			e := st.Exporters[0]
			// softflowd's IPFIX sequence numbers count its own (two-way)
			// flows, not the data records RFC 7011 §3.1 says: only v9's
			// can be held to no gaps.
			seqOK := version == "10" || e.SeqGaps == 0 && e.SeqResets == 0
			if e.Errors != [NumErrKinds]uint64{} || e.TemplateMisses != 0 || !seqOK || st.Skipped != 0 {
				t.Errorf("exporter stats %+v, skipped %d: want no errors, misses, gaps", e, st.Skipped)
			}
			t.Logf("softflowd -v %s: %d datagrams, %d records, %d hosts", version, e.Datagrams, e.Records, len(want))
		})
	}
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for a network namespace")
	}
	needBinary(t, "ip")
}

// netns makes a namespace with a veth pair: the test's end (outside) gets
// 10.250.X.1/24, the namespace's end 10.250.X.2/24. It returns the outside
// interface name and the namespace's address.
func netns(t *testing.T, x int) (iface string, peer netip.Addr) {
	t.Helper()
	name := "rampflow" + strconv.Itoa(x)
	iface = "rfv" + strconv.Itoa(x)
	inner := "rfi" + strconv.Itoa(x)
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v\n%s", args, err, out)
		}
	}
	_ = exec.Command("ip", "netns", "del", name).Run() // left over from a killed run
	_ = exec.Command("ip", "link", "del", iface).Run()
	run("netns", "add", name)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	run("link", "add", iface, "type", "veth", "peer", "name", inner)
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", iface).Run() })
	run("link", "set", inner, "netns", name)
	run("addr", "add", fmt.Sprintf("10.250.%d.1/24", x), "dev", iface)
	run("link", "set", iface, "up")
	run("netns", "exec", name, "ip", "addr", "add", fmt.Sprintf("10.250.%d.2/24", x), "dev", inner)
	run("netns", "exec", name, "ip", "link", "set", inner, "up")
	run("netns", "exec", name, "ip", "link", "set", "lo", "up")
	return iface, netip.MustParseAddr(fmt.Sprintf("10.250.%d.2", x))
}

// sendUDP sends n datagrams of size bytes from the outside end to peer,
// paced, and returns the IP bytes sent.
func sendUDP(t *testing.T, peer netip.Addr, n, size int) uint64 {
	t.Helper()
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(peer, 9)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	payload := make([]byte, size)
	for i := range n {
		_, _ = conn.Write(payload) // the peer answers ICMP port unreachable: a later write may fail
		if i%10 == 9 {             // paced: exporters capture with libpcap and drop bursts
			time.Sleep(2 * time.Millisecond)
		}
	}
	return uint64(n) * uint64(size+28)
}

// flowCounter keeps the packets and bytes of the records of one direction
// of one UDP conversation, and everything else apart.
type flowCounter struct {
	mu             sync.Mutex
	src, dst       uint32
	packets, bytes uint64
	other          uint64
}

func (c *flowCounter) Count(h *packet.Header, p, b uint64, nowNs int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h.Family == packet.IPv4 && h.Proto == packet.ProtoUDP && h.Src4 == c.src && h.Dst4 == c.dst {
		c.packets += p
		c.bytes += b
		return
	}
	c.other += p
}

func (c *flowCounter) get() (uint64, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.packets, c.bytes
}

// liveExporter sends n UDP datagrams of size bytes across a veth pair that
// the exporter (started by start with the interface and the collector's
// address) watches, and returns what the collector counted for them.
func liveExporter(t *testing.T, x int, protocol string, n, size int, start func(ctx context.Context, iface string, collector netip.AddrPort) *exec.Cmd) (packets, octets uint64) {
	iface, peer := netns(t, x)
	fc := &flowCounter{src: addr4(fmt.Sprintf("10.250.%d.1", x)), dst: addr4(peer.String())}
	cfg := DefaultConfig()
	cfg.Accounting = AccountArrival
	cfg.Listeners = []ListenerConfig{{Listen: "127.0.0.1:0", Protocol: protocol}}
	s, err := NewServer(cfg, 100*time.Millisecond, wallClock{}, func(int, ListenerConfig) Sink { return Sink{Counter: fc} })
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out bytes.Buffer
	cmd := start(ctx, iface, s.Addrs()[0])
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("%v: %v", cmd.Args, err)
	}
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill() // by PID
			_ = cmd.Wait()
		}
	}()
	time.Sleep(3 * time.Second) // let it open the interface (fprobe takes over a second)
	sendUDP(t, peer, n, size)
	// Wait for the exporter's timeouts to export the flows: until n
	// packets, or no growth for 2 s after the first (a sampling or lossy
	// exporter falls short of n), then stop it.
	var last uint64
	for i, still := 0, 0; i < 40 && still < 8; i++ {
		time.Sleep(250 * time.Millisecond)
		p, _ := fc.get()
		if p >= uint64(n) {
			break
		}
		if p > 0 && p == last {
			still++
		} else {
			still = 0
		}
		last = p
	}
	_ = cmd.Process.Signal(os.Interrupt)
	_ = cmd.Wait()
	time.Sleep(300 * time.Millisecond)
	st := s.Stats()
	packets, octets = fc.get()
	t.Logf("%s: %d datagrams, counted %d packets %d bytes, stats %+v\n%s", cmd.Args[0], n, packets, octets, st, out.String())
	return packets, octets
}

func TestFprobeV5(t *testing.T) {
	requireRoot(t)
	bin := needBinary(t, "fprobe")
	const n, size = 500, 200
	packets, bytes := liveExporter(t, 1, ProtoNetFlow, n, size, func(ctx context.Context, iface string, col netip.AddrPort) *exec.Cmd {
		// -l 2: log to stderr, foreground; -d/-e: 1 s idle, 2 s active
		// timeouts; -s 1: look for expired flows every second.
		return exec.CommandContext(ctx, bin, "-i", iface, "-l", "2", "-d", "1", "-e", "2", "-s", "1", "-q", "10000", col.String())
	})
	// fprobe does not sample, but its capture loses a few packets under a
	// burst (seen: 6 of 500, with its queue raised from 100 to 10000):
	// allow 3% fewer packets. Each record's bytes must be exact.
	if packets > n || packets < n*97/100 || bytes != packets*(size+28) {
		t.Errorf("counted %d packets %d bytes, want %d (-3%%) of %d bytes each", packets, bytes, n, size+28)
	}
}

func TestPmacctSFlow(t *testing.T) {
	requireRoot(t)
	bin := needBinary(t, "pmacctd")
	const n, size, rate = 4000, 200, 4
	packets, bytes := liveExporter(t, 2, ProtoSFlow, n, size, func(ctx context.Context, iface string, col netip.AddrPort) *exec.Cmd {
		conf := filepath.Join(t.TempDir(), "pmacctd.conf")
		body := fmt.Sprintf("daemonize: false\npcap_interface: %s\nplugins: sfprobe\nsfprobe_receiver: %s\nsampling_rate: %d\nsfprobe_agentip: 127.0.0.1\n", iface, col, rate)
		if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return exec.CommandContext(ctx, bin, "-f", conf)
	})
	// Each packet is taken with probability 1/rate and counts rate: the
	// count's standard deviation is sqrt(n·rate·(1-1/rate)) (≈110 here,
	// 2.7%); 5 σ make a false failure a one-in-a-million event.
	tol := 5 * math.Sqrt(n*rate*(1-1.0/rate)) / n
	if diff := math.Abs(float64(packets)-n) / n; diff > tol {
		t.Errorf("counted %d packets, want %d ± %.1f%%", packets, n, tol*100)
	}
	if diff := math.Abs(float64(bytes)-n*(size+42)) / (n * (size + 42)); diff > tol {
		t.Errorf("counted %d bytes, want %d (frames of %d) ± %.1f%%", bytes, n*(size+42), size+42, tol*100)
	}
}
