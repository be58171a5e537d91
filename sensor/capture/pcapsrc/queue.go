package pcapsrc

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/rampartnet/rampart/sensor/capture"
	"github.com/rampartnet/rampart/sensor/pcapfile"
)

// arenaSize holds a burst of frames until Release; it is larger than any
// record, so a burst always takes at least one.
const arenaSize = 4 * pcapfile.MaxRecord

// passGapNs separates the last packet of a pass from the first of the next.
const passGapNs = 1000

type queue struct {
	files []string
	loops int
	stats *queueStats

	file    *os.File
	r       *pcapfile.Reader
	fileIdx int
	pass    int
	err     error // returned once the frames before it are handed out

	arena []byte
	used  int

	// A record read but not yet copied (the arena was full); its data stays
	// valid in the reader until the next Next.
	held     bool
	heldData []byte
	heldWire uint32
	heldTs   int64

	shift              int64 // added to this pass's timestamps
	passFirst, passMax int64
	passStarted        bool
}

func newQueue(cfg Config, stats *queueStats) *queue {
	return &queue{files: cfg.Files, loops: cfg.Loops, stats: stats, arena: make([]byte, arenaSize)}
}

// open starts reading files[i], reusing the reader's buffers.
func (q *queue) open(i int) error {
	name := q.files[i]
	if q.file == nil || q.fileIdx != i {
		if q.file != nil {
			q.file.Close()
			q.file = nil
		}
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("pcapsrc: %w", err)
		}
		q.file = f
	} else if _, err := q.file.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("pcapsrc: rewind %s: %w", name, err)
	}
	q.fileIdx = i
	var err error
	if q.r == nil {
		q.r, err = pcapfile.NewReader(q.file)
	} else {
		err = q.r.Reset(q.file)
	}
	if err != nil {
		return fmt.Errorf("pcapsrc: %s: %w", name, err)
	}
	return nil
}

// advance moves to the next file, or the next pass, or reports the end.
func (q *queue) advance() error {
	if q.fileIdx+1 < len(q.files) {
		return q.open(q.fileIdx + 1)
	}
	q.pass++
	if q.loops != 0 && q.pass >= q.loops {
		return capture.ErrEOF
	}
	if !q.passStarted { // looping over files without packets would never end
		return fmt.Errorf("pcapsrc: no packets in %d file(s): %w", len(q.files), capture.ErrEOF)
	}
	q.shift += q.passMax - q.passFirst + passGapNs
	q.passStarted = false
	return q.open(0)
}

func (q *queue) close() error {
	if q.file == nil {
		return nil
	}
	err := q.file.Close()
	q.file = nil
	return err
}

// Recv copies up to len(frames) records into the arena.
func (q *queue) Recv(frames []capture.Frame) (int, error) {
	n := 0
	var bytes uint64
	for n < len(frames) {
		if !q.held {
			if q.err != nil {
				break
			}
			data, wire, ts, err := q.r.Next()
			if err != nil {
				if errors.Is(err, io.EOF) {
					q.err = q.advance()
				} else {
					q.err = fmt.Errorf("pcapsrc: %s: %w", q.files[q.fileIdx], err)
				}
				continue
			}
			q.held, q.heldData, q.heldWire, q.heldTs = true, data, wire, ts
		}
		if len(q.arena)-q.used < len(q.heldData) {
			break // the caller must Release first
		}
		buf := q.arena[q.used : q.used+len(q.heldData) : q.used+len(q.heldData)]
		copy(buf, q.heldData)
		q.used += len(buf)
		q.held = false
		ts := q.heldTs
		if !q.passStarted {
			q.passFirst, q.passMax, q.passStarted = ts, ts, true
		}
		q.passMax = max(q.passMax, ts)
		frames[n].Set(buf, q.heldWire, ts+q.shift)
		bytes += uint64(q.heldWire)
		n++
	}
	if n > 0 {
		q.stats.packets.Add(uint64(n))
		q.stats.bytes.Add(bytes)
		return n, nil
	}
	return 0, q.err
}

// Release makes the arena reusable.
func (q *queue) Release() { q.used = 0 }
