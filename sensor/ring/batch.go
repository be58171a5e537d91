package ring

import (
	"fmt"

	"github.com/rampartnet/rampart/sensor/hosts"
	"github.com/rampartnet/rampart/sensor/packet"
	"github.com/rampartnet/rampart/sensor/sample"
)

// Stats are a worker's own counters for the ticks a batch covers. A worker
// puts them in one batch per tick (normally the Final one) and zeroes its
// copy only once that batch is sent, so no count is lost when it cannot send.
type Stats struct {
	Packets        uint64 // frames received
	Bytes          uint64 // bytes of frames received
	FlowPackets    uint64 // packets of flow records counted, sampling rate applied
	FlowBytes      uint64
	OtherPackets   uint64 // IP packets to and from no monitored network
	OtherBytes     uint64
	DecodeErrors   uint64 // frames skipped by the decoder, every kind
	HostsDropped   uint64 // packets a full host table could not count per host
	FlushesSkipped uint64 // tick ends with no free batch: counts carried to a later tick
	// DecodeErrorKinds split DecodeErrors by reason.
	DecodeErrorKinds [packet.NumErrKinds]uint64
	// BusyNs is the time spent in polls that received frames: its rate is
	// the worker's busy share (a poll-mode worker is never idle otherwise).
	BusyNs uint64
}

// Add adds o to s.
func (s *Stats) Add(o *Stats) {
	s.Packets += o.Packets
	s.Bytes += o.Bytes
	s.FlowPackets += o.FlowPackets
	s.FlowBytes += o.FlowBytes
	s.OtherPackets += o.OtherPackets
	s.OtherBytes += o.OtherBytes
	s.DecodeErrors += o.DecodeErrors
	s.HostsDropped += o.HostsDropped
	s.FlushesSkipped += o.FlushesSkipped
	for k := range s.DecodeErrorKinds {
		s.DecodeErrorKinds[k] += o.DecodeErrorKinds[k]
	}
	s.BusyNs += o.BusyNs
}

// Batch carries some or all of one worker's deltas for one tick. A tick with
// more touched hosts than a batch holds goes out as several batches; the last
// one has Final set. A worker that touched nothing still sends an empty Final
// batch, which is how the aggregator learns the worker is done with the tick.
type Batch struct {
	Worker  int   // set by the Pipe
	TickEnd int64 // end of the tick, ns since the epoch, aligned (clock.TickEnd)
	Final   bool  // last batch of this worker's tick
	Deltas  []hosts.Delta
	Samples []sample.Record // headers sampled during the tick (Final batch only)
	Stats   Stats
}

// Room is how many more deltas fit without growing Deltas.
func (b *Batch) Room() int { return cap(b.Deltas) - len(b.Deltas) }

func (b *Batch) reset() {
	b.TickEnd = 0
	b.Final = false
	b.Deltas = b.Deltas[:0]
	b.Samples = b.Samples[:0]
	b.Stats = Stats{}
}

// Pipe joins one worker to the aggregator: batches go worker → aggregator on
// one ring and come back empty on another. Both rings hold every batch, so
// Send and Recycle never fail; when the aggregator falls behind the worker
// finds no free batch and keeps counting into its tables instead of waiting.
type Pipe struct {
	worker int
	free   *Ring[*Batch] // aggregator → worker
	full   *Ring[*Batch] // worker → aggregator
	wake   chan struct{}
}

// NewPipe returns a pipe for worker with batches batches of deltasPerBatch
// deltas each, all allocated now.
func NewPipe(worker, batches, deltasPerBatch int) *Pipe {
	if batches < 1 || deltasPerBatch < 1 {
		panic(fmt.Sprintf("ring: NewPipe needs batches and deltasPerBatch > 0, got %d and %d", batches, deltasPerBatch))
	}
	p := &Pipe{worker: worker, free: New[*Batch](batches), full: New[*Batch](batches)}
	for range batches {
		p.free.Push(&Batch{Worker: worker, Deltas: make([]hosts.Delta, 0, deltasPerBatch)})
	}
	return p
}

// Worker is the id stamped on every batch of this pipe.
func (p *Pipe) Worker() int { return p.worker }

// SetWake makes Send of a Final batch nudge ch (without blocking). Call it
// before the worker starts; ch should have a buffer of 1.
func (p *Pipe) SetWake(ch chan struct{}) { p.wake = ch }

// Get returns an empty batch, or nil when the aggregator still holds all of
// them. Worker only.
func (p *Pipe) Get() *Batch {
	b, ok := p.free.Pop()
	if !ok {
		return nil
	}
	b.reset()
	b.Worker = p.worker
	return b
}

// Send hands a batch from Get to the aggregator. Worker only.
func (p *Pipe) Send(b *Batch) {
	if !p.full.Push(b) {
		panic("ring: Send of a batch that did not come from this pipe's Get")
	}
	if b.Final && p.wake != nil {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
}

// Peek returns the oldest sent batch without taking it, or nil. Aggregator only.
func (p *Pipe) Peek() *Batch {
	b, _ := p.full.Peek()
	return b
}

// Pop takes the oldest sent batch, or returns nil. Aggregator only.
func (p *Pipe) Pop() *Batch {
	b, _ := p.full.Pop()
	return b
}

// Recycle gives a popped batch back to the worker. Aggregator only.
func (p *Pipe) Recycle(b *Batch) {
	if !p.free.Push(b) {
		panic("ring: Recycle of a batch that did not come from this pipe")
	}
}
