package sensor

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/capture"
	"github.com/rampartnet/rampart/sensor/capture/demosrc"
	"github.com/rampartnet/rampart/sensor/capture/dpdksrc"
	"github.com/rampartnet/rampart/sensor/capture/pcapsrc"
	"github.com/rampartnet/rampart/sensor/clock"
	"github.com/rampartnet/rampart/sensor/detect"
	"github.com/rampartnet/rampart/sensor/flow"
	"github.com/rampartnet/rampart/sensor/hostgroup"
	"github.com/rampartnet/rampart/sensor/hosts"
	"github.com/rampartnet/rampart/sensor/online"
	"github.com/rampartnet/rampart/sensor/ring"
	"github.com/rampartnet/rampart/sensor/sample"
)

// Config is what the sensor needs of the configuration file.
type Config struct {
	Capture    CaptureConfig
	Counters   hosts.Config
	Aggregate  aggregate.Config
	Networks   []netip.Prefix
	Hostgroups []hostgroup.Config
	Whitelist  []netip.Prefix
	Flow       flow.Config
	Detection  detect.Config
	Online     online.Config
}

// Options are the sensor's collaborators.
type Options struct {
	Log zerolog.Logger
	// OnTick runs on the aggregator goroutine after each tick closes, after
	// the detector, with the recent header samples.
	OnTick func(aggregate.Tick, *sample.Store)
	// Mitigator receives the detector's requests; nil logs them.
	Mitigator detect.Mitigator
	// SummaryEvery logs traffic totals this often; 0 is off.
	SummaryEvery time.Duration
}

// Batches per worker pipe and deltas per batch: enough for a tick of 256K
// touched hosts before a worker has to carry counts to the next tick.
const (
	pipeBatches    = 64
	deltasPerBatch = 4096
)

// Sensor is the live hot path as one component.
type Sensor struct {
	cfg     Config
	opts    Options
	log     zerolog.Logger
	src     capture.Source
	agg     *aggregate.Aggregator
	samples *sample.Store
	workers []*worker // one per capture queue: pipes [0, len(workers))
	flowWs  []*worker // one per flow listener: the pipes after them
	flows   *flow.Server
	det     *detect.Detector
	th      *detect.Thresholds // whose partition the aggregator caches
	online  *online.Learner    // nil: no hostgroup learns
	stop    atomic.Bool
	workWG  sync.WaitGroup // workers
	bgWG    sync.WaitGroup // summaries
	done    chan error
	cancel  context.CancelFunc
}

// New builds the sensor; Start opens the source and starts the workers.
func New(cfg Config, opts Options) (*Sensor, error) {
	var src capture.Source
	var err error
	switch cfg.Capture.Source {
	case SourceDemo:
		src, err = demosrc.New(cfg.Capture.Demo)
	case SourcePcap:
		src, err = pcapsrc.New(cfg.Capture.Pcap)
	case SourceDPDK:
		src, err = dpdksrc.New(cfg.Capture.DPDK)
	case SourceNone:
		if len(cfg.Flow.Listeners) == 0 {
			err = fmt.Errorf("capture.source: %q needs flow.listeners, got none", SourceNone)
		}
	default:
		err = fmt.Errorf("capture.source: must be one of demo, pcap, dpdk, got %q", cfg.Capture.Source)
	}
	if err != nil {
		return nil, err
	}
	return &Sensor{cfg: cfg, opts: opts, log: opts.Log, src: src, done: make(chan error, 1),
		samples: sample.NewStore(cfg.Capture.SampleStore)}, nil
}

// Detector is the attack detector; valid after Start.
func (s *Sensor) Detector() *detect.Detector { return s.det }

// Learner is the online threshold learner; nil when no hostgroup learns
// (or before Start).
func (s *Sensor) Learner() *online.Learner { return s.online }

// Aggregator is the per-host state; valid after Start.
func (s *Sensor) Aggregator() *aggregate.Aggregator { return s.agg }

// Done receives the first worker error, or capture.ErrEOF when a finite
// source (a file) has been read to its end.
func (s *Sensor) Done() <-chan error { return s.done }

