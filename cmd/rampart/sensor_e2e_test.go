package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildBinary compiles rampart once for the end-to-end tests of this package.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "rampart")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestSensorStartsAndStopsOnSignal runs `rampart sensor` on the demo, waits
// for it to report that it started, sends SIGINT and expects a clean exit.
func TestSensorStartsAndStopsOnSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(buildBinary(t), "sensor", "--config", "../../examples/demo.yaml", "--log-format", "json", "--log-level", "debug")
			var stderr bytes.Buffer
			pipe, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			started := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				sc := bufio.NewScanner(pipe)
				for sc.Scan() {
					stderr.WriteString(sc.Text() + "\n")
					var rec map[string]any
					if json.Unmarshal(sc.Bytes(), &rec) != nil {
						t.Errorf("log line is not JSON: %q", sc.Text())
						continue
					}
					if rec["message"] == "sensor running" {
						close(started)
					}
				}
			}()
			select {
			case <-started:
			case <-time.After(20 * time.Second):
				t.Fatalf("sensor did not report running within 20s:\n%s", stderr.String())
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { <-done; exited <- cmd.Wait() }()
			select {
			case err := <-exited:
				if err != nil {
					t.Fatalf("sensor exited with %v after %v:\n%s", err, sig, stderr.String())
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("sensor did not stop within 20s of %v:\n%s", sig, stderr.String())
			}
			if !strings.Contains(stderr.String(), `"message":"sensor stopped"`) {
				t.Errorf("no clean-stop record in the log:\n%s", stderr.String())
			}
		})
	}
}
