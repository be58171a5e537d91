package analytics

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/rs/zerolog"
)

// CompactOptions are the flags of `snapshots compact`.
type CompactOptions struct {
	// OlderThan: only hours that ended at least this long ago. The hour
	// being written is never compacted, whatever this is.
	OlderThan time.Duration
	// DeleteSource deletes an hour's IPC files once its Parquet file is
	// in place, synced and read back.
	DeleteSource bool
	// DryRun reports what would be done and changes nothing.
	DryRun bool

	now    func() time.Time
	mem    memory.Allocator
	nosync bool
	// afterRename runs between the rename and the deletion of the sources
	// (crash tests stop there).
	afterRename func()
}

// Compaction actions.
const (
	ActionWritten  = "written"    // a new or rebuilt Parquet file
	ActionUpToDate = "up to date" // the Parquet file holds every IPC file of the hour
	ActionWould    = "would write"
	ActionTooNew   = "too recent" // the hour is not over (or not OlderThan ago), or a file is younger than its interval
	ActionFailed   = "failed"
)

// CompactResult is what happened to one sensor's hour.
type CompactResult struct {
	Sensor    string
	Hour      time.Time
	Path      string // the Parquet file
	Action    string
	Sources   int   // IPC files of the hour not yet in the Parquet file
	Intervals int   // intervals in the Parquet file
	Rows      int64 // rows in the Parquet file
	Bytes     int64 // size of the Parquet file
	Deleted   int   // IPC files deleted
	Err       error
}

// ErrCompactLocked: another compaction holds the directory.
var ErrCompactLocked = errors.New("another compaction is running on this directory")

const lockName = ".compact.lock"

// Compact merges the IPC files of every complete hour under dir into one
// Parquet file per sensor and hour, DIR/dt=.../hour=HH/<sensor>-<hour>.parquet
// (ZSTD, statistics, rows sorted by timestamp then ip). The file is
// written under a temporary name, synced and renamed: a crash leaves
// either no file or a whole one, and only temporary files, which the next
// run removes. Running it again changes nothing; IPC files written into an
// hour after its compaction are merged by rebuilding the file. The sources
// are deleted (DeleteSource) only once the new file is durable and its
// rows and intervals read back as written. An hour that fails is reported
// and the others go on; the error then names the failed hours.
func Compact(log zerolog.Logger, dir string, opt CompactOptions) ([]CompactResult, error) {
	if opt.now == nil {
		opt.now = time.Now
	}
	if opt.mem == nil {
		opt.mem = memory.DefaultAllocator
	}
	if opt.OlderThan < 0 {
		return nil, fmt.Errorf("older-than: must be >= 0, got %s", opt.OlderThan)
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("snapshot directory: %w", err)
	}
	if !opt.DryRun {
		unlock, err := lockDir(dir)
		if err != nil {
			return nil, err
		}
		defer unlock()
		if err := removeCompactTemps(log, dir); err != nil {
			return nil, err
		}
	}
	files, err := List(dir)
	if err != nil {
		return nil, err
	}
	type group struct {
		sensor  string
		hour    time.Time
		arrows  []FileInfo
		parquet bool
	}
	var groups []*group
	byKey := map[coverKey]*group{}
	for _, f := range files {
		h := hourOf(f.Start)
		k := coverKey{f.Sensor, h.UnixNano()}
		g := byKey[k]
		if g == nil {
			g = &group{sensor: f.Sensor, hour: h}
			byKey[k] = g
			groups = append(groups, g)
		}
		switch {
		case f.Format == FormatArrow:
			g.arrows = append(g.arrows, f)
		case f.Path == parquetPath(dir, f.Sensor, h):
			g.parquet = true
		}
	}
	slices.SortStableFunc(groups, func(a, b *group) int {
		if c := a.hour.Compare(b.hour); c != 0 {
			return c
		}
		return strings.Compare(a.sensor, b.sensor)
	})
	var out []CompactResult
	var failed []string
	now := opt.now()
	for _, g := range groups {
		if len(g.arrows) == 0 {
			continue // a Parquet file alone: nothing to do
		}
		r := CompactResult{Sensor: g.sensor, Hour: g.hour, Path: parquetPath(dir, g.sensor, g.hour)}
		if g.hour.Add(time.Hour + opt.OlderThan).After(now) {
			r.Action, r.Sources = ActionTooNew, len(g.arrows)
			out = append(out, r)
			continue
		}
		compactHour(log, &r, g.arrows, g.parquet, now, opt)
		if r.Err != nil {
			r.Action = ActionFailed
			failed = append(failed, fmt.Sprintf("%s %s", g.sensor, g.hour.Format(time.RFC3339)))
			log.Error().Err(r.Err).Str("path", r.Path).Msg("compaction failed")
		} else {
			log.Info().Str("path", r.Path).Str("action", r.Action).Int("sources", r.Sources).
				Int64("rows", r.Rows).Int("deleted", r.Deleted).Msg("hour compacted")
		}
		out = append(out, r)
	}
	if len(failed) > 0 {
		return out, fmt.Errorf("compaction failed for %d hours: %s", len(failed), strings.Join(failed, ", "))
	}
	return out, nil
}

