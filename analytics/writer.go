package analytics

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/rs/zerolog"

	"github.com/rampartnet/rampart/sensor/snapshot"
)

// Source hands over snapshots; snapshot.Collector is one.
type Source interface {
	Batches() <-chan *snapshot.Batch
	Release(*snapshot.Batch)
}

// WriterStats are a Writer's counters; safe to read from any goroutine.
type WriterStats struct {
	Written   uint64        // files written
	Failed    uint64        // snapshots lost to write errors
	Bytes     uint64        // bytes written
	Removed   uint64        // files removed by retention
	LastWrite time.Duration // time taken by the last write
}

// file is a snapshot file known to retention.
type file struct {
	path  string
	start time.Time
	size  int64
}

// tempFile is what a write goes to before its rename; a test hook can
// replace os.Create to fail mid-write.
type tempFile interface {
	io.Writer
	Sync() error
	Close() error
}

// Writer writes each snapshot it receives as one Arrow IPC file.
type Writer struct {
	log zerolog.Logger
	cfg Config
	id  string
	src Source
	mem memory.Allocator

	create func(path string) (tempFile, error)
	nosync bool // tests that write thousands of files skip fsync
	keys   []sortKey
	cols   columns   // reused from one snapshot to the next
	ipcMem *recycler // the IPC writer's compression buffers, reused too

	files   []file // oldest first
	total   int64
	scanned time.Time

	cancel context.CancelFunc
	wg     sync.WaitGroup

	written, failed, bytes, removed atomic.Uint64
	lastWrite                       atomic.Int64
}

// New returns a Writer for the snapshots of sensor sensorID from src (nil
// when only Write is used); cfg must have passed Validate.
func New(log zerolog.Logger, cfg Config, sensorID string, src Source) (*Writer, error) {
	if err := ValidSensorID(sensorID); err != nil {
		return nil, err
	}
	if cfg.Dir == "" {
		return nil, errors.New("snapshots.dir: must be set, got \"\"")
	}
	return &Writer{
		log: log, cfg: cfg, id: sensorID, src: src, mem: memory.DefaultAllocator,
		create: func(p string) (tempFile, error) { return os.Create(p) },
	}, nil
}

// Start creates the directory, removes files a crash left half written,
// takes stock of existing files for retention and starts consuming.
func (w *Writer) Start(ctx context.Context) error {
	if err := os.MkdirAll(w.cfg.Dir, 0o755); err != nil {
		return fmt.Errorf("snapshots.dir: %w", err)
	}
	if err := w.scan(true); err != nil {
		return err
	}
	if w.src == nil {
		return nil
	}
	ctx, w.cancel = context.WithCancel(ctx)
	w.wg.Add(1)
	go w.run(ctx)
	return nil
}

// Stop stops consuming after writing a snapshot still waiting, and frees
// the buffers kept between snapshots.
func (w *Writer) Stop() error {
	if w.cancel != nil {
		w.cancel()
		w.wg.Wait()
	}
	w.cols.release()
	if w.ipcMem != nil {
		w.ipcMem.release()
	}
	return nil
}

// Stats returns the counters.
func (w *Writer) Stats() WriterStats {
	return WriterStats{
		Written: w.written.Load(), Failed: w.failed.Load(), Bytes: w.bytes.Load(),
		Removed: w.removed.Load(), LastWrite: time.Duration(w.lastWrite.Load()),
	}
}

func (w *Writer) run(ctx context.Context) {
	defer w.wg.Done()
	for {
		select {
		case b := <-w.src.Batches():
			w.consume(b)
		case <-ctx.Done():
			select {
			case b := <-w.src.Batches():
				w.consume(b)
			default:
			}
			return
		}
	}
}

func (w *Writer) consume(b *snapshot.Batch) {
	path, err := w.write(b, func() { w.src.Release(b) })
	if err != nil {
		w.failed.Add(1)
		w.log.Error().Err(err).Msg("snapshot write failed")
		return
	}
	w.log.Debug().Str("path", path).Msg("snapshot written")
}

// Write writes b as one file and applies retention; it returns the path.
// Rows of b are not changed.
func (w *Writer) Write(b *snapshot.Batch) (string, error) {
	return w.write(b, func() {})
}

