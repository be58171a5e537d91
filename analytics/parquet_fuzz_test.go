package analytics

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// validParquet is a small Parquet snapshot file's bytes: intervals of the
// given row counts, 10 s apart.
func validParquet(t testing.TB, rows ...int) []byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(11, uint64(len(rows))))
	var buf bytes.Buffer
	pw, err := newParquetWriter(&buf, "edge-1", 10*time.Second, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range rows {
		at := t0.Add(time.Duration(i) * 10 * time.Second)
		b := randomBatch(rng, n, at)
		s := &Snapshot{Meta: Meta{Version: SchemaVersion, SensorID: "edge-1", Interval: 10 * time.Second,
			Start: at, End: at.Add(10 * time.Second), Dropped: b.Dropped}, Groups: b.Groups, Rows: b.Rows}
		if err := pw.add(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := pw.close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func checkDecodedParquet(t *testing.T, data []byte, limit int64) (int, error) {
	out, err := DecodeParquet(data, memory.DefaultAllocator, limit)
	if err != nil {
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("error %v does not wrap ErrCorrupt", err)
		}
		return 0, err
	}
	for _, s := range out {
		if s.Meta.Version != SchemaVersion || !s.Meta.End.After(s.Meta.Start) {
			t.Fatalf("decoded meta %+v", s.Meta)
		}
		for i, r := range s.Rows {
			if r.Group < -1 || int(r.Group) >= len(s.Groups) {
				t.Fatalf("row %d: group %d of %d", i, r.Group, len(s.Groups))
			}
		}
	}
	return len(out), nil
}

// FuzzDecodeParquet: corrupt Parquet files give ErrCorrupt within a
// memory limit, never a panic or a crash.
func FuzzDecodeParquet(f *testing.F) {
	good := validParquet(f, 3, 0, 2)
	f.Add(good)
	f.Add(good[:len(good)-10])
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = checkDecodedParquet(t, data, 1<<22)
	})
}

func TestDecodeParquetRejects(t *testing.T) {
	good := validParquet(t, 5, 7)
	if n, err := checkDecodedParquet(t, good, 1<<26); err != nil || n != 2 {
		t.Fatalf("valid file: %d intervals, %v", n, err)
	}
	for name, data := range map[string][]byte{
		"empty":     nil,
		"IPC file":  validFile(t, 3),
		"truncated": good[:len(good)/2],
		"no footer": good[:len(good)-8],
	} {
		if _, err := checkDecodedParquet(t, data, 1<<26); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
	if _, err := DecodeParquet(validParquet(t, 3000), memory.DefaultAllocator, 1<<12); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("3000 rows in 4 KiB: %v", err)
	}
}

// listBomb is a Parquet file whose footer declares a schema of ~100M
// elements in 9 bytes.
func listBomb() []byte {
	footer := []byte{0x15, 0x04, 0x19, 0xfc, 0xff, 0xff, 0xff, 0x2f, 0x00}
	f := append([]byte("PAR1"), footer...)
	f = binary.LittleEndian.AppendUint32(f, uint32(len(footer)))
	return append(f, "PAR1"...)
}

func TestDecodeParquetListBomb(t *testing.T) {
	_, err := DecodeParquet(listBomb(), memory.DefaultAllocator, 1<<22)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "container of 100663295 elements, 1 bytes left") {
		t.Fatalf("err %v, want the precheck to refuse the list", err)
	}
}

// TestDecodeParquetMutations decodes thousands of randomly damaged files.
func TestDecodeParquetMutations(t *testing.T) {
	good := validParquet(t, 3, 0, 2)
	rng := rand.New(rand.NewPCG(1, 2))
	ok := 0
	for range 1000 {
		d := bytes.Clone(good)
		for range 1 + rng.IntN(4) {
			d[rng.IntN(len(d))] = byte(rng.Uint32())
		}
		if _, err := checkDecodedParquet(t, d, 1<<22); err == nil {
			ok++
		}
	}
	t.Logf("%d of 1000 damaged files still decode (damage in values or statistics)", ok)
}
