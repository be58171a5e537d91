//go:build !nodpdk

package dpdk

/*
#cgo pkg-config: libdpdk
#include "shim.h"
*/
import "C"

import "unsafe"

// Offsets into struct rte_mbuf, from the C compiler.
const (
	offBufAddr = C.RAMPART_OFF_BUF_ADDR
	offDataOff = C.RAMPART_OFF_DATA_OFF
	offPktLen  = C.RAMPART_OFF_PKT_LEN
	offDataLen = C.RAMPART_OFF_DATA_LEN
)

// RxQueue is one receive queue, polled by exactly one worker thread. The
// mbuf pointer array lives in C memory, so a burst passes no Go pointer to
// C and cgo's pointer checks stay out of the hot path.
type RxQueue struct {
	port, queue uint16
	burst       int
	carr        **C.struct_rte_mbuf // C array of burst mbuf pointers
	carrInt     C.uintptr_t         // carr as rampart_rx takes it
	mbufs       []unsafe.Pointer    // the same array, seen from Go
	n           int                 // mbufs of the last burst, freed by the next
}

func newRxQueue(port, queue uint16, burst int) *RxQueue {
	carr := (**C.struct_rte_mbuf)(C.calloc(C.size_t(burst), C.size_t(unsafe.Sizeof(unsafe.Pointer(nil)))))
	return &RxQueue{
		port: port, queue: queue, burst: burst, carr: carr, carrInt: C.uintptr_t(uintptr(unsafe.Pointer(carr))),
		mbufs: unsafe.Slice((*unsafe.Pointer)(unsafe.Pointer(carr)), burst),
	}
}

// Port and Queue identify the queue.
func (q *RxQueue) Port() uint16  { return q.port }
func (q *RxQueue) Queue() uint16 { return q.queue }

// BurstSize is the most packets one Burst returns.
func (q *RxQueue) BurstSize() int { return q.burst }

// Burst frees the previous burst and receives up to min(max, BurstSize())
// packets, in one cgo call: the previous burst's Data is invalid once
// Burst is called.
func (q *RxQueue) Burst(max int) int {
	if max > q.burst {
		max = q.burst
	}
	q.n = int(C.rampart_rx(C.uint16_t(q.port), C.uint16_t(q.queue), q.carrInt, C.uint16_t(q.n), C.uint16_t(max)))
	return q.n
}

// Flush frees the last burst now rather than at the next Burst: call it
// when the worker stops, before its thread unregisters, so the mbufs go
// back through its mempool cache.
func (q *RxQueue) Flush() {
	if q.n > 0 {
		C.rampart_free(q.carr, C.uint(q.n))
	}
	q.n = 0
}

// Len is the number of packets of the last burst.
func (q *RxQueue) Len() int { return q.n }

// Data is packet i of the last burst (its first segment): the mbuf's own
// memory, valid until Release.
func (q *RxQueue) Data(i int) []byte {
	m := q.mbufs[i]
	buf := *(*unsafe.Pointer)(unsafe.Add(m, offBufAddr))
	off := *(*uint16)(unsafe.Add(m, offDataOff))
	n := *(*uint16)(unsafe.Add(m, offDataLen))
	return unsafe.Slice((*byte)(unsafe.Add(buf, off)), n)
}

// Packet is Data(i) and PktLen(i) with one load of the mbuf pointer.
func (q *RxQueue) Packet(i int) ([]byte, uint32) {
	m := q.mbufs[i]
	buf := *(*unsafe.Pointer)(unsafe.Add(m, offBufAddr))
	off := *(*uint16)(unsafe.Add(m, offDataOff))
	n := *(*uint16)(unsafe.Add(m, offDataLen))
	return unsafe.Slice((*byte)(unsafe.Add(buf, off)), n), *(*uint32)(unsafe.Add(m, offPktLen))
}

// PktLen is packet i's length over all segments (its length on the wire,
// less the FCS the NIC stripped).
func (q *RxQueue) PktLen(i int) uint32 {
	return *(*uint32)(unsafe.Add(q.mbufs[i], offPktLen))
}

// close frees held mbufs and the C array; the port is closing.
func (q *RxQueue) close() {
	if q.carr == nil {
		return
	}
	q.Flush()
	C.free(unsafe.Pointer(q.carr))
	q.carr, q.mbufs = nil, nil
}
