package sensor

import (
	"context"

	"github.com/rs/zerolog"

	"errors"
	"sync/atomic"

	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/capture"
	"github.com/rampartnet/rampart/sensor/capture/pcapsrc"
	"github.com/rampartnet/rampart/sensor/detect"
	"github.com/rampartnet/rampart/sensor/flow"
	"github.com/rampartnet/rampart/sensor/hosts"
	"github.com/rampartnet/rampart/sensor/packet"
	"github.com/rampartnet/rampart/sensor/ring"
	"github.com/rampartnet/rampart/sensor/sample"
)

// ReplayOptions are the collaborators of a replay.
type ReplayOptions struct {
	// OnTick runs after each tick closes, on packet time (the detector's hook).
	OnTick func(aggregate.Tick, *sample.Store)
	// Log receives the detector's transitions; Mitigator its requests (nil
	// logs them).
	Log       zerolog.Logger
	Mitigator detect.Mitigator
	// FlowPorts are UDP ports whose datagrams in the capture are flow
	// exports (NetFlow v5/v9, IPFIX, sFlow) to decode and count.
	FlowPorts []uint16
}

// ReplayResult is the state a replay ends with.
type ReplayResult struct {
	Aggregator *aggregate.Aggregator
	Decoder    packet.Decoder // error counters by kind
	Table      hosts.Stats
	Worker     ring.Stats // summed over the run
	FirstNs    int64      // first and last packet time
	LastNs     int64
	Flow       *flow.Stats // flow exports found in the capture, if any were looked for
	// Attacks as they stood at the last packet (active ones still active),
	// and the detector's counters.
	Attacks  []detect.Attack
	Detector detect.Stats
}

// Replay runs pcap/pcapng files through the live pipeline (decoder, host
// table, sampler, aggregator) on packet time, as fast as it can, in one
// goroutine: the same files always give the same result.
func Replay(cfg Config, files []string, opts ReplayOptions) (*ReplayResult, error) {
	src, err := pcapsrc.New(pcapsrc.Config{Files: files, Loops: 1})
	if err != nil {
		return nil, err
	}
	if err := src.Start(context.Background()); err != nil {
		return nil, err
	}
	defer src.Stop()
	table, err := hosts.New(cfg.Counters, cfg.Networks)
	if err != nil {
		return nil, err
	}
	store := sample.NewStore(cfg.Capture.SampleStore)
	pipe := ring.NewPipe(0, pipeBatches, deltasPerBatch)
	det, parts, _, lrn, err := newDetection(cfg, opts.Log, store, opts.Mitigator)
	if err != nil {
		return nil, err
	}
	agg, err := aggregate.New(cfg.Aggregate, aggregate.Options{
		Partitions: parts,
		OnBatch:    func(b *ring.Batch) { store.Add(b.Samples) },
		OnTick: func(t aggregate.Tick) {
			det.OnTick(t)
			if lrn != nil {
				lrn.OnTick(t)
			}
			if opts.OnTick != nil {
				opts.OnTick(t, store)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	var stop atomic.Bool
	sampler := sample.NewSampler(cfg.Capture.SampleRate, cfg.Capture.SamplesPerTick, 0x9e3779b9)
	w := newWorker(0, src.Queues()[0], table, sampler, pipe, cfg.Capture.Burst, int64(cfg.Aggregate.Tick), &stop)
	if len(opts.FlowPorts) > 0 {
		col, err := flow.New(cfg.Flow, flow.AllProtocols, recordCounter{w})
		if err != nil {
			return nil, err
		}
		w.flow = &flowTap{col: col, ports: opts.FlowPorts}
	}
	res := &ReplayResult{Aggregator: agg}
	drain := func() {
		for b := pipe.Pop(); b != nil; b = pipe.Pop() {
			res.Worker.Add(&b.Stats)
			agg.Apply(b)
			pipe.Recycle(b)
		}
	}
	for {
		err := w.poll(packetTime{})
		drain()
		if errors.Is(err, capture.ErrEOF) {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	// Flow records of long flows are still being spread over their
	// duration: tick on (packet time, no packets) until they are counted,
	// at most max_spread past the last packet.
	if w.flow != nil && w.tickEnd != 0 {
		limit := w.tickEnd + int64(cfg.Flow.MaxSpread)
		for w.flow.col.Pending() > 0 && w.tickEnd < limit {
			w.closeTick(w.tickEnd + w.tickNs)
			drain()
		}
	}
	w.finish()
	drain()
	if w.tickEnd != 0 {
		agg.CloseTick(w.tickEnd)
	}
	res.FirstNs, res.LastNs = w.firstNs, w.lastNs
	res.Attacks = det.Attacks()
	res.Detector = det.Stats()
	if err := det.Close(); err != nil {
		return nil, err
	}
	res.Decoder = w.dec
	res.Table = table.Stats()
	if w.flow != nil {
		st := w.flow.col.Stats()
		res.Flow = &st
	}
	return res, nil
}

// packetTime is the clock of a replay: frames carry their own time, so the
// worker never needs another; 0 tells it not to close ticks on its own.
type packetTime struct{}

func (packetTime) Now() int64 { return 0 }
