package bgp

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Real BGP daemons from Debian, each on its own loopback address with its
// own config and runtime directory, killed by PID at cleanup.
const (
	sensorAddr  = "127.0.77.1"
	gobgpdAddr  = "127.0.77.2"
	birdAddr    = "127.0.77.3"
	frrAddr     = "127.0.77.4"
	sensorAS    = 65001
	waitTimeout = 15 * time.Second
)

// freePort is a TCP port free on addr right now.
func freePort(t testing.TB, addr string) int {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(addr, "0"))
	if err != nil {
		t.Fatalf("no free port on %s: %v", addr, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func needBinary(t testing.TB, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("%s not installed (scripts/install-deps.sh test): %v", p, err)
		}
	}
}

// daemon is a started peer process.
type daemon struct {
	name string
	cmd  *exec.Cmd
	out  *bytes.Buffer
}

func startDaemon(t testing.TB, name string, args ...string) *daemon {
	t.Helper()
	d := &daemon{name: name, cmd: exec.Command(args[0], args[1:]...), out: &bytes.Buffer{}}
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(d.kill)
	return d
}

// kill stops the daemon by its PID (and its process group, by that PID).
func (d *daemon) kill() {
	if d.cmd.Process == nil || d.cmd.ProcessState != nil {
		return
	}
	syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
	d.cmd.Wait()
}

// run is a CLI command's output.
func run(t testing.TB, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput()
	return string(out)
}

