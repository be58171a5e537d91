// Command rampart-bench runs Rampart's benchmark scenarios against real
// traffic generators (dpdk-testpmd over memif, net_pcap replay, tcpreplay
// on a veth pair, softflowd, a real BIRD peer), each against a reference
// measured in the same run, alternating A B A B. Every scenario writes
// bench/results/<scenario>.json; `report` regenerates the marked section of
// BENCHMARKS.md and the PNG charts from all of them.
//
//	go run ./bench/cmd/rampart-bench run [-full] [-scenarios 1,2,3,4,5,6] [-hugepages]
//	go run ./bench/cmd/rampart-bench report
//
// It needs root (DPDK, network namespaces) and the packages of
// scripts/install-deps.sh test.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/rampartnet/rampart/bench/harness"
)

// env is what every scenario gets.
type env struct {
	full     bool
	huge     bool
	work     string // temporary directory, removed at the end
	out      string // results directory
	rampart  string // built binaries
	rxbench  string
	versions harness.Versions
	loads    []float64 // 1-minute load averages seen after each measurement
}

// sawLoad records the machine's load after a measurement.
func (e *env) sawLoad() { e.loads = append(e.loads, harness.LoadAvg()[0]) }

func (e *env) mode() string {
	if e.full {
		return "full"
	}
	return "quick"
}

// pick is the quick or the full value.
func pick[T any](e *env, quick, full T) T {
	if e.full {
		return full
	}
	return quick
}

// result starts a scenario's result with the machine, versions and the
// command that reproduces it.
func (e *env) result(scenario, title string) *harness.Result {
	cmd := "go run ./bench/cmd/rampart-bench run -scenarios " + strings.SplitN(scenario, "-", 2)[0]
	if e.full {
		cmd += " -full"
	}
	if e.huge {
		cmd += " -hugepages"
	}
	return &harness.Result{
		Scenario: scenario, Title: title, Mode: e.mode(), Date: time.Now().UTC().Format(time.RFC3339),
		Machine: harness.ReadMachine(e.huge), Versions: e.versions, Command: cmd, Settings: map[string]string{},
	}
}

func (e *env) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s rampart-bench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

var scenarios = []struct {
	n   string
	run func(*env) (*harness.Result, error)
}{
	{"1", scenarioCapture},
	{"2", scenarioPipeline},
	{"3", scenarioDetection},
	{"4", scenarioSnapshot},
	{"5", scenarioFlow},
	{"6", scenarioScale},
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "run":
		fs := flag.NewFlagSet("run", flag.ExitOnError)
		full := fs.Bool("full", false, "full repetitions and durations (default: quick)")
		only := fs.String("scenarios", "1,2,3,4,5,6", "scenarios to run, comma separated")
		huge := fs.Bool("hugepages", false, "run DPDK on hugepages (reserved and mounted by the caller)")
		out := fs.String("out", "bench/results", "results directory")
		md := fs.String("md", "BENCHMARKS.md", "Markdown file whose marked section is regenerated at the end (empty: none)")
		fs.Parse(os.Args[2:])
		os.Exit(run(*full, *huge, strings.Split(*only, ","), *out, *md))
	case "report":
		fs := flag.NewFlagSet("report", flag.ExitOnError)
		out := fs.String("results", "bench/results", "results directory")
		md := fs.String("md", "BENCHMARKS.md", "Markdown file whose marked section is regenerated")
		fs.Parse(os.Args[2:])
		if err := report(*out, *md); err != nil {
			fmt.Fprintln(os.Stderr, "rampart-bench:", err)
			os.Exit(1)
		}
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: rampart-bench run [-full] [-scenarios 1,...] [-hugepages] [-out DIR] [-md FILE] | report [-results DIR] [-md FILE]")
	os.Exit(2)
}

func run(full, huge bool, only []string, out, md string) int {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "rampart-bench: needs root (DPDK, network namespaces)")
		return 1
	}
	work, err := os.MkdirTemp("", "rampart-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "rampart-bench:", err)
		return 1
	}
	defer os.RemoveAll(work)
	defer removeEALDirs()
	defer func() {
		if p := recover(); p != nil {
			stopAll()
			cleanupNetns()
			removeEALDirs()
			panic(p)
		}
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		stopAll()
		cleanupNetns()
		removeEALDirs()
		os.RemoveAll(work)
		os.Exit(130)
	}()
	e := &env{full: full, huge: huge, work: work, out: out, versions: harness.ReadVersions()}
	e.rampart, e.rxbench = filepath.Join(work, "rampart"), filepath.Join(work, "rxbench")
	ldflags := "-X main.version=" + e.versions.Rampart
	for _, b := range [][]string{{"build", "-ldflags", ldflags, "-o", e.rampart, "./cmd/rampart"}, {"build", "-o", e.rxbench, "./bench/capture/rxbench"}} {
		if o, err := exec.Command("go", b...).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "rampart-bench: go %s: %v\n%s", strings.Join(b, " "), err, o)
			return 1
		}
	}
	failed := 0
	for _, s := range scenarios {
		if !slices.Contains(only, s.n) {
			continue
		}
		t0 := time.Now()
		e.logf("scenario %s starting", s.n)
		e.loads = nil
		r, err := s.run(e)
		removeEALDirs()
		if r != nil && len(e.loads) > 0 {
			r.Notes = append(r.Notes, fmt.Sprintf("Noise: the 1-minute load average after each measurement ranged %.1f–%.1f (median %.1f) on %d cores; the measured processes themselves account for about 2.",
				slices.Min(e.loads), slices.Max(e.loads), harness.Median(e.loads), r.Machine.Cores))
		}
		stopAll()
		cleanupNetns()
		if err != nil {
			e.logf("scenario %s failed: %v", s.n, err)
			failed++
			if r == nil {
				continue
			}
			r.Notes = append(r.Notes, "The scenario stopped early: "+err.Error())
		}
		if p, err := r.Write(out); err != nil {
			e.logf("scenario %s: %v", s.n, err)
			failed++
		} else {
			e.logf("scenario %s done in %s: %s", s.n, time.Since(t0).Round(time.Second), p)
		}
	}
	if md != "" {
		if err := report(out, md); err != nil {
			e.logf("report: %v", err)
			failed++
		}
	}
	if failed > 0 {
		return 1
	}
	return 0
}

// report draws every result's charts and regenerates md's marked section.
func report(dir, md string) error {
	results, err := harness.Load(dir)
	if err != nil {
		return err
	}
	for _, r := range results {
		if err := harness.DrawCharts(r, dir); err != nil {
			return err
		}
	}
	doc, err := os.ReadFile(md)
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(filepath.Dir(md), dir)
	if err != nil {
		rel = dir
	}
	updated, err := harness.ReplaceSection(string(doc), harness.Render(results, filepath.ToSlash(rel)))
	if err != nil {
		return fmt.Errorf("%s: %w", md, err)
	}
	return os.WriteFile(md, []byte(updated), 0o644)
}
