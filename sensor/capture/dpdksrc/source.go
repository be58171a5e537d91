package dpdksrc

import (
	"context"
	"errors"
	"fmt"

	"github.com/rampartnet/rampart/dpdk"
	"github.com/rampartnet/rampart/internal/validate"
	"github.com/rampartnet/rampart/sensor/capture"
)

// Source captures from DPDK ports. EAL lives once per process, so a Source
// starts once and, once stopped, DPDK cannot be used again in the process.
type Source struct {
	cfg    Config
	ports  []*dpdk.Port
	queues []*Queue
	ifaces []capture.Queue
	state  int // 0 new, 1 started, 2 stopped
}

var _ capture.Source = (*Source)(nil)

// New validates cfg; nothing touches DPDK until Start.
func New(cfg Config) (*Source, error) {
	p := validate.New().At("capture").At("dpdk")
	cfg.Validate(p)
	if err := p.Err(); err != nil {
		return nil, err
	}
	return &Source{cfg: cfg}, nil
}

// Name identifies the source.
func (s *Source) Name() string { return "dpdk" }

// Start initialises EAL and starts every port.
func (s *Source) Start(ctx context.Context) error {
	if s.state != 0 {
		return errors.New("dpdk source: Start called twice (EAL initialises once per process)")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := dpdk.InitEAL(s.cfg.ealOptions()); err != nil {
		s.state = 2
		return err
	}
	s.state = 1
	for i, pc := range s.cfg.Ports {
		port, err := dpdk.OpenPort(pc.Device, dpdk.PortConfig{
			RxQueues: pc.Queues, RxDescriptors: s.cfg.RxDescriptors, Burst: s.cfg.Burst,
			MempoolSize: s.cfg.MempoolSize, MempoolCache: s.cfg.MempoolCache, Promiscuous: s.cfg.Promiscuous,
		})
		if err != nil {
			s.Stop()
			return fmt.Errorf("capture.dpdk.ports[%d]: %w", i, err)
		}
		s.ports = append(s.ports, port)
		for qi, rx := range port.RxQueues() {
			q := &Queue{rx: rx, port: port, portIndex: i, index: qi, core: s.cfg.Workers[len(s.queues)]}
			s.queues = append(s.queues, q)
			s.ifaces = append(s.ifaces, q)
		}
	}
	return nil
}

// Queues are the receive queues in port then queue order; queue i belongs
// on core WorkerCores()[i].
func (s *Source) Queues() []capture.Queue { return s.ifaces }

// WorkerCores are the cores of the queues' workers, indexed like Queues.
func (s *Source) WorkerCores() []int { return s.cfg.Workers }

// Ports are the started ports, for link state and port-level counters.
func (s *Source) Ports() []*dpdk.Port { return s.ports }

// Stats returns per-queue counters. Ports count imissed and rx_nombuf only
// per port: they are reported on the port's first queue, so sums over
// queues equal the port totals.
func (s *Source) Stats() []capture.QueueStats {
	out := make([]capture.QueueStats, len(s.queues))
	k := 0
	for _, port := range s.ports {
		ps, err := port.Stats()
		for qi := range port.RxQueues() {
			if err == nil && qi < len(ps.Queues) {
				qs := ps.Queues[qi]
				out[k] = capture.QueueStats{Packets: qs.Packets, Bytes: qs.Bytes, Errors: qs.Errors}
			}
			if err == nil && qi == 0 {
				out[k].Missed, out[k].NoMbuf = ps.IMissed, ps.RxNoMbuf
				if len(ps.Queues) == 0 {
					out[k].Errors = ps.IErrors
				}
			}
			k++
		}
	}
	return out
}

// Stop closes every port and shuts EAL down. The workers must have
// stopped polling (and unbound their threads) first.
func (s *Source) Stop() error {
	if s.state != 1 {
		return nil
	}
	s.state = 2
	var errs []error
	for _, p := range s.ports {
		errs = append(errs, p.Close())
	}
	errs = append(errs, dpdk.CleanupEAL())
	return errors.Join(errs...)
}
