package sensor

import (
	"errors"
	"sync/atomic"

	"github.com/rampartnet/rampart/sensor/capture"
	"github.com/rampartnet/rampart/sensor/clock"
	"github.com/rampartnet/rampart/sensor/hosts"
	"github.com/rampartnet/rampart/sensor/packet"
	"github.com/rampartnet/rampart/sensor/ring"
	"github.com/rampartnet/rampart/sensor/sample"
)

// worker is the per-queue hot path: receive a burst, decode it in place,
// count every packet into its own host table, sample headers, and once per
// tick hand the touched hosts to the aggregator. Everything it touches per
// packet is its own: no locks, no atomics, no allocation.
type worker struct {
	id      int
	q       capture.Queue
	frames  []capture.Frame
	hdrs    []packet.Header
	ok      []bool
	dec     packet.Decoder
	table   *hosts.Table
	sampler *sample.Sampler
	pipe    *ring.Pipe
	tickNs  int64
	tickEnd int64 // end of the open tick; 0 before the first packet
	firstNs int64 // time of the first packet counted
	lastNs  int64 // time of the last packet counted

	stats ring.Stats // since the last Final batch that went out
	flow  *flowTap   // replay only: flow exports inside the capture
	// onPacketTime is set once frames carry their own time (files): from
	// then on only packet time closes ticks, never the clock, and
	// packetClock (if set) follows it for the aggregator's lateness.
	onPacketTime bool
	packetClock  *clock.Manual
	// reported are the cumulative decoder and table counters already sent,
	// so that each Final batch carries only its own share.
	reported struct {
		decode uint64
		kinds  [packet.NumErrKinds]uint64
		table  hosts.Stats
	}

	stop *atomic.Bool
}

func newWorker(id int, q capture.Queue, table *hosts.Table, sampler *sample.Sampler, pipe *ring.Pipe, burst int, tickNs int64, stop *atomic.Bool) *worker {
	return &worker{
		id:      id,
		q:       q,
		frames:  make([]capture.Frame, burst),
		hdrs:    make([]packet.Header, burst),
		ok:      make([]bool, burst),
		table:   table,
		sampler: sampler,
		pipe:    pipe,
		tickNs:  tickNs,
		stop:    stop,
	}
}

// run polls until the stop flag or the end of a finite source, then sends
// the last tick. clk stamps frames that carry no time of their own.
func (w *worker) run(clk clock.Clock) error {
	for !w.stop.Load() {
		err := w.poll(clk)
		if errors.Is(err, capture.ErrEOF) {
			w.finish()
			return err
		}
		if err != nil {
			w.finish()
			return err
		}
	}
	w.finish()
	return nil
}

// poll receives and processes one burst, closing ticks as time passes them.
func (w *worker) poll(clk clock.Clock) error {
	n, err := w.q.Recv(w.frames)
	var busyFrom int64
	if n > 0 {
		// Two monotonic clock reads per burst, none per packet or per empty
		// poll. Recv itself is left out: sources that pace (demo) sleep in it.
		busyFrom = monotonicNs()
	}
	if n > 0 && w.frames[0].TimeNs != 0 {
		w.onPacketTime = true
	}
	now := int64(0)
	if !w.onPacketTime {
		now = clk.Now()
	}
	w.process(w.frames[:n], now)
	w.q.Release()
	if w.packetClock != nil && w.lastNs != 0 {
		w.packetClock.Advance(w.lastNs)
	}
	if now != 0 && w.tickEnd != 0 && now >= w.tickEnd {
		w.closeTick(clock.TickEnd(now, w.tickNs))
	}
	if n > 0 {
		w.stats.BusyNs += uint64(monotonicNs() - busyFrom)
	}
	return err
}

// process counts one burst. Frames with their own time (files) close ticks
// exactly at packet boundaries, so a replay is the same on every run; live
// frames take now, once per burst.
func (w *worker) process(frames []capture.Frame, now int64) {
	hdrs, ok := w.hdrs[:len(frames)], w.ok[:len(frames)]
	for i := range frames {
		ok[i] = w.dec.Decode(frames[i].Data, &hdrs[i])
	}
	w.table.Prefetch(hdrs)
	for i := range frames {
		f := &frames[i]
		t := f.TimeNs
		if t == 0 {
			t = now
		}
		if t >= w.tickEnd {
			if w.tickEnd != 0 {
				w.closeTick(clock.TickEnd(t, w.tickNs))
			}
			if w.tickEnd == 0 {
				w.firstNs = t
			}
			w.tickEnd = clock.TickEnd(t, w.tickNs)
		}
		w.lastNs = t
		w.stats.Packets++
		w.stats.Bytes += uint64(f.WireLen)
		if !ok[i] {
			continue
		}
		w.table.Count(&hdrs[i], 1, uint64(f.WireLen), t)
		w.sampler.Offer(&hdrs[i], f.WireLen, t)
		if w.flow != nil && hdrs[i].Proto == packet.ProtoUDP && w.flow.wants(hdrs[i].DstPort) {
			w.flow.handle(f.Data, t)
		}
	}
}

// closeTick hands the open tick to the aggregator and opens the one ending
// at next. When the aggregator holds every batch, nothing is lost: the
// hosts not sent stay in the table and go out with a later tick.
func (w *worker) closeTick(next int64) {
	if w.flow != nil {
		w.flow.col.Tick(w.tickEnd) // spread shares due in this tick
	}
	w.send(w.tickEnd)
	w.tickEnd = next
}

// send flushes the table's deltas straight into batches for the tick ending
// at end (no copy between), then the samples and stats in the last one,
// marked Final.
func (w *worker) send(end int64) {
	for {
		b := w.pipe.Get()
		if b == nil {
			w.stats.FlushesSkipped++
			return
		}
		b.TickEnd = end
		var all bool
		if b.Deltas, all = w.table.FlushRoom(b.Deltas); !all {
			w.pipe.Send(b)
			continue
		}
		w.collectStats()
		b.Samples = w.sampler.Take(b.Samples)
		b.Stats = w.stats
		b.Final = true
		w.stats = ring.Stats{}
		w.pipe.Send(b)
		return
	}
}

// collectStats moves the decoder's and table's counters into the tick stats.
func (w *worker) collectStats() {
	ts := w.table.Stats()
	w.stats.DecodeErrors = w.dec.Skipped() - w.reported.decode
	w.stats.OtherPackets = ts.OtherPackets - w.reported.table.OtherPackets
	w.stats.OtherBytes = ts.OtherBytes - w.reported.table.OtherBytes
	w.stats.HostsDropped = ts.V4Full + ts.V6Full - w.reported.table.V4Full - w.reported.table.V6Full
	for k := range w.dec.Errors {
		w.stats.DecodeErrorKinds[k] = w.dec.Errors[k] - w.reported.kinds[k]
	}
	w.reported.decode = w.dec.Skipped()
	w.reported.kinds = w.dec.Errors
	w.reported.table = ts
}

// finish sends what the last tick holds. A worker stopping with batches all
// held by the aggregator tries once: the aggregator drains after workers stop.
func (w *worker) finish() {
	if w.flow != nil && w.tickEnd != 0 {
		w.flow.col.Flush(w.tickEnd) // what is still being spread counts now
	}
	if w.tickEnd != 0 {
		w.send(w.tickEnd)
	}
}
