package detect

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/rampartnet/rampart/internal/atomicfile"
	"github.com/rampartnet/rampart/sensor/pcapfile"
	"github.com/rampartnet/rampart/sensor/sample"
	"github.com/rs/zerolog"
)

// pcapQueue bounds the sample captures waiting to be written.
const pcapQueue = 64

// recorder writes the attack log (on the detector goroutine, flushed once
// per tick) and sample pcaps (on its own goroutine: creating files is slow).
type recorder struct {
	log     zerolog.Logger
	f       *os.File
	w       *bufio.Writer
	dirty   bool
	pcapDir string
	jobs    chan pcapJob
	wg      sync.WaitGroup

	written, errors, pcaps, pcapErrors, pcapDropped atomic.Uint64
}

type pcapJob struct {
	path string
	recs []sample.Record
}

func newRecorder(cfg Config, log zerolog.Logger) (*recorder, error) {
	r := &recorder{log: log, pcapDir: cfg.PcapDir}
	if cfg.AttackLog != "" {
		f, err := os.OpenFile(cfg.AttackLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return nil, fmt.Errorf("detection.attack_log: %w", err)
		}
		r.f, r.w = f, bufio.NewWriterSize(f, 64<<10)
	}
	if cfg.PcapDir != "" {
		if err := os.MkdirAll(cfg.PcapDir, 0o750); err != nil {
			if r.f != nil {
				r.f.Close()
			}
			return nil, fmt.Errorf("detection.pcap_dir: %w", err)
		}
		r.jobs = make(chan pcapJob, pcapQueue)
		r.wg.Add(1)
		go r.pcapWorker()
	}
	return r, nil
}

// write appends one JSON line to the attack log.
func (r *recorder) write(event string, a *Attack) {
	if r.w == nil {
		return
	}
	b, err := json.Marshal(Event{Event: event, Attack: *a})
	if err == nil {
		b = append(b, '\n')
		_, err = r.w.Write(b)
	}
	if err != nil {
		r.errors.Add(1)
		r.log.Error().Err(err).Str("id", a.ID).Msg("attack log write failed")
		return
	}
	r.dirty = true
	r.written.Add(1)
}

func (r *recorder) flush() {
	if !r.dirty {
		return
	}
	r.dirty = false
	if err := r.w.Flush(); err != nil {
		r.errors.Add(1)
		r.log.Error().Err(err).Msg("attack log flush failed")
	}
}

// pcap queues the samples of attack id and returns the file they go to, or
// "" when the queue is full.
func (r *recorder) pcap(id string, recs []sample.Record) string {
	path := filepath.Join(r.pcapDir, id+".pcap")
	select {
	case r.jobs <- pcapJob{path: path, recs: slices.Clone(recs)}:
		return path
	default:
		r.pcapDropped.Add(1)
		return ""
	}
}

func (r *recorder) pcapWorker() {
	defer r.wg.Done()
	for j := range r.jobs {
		if err := writePcap(j.path, j.recs); err != nil {
			r.pcapErrors.Add(1)
			r.log.Error().Err(err).Str("path", j.path).Msg("sample pcap write failed")
			continue
		}
		r.pcaps.Add(1)
	}
}

// writePcap writes recs as frames rebuilt from their headers (see appendFrame)
// to path, atomically, so a reader never sees half of it.
func writePcap(path string, recs []sample.Record) error {
	return atomicfile.Write(path, atomicfile.Options{}, func(out io.Writer) error {
		w, err := pcapfile.NewWriter(out, pcapfile.WriterOptions{Nanosecond: true})
		if err != nil {
			return err
		}
		var frame []byte
		for i := range recs {
			rec := &recs[i]
			frame = appendFrame(frame[:0], &rec.Header)
			wire := rec.WireLen
			if wire == 0 {
				wire = uint32(ethHeaderLen(&rec.Header)) + uint32(rec.Header.IPLen)
			}
			if err := w.WritePacket(max(rec.TimeNs, 0), wire, frame); err != nil {
				return err
			}
		}
		return nil
	})
}

func (r *recorder) close() error {
	var err error
	if r.w != nil {
		if err = r.w.Flush(); err != nil {
			r.errors.Add(1)
		}
		if cerr := r.f.Close(); err == nil {
			err = cerr
		}
	}
	if r.jobs != nil {
		close(r.jobs)
		r.wg.Wait()
	}
	return err
}