// Source is the capture source, for its per-queue counters.
func (s *Sensor) Source() capture.Source { return s.src }

// Start opens the source, builds a worker per queue and per flow listener,
// and starts everything.
func (s *Sensor) Start(ctx context.Context) error {
	var queues []capture.Queue
	if s.src != nil {
		if err := s.src.Start(ctx); err != nil {
			return fmt.Errorf("capture %s: %w", s.src.Name(), err)
		}
		queues = s.src.Queues()
		if len(queues) == 0 {
			_ = s.src.Stop()
			return fmt.Errorf("capture %s: no receive queues", s.src.Name())
		}
	}
	if err := s.start(ctx, queues); err != nil {
		if s.src != nil {
			_ = s.src.Stop()
		}
		return err
	}
	name := "none"
	if s.src != nil {
		name = s.src.Name()
	}
	s.log.Info().Str("source", name).Int("workers", len(queues)).Int("flow_listeners", len(s.cfg.Flow.Listeners)).
		Dur("tick", s.cfg.Aggregate.Tick).Dur("window", s.cfg.Aggregate.Window).Msg("capture started")
	return nil
}

func (s *Sensor) start(ctx context.Context, queues []capture.Queue) error {
	tickNs := int64(s.cfg.Aggregate.Tick)
	var pipes []*ring.Pipe
	newWorkerFor := func(q capture.Queue, sampleRate uint32) (*worker, error) {
		i := len(pipes)
		table, err := hosts.New(s.cfg.Counters, s.cfg.Networks)
		if err != nil {
			return nil, err
		}
		pipe := ring.NewPipe(i, pipeBatches, deltasPerBatch)
		pipes = append(pipes, pipe)
		sampler := sample.NewSampler(sampleRate, s.cfg.Capture.SamplesPerTick, uint32(i+1)*0x9e3779b9)
		return newWorker(i, q, table, sampler, pipe, max(s.burst(), 1), tickNs, &s.stop), nil
	}
	for _, q := range queues {
		w, err := newWorkerFor(q, s.cfg.Capture.SampleRate)
		if err != nil {
			return err
		}
		s.workers = append(s.workers, w)
	}
	for range s.cfg.Flow.Listeners {
		// Every flow record is worth a sample: records are already sampled
		// and far fewer than packets (samples_per_tick still bounds them).
		w, err := newWorkerFor(nil, 1)
		if err != nil {
			return err
		}
		s.flowWs = append(s.flowWs, w)
	}
	if len(s.flowWs) > 0 {
		srv, err := flow.NewServer(s.cfg.Flow, s.cfg.Aggregate.Tick, clock.Wall{}, func(i int, _ flow.ListenerConfig) flow.Sink {
			w := s.flowWs[i]
			return flow.Sink{Counter: recordCounter{w}, Tick: w.tickAt}
		})
		if err != nil {
			return err
		}
		s.flows = srv
	}
	var aggClock clock.Clock = clock.Wall{}
	if s.cfg.Capture.Source == SourcePcap {
		// Files run on packet time: the aggregator judges lateness by it.
		pc := clock.NewManual(0)
		for _, w := range s.workers {
			w.packetClock = pc
		}
		aggClock = pc
	}
	det, parts, th, lrn, err := newDetection(s.cfg, s.log, s.samples, s.opts.Mitigator)
	if err != nil {
		return err
	}
	s.det, s.th, s.online = det, th, lrn
	agg, err := aggregate.New(s.cfg.Aggregate, aggregate.Options{
		Clock:      aggClock,
		Partitions: parts,
		Pipes:      pipes,
		OnBatch:    func(b *ring.Batch) { s.samples.Add(b.Samples) },
		OnTick: func(t aggregate.Tick) {
			det.OnTick(t)
			if lrn != nil {
				lrn.OnTick(t)
			}
			if s.opts.OnTick != nil {
				s.opts.OnTick(t, s.samples)
			}
		},
	})
	if err != nil {
		return err
	}
	s.agg = agg
	// Only Stop ends the aggregator: were it to drain when the caller's
	// context ends (SIGINT), the workers' last tick would find no reader.
	ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	agg.Start(ctx)
	if s.flows != nil {
		if err := s.flows.Start(ctx); err != nil {
			s.cancel()
			agg.Stop()
			return err
		}
		for i, a := range s.flows.Addrs() {
			s.log.Info().Str("listen", a.String()).Str("protocol", s.cfg.Flow.Listeners[i].Protocol).Msg("flow listener started")
		}
	}
	var pinned []int
	for i := range s.workers {
		if c := s.core(i); c >= 0 {
			pinned = append(pinned, c)
		}
	}
	// Everything but the workers (the runtime, the aggregator, EAL's
	// threads) off the worker cores: a poll-mode worker sharing its core
	// loses whole scheduler slices of packets.
	if err := capture.KeepOffCores(pinned); err != nil {
		s.log.Warn().Err(err).Ints("cores", pinned).Msg("could not keep other threads off the worker cores")
	}
	for i, w := range s.workers {
		s.workWG.Add(1)
		go s.runWorker(w, s.core(i))
	}
	if s.opts.SummaryEvery > 0 {
		s.bgWG.Add(1)
		go s.summaries(ctx)
	}
	return nil
}

