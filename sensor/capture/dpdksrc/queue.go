package dpdksrc

import (
	"github.com/rampartnet/rampart/dpdk"
	"github.com/rampartnet/rampart/sensor/capture"
)

// Queue is one DPDK receive queue as a capture.Queue. Frames alias mbuf
// memory; the mbufs of a burst are freed in bulk inside the next Recv's
// cgo call, so Release costs nothing and a burst costs one crossing.
type Queue struct {
	rx               *dpdk.RxQueue
	port             *dpdk.Port
	portIndex, index int
	core             int
}

var (
	_ capture.Queue        = (*Queue)(nil)
	_ capture.ThreadBinder = (*Queue)(nil)
)

// Recv receives up to len(frames) (at most the configured burst).
func (q *Queue) Recv(frames []capture.Frame) (int, error) {
	n := q.rx.Burst(len(frames))
	fs := frames[:n]
	for i := range fs {
		data, wire := q.rx.Packet(i)
		fs[i].Set(data, wire, 0)
	}
	return n, nil
}

// Release ends the worker's use of the last burst; its mbufs go back to the
// mempool in bulk at the start of the next Recv (or at UnbindThread).
func (q *Queue) Release() {}

// BindThread registers the worker's thread with EAL for its mempool cache.
// Call it after runtime.LockOSThread and capture.PinCurrentThread(Core()).
func (q *Queue) BindThread() error {
	_, err := dpdk.RegisterThread()
	return err
}

// UnbindThread frees the mbufs still held and unregisters the thread.
func (q *Queue) UnbindThread() {
	q.rx.Flush()
	dpdk.UnregisterThread()
}

// Core is the core this queue's worker must be pinned to.
func (q *Queue) Core() int { return q.core }

// Port and Index locate the queue: ports[Port()], queue Index() of it.
func (q *Queue) Port() int  { return q.portIndex }
func (q *Queue) Index() int { return q.index }
