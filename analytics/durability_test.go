package analytics

import (
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampartnet/rampart/sensor/snapshot"
)

// failingFile is a temp file whose disk "fills" after limit bytes.
type failingFile struct {
	*os.File
	limit int
}

var errDiskFull = errors.New("no space left on device")

func (f *failingFile) Write(p []byte) (int, error) {
	if len(p) > f.limit {
		n, _ := f.File.Write(p[:f.limit])
		f.limit = 0
		return n, errDiskFull
	}
	f.limit -= len(p)
	return f.File.Write(p)
}

// allFiles lists every file under dir, hidden ones too.
func allFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, strings.TrimPrefix(p, dir+"/"))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestFailedWriteLeavesNothing(t *testing.T) {
	b := randomBatch(rand.New(rand.NewPCG(5, 5)), 3000, t0)
	w := testWriter(t, Config{})
	// Learn the full size, then fail at points through the file.
	path, err := w.Write(b)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := os.Stat(path)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	for _, at := range []int{0, 6, 4096, int(info.Size()) / 2, int(info.Size()) - 1} {
		w.create = func(p string) (tempFile, error) {
			f, err := os.Create(p)
			return &failingFile{File: f, limit: at}, err
		}
		if _, err := w.Write(b); !errors.Is(err, errDiskFull) {
			t.Fatalf("failing at byte %d: err %v, want disk full", at, err)
		}
		if files := allFiles(t, w.cfg.Dir); len(files) != 0 {
			t.Fatalf("failing at byte %d left %q", at, files)
		}
	}
}

func TestStartRemovesLeftoverTemp(t *testing.T) {
	dir := t.TempDir()
	hd := hourDir(dir, t0)
	if err := os.MkdirAll(hd, 0o755); err != nil {
		t.Fatal(err)
	}
	half := filepath.Join(hd, "."+fileName("edge-1", t0, arrowExt)+tmpExt)
	if err := os.WriteFile(half, []byte("ARROW1\x00\x00half"), 0o644); err != nil {
		t.Fatal(err)
	}
	if files, err := List(dir); err != nil || len(files) != 0 {
		t.Fatalf("List shows %v, %v: a temp file must never be visible", files, err)
	}
	// A compaction's temporary file is its own (one may be running).
	pqTmp := filepath.Join(hd, "."+fileName("edge-1", t0.Truncate(time.Hour), parquetExt)+tmpExt)
	if err := os.WriteFile(pqTmp, []byte("PAR1half"), 0o644); err != nil {
		t.Fatal(err)
	}
	testWriter(t, Config{Dir: dir})
	if files := allFiles(t, dir); len(files) != 1 || !strings.HasSuffix(files[0], ".parquet.tmp") {
		t.Fatalf("after Start: %q, want only the compaction's temporary file", files)
	}
	compact(t, dir, CompactOptions{})
	if files := allFiles(t, dir); len(files) != 1 || files[0] != lockName {
		t.Fatalf("after a compaction: %q, want only its lock file", files)
	}
}

func TestRetention(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	cases := []struct {
		name      string
		retention time.Duration
		maxFiles  int // max_bytes as this many files' worth
		written   int // 10 s snapshots written
		kept      int
	}{
		{"by age", time.Minute, 0, 20, 6}, // the last minute: starts >= newest end - 60 s
		{"by size", 0, 5, 20, 5},
		{"age and size", time.Minute, 3, 20, 3},
		{"keep all", 0, 0, 12, 12},
		{"newest always stays", 0, 0, 3, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Same row count, so every file has about the same size.
			batches := make([]*snapshot.Batch, c.written)
			for i := range batches {
				batches[i] = randomBatch(rng, 200, t0.Add(time.Duration(i)*10*time.Second))
			}
			probe := testWriter(t, Config{})
			p, _ := probe.Write(batches[0])
			info, _ := os.Stat(p)
			cfg := Config{Retention: c.retention}
			if c.maxFiles > 0 {
				cfg.MaxBytes = int64(c.maxFiles)*info.Size() + info.Size()/2
			}
			w := testWriter(t, cfg)
			for _, b := range batches {
				if _, err := w.Write(b); err != nil {
					t.Fatal(err)
				}
			}
			files, err := List(w.cfg.Dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(files) != c.kept {
				t.Fatalf("kept %d files, want %d", len(files), c.kept)
			}
			if got, want := files[len(files)-1].Start, t0.Add(time.Duration(c.written-1)*10*time.Second); !got.Equal(want) {
				t.Fatalf("newest kept starts %v, want %v", got, want)
			}
			if st := w.Stats(); st.Removed != uint64(c.written-c.kept) {
				t.Fatalf("removed %d, want %d", st.Removed, c.written-c.kept)
			}
			// A restarted writer takes stock of what is there and goes on.
			w2 := testWriter(t, Config{Dir: w.cfg.Dir, Retention: c.retention, MaxBytes: cfg.MaxBytes})
			if len(w2.files) != c.kept {
				t.Fatalf("restart found %d files, want %d", len(w2.files), c.kept)
			}
		})
	}
}
