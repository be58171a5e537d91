// Package dpdk is Rampart's thin cgo binding to DPDK 22.11: EAL
// initialisation, one mempool per port, ethdev ports with N RSS receive
// queues, burst receive into C-owned mbuf arrays, bulk free, port and queue
// counters, worker-thread registration and orderly shutdown.
//
// It is the only package in the project that uses cgo. Built with the
// nodpdk tag it keeps the same API and every constructor returns
// ErrNotBuilt.
//
// The hot path is RxQueue.Burst, one cgo call per burst that also frees the
// previous burst in bulk; packet bytes are read from Go with unsafe.Slice over the
// mbuf data, never copied.
package dpdk

import "errors"

// ErrNotBuilt is returned by every constructor when the binary was built
// without DPDK.
var ErrNotBuilt = errors.New("rampart was built without DPDK (nodpdk build tag)")
