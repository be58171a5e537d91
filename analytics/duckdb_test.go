package analytics

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/hosts"
)

// duckDBModules is where scripts/install-deps.sh installs @duckdb/node-api.
const duckDBModules = "../.tools/duckdb/node_modules"

// TestDuckDBReadsParquet: DuckDB, an engine that shares no code with
// ours, reads the compacted Parquet files (Hive partitions included) and
// gets the sums our reader computes from the original IPC files.
func TestDuckDBReadsParquet(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node: %v (scripts/install-deps.sh test installs it)", err)
	}
	modules, err := filepath.Abs(duckDBModules)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 7))
	start := time.Date(2026, 3, 14, 14, 30, 0, 0, time.UTC)
	for _, id := range []string{"edge-1", "edge-2"} {
		w, err := New(zerolog.Nop(), Config{Dir: dir, Interval: time.Minute}, id, nil)
		if err != nil {
			t.Fatal(err)
		}
		w.nosync = true
		for i := range 80 {
			n := 150 + rng.IntN(100) // hosts come and go
			if i%17 == 5 {
				n = 0
			}
			b := realisticBatch(rng, n)
			b.Start = start.Add(time.Duration(i) * time.Minute).UnixNano()
			b.End = b.Start + int64(time.Minute)
			if _, err := w.Write(b); err != nil {
				t.Fatal(err)
			}
		}
	}

	// The reference: sums over the IPC files, read by our reader.
	type sums struct{ n, inPkts, outBytes, inSyn, maxPeak, grouped int64 }
	perIP := map[string]*sums{}
	perHour := map[[2]string][2]int64{}
	stamps := map[[2]string]map[int64]bool{}
	var total int64
	files, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		s, err := ReadFile(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		h := [2]string{s.Meta.Start.Format("2006-01-02"), fmt.Sprint(s.Meta.Start.Hour())}
		for _, r := range s.Rows {
			k := strings.ToUpper(hex.EncodeToString(r.Key[:]))
			x := perIP[k]
			if x == nil {
				x = &sums{}
				perIP[k] = x
			}
			x.n++
			x.inPkts += int64(r.Counts[aggregate.In].Packets[hosts.Total])
			x.outBytes += int64(r.Counts[aggregate.Out].Bytes[hosts.Total])
			x.inSyn += int64(r.Counts[aggregate.In].Packets[hosts.SYN])
			x.maxPeak = max(x.maxPeak, int64(r.Peaks[aggregate.In][aggregate.PPS]))
			if r.Group >= 0 {
				x.grouped++
			}
			total++
			c := perHour[h]
			c[0]++
			perHour[h] = c
			if stamps[h] == nil {
				stamps[h] = map[int64]bool{}
			}
			stamps[h][s.Meta.Start.UnixNano()] = true
		}
	}
	var want struct{ Total, PerIP, PerHour [][]string }
	want.Total = [][]string{{fmt.Sprint(total)}}
	for k, x := range perIP {
		want.PerIP = append(want.PerIP, []string{k, fmt.Sprint(x.n), fmt.Sprint(x.inPkts), fmt.Sprint(x.outBytes),
			fmt.Sprint(x.inSyn), fmt.Sprint(x.maxPeak), fmt.Sprint(x.grouped)})
	}
	for h, c := range perHour {
		want.PerHour = append(want.PerHour, []string{h[0], h[1], fmt.Sprint(c[0]), fmt.Sprint(len(stamps[h]))})
	}
	sortRows(want.PerIP)
	sortRows(want.PerHour)
	if len(want.PerIP) < 200 || len(want.PerHour) != 2 {
		t.Fatalf("test data: %d hosts, %d hours", len(want.PerIP), len(want.PerHour))
	}

	res := compact(t, dir, CompactOptions{DeleteSource: true})
	if len(res) != 4 {
		t.Fatalf("compaction: %+v", res)
	}
	out, err := exec.Command(node, "testdata/duckdb/sums.cjs", modules, dir).Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("duckdb: %v\n%s(scripts/install-deps.sh test installs @duckdb/node-api into .tools/duckdb)", err, msg)
	}
	var got struct {
		Total, PerIP, PerHour [][]string
		Version               [][]string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("duckdb output: %v\n%s", err, out)
	}
	t.Logf("DuckDB %v read %s rows of %d hosts", got.Version, got.Total, len(got.PerIP))
	if !reflect.DeepEqual(got.Total, want.Total) {
		t.Errorf("count(*): DuckDB %v, IPC files %v", got.Total, want.Total)
	}
	if !reflect.DeepEqual(got.PerHour, want.PerHour) {
		t.Errorf("per hour (dt, hour, rows, intervals): DuckDB %v, IPC files %v", got.PerHour, want.PerHour)
	}
	if len(got.PerIP) != len(want.PerIP) {
		t.Fatalf("DuckDB sees %d hosts, the IPC files %d", len(got.PerIP), len(want.PerIP))
	}
	for i := range want.PerIP {
		if !reflect.DeepEqual(got.PerIP[i], want.PerIP[i]) {
			t.Fatalf("host %d (ip, rows, in packets, out bytes, in SYN, max in pps peak, rows in a group): DuckDB %v, IPC files %v",
				i, got.PerIP[i], want.PerIP[i])
		}
	}
}

func sortRows(rows [][]string) {
	slices.SortFunc(rows, func(a, b []string) int { return slices.Compare(a, b) })
}
