package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// A veth pair for traffic the sensor receives through DPDK's net_af_packet:
// the generator sends on the inside end, in a network namespace the
// harness made; the sensor reads the outside end. Nothing is routed: the
// frames are raw and addressed to documentation prefixes.
type veth struct {
	ns, outside, inside string
}

var (
	madeMu sync.Mutex
	made   []veth
)

func newVeth() (veth, error) {
	id := os.Getpid() % 100000
	v := veth{ns: fmt.Sprintf("rbench%d", id), outside: fmt.Sprintf("rbo%d", id), inside: fmt.Sprintf("rbi%d", id)}
	cleanupNetns()
	cmds := [][]string{
		{"netns", "add", v.ns},
		{"link", "add", v.outside, "type", "veth", "peer", "name", v.inside, "netns", v.ns},
		{"netns", "exec", v.ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"},
		{"link", "set", v.outside, "up"},
		{"-n", v.ns, "link", "set", v.inside, "up"},
		{"-n", v.ns, "link", "set", "lo", "up"},
	}
	madeMu.Lock()
	made = append(made, v)
	madeMu.Unlock()
	// No IPv6 on either end: the kernel would send router solicitations
	// the sensor counts.
	for _, c := range cmds[:2] {
		if out, err := exec.Command("ip", c...).CombinedOutput(); err != nil {
			return v, fmt.Errorf("ip %s: %v: %s", strings.Join(c, " "), err, out)
		}
	}
	os.WriteFile("/proc/sys/net/ipv6/conf/"+v.outside+"/disable_ipv6", []byte("1"), 0o644)
	for _, c := range cmds[2:] {
		if out, err := exec.Command("ip", c...).CombinedOutput(); err != nil {
			return v, fmt.Errorf("ip %s: %v: %s", strings.Join(c, " "), err, out)
		}
	}
	return v, nil
}

// cleanupNetns removes every veth and namespace this harness made.
func cleanupNetns() {
	madeMu.Lock()
	defer madeMu.Unlock()
	for _, v := range made {
		exec.Command("ip", "link", "del", v.outside).Run()
		exec.Command("ip", "netns", "del", v.ns).Run()
	}
	made = nil
}

func (v veth) vdev() string {
	return "net_af_packet0,iface=" + v.outside + ",qpairs=1,blocksz=4096,framesz=2048,framecnt=4096"
}

// tcpreplay sends pcap on the inside end at pps, loops times (bounded).
func (e *env) tcpreplay(v veth, tag, pcap string, pps, loops int) (*proc, error) {
	return start(filepath.Join(e.work, "tcpreplay-"+tag+".log"), nil, "ip", "netns", "exec", v.ns,
		"tcpreplay", "-i", v.inside, "--pps="+strconv.Itoa(pps), "--loop="+strconv.Itoa(loops), "--preload-pcap", "-q", pcap)
}

var tcpreplayActual = regexp.MustCompile(`Actual: (\d+) packets`)

// tcpreplayRun replays pcap to completion (bounded) and returns how many
// packets it sent.
func (e *env) tcpreplayRun(v veth, tag, pcap string, pps, loops int, limit time.Duration) (float64, error) {
	p, err := e.tcpreplay(v, tag, pcap, pps, loops)
	if err != nil {
		return 0, err
	}
	if !p.wait(limit) {
		p.stop(syscall.SIGINT, 3*time.Second)
		return 0, fmt.Errorf("tcpreplay did not finish within %v; log %s", limit, p.log)
	}
	m := tcpreplayActual.FindStringSubmatch(p.Output())
	if m == nil {
		return 0, fmt.Errorf("tcpreplay: no packet count; log %s: %s", p.log, tail(p.Output(), 500))
	}
	n, _ := strconv.ParseFloat(m[1], 64)
	return n, nil
}