// waitFor polls f until it holds or the time is up; it returns how long it took.
func waitFor(t testing.TB, what string, timeout time.Duration, f func() (bool, string)) time.Duration {
	t.Helper()
	start := time.Now()
	var last string
	for time.Since(start) < timeout {
		var ok bool
		if ok, last = f(); ok {
			return time.Since(start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s; last output:\n%s", timeout, what, last)
	return 0
}

// contains is a waitFor condition: the CLI output has every want.
func contains(t testing.TB, cmd []string, want ...string) func() (bool, string) {
	return func() (bool, string) {
		out := run(t, cmd...)
		for _, w := range want {
			if !strings.Contains(out, w) {
				return false, out
			}
		}
		return true, out
	}
}

// lacks is a waitFor condition: the CLI output has none of gone.
func lacks(t testing.TB, cmd []string, gone ...string) func() (bool, string) {
	return func() (bool, string) {
		out := run(t, cmd...)
		for _, g := range gone {
			if strings.Contains(out, g) {
				return false, out
			}
		}
		return true, out
	}
}

// bird is a BIRD 2 peer (AS 65003).
type bird struct {
	dir, conf, sock string
	port            int
	d               *daemon
}

func startBird(t testing.TB, sensorPort int) *bird {
	t.Helper()
	needBinary(t, "bird", "birdc")
	b := &bird{dir: t.TempDir(), port: freePort(t, birdAddr)}
	b.conf, b.sock = filepath.Join(b.dir, "bird.conf"), filepath.Join(b.dir, "bird.ctl")
	conf := fmt.Sprintf(`router id %[1]s;
log "%[4]s/bird.log" all;
protocol device {}
flow4 table flowtab4;
flow6 table flowtab6;
protocol bgp sensor {
  local %[1]s port %[2]d as 65003;
  neighbor %[5]s port %[3]d as %[6]d;
  strict bind yes; multihop 2; connect delay time 1; connect retry time 1; error wait time 1,2;
  ipv4 { import all; export none; };
  ipv6 { import all; export none; };
  flow4 { table flowtab4; import all; export none; };
  flow6 { table flowtab6; import all; export none; };
}
`, birdAddr, b.port, sensorPort, b.dir, sensorAddr, sensorAS)
	if err := os.WriteFile(b.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	b.start(t)
	return b
}

func (b *bird) start(t testing.TB) {
	b.d = startDaemon(t, "bird", "bird", "-f", "-c", b.conf, "-s", b.sock, "-P", filepath.Join(b.dir, "bird.pid"))
	waitFor(t, "bird control socket", waitTimeout, func() (bool, string) {
		out := run(t, "birdc", "-s", b.sock, "show", "status")
		return strings.Contains(out, "Daemon is up"), out
	})
}

func (b *bird) cmd(args ...string) []string {
	return append([]string{"birdc", "-s", b.sock}, args...)
}

func (b *bird) established(t testing.TB) {
	t.Helper()
	waitFor(t, "bird session established", waitTimeout, contains(t, b.cmd("show", "protocols", "sensor"), "Established"))
}

// frr is an FRR bgpd without zebra (AS 65004).
type frr struct {
	dir  string
	port int
}

func startFRR(t testing.TB, sensorPort int) *frr {
	t.Helper()
	needBinary(t, "/usr/lib/frr/bgpd", "vtysh")
	f := &frr{dir: t.TempDir(), port: freePort(t, frrAddr)}
	os.Chmod(f.dir, 0o777) // bgpd drops to the frr user
	conf := fmt.Sprintf(`hostname rampart-test
router bgp 65004
 bgp router-id %[1]s
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor %[2]s remote-as %[3]d
 neighbor %[2]s port %[4]d
 neighbor %[2]s update-source %[1]s
 neighbor %[2]s disable-connected-check
 neighbor %[2]s timers connect 1
 address-family ipv4 unicast
  neighbor %[2]s activate
 exit-address-family
 address-family ipv6 unicast
  neighbor %[2]s activate
 exit-address-family
 address-family ipv4 flowspec
  neighbor %[2]s activate
 exit-address-family
 address-family ipv6 flowspec
  neighbor %[2]s activate
 exit-address-family
`, frrAddr, sensorAddr, sensorAS, sensorPort)
	file := filepath.Join(f.dir, "bgpd.conf")
	if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	startDaemon(t, "bgpd", "/usr/lib/frr/bgpd", "-f", file, "-l", frrAddr, "-p", strconv.Itoa(f.port), "-Z", "-S",
		"--vty_socket", f.dir, "-P", "0", "-i", filepath.Join(f.dir, "bgpd.pid"))
	waitFor(t, "frr vty", waitTimeout, func() (bool, string) {
		out := run(t, f.cmd("show bgp summary")...)
		return strings.Contains(out, "BGP router identifier"), out
	})
	return f
}

func (f *frr) cmd(c string) []string {
	return []string{"vtysh", "--vty_socket", f.dir, "-d", "bgpd", "-c", c}
}

func (f *frr) established(t testing.TB) {
	t.Helper()
	waitFor(t, "frr session established", waitTimeout, func() (bool, string) {
		out := run(t, f.cmd("show bgp neighbors "+sensorAddr)...)
		return strings.Contains(out, "BGP state = Established"), out
	})
}

// gobgpd is a GoBGP daemon peer (AS 65002).
type gobgpd struct {
	port, api int
}

func startGobgpd(t testing.TB, sensorPort int) *gobgpd {
	t.Helper()
	needBinary(t, "gobgpd", "gobgp")
	dir := t.TempDir()
	g := &gobgpd{port: freePort(t, gobgpdAddr), api: freePort(t, gobgpdAddr)}
	conf := fmt.Sprintf(`[global.config]
  as = 65002
  router-id = "%[1]s"
  port = %[2]d
  local-address-list = ["%[1]s"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "%[3]s"
    peer-as = %[4]d
  [neighbors.transport.config]
    local-address = "%[1]s"
    remote-port = %[5]d
  [neighbors.timers.config]
    connect-retry = 1
  [neighbors.ebgp-multihop.config]
    enabled = true
    multihop-ttl = 2
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-flowspec"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-flowspec"
`, gobgpdAddr, g.port, sensorAddr, sensorAS, sensorPort)
	file := filepath.Join(dir, "gobgpd.toml")
	if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	startDaemon(t, "gobgpd", "gobgpd", "-f", file, "--api-hosts", net.JoinHostPort(gobgpdAddr, strconv.Itoa(g.api)))
	waitFor(t, "gobgpd api", waitTimeout, func() (bool, string) {
		out := run(t, g.cmd("neighbor")...)
		return strings.Contains(out, sensorAddr), out
	})
	return g
}

func (g *gobgpd) cmd(args ...string) []string {
	return append([]string{"gobgp", "-u", gobgpdAddr, "-p", strconv.Itoa(g.api)}, args...)
}

func (g *gobgpd) established(t testing.TB) {
	t.Helper()
	waitFor(t, "gobgpd session established", waitTimeout, contains(t, g.cmd("neighbor", sensorAddr), "BGP state = ESTABLISHED"))
}

// peerConfig is the speaker's side of a session with a test daemon.
func peerConfig(addr string, as uint32, port int) PeerConfig {
	return PeerConfig{Address: netip.MustParseAddr(addr), AS: as, Port: port, LocalAddress: netip.MustParseAddr(sensorAddr),
		Multihop: 2, ConnectRetry: time.Second, Families: []string{"ipv4-unicast", "ipv6-unicast", "ipv4-flowspec", "ipv6-flowspec"}}
}

// liveConfig is a speaker listening on 127.0.77.1 at a free port.
func liveConfig(t testing.TB) Config {
	c := dryConfig()
	c.DryRun = false
	c.Enabled = true
	c.ListenAddress = netip.MustParseAddr(sensorAddr)
	c.ListenPort = freePort(t, sensorAddr)
	return c
}