// compactHour compacts the IPC files arrows of one sensor's hour into
// r.Path, merging the intervals already there.
func compactHour(log zerolog.Logger, r *CompactResult, arrows []FileInfo, hasParquet bool, now time.Time, opt CompactOptions) {
	var old ParquetInfo
	have := map[int64]bool{}
	if hasParquet {
		var err error
		if old, err = StatParquet(r.Path); err != nil {
			r.Err = fmt.Errorf("existing Parquet file: %w (move it away to rebuild the hour from its IPC files)", err)
			return
		}
		for _, iv := range old.Intervals {
			have[iv.Start.UnixNano()] = true
		}
	}
	var fresh []FileInfo
	for _, f := range arrows {
		if !have[f.Start.UnixNano()] {
			fresh = append(fresh, f)
		}
	}
	r.Sources = len(fresh)
	if len(fresh) == 0 {
		r.Action, r.Intervals, r.Rows = ActionUpToDate, len(old.Intervals), old.Rows
		if st, err := os.Stat(r.Path); err == nil {
			r.Bytes = st.Size()
		}
		if opt.DeleteSource && !opt.DryRun {
			if err := verifyParquet(r.Path, old); err != nil {
				r.Err = err
				return
			}
			r.Deleted, r.Err = deleteSources(arrows)
		}
		return
	}
	if opt.DryRun {
		r.Action = ActionWould
		return
	}
	info, size, tooNew, err := writeHour(r.Path, hasParquet, fresh, now, opt)
	if err != nil {
		r.Err = err
		return
	}
	if tooNew {
		r.Action = ActionTooNew
		return
	}
	r.Action, r.Intervals, r.Rows, r.Bytes = ActionWritten, len(info.Intervals), info.Rows, size
	if opt.afterRename != nil {
		opt.afterRename()
	}
	if err := verifyParquet(r.Path, info); err != nil {
		r.Err = err
		return
	}
	if opt.DeleteSource {
		r.Deleted, r.Err = deleteSources(arrows)
	}
	log.Debug().Str("path", r.Path).Int("intervals", r.Intervals).Msg("parquet written")
}

