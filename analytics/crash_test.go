package analytics

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// The crash tests run a writer or a compaction in a child process (this
// test binary again, told by crashHelperEnv what to do) and SIGKILL it at
// random points: a kill is a crash no defer or recover sees.
const crashHelperEnv = "RAMPART_ANALYTICS_CRASH_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(crashHelperEnv); mode != "" {
		os.Exit(crashHelper(mode, os.Getenv(crashHelperEnv+"_DIR")))
	}
	os.Exit(m.Run())
}

// crashHelper is the child: "write" writes 10K-host snapshots to dir,
// one a second of data time after the newest there, until killed (at most
// 500); "compact" compacts dir deleting the sources.
func crashHelper(mode, dir string) int {
	switch mode {
	case "write":
		w, err := New(zerolog.Nop(), Config{Dir: dir, Interval: time.Second}, "edge-1", nil)
		if err == nil {
			err = w.Start(context.Background()) // removes what the previous child left half written
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		rng := rand.New(rand.NewPCG(uint64(os.Getpid()), 1))
		b := randomBatch(rng, 10000, t0)
		at := t0.Add(time.Duration(len(w.files)) * time.Second)
		fmt.Println("ready")
		for i := range 500 {
			b.Start = at.Add(time.Duration(i) * time.Second).UnixNano()
			b.End = b.Start + int64(time.Second)
			if _, err := w.Write(b); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			fmt.Println("wrote")
		}
		return 0
	case "compact":
		fmt.Println("ready")
		if _, err := Compact(zerolog.Nop(), dir, CompactOptions{DeleteSource: true}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(os.Stderr, "%s: unknown mode %q\n", crashHelperEnv, mode)
	return 2
}

// killAfter starts the helper in mode on dir, waits until it is ready,
// then SIGKILLs it after d (d < 0: lets it finish); it reports whether
// the child had finished. With frac > 0, d is instead frac times the time
// the child took for its first line after "ready" (its first write),
// counted from that line: the kill lands within the following writes
// however fast this machine runs them.
func killAfter(t *testing.T, mode, dir string, d time.Duration, frac ...float64) (finished bool, ran time.Duration) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashHelperEnv+"="+mode, crashHelperEnv+"_DIR="+dir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewReader(out)
	line, _ := lines.ReadString('\n')
	if line != "ready\n" {
		_ = cmd.Wait()
		t.Fatalf("%s helper: %q, stderr %s", mode, line, stderr.String())
	}
	ready := time.Now()
	if len(frac) > 0 {
		if line, _ = lines.ReadString('\n'); line != "wrote\n" {
			_ = cmd.Wait()
			t.Fatalf("%s helper: %q, stderr %s", mode, line, stderr.String())
		}
		d = time.Duration(frac[0] * float64(time.Since(ready)))
		go func() { _, _ = io.Copy(io.Discard, lines) }() // the child never blocks on its stdout
	}
	if d >= 0 {
		time.Sleep(d)
		_ = cmd.Process.Kill()
	}
	err = cmd.Wait()
	if err == nil {
		return true, time.Since(ready)
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != -1 {
		t.Fatalf("%s helper: %v, stderr %s", mode, err, stderr.String())
	}
	return false, time.Since(ready)
}

// temps lists the temporary files under dir.
func temps(t *testing.T, dir string) []string {
	var out []string
	for _, f := range allFiles(t, dir) {
		if isTemp(filepath.Base(f)) {
			out = append(out, f)
		}
	}
	return out
}

// TestCrashDuringWrite: a writer killed at random points never leaves a
// visible file that does not read back whole, and the next start removes
// what it left half written.
func TestCrashDuringWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes for seconds")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(8, 8))
	halfWritten := 0
	for i := 0; i < 30 && (i < 6 || halfWritten == 0); i++ {
		_, _ = killAfter(t, "write", dir, 0, 3*rng.Float64())
		halfWritten += len(temps(t, dir))
		files, err := List(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if s, err := ReadFile(f.Path); err != nil || len(s.Rows) != 10000 {
				t.Fatalf("kill %d: visible file %s does not read back whole: %v", i, f.Path, err)
			}
		}
	}
	if halfWritten == 0 {
		t.Fatal("no kill landed during a write: the test proved nothing")
	}
	testWriter(t, Config{Dir: dir})
	if left := temps(t, dir); len(left) != 0 {
		t.Fatalf("after a start: %q", left)
	}
}

// TestCrashDuringCompaction: a compaction killed at random points never
// leaves a visible Parquet file that does not read back whole, never
// loses or doubles an interval in the readers' view, and the next run
// removes its temporary file and finishes the job.
func TestCrashDuringCompaction(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes for seconds")
	}
	dir, probe := t.TempDir(), t.TempDir()
	for _, d := range []string{dir, probe} {
		writeHours(t, d, []string{"edge-1", "edge-2"}, time.Date(2026, 3, 14, 14, 0, 0, 0, time.UTC), time.Minute, 90, 50)
		// Old enough for compaction: files older than their interval.
		old := time.Now().Add(-time.Hour)
		for _, f := range allFiles(t, d) {
			if err := os.Chtimes(filepath.Join(d, f), old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Kills land anywhere in a run: the time of a whole one, measured
	// here, whatever the machine and -race.
	_, whole := killAfter(t, "compact", probe, -1)
	want := readAll(t, dir)
	rng := rand.New(rand.NewPCG(9, 9))
	states := map[string]bool{}
	// Each run keeps what it finished (whole hours), so kills early in
	// runs walk through the job; at most 12.
	for i := 0; i < 12; i++ {
		finished, _ := killAfter(t, "compact", dir, time.Duration(rng.Int64N(int64(whole)/4+1)))
		pq, arrows, tmp := len(filesOf(t, dir, FormatParquet)), len(filesOf(t, dir, FormatArrow)), len(temps(t, dir))
		states[fmt.Sprintf("parquet=%d arrow>0=%v temp=%d", pq, arrows > 0, tmp)] = true
		for _, f := range filesOf(t, dir, FormatParquet) {
			if _, err := StatParquet(filepath.Join(dir, f)); err != nil {
				t.Fatalf("kill %d: visible Parquet file does not read: %v", i, err)
			}
		}
		if got := readAll(t, dir); !reflect.DeepEqual(got, want) {
			t.Fatalf("kill %d: the readers see %d snapshots, %d before", i, len(got), len(want))
		}
		if finished {
			break
		}
	}
	t.Logf("a whole run takes %v; states seen after kills: %v", whole, states)
	res := compact(t, dir, CompactOptions{DeleteSource: true})
	if left := temps(t, dir); len(left) != 0 {
		t.Fatalf("after a run: %q", left)
	}
	if a := filesOf(t, dir, FormatArrow); len(a) != 0 || len(filesOf(t, dir, FormatParquet)) != 4 {
		t.Fatalf("after a run: %d IPC files, results %+v", len(a), res)
	}
	if got := readAll(t, dir); !reflect.DeepEqual(got, want) {
		t.Fatal("after the compaction finished, the readers' view changed")
	}
}
