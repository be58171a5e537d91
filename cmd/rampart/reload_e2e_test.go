package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rampartnet/rampart/api"
)

// reloadConfig is a demo sensor without the demo's attack, so that every
// attack in the test comes from a reload lowering a threshold.
const reloadConfig = `sensor_id: reloadtest
networks: [198.51.100.0/24]
hostgroups:
  - name: web
    prefixes: [198.51.100.0/25]
    thresholds: {in: {pps: %d}}
capture:
  source: demo
  demo: {rate: %d, hosts: 10, network4: 198.51.100.0/24, network6: "", attack: {victim: ""}}
detection: {hold_time: 2s, min_ban_time: 2s, thresholds_file: %q}
api: {listen: %q, token: %q}
snapshots: {enabled: true, dir: %q, interval: 1s}
`

// TestReloadAgainstLiveSensor: the thresholds file is picked up when it
// appears and when it changes, an API reload applies new hostgroups and
// names the sections that need a restart, an invalid file changes nothing,
// and the metrics count it all.
func TestReloadAgainstLiveSensor(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	cfgPath, tfile := filepath.Join(dir, "rampart.yaml"), filepath.Join(dir, "thresholds.yaml")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t, "127.0.0.1"))
	writeFile := func(path, data string) {
		t.Helper()
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil { // as baseline tune writes it
			t.Fatal(err)
		}
	}
	writeFile(cfgPath, fmt.Sprintf(reloadConfig, 1_000_000, 20000, tfile, addr, testToken, filepath.Join(dir, "snapshots")))
	r := startSensor(t, "sensor", "--config", cfgPath)
	r.waitFor("sensor running", 20*time.Second)
	r.waitFor("traffic summary", 20*time.Second)
	cli := func(args ...string) (string, error) {
		out, err := exec.Command(buildBinary(t), append(args, "--api", addr)...).CombinedOutput()
		return string(out), err
	}
	var top api.Top
	out, err := cli("top", "--metric", "pps", "--n", "1", "--json")
	if err != nil || json.Unmarshal([]byte(out), &top) != nil || len(top.Hosts) != 1 {
		t.Fatalf("top: %v\n%s", err, out)
	}
	busiest := top.Hosts[0].IP
	if h := getHost(t, addr, busiest); h.Hostgroup != "web" || h.In.Thresholds["pps"] != 1_000_000 {
		t.Fatalf("host %s before any reload: group %q thresholds %v", busiest, h.Hostgroup, h.In.Thresholds)
	}

	// The file appears: the watch loads it, the host's limit drops, and its
	// ordinary traffic is now an attack.
	writeFile(tfile, fmt.Sprintf("version: 1\nhosts:\n  %s: {in: {pps: 50}}\n", busiest))
	rec := r.waitFor("configuration reloaded", 10*time.Second)
	if rec["trigger"] != "file" {
		t.Errorf("reload record %v, want trigger file", rec)
	}
	waitHostPPS(t, addr, busiest, 50) // from the next tick
	if rec := r.waitFor("attack detected", 10*time.Second); rec["ip"] != busiest {
		t.Errorf("attack on %v, want %s", rec["ip"], busiest)
	}

	// An invalid configuration: refused with the field named, nothing changes.
	writeFile(cfgPath, strings.Replace(fmt.Sprintf(reloadConfig, 1_000_000, 20000, tfile, addr, testToken, filepath.Join(dir, "snapshots")), "pps: 1000000", "pps: -3", 1))
	out, err = cli("reload", "--token", testToken)
	if err == nil || !strings.Contains(out, "hostgroups[0].thresholds.in.pps") || !strings.Contains(out, "422") {
		t.Errorf("reload of an invalid file: err %v, want a 422 naming the field:\n%s", err, out)
	}
	if out, err = cli("reload"); err == nil || !strings.Contains(out, "401") {
		t.Errorf("reload without the token: err %v, want 401:\n%s", err, out)
	}

	// A new group limit and a new capture source: the first applies, the
	// second is named as needing a restart.
	writeFile(cfgPath, fmt.Sprintf(reloadConfig, 777_777, 30000, tfile, addr, testToken, filepath.Join(dir, "snapshots")))
	out, err = cli("reload", "--token", testToken)
	if err != nil || !strings.Contains(out, "needs a restart (not applied): capture") || !strings.Contains(out, "1 hosts, 0 groups") {
		t.Errorf("reload: %v\n%s", err, out)
	}
	waitHostLimit(t, addr, busiest, 777_777)
	if h := getHost(t, addr, busiest); h.In.Thresholds["pps"] != 50 {
		t.Errorf("host %s: thresholds %v, the file's pps 50 should still win", busiest, h.In.Thresholds)
	}

	// SIGHUP reloads too; then the metrics.
	if err := r.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ { // the API's reloads logged before it
		if rec := r.waitFor("configuration reloaded", 10*time.Second); rec["trigger"] == "sighup" {
			break
		} else if i == 3 {
			t.Fatalf("no reload record with trigger sighup, last %v", rec)
		}
	}
	metrics := get(t, addr, "/metrics")
	for _, want := range []string{
		`rampart_config_reloads_total{result="ok"} 3`,
		`rampart_config_reloads_total{result="failed"} 1`,
		`rampart_worker_busy_seconds_total{worker="0"}`,
		`rampart_aggregator_tick_duration_seconds_bucket{le="+Inf"}`,
		`rampart_worker_decode_errors_by_kind_total{kind="truncated",worker="0"} 0`,
		"rampart_snapshot_write_failures_total 0",
		"rampart_snapshot_last_write_seconds ",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(metrics, "rampart_snapshot_files_written_total 0\n") || !strings.Contains(metrics, "rampart_snapshot_files_written_total ") {
		t.Errorf("no snapshot files written in the metrics")
	}
	r.stop(syscall.SIGINT)
}

func get(t *testing.T, addr, path string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v\n%s", path, resp.StatusCode, err, b)
	}
	return string(b)
}

func getHost(t *testing.T, addr, ip string) api.Host {
	t.Helper()
	var h api.Host
	if err := json.Unmarshal([]byte(get(t, addr, "/api/v1/hosts/"+ip)), &h); err != nil {
		t.Fatal(err)
	}
	return h
}

// waitHostPPS waits (bounded) until ip's pps limit is want: a reload
// applies at the detector's next tick.
func waitHostPPS(t *testing.T, addr, ip string, want float64) {
	t.Helper()
	var h api.Host
	for range 50 {
		if h = getHost(t, addr, ip); h.In.Thresholds["pps"] == want {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("host %s: thresholds %v, want pps %v", ip, h.In.Thresholds, want)
}

// waitHostLimit waits (bounded) until a busy host other than skip shows the
// group limit want.
func waitHostLimit(t *testing.T, addr, skip string, want float64) {
	t.Helper()
	var seen map[string]float64
	for range 50 {
		var top api.Top
		if err := json.Unmarshal([]byte(get(t, addr, "/api/v1/top?metric=pps&n=3")), &top); err != nil {
			t.Fatal(err)
		}
		for _, row := range top.Hosts {
			if row.IP == skip {
				continue
			}
			h := getHost(t, addr, row.IP)
			if seen = h.In.Thresholds; seen["pps"] == want {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("no host shows the reloaded group limit %v: last thresholds %v", want, seen)
}