// FlowStats are the flow listeners' per-exporter counters (nil without listeners).
func (s *Sensor) FlowStats() []flow.Stats {
	if s.flows == nil {
		return nil
	}
	return s.flows.Stats()
}

func (s *Sensor) burst() int {
	if s.cfg.Capture.Source == SourceDPDK {
		return s.cfg.Capture.DPDK.Burst
	}
	return s.cfg.Capture.Burst
}

// core is the CPU worker i is pinned to, or -1.
func (s *Sensor) core(i int) int {
	if q, ok := s.workers[i].q.(interface{ Core() int }); ok {
		return q.Core()
	}
	if i < len(s.cfg.Capture.Cores) {
		return s.cfg.Capture.Cores[i]
	}
	return -1
}

// runWorker gives the worker a thread of its own, pinned and known to the
// source, and reports how it ended.
func (s *Sensor) runWorker(w *worker, core int) {
	defer s.workWG.Done()
	// Never unlocked: a pinned thread must not go back to the runtime's
	// pool, so it exits with this goroutine.
	runtime.LockOSThread()
	fail := func(err error) {
		s.log.Error().Err(err).Int("worker", w.id).Msg("worker stopped")
		select {
		case s.done <- err:
		default:
		}
	}
	if core >= 0 {
		if err := capture.PinCurrentThread(core); err != nil {
			fail(fmt.Errorf("worker %d: pin to core %d: %w", w.id, core, err))
			return
		}
	}
	if b, ok := w.q.(capture.ThreadBinder); ok {
		if err := b.BindThread(); err != nil {
			fail(fmt.Errorf("worker %d: %w", w.id, err))
			return
		}
		defer b.UnbindThread()
	}
	s.log.Debug().Int("worker", w.id).Int("core", core).Msg("worker running")
	err := w.run(clock.Wall{})
	switch {
	case errors.Is(err, capture.ErrEOF):
		s.log.Info().Int("worker", w.id).Msg("capture source ended")
		select {
		case s.done <- err:
		default:
		}
	case err != nil:
		fail(err)
	}
}

// summaries logs what the sensor sees, for an operator watching the log:
// pps and mbps count every source, flow records at their sampling rate
// included, so a flow-only sensor does not read as idle.
func (s *Sensor) summaries(ctx context.Context) {
	defer s.bgWG.Done()
	t := time.NewTicker(s.opts.SummaryEvery)
	defer t.Stop()
	var last ring.Stats
	lastAt := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			st := s.agg.Stats()
			w := s.pipeStats()
			secs := now.Sub(lastAt).Seconds()
			flowPkts := w.FlowPackets - last.FlowPackets
			ev := s.log.Info().
				Float64("pps", float64(w.Packets-last.Packets+flowPkts)/secs).
				Float64("mbps", float64(w.Bytes-last.Bytes+w.FlowBytes-last.FlowBytes)*8/secs/1e6)
			if len(s.flowWs) > 0 {
				ev = ev.Float64("flow_pps", float64(flowPkts)/secs)
			}
			ev.Int("hosts", st.Hosts).
				Uint64("decode_errors", w.DecodeErrors).
				Uint64("other_packets", w.OtherPackets).
				Uint64("ticks_late", st.TicksLate).
				Msg("traffic summary")
			last, lastAt = w, now
			s.logFlowHealth()
		}
	}
}

