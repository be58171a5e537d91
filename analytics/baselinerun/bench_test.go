package baselinerun

import (
	"io"
	"os"
	"testing"

	"github.com/rampartnet/rampart/baseline"
	"github.com/rampartnet/rampart/sensor/hostgroup"
)

// BenchmarkReport fits and reports the snapshots under
// $RAMPART_BENCH_SNAPSHOTS (bench/baseline/gen writes them) with the
// default hostgroup; `make bench-baseline` measures the whole command.
func BenchmarkReport(b *testing.B) {
	dir := os.Getenv("RAMPART_BENCH_SNAPSHOTS")
	if dir == "" {
		b.Skip("RAMPART_BENCH_SNAPSHOTS: not set")
	}
	th := hostgroup.Thresholds{In: hostgroup.Limits{PPS: ptr(5e4), Mbps: ptr(400), SYNPPS: ptr(5000), UDPPPS: ptr(25000)}}
	groups := []hostgroup.Config{{Name: "servers", Thresholds: th}, {Name: hostgroup.DefaultName, Thresholds: th}}
	for b.Loop() {
		r, err := New(Options{Dir: dir, Hostgroups: groups, Baseline: baseline.DefaultConfig()})
		if err != nil {
			b.Fatal(err)
		}
		if err := r.FitHistory(); err != nil {
			b.Fatal(err)
		}
		if err := r.Report().WriteJSON(io.Discard); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(r.Fit.Rows)/b.Elapsed().Seconds(), "rows/s")
	}
}
