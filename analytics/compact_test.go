package analytics

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/rs/zerolog"
)

// writeHours writes, for each sensor, n snapshots of rows hosts every
// step from start (some empty), and returns the directory.
func writeHours(t testing.TB, dir string, sensors []string, start time.Time, step time.Duration, n, rows int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(n), uint64(rows)))
	for _, id := range sensors {
		w, err := New(zerolog.Nop(), Config{Dir: dir, Interval: step}, id, nil)
		if err != nil {
			t.Fatal(err)
		}
		w.nosync = true
		if err := w.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			at := start.Add(time.Duration(i) * step)
			k := rows
			if i%5 == 3 {
				k = 0 // a quiet interval: a file without rows
			}
			b := randomBatch(rng, k, at)
			b.End = at.Add(step).UnixNano()
			if _, err := w.Write(b); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// readAll is every snapshot ReadDir gives, without paths.
type readSnap struct {
	Meta Meta
	Rows []namedRow
}

func readAll(t testing.TB, dir string) []readSnap {
	t.Helper()
	var out []readSnap
	if err := ReadDir(dir, func(s *Snapshot) error {
		out = append(out, readSnap{s.Meta, named(s)})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// later is a clock after every file's interval has passed.
func later() time.Time { return time.Now().Add(time.Hour) }

func compact(t testing.TB, dir string, opt CompactOptions) []CompactResult {
	t.Helper()
	if opt.now == nil {
		opt.now = later
	}
	opt.nosync = true
	res, err := Compact(zerolog.Nop(), dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func actions(res []CompactResult) []string {
	var out []string
	for _, r := range res {
		out = append(out, r.Sensor+" "+r.Hour.Format("15")+" "+r.Action)
	}
	return out
}

func filesOf(t testing.TB, dir string, f Format) []string {
	t.Helper()
	files, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, x := range files {
		if x.Format == f {
			out = append(out, strings.TrimPrefix(x.Path, dir+"/"))
		}
	}
	return out
}

// TestCompact: two sensors over two and a half hours (1-minute snapshots
// from 14:50) compact to one Parquet file per sensor and hour; ReadDir
// gives exactly the same snapshots before, after (sources kept: no
// double counting) and once the sources are deleted.
func TestCompact(t *testing.T) {
	dir := t.TempDir()
	start := time.Date(2026, 3, 14, 14, 50, 0, 0, time.UTC)
	writeHours(t, dir, []string{"edge-1", "edge-2"}, start, time.Minute, 130, 40)
	before := readAll(t, dir)
	if len(before) != 260 {
		t.Fatalf("%d snapshots written", len(before))
	}

	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	res := compact(t, dir, CompactOptions{mem: mem})
	mem.AssertSize(t, 0)
	want := []string{"edge-1 14 written", "edge-2 14 written", "edge-1 15 written", "edge-2 15 written", "edge-1 16 written", "edge-2 16 written"}
	if got := actions(res); !reflect.DeepEqual(got, want) {
		t.Fatalf("actions %q, want %q", got, want)
	}
	if res[2].Sources != 60 || res[2].Intervals != 60 || res[2].Rows != 48*40 {
		t.Fatalf("hour 15: %+v, want 60 sources and intervals, %d rows", res[2], 48*40)
	}
	wantPq := []string{"dt=2026-03-14/hour=14/edge-1-20260314T140000Z.parquet", "dt=2026-03-14/hour=14/edge-2-20260314T140000Z.parquet"}
	if got := filesOf(t, dir, FormatParquet)[:2]; !reflect.DeepEqual(got, wantPq) {
		t.Fatalf("parquet files %q, want %q first", got, wantPq)
	}
	if after := readAll(t, dir); !reflect.DeepEqual(after, before) {
		t.Fatalf("ReadDir after compaction: %d snapshots, differ from the %d before", len(after), len(before))
	}
	pq := filepath.Join(dir, wantPq[0])
	data, _ := os.ReadFile(pq)

	// Again: nothing to do, the files stay as they are.
	res = compact(t, dir, CompactOptions{})
	for _, r := range res {
		if r.Action != ActionUpToDate || r.Deleted != 0 {
			t.Fatalf("second run: %+v", r)
		}
	}
	if again, _ := os.ReadFile(pq); !bytes.Equal(again, data) {
		t.Fatal("second run changed a Parquet file")
	}

	// Delete the sources: only Parquet files remain, with the same view.
	res = compact(t, dir, CompactOptions{DeleteSource: true})
	if res[2].Deleted != 60 {
		t.Fatalf("deleted %d sources of hour 15, want 60", res[2].Deleted)
	}
	if a := filesOf(t, dir, FormatArrow); len(a) != 0 {
		t.Fatalf("%d IPC files left", len(a))
	}
	if after := readAll(t, dir); !reflect.DeepEqual(after, before) {
		t.Fatal("ReadDir after deleting the sources differs")
	}
}

// TestCompactLateFile: an IPC file written into an hour already compacted
// is read once (ReadDir merges it in order) and the next compaction
// rebuilds the hour into the file a compaction of all sources gives.
func TestCompactLateFile(t *testing.T) {
	dir, ref := t.TempDir(), t.TempDir()
	start := time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)
	writeHours(t, dir, []string{"edge-1"}, start, time.Minute, 10, 30)
	writeHours(t, ref, []string{"edge-1"}, start, time.Minute, 10, 30)
	compact(t, dir, CompactOptions{DeleteSource: true})

	late := randomBatch(rand.New(rand.NewPCG(2, 2)), 25, start.Add(30*time.Minute+30*time.Second))
	late.End = late.Start + int64(time.Minute)
	for _, d := range []string{dir, ref} {
		w := testWriter(t, Config{Dir: d, Interval: time.Minute})
		if _, err := w.Write(late); err != nil {
			t.Fatal(err)
		}
	}
	got := readAll(t, dir)
	if len(got) != 11 || !got[10].Meta.Start.Equal(time.Unix(0, late.Start)) {
		t.Fatalf("%d snapshots, the last at %v; want 11, the late one last", len(got), got[len(got)-1].Meta.Start)
	}
	if want := readAll(t, ref); !reflect.DeepEqual(got, want) {
		t.Fatal("ReadDir of the compacted hour plus a late file differs from the IPC files alone")
	}
	res := compact(t, dir, CompactOptions{})
	if len(res) != 1 || res[0].Action != ActionWritten || res[0].Sources != 1 || res[0].Intervals != 11 {
		t.Fatalf("rebuild: %+v", res)
	}
	compact(t, ref, CompactOptions{})
	name := "dt=2026-03-14/hour=15/edge-1-20260314T150000Z.parquet"
	a, _ := os.ReadFile(filepath.Join(dir, name))
	b, _ := os.ReadFile(filepath.Join(ref, name))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Fatalf("rebuilt file (%d bytes) differs from a compaction of all sources (%d bytes)", len(a), len(b))
	}
}

func TestCompactSkipsRecent(t *testing.T) {
	now := time.Date(2026, 3, 14, 17, 20, 0, 0, time.UTC)
	cases := []struct {
		name      string
		olderThan time.Duration
		clock     func() time.Time
		want      []string
	}{
		{"the hour being written", 0, func() time.Time { return now }, []string{"edge-1 15 written", "edge-1 16 written", "edge-1 17 too recent"}},
		{"older than 1h", time.Hour, func() time.Time { return now }, []string{"edge-1 15 written", "edge-1 16 too recent", "edge-1 17 too recent"}},
		// The files were just written: younger than their interval.
		{"files younger than the interval", 0, func() time.Time { return time.Now().Add(-time.Second) }, []string{"edge-1 15 too recent", "edge-1 16 too recent", "edge-1 17 too recent"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeHours(t, dir, []string{"edge-1"}, time.Date(2026, 3, 14, 15, 50, 0, 0, time.UTC), 10*time.Minute, 9, 5)
			clock := c.clock
			if c.name != "files younger than the interval" {
				// Files are old enough; the hour decides.
				for _, f := range filesOf(t, dir, FormatArrow) {
					old := now.Add(-2 * time.Hour)
					if err := os.Chtimes(filepath.Join(dir, f), old, old); err != nil {
						t.Fatal(err)
					}
				}
			} else {
				// Hours long over, files just written.
				clock = func() time.Time { return time.Now().Add(time.Second) }
			}
			res := compact(t, dir, CompactOptions{OlderThan: c.olderThan, now: clock})
			if got := actions(res); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("actions %q, want %q", got, c.want)
			}
			if got := readAll(t, dir); len(got) != 9 {
				t.Fatalf("ReadDir gives %d snapshots, want 9", len(got))
			}
		})
	}
}

func TestCompactDryRunAndLock(t *testing.T) {
	dir := t.TempDir()
	writeHours(t, dir, []string{"edge-1"}, time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC), time.Minute, 3, 5)
	res := compact(t, dir, CompactOptions{DryRun: true, DeleteSource: true})
	if got := actions(res); !reflect.DeepEqual(got, []string{"edge-1 15 would write"}) || res[0].Sources != 3 {
		t.Fatalf("dry run: %+v", res)
	}
	if p := filesOf(t, dir, FormatParquet); len(p) != 0 || len(filesOf(t, dir, FormatArrow)) != 3 {
		t.Fatal("dry run changed the directory")
	}
	unlock, err := lockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Compact(zerolog.Nop(), dir, CompactOptions{now: later}); !errors.Is(err, ErrCompactLocked) {
		t.Fatalf("err %v, want the lock held", err)
	}
	unlock()
	if _, err := Compact(zerolog.Nop(), dir, CompactOptions{OlderThan: -time.Second}); err == nil || !strings.Contains(err.Error(), "older-than") {
		t.Fatalf("negative older-than: %v", err)
	}
}

// TestCompactCorruptParquet: a damaged Parquet file fails its hour (and
// the run), keeps the sources, and the other hours go on.
func TestCompactCorruptParquet(t *testing.T) {
	dir := t.TempDir()
	writeHours(t, dir, []string{"edge-1"}, time.Date(2026, 3, 14, 15, 30, 0, 0, time.UTC), 10*time.Minute, 6, 5)
	compact(t, dir, CompactOptions{})
	pq := filepath.Join(dir, filesOf(t, dir, FormatParquet)[0])
	data, _ := os.ReadFile(pq)
	if err := os.WriteFile(pq, data[:len(data)-20], 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Compact(zerolog.Nop(), dir, CompactOptions{now: later, DeleteSource: true, nosync: true})
	if err == nil || !strings.Contains(err.Error(), "compaction failed for 1 hours") {
		t.Fatalf("err %v", err)
	}
	if res[0].Action != ActionFailed || !errors.Is(res[0].Err, ErrCorrupt) || res[1].Action != ActionUpToDate || res[1].Deleted != 3 {
		t.Fatalf("results %+v", res)
	}
	if n := len(filesOf(t, dir, FormatArrow)); n != 3 {
		t.Fatalf("%d IPC files left, want the 3 of the failed hour", n)
	}
	if err := ReadDir(dir, func(*Snapshot) error { return nil }); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("ReadDir over a damaged Parquet file: %v", err)
	}
}

// TestParquetRoundTrip: what a Parquet file gives back, interval by
// interval, is what was written, through a checked allocator.
func TestParquetRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	var in []*Snapshot
	for i := range 5 {
		at := t0.Add(time.Duration(i) * 10 * time.Second)
		b := randomBatch(rng, []int{300, 0, 1, 2000, 17}[i], at)
		in = append(in, &Snapshot{Meta: Meta{Version: SchemaVersion, SensorID: "edge-1", Interval: 10 * time.Second,
			Start: at, End: at.Add(10 * time.Second), Dropped: b.Dropped}, Groups: b.Groups, Rows: b.Rows})
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	var buf bytes.Buffer
	pw, err := newParquetWriter(&buf, "edge-1", 10*time.Second, mem)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range in {
		if err := pw.add(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := pw.add(in[2]); err == nil {
		t.Fatal("an interval out of order was accepted")
	}
	if err := pw.close(); err != nil {
		t.Fatal(err)
	}
	out, err := DecodeParquet(buf.Bytes(), mem, DefaultReadLimit)
	if err != nil {
		t.Fatal(err)
	}
	mem.AssertSize(t, 0)
	if len(out) != len(in) {
		t.Fatalf("%d intervals read, %d written", len(out), len(in))
	}
	for i := range in {
		want := &Snapshot{Meta: in[i].Meta, Groups: in[i].Groups, Rows: sortedRows(in[i].Rows)}
		if out[i].Meta != want.Meta || !reflect.DeepEqual(named(out[i]), named(want)) {
			t.Fatalf("interval %d: meta %+v rows %d; want %+v rows %d", i, out[i].Meta, len(out[i].Rows), want.Meta, len(want.Rows))
		}
	}
}

func TestParseIntervalsRejects(t *testing.T) {
	for _, v := range []string{"1,2,3", "1,2,3,x", "5,4,0,0", "1,2,0,0;1,3,0,0", "1,2,-1,0", "1,2,0,-5"} {
		if _, err := parseIntervals(v); err == nil {
			t.Errorf("%q accepted", v)
		}
	}
	ivs, err := parseIntervals("10,20,1,5;20,30,0,0")
	if err != nil || len(ivs) != 2 || ivs[0].Rows != 5 || ivs[1].Dropped != 0 {
		t.Fatalf("%+v %v", ivs, err)
	}
}

// TestRetentionSeesCompaction: the running writer's retention counts the
// Parquet files a compaction adds (from its next rescan) and removes them
// like any other file once they are the oldest over max_bytes.
func TestRetentionSeesCompaction(t *testing.T) {
	w := testWriter(t, Config{})
	w.nosync = true
	rng := rand.New(rand.NewPCG(6, 6))
	h := time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)
	for i := range 6 {
		if _, err := w.Write(randomBatch(rng, 50, h.Add(time.Duration(i)*time.Minute))); err != nil {
			t.Fatal(err)
		}
	}
	res := compact(t, w.cfg.Dir, CompactOptions{DeleteSource: true})
	if len(res) != 1 || res[0].Deleted != 6 {
		t.Fatalf("compaction: %+v", res)
	}
	pq := res[0].Path
	w.cfg.MaxBytes = res[0].Bytes + 1 // the Parquet file and anything more is too much
	w.scanned = time.Time{}           // as if rescanEvery had passed
	if _, err := w.Write(randomBatch(rng, 50, h.Add(2*time.Hour))); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(pq); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the Parquet file is still there (%v): retention did not see it", err)
	}
	if files := filesOf(t, w.cfg.Dir, FormatArrow); len(files) != 1 {
		t.Fatalf("files left: %q, want the newest", files)
	}
}