// pipeStats sums what every worker, capture and flow, handed the aggregator.
func (s *Sensor) pipeStats() ring.Stats {
	var w ring.Stats
	for i := range len(s.workers) + len(s.flowWs) {
		ws := s.agg.WorkerStats(i)
		w.Add(&ws)
	}
	return w
}

// logFlowHealth logs each flow listener's totals, and each exporter's at
// debug level: lost datagrams and template misses are what an operator
// watches for.
func (s *Sensor) logFlowHealth() {
	for i, st := range s.FlowStats() {
		var datagrams, errs, misses, lost uint64
		for _, e := range st.Exporters {
			datagrams += e.Datagrams
			misses += e.TemplateMisses
			lost += e.LostDatagrams + e.LostRecords
			for _, n := range e.Errors {
				errs += n
			}
			s.log.Debug().Str("exporter", e.Exporter.String()).Uint64("datagrams", e.Datagrams).
				Uint64("records", e.Records).Uint64("template_misses", e.TemplateMisses).
				Uint64("lost_datagrams", e.LostDatagrams).Uint64("lost_records", e.LostRecords).
				Uint32("sampling_rate", e.SamplingRate).Msg("flow exporter")
		}
		s.log.Info().Str("listen", s.cfg.Flow.Listeners[i].Listen).Int("exporters", len(st.Exporters)).
			Uint64("datagrams", datagrams).Uint64("records", st.Records).Uint64("decode_errors", errs).
			Uint64("template_misses", misses).Uint64("lost", lost).Uint64("rejected", st.Rejected).
			Msg("flow summary")
	}
}

// Stop stops in the order that loses nothing: workers first (each sends
// its last tick), then the aggregator (drains every pipe and closes the open
// tick), then the source (DPDK: stop ports, EAL cleanup).
func (s *Sensor) Stop() error {
	s.stop.Store(true)
	if s.cancel == nil {
		if s.src == nil {
			return nil
		}
		return s.src.Stop()
	}
	s.workWG.Wait()
	if s.flows != nil {
		s.flows.Stop() // flushes what is being spread and sends the last tick
	}
	s.agg.Stop()
	s.cancel()
	s.bgWG.Wait()
	if err := s.det.Close(); err != nil { // ends active attacks as "shutdown", drains hooks
		s.log.Error().Err(err).Msg("detector close")
	}
	s.logTotals()
	if s.src == nil {
		return nil
	}
	return s.src.Stop()
}

// logTotals records what the sensor saw over its life, as the source (NIC
// counters) and the workers counted it, so drops show as a difference;
// flow records are counted apart, as they never pass the NIC.
func (s *Sensor) logTotals() {
	w := s.pipeStats()
	ev := s.log.Info().Uint64("packets", w.Packets).Uint64("bytes", w.Bytes).
		Uint64("decode_errors", w.DecodeErrors).Uint64("other_packets", w.OtherPackets).
		Uint64("hosts_dropped", w.HostsDropped).Uint64("flushes_skipped", w.FlushesSkipped).
		Int("hosts", s.agg.Stats().Hosts)
	if len(s.flowWs) > 0 {
		ev = ev.Uint64("flow_packets", w.FlowPackets).Uint64("flow_bytes", w.FlowBytes)
	}
	if s.src != nil {
		var q capture.QueueStats
		for _, qs := range s.src.Stats() {
			q.Packets += qs.Packets
			q.Missed += qs.Missed
			q.Errors += qs.Errors
			q.NoMbuf += qs.NoMbuf
		}
		ev = ev.Uint64("rx_packets", q.Packets).Uint64("rx_missed", q.Missed).
			Uint64("rx_errors", q.Errors).Uint64("rx_nombuf", q.NoMbuf)
	}
	ev.Msg("sensor totals")
}
