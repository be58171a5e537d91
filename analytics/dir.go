package analytics

import (
	"errors"
	"iter"
	"path/filepath"
	"time"
)

// coverKey is one interval of one sensor.
type coverKey struct {
	sensor string
	start  int64
}

// dirIndex is what the Parquet files under a directory hold.
type dirIndex struct {
	parquet map[string]ParquetInfo // by path
	covered map[coverKey]string    // interval -> the Parquet file holding it
}

// index reads the footer of every Parquet file in files. With bad
// non-nil, a file that cannot be read is recorded there, not an error.
func index(files []FileInfo, bad map[string]error) (*dirIndex, error) {
	ix := &dirIndex{parquet: map[string]ParquetInfo{}, covered: map[coverKey]string{}}
	for _, f := range files {
		if f.Format != FormatParquet {
			continue
		}
		info, err := StatParquet(f.Path)
		if err != nil && bad != nil {
			bad[f.Path] = err
			continue
		} else if err != nil {
			return nil, err
		}
		ix.parquet[f.Path] = info
		for _, iv := range info.Intervals {
			ix.covered[coverKey{info.Meta.SensorID, iv.Start.UnixNano()}] = f.Path
		}
	}
	return ix, nil
}

// coveredBy is the Parquet file that holds the interval of the IPC file f,
// or "".
func (ix *dirIndex) coveredBy(f FileInfo) string {
	if f.Format != FormatArrow {
		return ""
	}
	return ix.covered[coverKey{f.Sensor, f.Start.UnixNano()}]
}

// ReadDir calls fn with every snapshot (one interval of one sensor) under
// dir in order of start time, then sensor, stopping at the first error.
// Compacted hours come from their Parquet file, one Snapshot per interval
// as it was written. An IPC file whose interval a Parquet file of the same
// sensor holds (the sources of a compaction run without --delete-source,
// or one that stopped before deleting them) is skipped: the Parquet file
// wins, so no interval is counted twice.
func ReadDir(dir string, fn func(*Snapshot) error) error {
	files, err := List(dir)
	if err != nil {
		return err
	}
	ix, err := index(files, nil)
	if err != nil {
		return err
	}
	// Files are merged an hour at a time: a Parquet file spans its hour,
	// IPC files of the same hour not in it (written after a compaction)
	// and other sensors' files interleave with its intervals.
	for len(files) > 0 {
		h := files[0].Start.Truncate(time.Hour)
		n := 0
		for n < len(files) && files[n].Start.Truncate(time.Hour).Equal(h) {
			n++
		}
		if err := ix.readHour(files[:n], fn); err != nil {
			return err
		}
		files = files[n:]
	}
	return nil
}

// stream yields snapshots in order of start.
type stream struct {
	next func() (*Snapshot, error, bool)
	stop func()
	head *Snapshot
}

func (ix *dirIndex) readHour(files []FileInfo, fn func(*Snapshot) error) error {
	var streams []*stream
	defer func() {
		for _, s := range streams {
			s.stop()
		}
	}()
	var arrows []string
	for _, f := range files {
		switch {
		case f.Format == FormatParquet:
			next, stop := iter.Pull2(parquetSeq(f.Path))
			streams = append(streams, &stream{next: next, stop: stop})
		case ix.coveredBy(f) == "":
			arrows = append(arrows, f.Path)
		}
	}
	if len(arrows) > 0 {
		next, stop := iter.Pull2(arrowSeq(arrows))
		streams = append(streams, &stream{next: next, stop: stop})
	}
	advance := func(s *stream) error {
		snap, err, ok := s.next()
		if !ok {
			s.head = nil
			return nil
		}
		s.head = snap
		return err
	}
	for _, s := range streams {
		if err := advance(s); err != nil {
			return err
		}
	}
	for {
		var first *stream
		for _, s := range streams {
			if s.head != nil && (first == nil || before(s.head, first.head)) {
				first = s
			}
		}
		if first == nil {
			return nil
		}
		if err := fn(first.head); err != nil {
			return err
		}
		if err := advance(first); err != nil {
			return err
		}
	}
}

func before(a, b *Snapshot) bool {
	if c := a.Meta.Start.Compare(b.Meta.Start); c != 0 {
		return c < 0
	}
	return a.Meta.SensorID < b.Meta.SensorID
}

var errStopped = errors.New("stopped")

func parquetSeq(path string) iter.Seq2[*Snapshot, error] {
	return func(yield func(*Snapshot, error) bool) {
		_, err := ReadParquet(path, func(s *Snapshot) error {
			if !yield(s, nil) {
				return errStopped
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStopped) {
			yield(nil, err)
		}
	}
}

func arrowSeq(paths []string) iter.Seq2[*Snapshot, error] {
	return func(yield func(*Snapshot, error) bool) {
		for _, p := range paths {
			s, err := ReadFile(p)
			if !yield(s, err) || err != nil {
				return
			}
		}
	}
}

// hourOf is the start of the hour of a file's partition.
func hourOf(t time.Time) time.Time { return t.UTC().Truncate(time.Hour) }

// parquetPath is the Parquet file of sensor's hour h under dir.
func parquetPath(dir, sensor string, h time.Time) string {
	return filepath.Join(hourDir(dir, h), fileName(sensor, h, parquetExt))
}