// write is Write calling release once b is no longer needed, before the
// slow part (compression and disk).
func (w *Writer) write(b *snapshot.Batch, release func()) (string, error) {
	begin := time.Now()
	start, end := time.Unix(0, b.Start).UTC(), time.Unix(0, b.End).UTC()
	schema := schemaFor(Meta{Version: SchemaVersion, SensorID: w.id, Interval: w.cfg.Interval, Start: start, End: end, Dropped: b.Dropped})
	w.keys = order(b.Rows, w.keys)
	if w.cols.mem != w.mem {
		w.cols.release()
		w.cols.mem = w.mem
		w.ipcMem = &recycler{mem: w.mem}
	}
	par := max(1, w.cfg.WriteConcurrency)
	rec := record(&w.cols, schema, b, w.keys, par)
	release()
	defer rec.Release()

	dir := hourDir(w.cfg.Dir, start)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("snapshot: %w", err)
	}
	name := fileName(w.id, start, arrowExt)
	final, tmp := filepath.Join(dir, name), filepath.Join(dir, "."+name+tmpExt)
	f, err := w.create(tmp)
	if err != nil {
		return "", fmt.Errorf("snapshot: %w", err)
	}
	cw := &countingWriter{w: f}
	bw := bufio.NewWriterSize(cw, 1<<20)
	err = func() error {
		fw, err := ipc.NewFileWriter(bw, ipc.WithSchema(schema), ipc.WithZstdLevel(1), ipc.WithAllocator(w.ipcMem),
			ipc.WithCompressConcurrency(par))
		if err != nil {
			return err
		}
		if err := fw.Write(rec); err != nil {
			_ = fw.Close()
			return err
		}
		if err := fw.Close(); err != nil {
			return err
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		if w.nosync {
			return nil
		}
		return f.Sync()
	}()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("snapshot %s: %w", final, err)
	}
	if !w.nosync {
		syncDir(dir)
	}
	w.bytes.Add(uint64(cw.n))
	w.written.Add(1)
	w.track(file{path: final, start: start, size: cw.n})
	if time.Since(w.scanned) > rescanEvery {
		if err := w.scan(false); err != nil {
			w.log.Error().Err(err).Msg("snapshot retention: rescan")
		}
	}
	w.retain(end)
	w.lastWrite.Store(int64(time.Since(begin)))
	return final, nil
}

// syncDir makes a rename durable; failure only risks losing the file on
// power loss, never a partial file, so it is not an error.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// rescanEvery: files that others add (Parquet files of a compaction) or
// remove count for retention from the next scan on.
const rescanEvery = 10 * time.Minute

// scan lists the files under the directory and, at start (clean), removes
// the temporary IPC files a crash left (a compaction's are its own: one
// may be running). Files that vanish meanwhile (a compaction deleting its
// sources) are not errors.
func (w *Writer) scan(clean bool) error {
	w.files, w.total, w.scanned = w.files[:0], 0, time.Now()
	err := filepath.WalkDir(w.cfg.Dir, func(p string, d os.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil || d.IsDir() {
			return err
		}
		name := d.Name()
		if isTemp(name) && strings.HasSuffix(name, arrowExt+tmpExt) && clean {
			if err := os.Remove(p); err != nil {
				return err
			}
			w.log.Info().Str("path", p).Msg("removed a snapshot left half written")
			return nil
		}
		if _, start, _, ok := parseName(name); ok {
			info, err := d.Info()
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			} else if err != nil {
				return err
			}
			w.files = append(w.files, file{path: p, start: start, size: info.Size()})
			w.total += info.Size()
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("snapshots.dir: %w", err)
	}
	slices.SortFunc(w.files, func(a, b file) int {
		if c := a.start.Compare(b.start); c != 0 {
			return c
		}
		return cmpString(a.path, b.path)
	})
	return nil
}

func isTemp(name string) bool {
	return len(name) > 1 && name[0] == '.' && filepath.Ext(name) == tmpExt
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// track adds a new file, keeping the list ordered by start.
func (w *Writer) track(f file) {
	i := len(w.files)
	for i > 0 && w.files[i-1].start.After(f.start) {
		i--
	}
	if i > 0 && w.files[i-1].path == f.path { // rewritten in place
		w.total -= w.files[i-1].size
		w.files[i-1] = f
	} else {
		w.files = slices.Insert(w.files, i, f)
	}
	w.total += f.size
}

// retain removes files that started before now minus the retention, then
// the oldest while the total exceeds max_bytes. The newest file always
// stays. Age is taken from the data's time, not the wall clock, so that
// replaying old traffic keeps what it writes.
func (w *Writer) retain(now time.Time) {
	n := 0
	for n < len(w.files)-1 {
		f := w.files[n]
		old := w.cfg.Retention > 0 && f.start.Before(now.Add(-w.cfg.Retention))
		big := w.cfg.MaxBytes > 0 && w.total > w.cfg.MaxBytes
		if !old && !big {
			break
		}
		if err := os.Remove(f.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			w.log.Error().Err(err).Msg("snapshot retention")
			break
		}
		w.total -= f.size
		w.removed.Add(1)
		removeEmpty(filepath.Dir(f.path), w.cfg.Dir)
		n++
	}
	w.files = slices.Delete(w.files, 0, n)
}

// removeEmpty removes dir and its parents up to root while they are empty.
func removeEmpty(dir, root string) {
	for dir != root && len(dir) > len(root) {
		if os.Remove(dir) != nil { // not empty, or gone
			return
		}
		dir = filepath.Dir(dir)
	}
}
