package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// run executes the CLI in process and returns stdout, stderr and the exit code.
func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := newRootCmd()
	var stdout, stderr bytes.Buffer
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	cmd.SetArgs(append([]string{"--log-format", "json"}, args...))
	code := 0
	if err := cmd.Execute(); err != nil {
		stderr.WriteString("rampart: " + err.Error() + "\n")
		code = exitCode(err)
	}
	return stdout.String(), stderr.String(), code
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from golden file:\n--- got\n%s--- want\n%s", name, got, want)
	}
}

func TestConfigCheck(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
	}{
		{"config_check_bad", []string{"config", "check", "--config", "../../testdata/bad.yaml"}, 1},
		{"config_check_good", []string{"config", "check", "--config", "../../examples/rampart.yaml"}, 0},
		{"config_check_dump", []string{"config", "check", "--config", "../../examples/demo.yaml", "--dump"}, 0},
		{"config_check_missing", []string{"config", "check", "--config", "testdata/does-not-exist.yaml"}, 1},
		{"bad_log_level", []string{"--log-level", "loud", "version"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := run(t, tc.args...)
			if code != tc.wantCode {
				t.Errorf("exit code = %d, want %d\nstderr: %s", code, tc.wantCode, stderr)
			}
			golden(t, tc.name, "stdout:\n"+stdout+"stderr:\n"+stderr)
		})
	}
}

func TestVersion(t *testing.T) {
	stdout, _, code := run(t, "version")
	if code != 0 || !strings.HasPrefix(stdout, "rampart dev (commit ") || !strings.Contains(stdout, "dpdk: ") {
		t.Errorf("version = %q (exit %d)", stdout, code)
	}
}
