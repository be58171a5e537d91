// Package capture defines how frames reach the sensor's workers: a Source owns
// one or more receive queues, and each Queue is polled by exactly one worker.
// Implementations: DPDK ports (sensor/capture/dpdksrc), pcap files, the
// built-in demo generator, AF_PACKET.
package capture

import (
	"context"
	"errors"
)

// ErrEOF is returned by Recv when a finite source (a file) has no more frames.
var ErrEOF = errors.New("end of capture")

// Frame is one received frame. Data aliases the source's buffer and is valid
// only until the next Release on the queue that returned it.
type Frame struct {
	Data    []byte // bytes captured, starting at the Ethernet header
	WireLen uint32 // length on the wire (>= len(Data) when the capture was cut)
	TimeNs  int64  // capture time in ns since the Unix epoch; 0 when the source has none
}

// Set fills f field by field. Sources call it instead of assigning a
// composite literal, which the compiler builds in a stack temporary and
// then copies with wider loads than the stores that built it: those loads
// wait for the stores to retire, about 6 ns a frame (measured with
// BenchmarkDecodeCountV4Slash16's in-memory source).
func (f *Frame) Set(data []byte, wireLen uint32, timeNs int64) {
	f.Data = data
	f.WireLen = wireLen
	f.TimeNs = timeNs
}

// Queue is one receive queue, owned by one worker: no method is safe for
// concurrent use, and none may allocate.
type Queue interface {
	// Recv fills frames[:n] and returns n, possibly 0 when nothing is waiting.
	// It returns ErrEOF once a finite source is exhausted.
	Recv(frames []Frame) (n int, err error)
	// Release hands the buffers of the last Recv back to the source.
	Release()
}

// QueueStats are a queue's counters as the source (NIC or file) sees them.
type QueueStats struct {
	Packets uint64
	Bytes   uint64
	Missed  uint64 // dropped by the NIC for lack of room (imissed)
	Errors  uint64
	NoMbuf  uint64 // dropped for lack of buffers (rx_nombuf)
}

// Source is a capture component: New, then Start, then poll its Queues, then Stop.
type Source interface {
	// Name identifies the source in logs and metrics.
	Name() string
	// Start opens the source; Queues is valid after it returns nil.
	Start(ctx context.Context) error
	// Queues are the receive queues, one per worker.
	Queues() []Queue
	// Stats returns per-queue counters, indexed like Queues.
	Stats() []QueueStats
	// Stop closes the source. The workers must have stopped polling first.
	Stop() error
}

// ThreadBinder is implemented by queues whose worker thread must be made
// known to the source (DPDK: rte_thread_register for mempool caches). The
// worker calls BindThread once, after runtime.LockOSThread and pinning.
type ThreadBinder interface {
	BindThread() error
	UnbindThread()
}