// writeHour writes path from the intervals of the Parquet file already
// there (if any) and the IPC files fresh, in order of start. tooNew: a
// source was modified less than its interval ago (it may be the hour's
// last file still being written), nothing was written.
func writeHour(path string, hasParquet bool, fresh []FileInfo, now time.Time, opt CompactOptions) (info ParquetInfo, size int64, tooNew bool, err error) {
	dir, name := filepath.Split(path)
	tmp := filepath.Join(dir, "."+name+tmpExt)
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return info, 0, false, err
	}
	done := false
	defer func() {
		if !done {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	cw := &countingWriter{w: f}
	bw := bufio.NewWriterSize(cw, 1<<20)
	var pw *parquetWriter
	add := func(s *Snapshot) error {
		if pw == nil {
			var err error
			if pw, err = newParquetWriter(bw, s.Meta.SensorID, s.Meta.Interval, opt.mem); err != nil {
				return err
			}
		}
		return pw.add(s)
	}
	var olds iter.Seq2[*Snapshot, error] = func(func(*Snapshot, error) bool) {}
	if hasParquet {
		olds = parquetSeq(path)
	}
	next, stop := iter.Pull2(olds)
	defer stop()
	pending, perr, ok := next()
	for _, fi := range fresh {
		// Intervals of the old file that start before this one go first.
		for ok && perr == nil && pending.Meta.Start.Before(fi.Start) {
			if err := add(pending); err != nil {
				return info, 0, false, err
			}
			pending, perr, ok = next()
		}
		if perr != nil {
			return info, 0, false, perr
		}
		st, err := os.Stat(fi.Path)
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed by retention meanwhile
		} else if err != nil {
			return info, 0, false, err
		}
		s, err := ReadFile(fi.Path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return info, 0, false, err
		}
		if now.Sub(st.ModTime()) < s.Meta.Interval {
			return info, 0, true, nil
		}
		if !s.Meta.Start.Equal(fi.Start) || s.Meta.SensorID != fi.Sensor {
			return info, 0, false, fmt.Errorf("%s: sensor %q starting %v, its name says %q starting %v",
				fi.Path, s.Meta.SensorID, s.Meta.Start, fi.Sensor, fi.Start)
		}
		if err := add(s); err != nil {
			return info, 0, false, err
		}
	}
	for ok {
		if perr != nil {
			return info, 0, false, perr
		}
		if err := add(pending); err != nil {
			return info, 0, false, err
		}
		pending, perr, ok = next()
	}
	if pw == nil {
		return info, 0, true, nil // every source went away
	}
	if err := pw.close(); err != nil {
		return info, 0, false, err
	}
	if err := bw.Flush(); err != nil {
		return info, 0, false, err
	}
	if !opt.nosync {
		if err := f.Sync(); err != nil {
			return info, 0, false, err
		}
	}
	if err := f.Close(); err != nil {
		return info, 0, false, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return info, 0, false, err
	}
	done = true
	if !opt.nosync {
		syncDir(dir)
	}
	info.Meta, info.Intervals = pw.meta, pw.ivs
	for _, iv := range pw.ivs {
		info.Rows += iv.Rows
	}
	return info, cw.n, false, nil
}

// verifyParquet reads path whole and checks it holds want's intervals
// with their row counts.
func verifyParquet(path string, want ParquetInfo) error {
	i := 0
	got, err := readParquet(path, true, func(s *Snapshot) error {
		if i >= len(want.Intervals) {
			return fmt.Errorf("verify %s: more intervals than the %d written", path, len(want.Intervals))
		}
		if iv := want.Intervals[i]; !s.Meta.Start.Equal(iv.Start) {
			return fmt.Errorf("verify %s: interval %d reads back as %v, written %v", path, i, s.Meta.Start, iv.Start)
		}
		i++
		return nil
	})
	if err != nil {
		return err
	}
	if i != len(want.Intervals) || got.Rows != want.Rows {
		return fmt.Errorf("verify %s: %d intervals and %d rows read back, %d and %d written",
			path, i, got.Rows, len(want.Intervals), want.Rows)
	}
	return nil
}

func deleteSources(files []FileInfo) (int, error) {
	n := 0
	for _, f := range files {
		if err := os.Remove(f.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return n, err
		}
		n++
	}
	if len(files) > 0 {
		syncDir(filepath.Dir(files[0].Path))
	}
	return n, nil
}

// lockDir takes an exclusive lock on dir for one compaction at a time.
func lockDir(dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("compaction lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("%w (%s: %v)", ErrCompactLocked, f.Name(), err)
	}
	return func() { _ = f.Close() }, nil
}

// removeCompactTemps removes the temporary Parquet files a stopped
// compaction left; the sensor's temporary IPC files are its own.
func removeCompactTemps(log zerolog.Logger, dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if n := d.Name(); isTemp(n) && strings.HasSuffix(n, parquetExt+tmpExt) {
			if err := os.Remove(p); err != nil {
				return err
			}
			log.Info().Str("path", p).Msg("removed a parquet file left half written")
		}
		return nil
	})
}
