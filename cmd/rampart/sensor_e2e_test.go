package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSensorStartsAndStopsOnSignal runs `rampart sensor` on the demo, waits
// for it to report that it started, sends SIGINT and expects a clean exit.
func TestSensorStartsAndStopsOnSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			cfg, _ := demoWithAPI(t)
			r := startSensor(t, "sensor", "--config", cfg, "--log-level", "debug")
			r.waitFor("sensor running", 20*time.Second)
			r.stop(sig)
			if !strings.Contains(r.Log(), `"message":"sensor stopped"`) {
				t.Errorf("no clean-stop record in the log:\n%s", r.Log())
			}
			if bad := r.NonJSON(); len(bad) > 0 {
				t.Errorf("log lines that are not JSON: %q", bad)
			}
		})
	}
}

const testToken = "0123456789abcdef-test"

// demoWithAPI is the demo configuration with the API on a free port of its
// own (8179 may be a developer's running demo) and a token.
func demoWithAPI(t *testing.T) (cfg, addr string) {
	t.Helper()
	demo, err := os.ReadFile("../../examples/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	addr = fmt.Sprintf("127.0.0.1:%d", freePort(t, "127.0.0.1"))
	cfg = filepath.Join(t.TempDir(), "demo.yaml")
	extra := fmt.Sprintf("api: { listen: %q, token: %q }\n", addr, testToken)
	if err := os.WriteFile(cfg, append(demo, extra...), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg, addr
}

// TestOperatorCLIAgainstLiveSensor: status, top, attacks, ban and unban
// through the CLI against the API of a running demo sensor; a ban without
// the token is refused.
func TestOperatorCLIAgainstLiveSensor(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	cfg, addr := demoWithAPI(t)
	r := startSensor(t, "sensor", "--config", cfg)
	r.waitFor("sensor running", 20*time.Second)
	r.waitFor("traffic summary", 20*time.Second) // rates exist
	cli := func(args ...string) (string, error) {
		out, err := exec.Command(buildBinary(t), append(args, "--api", addr)...).CombinedOutput()
		return string(out), err
	}
	out, err := cli("status", "--json")
	if err != nil || !strings.Contains(out, `"source"`) || !strings.Contains(out, "demo") {
		t.Errorf("status: %v\n%s", err, out)
	}
	out, err = cli("top", "--metric", "pps", "--n", "3")
	if err != nil || !strings.Contains(out, "198.51.100.") {
		t.Errorf("top: %v\n%s", err, out)
	}
	if out, err = cli("attacks"); err != nil {
		t.Errorf("attacks: %v\n%s", err, out)
	}
	if out, err = cli("ban", "198.51.100.77", "--reason", "test"); err == nil || !strings.Contains(out, "401") {
		t.Errorf("ban without the token: err %v, want a 401 refusal:\n%s", err, out)
	}
	if out, err = cli("ban", "198.51.100.77", "--reason", "test", "--token", testToken); err != nil {
		t.Errorf("ban with the token: %v\n%s", err, out)
	}
	r.waitFor("attack detected", 10*time.Second) // the manual ban, applied at the next tick
	if out, err = cli("unban", "198.51.100.77", "--reason", "test", "--token", testToken); err != nil {
		t.Errorf("unban: %v\n%s", err, out)
	}
	r.stop(syscall.SIGINT)
}
