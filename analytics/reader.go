package analytics

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/rampartnet/rampart/sensor/snapshot"
)

// Snapshot is one file read back.
type Snapshot struct {
	Path   string
	Meta   Meta
	Groups []string       // hostgroup names, by Row.Group
	Rows   []snapshot.Row // in file order (sorted by ip)
}

// ErrCorrupt wraps every error about a file's content.
var ErrCorrupt = errors.New("corrupt snapshot")

// DefaultReadLimit bounds the memory one file may take when read: a
// corrupt length cannot make the reader allocate without bound.
const DefaultReadLimit = 4 << 30

// ReadFile reads an Arrow IPC snapshot file (one interval). A Parquet file
// holds many: ReadParquet reads those, ReadDir both kinds.
func ReadFile(path string) (*Snapshot, error) {
	if filepath.Ext(path) == parquetExt {
		return nil, fmt.Errorf("%s: a Parquet file holds an hour of intervals: read it with ReadParquet or ReadDir", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := Decode(data, memory.DefaultAllocator, DefaultReadLimit)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s.Path = path
	return s, nil
}

// Decode parses the bytes of a snapshot file using mem, allocating at most
// limit bytes. Any problem, including one that would make Arrow panic, is
// an error wrapping ErrCorrupt.
func Decode(data []byte, mem memory.Allocator, limit int64) (s *Snapshot, err error) {
	lim := &limitAllocator{mem: mem, limit: limit}
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("%w: %v", ErrCorrupt, r)
		}
	}()
	if err := precheck(data); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	r, err := ipc.NewFileReader(bytes.NewReader(data), ipc.WithAllocator(lim),
		ipc.WithMetadataSizeLimit(int64(len(data))), ipc.WithBodySizeLimit(int64(len(data))))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	defer r.Close()
	meta, err := metaOf(r.Schema())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	s = &Snapshot{Meta: meta}
	for i := range r.NumRecords() {
		rec, err := r.RecordBatchAt(i)
		if err != nil {
			return nil, fmt.Errorf("%w: record batch %d: %v", ErrCorrupt, i, err)
		}
		err = s.appendRecord(rec)
		rec.Release()
		if err != nil {
			return nil, fmt.Errorf("%w: record batch %d: %v", ErrCorrupt, i, err)
		}
	}
	return s, nil
}

func (s *Snapshot) appendRecord(rec arrow.RecordBatch) error {
	if err := checkRecord(rec, fields); err != nil {
		return err
	}
	n := int(rec.NumRows())
	ip := rec.Column(colIP).(*array.FixedSizeBinary)
	grp := rec.Column(colGroup).(*array.Dictionary)
	// Dictionaries are per file: the first batch's names stand for all.
	names := grp.Dictionary().(*array.String)
	if s.Groups == nil {
		s.Groups = make([]string, names.Len())
		for i := range s.Groups {
			s.Groups[i] = names.Value(i)
		}
	} else if names.Len() != len(s.Groups) {
		return fmt.Errorf("column hostgroup: %d names, earlier batches had %d", names.Len(), len(s.Groups))
	}
	var ints [numCols][]int64
	for c := colCounts; c < numCols; c++ {
		ints[c] = rec.Column(c).(*array.Int64).Int64Values()
	}
	s.Rows = slices.Grow(s.Rows, n)
	for i := range n {
		var r snapshot.Row
		copy(r.Key[:], ip.Value(i))
		r.Group = -1
		if grp.IsValid(i) {
			r.Group = int32(grp.GetValueIndex(i))
		}
		fillRow(&r, &ints, i)
		s.Rows = append(s.Rows, r)
	}
	return nil
}

// limitAllocator fails (by panicking, which Decode recovers) once more than
// limit bytes are live.
type limitAllocator struct {
	mem   memory.Allocator
	limit int64
	live  atomic.Int64
}

func (a *limitAllocator) check(delta int) {
	if v := a.live.Add(int64(delta)); v > a.limit {
		a.live.Add(-int64(delta))
		panic(fmt.Sprintf("needs more than %d bytes of memory", a.limit))
	}
}

func (a *limitAllocator) Allocate(size int) []byte {
	a.check(size)
	return a.mem.Allocate(size)
}

func (a *limitAllocator) Reallocate(size int, b []byte) []byte {
	a.check(size - len(b))
	return a.mem.Reallocate(size, b)
}

func (a *limitAllocator) Free(b []byte) {
	a.live.Add(-int64(len(b)))
	a.mem.Free(b)
}

// Format is a snapshot file's format.
type Format string

const (
	FormatArrow   Format = "arrow"
	FormatParquet Format = "parquet"
)

// FileInfo describes one file under a snapshot directory.
type FileInfo struct {
	Path   string
	Sensor string
	Start  time.Time
	Format Format
	Size   int64
}

// List returns the snapshot files under dir by start time, then path;
// temporary files are left out.
func List(dir string) ([]FileInfo, error) {
	var out []FileInfo
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		sensor, start, ext, ok := parseName(d.Name())
		if !ok {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		f := FormatArrow
		if ext == parquetExt {
			f = FormatParquet
		}
		out = append(out, FileInfo{Path: p, Sensor: sensor, Start: start, Format: f, Size: info.Size()})
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b FileInfo) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return cmpString(a.Path, b.Path)
	})
	return out, nil
}
