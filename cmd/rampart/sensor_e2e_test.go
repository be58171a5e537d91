package main

import (
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
			r := startSensor(t, "sensor", "--config", "../../examples/demo.yaml", "--log-level", "debug")
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
