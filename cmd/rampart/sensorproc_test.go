package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
	binOut  []byte
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// buildBinary compiles rampart once for all the end-to-end tests of this
// package run.
func buildBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "rampart-bin-"); binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "rampart")
		binOut, binErr = exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
	})
	if binErr != nil {
		t.Fatalf("go build: %v\n%s", binErr, binOut)
	}
	return binPath
}

// sensorRun is a running `rampart sensor` whose JSON log the test reads.
type sensorRun struct {
	t       *testing.T
	cmd     *exec.Cmd
	recs    chan map[string]any
	done    chan struct{} // the log reader has seen the end of stderr
	mu      sync.Mutex
	log     strings.Builder
	nonJSON []string
}

// startSensor starts the binary with args (JSON logs added) and reads its log.
func startSensor(t *testing.T, args ...string) *sensorRun {
	t.Helper()
	r := &sensorRun{t: t, recs: make(chan map[string]any, 1024), done: make(chan struct{})}
	r.cmd = exec.Command(buildBinary(t), append(args, "--log-format", "json")...)
	pipe, err := r.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.cmd.Process.Kill(); <-r.done; r.cmd.Wait() })
	go func() {
		defer close(r.done)
		defer close(r.recs)
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			r.mu.Lock()
			r.log.WriteString(sc.Text() + "\n")
			var rec map[string]any
			if json.Unmarshal(sc.Bytes(), &rec) != nil {
				r.nonJSON = append(r.nonJSON, sc.Text())
			}
			r.mu.Unlock()
			if rec != nil {
				select {
				case r.recs <- rec:
				default: // nobody waiting for more: the log keeps it
				}
			}
		}
	}()
	return r
}

// Log is everything the sensor wrote so far.
func (r *sensorRun) Log() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.log.String()
}

// NonJSON are the log lines that were not JSON records.
func (r *sensorRun) NonJSON() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.nonJSON...)
}

// waitFor returns the first record with message, failing the test if the
// sensor exits or the timeout passes first.
func (r *sensorRun) waitFor(message string, timeout time.Duration) map[string]any {
	r.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case rec, ok := <-r.recs:
			if !ok {
				r.t.Fatalf("sensor exited before logging %q:\n%s", message, r.Log())
			}
			if rec["message"] == message {
				return rec
			}
		case <-deadline:
			r.t.Fatalf("sensor did not log %q within %v:\n%s", message, timeout, r.Log())
		}
	}
}

// stop sends sig and expects a clean exit within 20 s.
func (r *sensorRun) stop(sig syscall.Signal) {
	r.t.Helper()
	if err := r.cmd.Process.Signal(sig); err != nil {
		r.t.Fatal(err)
	}
	r.wait()
}

// wait expects the sensor to exit cleanly within 20 s.
func (r *sensorRun) wait() {
	r.t.Helper()
	exited := make(chan error, 1)
	go func() { <-r.done; exited <- r.cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			r.t.Fatalf("sensor exited with %v:\n%s", err, r.Log())
		}
	case <-time.After(20 * time.Second):
		r.t.Fatalf("sensor did not exit within 20s:\n%s", r.Log())
	}
}
