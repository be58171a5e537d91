package pcapsrc

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/rampartnet/rampart/internal/validate"
	"github.com/rampartnet/rampart/sensor/capture"
)

// Source replays pcap files on one queue.
type Source struct {
	cfg   Config
	q     *queue
	stats queueStats
}

type queueStats struct {
	packets, bytes atomic.Uint64
}

// New checks cfg; Start opens the first file.
func New(cfg Config) (*Source, error) {
	p := validate.New()
	cfg.Validate(p)
	if err := p.Err(); err != nil {
		return nil, fmt.Errorf("pcapsrc: %w", err)
	}
	return &Source{cfg: cfg}, nil
}

// Name identifies the source in logs.
func (s *Source) Name() string { return "pcap" }

// Start opens the first file and reads its header.
func (s *Source) Start(ctx context.Context) error {
	if s.q != nil {
		return errors.New("pcapsrc: already started")
	}
	q := newQueue(s.cfg, &s.stats)
	if err := q.open(0); err != nil {
		return err
	}
	s.q = q
	return nil
}

// Queues is the one queue, valid after Start.
func (s *Source) Queues() []capture.Queue {
	if s.q == nil {
		return nil
	}
	return []capture.Queue{s.q}
}

// Stats counts the packets and wire bytes handed out so far. Safe to call
// while the worker polls.
func (s *Source) Stats() []capture.QueueStats {
	return []capture.QueueStats{{Packets: s.stats.packets.Load(), Bytes: s.stats.bytes.Load()}}
}

// Stop closes the open file.
func (s *Source) Stop() error {
	if s.q == nil {
		return nil
	}
	err := s.q.close()
	s.q = nil
	return err
}
