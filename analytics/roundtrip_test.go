package analytics

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestRoundTrip writes snapshots of several sizes with one writer (its
// column buffers reused, shrinking and growing; with small fill chunks,
// 4001 and 3000 rows are filled by two goroutines) and reads each back,
// through a checked allocator.
func TestRoundTrip(t *testing.T) {
	defer func(c int) { fillChunk = c }(fillChunk)
	fillChunk = 1000
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	w := testWriter(t, Config{WriteConcurrency: 2})
	w.mem = mem
	for _, n := range []int{7, 4001, 1, 3000} {
		b := randomBatch(rand.New(rand.NewPCG(uint64(n), 1)), n, t0)
		path, err := w.Write(b)
		if err != nil {
			t.Fatal(err)
		}
		wantPath := filepath.Join(w.cfg.Dir, "dt=2026-03-14", "hour=15", "edge-1-20260314T150920Z.arrow")
		if path != wantPath {
			t.Fatalf("path %s, want %s", path, wantPath)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Decode(data, mem, DefaultReadLimit)
		if err != nil {
			t.Fatal(err)
		}
		want := Meta{Version: SchemaVersion, SensorID: "edge-1", Interval: 10 * time.Second,
			Start: t0, End: t0.Add(10 * time.Second), Dropped: b.Dropped}
		if s.Meta != want {
			t.Fatalf("meta %+v, want %+v", s.Meta, want)
		}
		if !reflect.DeepEqual(s.Groups, b.Groups) {
			t.Fatalf("groups %q, want %q", s.Groups, b.Groups)
		}
		if !reflect.DeepEqual(s.Rows, sortedRows(b.Rows)) {
			t.Fatalf("%d rows: read back differs from written (sorted by ip)", n)
		}
	}
	if err := w.Stop(); err != nil { // frees the buffers kept for the next snapshot
		t.Fatal(err)
	}
	mem.AssertSize(t, 0)
}

func TestRoundTripWithoutGroups(t *testing.T) {
	w := testWriter(t, Config{})
	b := randomBatch(rand.New(rand.NewPCG(3, 3)), 50, t0)
	b.Groups = nil
	for i := range b.Rows {
		b.Rows[i].Group = -1
	}
	path, err := w.Write(b)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Groups) != 0 || !reflect.DeepEqual(s.Rows, sortedRows(b.Rows)) {
		t.Fatalf("groups %q; rows differ", s.Groups)
	}
}
