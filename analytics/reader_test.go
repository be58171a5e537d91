package analytics

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/rampartnet/rampart/sensor/snapshot"
)

// validFile is a small snapshot file's bytes.
func validFile(t testing.TB, rows int) []byte {
	t.Helper()
	w := testWriter(t, Config{})
	path, err := w.Write(randomBatch(rand.New(rand.NewPCG(9, uint64(rows))), rows, t0))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// encodeWith writes rec's rows under a schema with the given metadata
// version, or with a renamed first column.
func fileWithSchema(t *testing.T, version int, rename bool) []byte {
	t.Helper()
	m := Meta{Version: version, SensorID: "x", Interval: time.Second, Start: t0, End: t0.Add(time.Second)}
	s := schemaFor(m)
	if rename {
		fs := s.Fields()
		fs[0].Name = "ts"
		md := s.Metadata()
		s = arrow.NewSchema(fs, &md)
	}
	b := randomBatch(rand.New(rand.NewPCG(1, 1)), 3, t0)
	cols := &columns{mem: memory.DefaultAllocator}
	defer cols.release()
	rec := record(cols, s, b, order(b.Rows, nil), 1)
	defer rec.Release()
	var buf bytes.Buffer
	fw, err := ipc.NewFileWriter(&buf, ipc.WithSchema(s))
	if err != nil {
		t.Fatal(err)
	}
	if err := fw.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecodeRejects(t *testing.T) {
	good := validFile(t, 20)
	flip := bytes.Clone(good)
	flip[len(flip)/2] ^= 0xff
	cases := []struct {
		name string
		data []byte
		msg  string
	}{
		{"empty", nil, ""},
		{"not arrow", []byte("PAR1 hello"), ""},
		{"truncated", good[:len(good)/2], ""},
		{"footer only", good[len(good)-64:], ""},
		{"newer schema version", fileWithSchema(t, 2, false), "schema_version: must be 1, got \"2\""},
		{"column renamed", fileWithSchema(t, 1, true), "column 0 must be timestamp"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(c.data, memory.DefaultAllocator, 1<<26)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("err %v, want ErrCorrupt mentioning %q", err, c.msg)
			}
		})
	}
	// A flipped byte in the compressed body need not be detectable (no
	// checksums in Arrow IPC), but must never panic.
	_, _ = Decode(flip, memory.DefaultAllocator, 1<<26)
}

func TestReadLimit(t *testing.T) {
	data := validFile(t, 2000)
	if _, err := Decode(data, memory.DefaultAllocator, 1<<10); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "more than 1024 bytes") {
		t.Fatalf("err %v, want the memory limit", err)
	}
	if _, err := Decode(data, memory.DefaultAllocator, DefaultReadLimit); err != nil {
		t.Fatal(err)
	}
}

// FuzzDecode: corrupt files give ErrCorrupt, never a panic; whatever
// decodes is a valid snapshot that survives a write and read unchanged.
func FuzzDecode(f *testing.F) {
	good := validFile(f, 3)
	f.Add(good)
	f.Add(good[:len(good)-10])
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Decode(data, memory.DefaultAllocator, 1<<22)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if s.Meta.Version != SchemaVersion {
			t.Fatalf("decoded version %d", s.Meta.Version)
		}
		for i, r := range s.Rows {
			if r.Group < -1 || int(r.Group) >= len(s.Groups) {
				t.Fatalf("row %d: group %d of %d", i, r.Group, len(s.Groups))
			}
		}
		w := testWriter(t, Config{})
		w.nosync = true
		b := &snapshot.Batch{Start: s.Meta.Start.UnixNano(), End: s.Meta.End.UnixNano(), Groups: s.Groups, Rows: s.Rows}
		path, err := w.Write(b)
		if err != nil {
			t.Fatalf("rewrite: %v", err)
		}
		again, err := ReadFile(path)
		if err != nil {
			t.Fatalf("reading the rewrite: %v", err)
		}
		if !reflect.DeepEqual(named(again), named(&Snapshot{Groups: s.Groups, Rows: sortedRows(s.Rows)})) {
			t.Fatal("rows changed through a rewrite")
		}
	})
}

// namedRow is a row with its group's name, which survives rewriting when
// indexes may not (a dictionary may repeat a name).
type namedRow struct {
	snapshot.Row
	group string
}

func named(s *Snapshot) []namedRow {
	out := make([]namedRow, len(s.Rows))
	for i, r := range s.Rows {
		out[i].Row = r
		out[i].Row.Group = 0
		if r.Group >= 0 {
			out[i].group = s.Groups[r.Group]
		} else {
			out[i].group = "\x00none"
		}
	}
	return out
}

// TestDecodeMutations decodes thousands of randomly damaged files: before
// precheck, a damaged vector length in the footer made Arrow allocate
// ~125 GB and crash the process within the first few hundred.
func TestDecodeMutations(t *testing.T) {
	good := validFile(t, 3)
	rng := rand.New(rand.NewPCG(1, 1))
	ok := 0
	for range 3000 {
		d := bytes.Clone(good)
		for range 1 + rng.IntN(4) {
			d[rng.IntN(len(d))] = byte(rng.Uint32())
		}
		if _, err := Decode(d, memory.DefaultAllocator, 1<<22); err == nil {
			ok++
		} else if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("error %v does not wrap ErrCorrupt", err)
		}
	}
	t.Logf("%d of 3000 damaged files still decode (damage in padding or values)", ok)
}
