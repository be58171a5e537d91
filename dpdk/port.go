//go:build !nodpdk

package dpdk

/*
#cgo pkg-config: libdpdk
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"sync"
	"syscall"
	"unsafe"
)

// Port is a started ethdev port with its receive queues and mempool.
type Port struct {
	id     uint16
	info   PortInfo
	pool   *C.struct_rte_mempool
	queues []*RxQueue

	closeOnce sync.Once
	closeErr  error
}

// OpenPort sets up and starts the port EAL probed for dev, a PCI address or
// vdev string given to InitEAL.
func OpenPort(dev string, cfg PortConfig) (*Port, error) {
	name := DeviceName(dev)
	if !ealRunning() {
		return nil, fmt.Errorf("dpdk: port %q: EAL is not running", name)
	}
	cfg = cfg.withDefaults()
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("dpdk: port %q: %w", name, err)
	}
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var id C.uint16_t
	if C.rte_eth_dev_get_port_by_name(cname, &id) != 0 {
		return nil, fmt.Errorf("dpdk: port %q not found: EAL probed no such device (PCI address not in the allow-list or not bound to a DPDK driver, or vdev not given)", name)
	}

	socket := C.rte_eth_dev_socket_id(id)
	if socket < 0 {
		socket = C.int(C.rte_socket_id())
	}
	poolName := C.CString(fmt.Sprintf("rampart_p%d", id))
	defer C.free(unsafe.Pointer(poolName))
	pool := C.rte_pktmbuf_pool_create(poolName, C.uint(cfg.MempoolSize), C.uint(poolCache(cfg)), 0,
		C.RTE_MBUF_DEFAULT_BUF_SIZE, socket)
	if pool == nil {
		return nil, fmt.Errorf("dpdk: port %q: mempool of %d mbufs: %v (raise memory_mb)", name, cfg.MempoolSize, syscall.Errno(C.rampart_errno()))
	}

	var res C.struct_rampart_port_result
	promisc := C.int(0)
	if cfg.Promiscuous {
		promisc = 1
	}
	if C.rampart_port_setup(id, C.uint16_t(cfg.RxQueues), C.uint16_t(cfg.RxDescriptors), pool, promisc, &res) != 0 {
		if res.stage >= C.RAMPART_RXQ_SETUP {
			// Queues may hold mbufs of the pool: release them with the device.
			C.rte_eth_dev_close(id)
		}
		C.rte_mempool_free(pool)
		return nil, setupError(name, cfg, &res)
	}

	p := &Port{id: uint16(id), pool: pool, info: PortInfo{
		Name:          name,
		Driver:        C.GoString(&res.driver[0]),
		RxQueues:      cfg.RxQueues,
		RxDescriptors: int(res.nb_rxd),
		MempoolSize:   cfg.MempoolSize,
		RSSHash:       uint64(res.rss_hf),
		SymmetricRSS:  res.symmetric != 0,
		Promiscuous:   res.promisc != 0,
		Socket:        int(socket),
	}}
	for q := 0; q < cfg.RxQueues; q++ {
		p.queues = append(p.queues, newRxQueue(p.id, uint16(q), cfg.Burst))
	}
	return p, nil
}

// poolCache keeps the cache within DPDK's bound of size/1.5.
func poolCache(cfg PortConfig) int {
	if c := cfg.MempoolSize * 2 / 3; cfg.MempoolCache > c {
		return c
	}
	return cfg.MempoolCache
}

func setupError(name string, cfg PortConfig, r *C.struct_rampart_port_result) error {
	errno := syscall.Errno(-r.ret)
	switch r.stage {
	case C.RAMPART_TOO_MANY_QUEUES:
		return fmt.Errorf("dpdk: port %q (%s): %d rx queues asked, the device has at most %d", name, C.GoString(&r.driver[0]), cfg.RxQueues, r.max_rxq)
	case C.RAMPART_INFO:
		return fmt.Errorf("dpdk: port %q: device info: %v", name, errno)
	case C.RAMPART_CONFIGURE:
		return fmt.Errorf("dpdk: port %q: configure %d rx queues: %v", name, cfg.RxQueues, errno)
	case C.RAMPART_ADJUST_DESC:
		return fmt.Errorf("dpdk: port %q: %d rx descriptors: %v", name, cfg.RxDescriptors, errno)
	case C.RAMPART_RXQ_SETUP:
		return fmt.Errorf("dpdk: port %q: rx queue %d setup with %d descriptors: %v", name, r.queue, cfg.RxDescriptors, errno)
	case C.RAMPART_START:
		return fmt.Errorf("dpdk: port %q: start: %v", name, errno)
	case C.RAMPART_PROMISC:
		return fmt.Errorf("dpdk: port %q: promiscuous mode: %v", name, errno)
	}
	return fmt.Errorf("dpdk: port %q: setup failed at step %d: %v", name, r.stage, errno)
}

// ID is the ethdev port id.
func (p *Port) ID() uint16 { return p.id }

// Info is what the PMD granted.
func (p *Port) Info() PortInfo { return p.info }

// RxQueues are the port's receive queues; each is polled by one worker.
func (p *Port) RxQueues() []*RxQueue { return p.queues }

// Link reads the link state without waiting.
func (p *Port) Link() (Link, error) {
	var l C.struct_rte_eth_link
	if ret := C.rte_eth_link_get_nowait(C.uint16_t(p.id), &l); ret != 0 {
		return Link{}, fmt.Errorf("dpdk: port %q: link: %v", p.info.Name, syscall.Errno(-ret))
	}
	// link_status/duplex are bit-fields cgo cannot reach; read them in C.
	return Link{
		Up:         C.rampart_link_up(&l) != 0,
		SpeedMbps:  uint32(l.link_speed),
		FullDuplex: C.rampart_link_full_duplex(&l) != 0,
	}, nil
}

// Stats reads the port's counters. Ports keep imissed and rx_nombuf only
// per port; per-queue packets, bytes and errors for the first
// MaxQueueStats queues.
func (p *Port) Stats() (PortStats, error) {
	var s C.struct_rte_eth_stats
	if ret := C.rte_eth_stats_get(C.uint16_t(p.id), &s); ret != 0 {
		return PortStats{}, fmt.Errorf("dpdk: port %q: stats: %v", p.info.Name, syscall.Errno(-ret))
	}
	out := PortStats{
		IPackets: uint64(s.ipackets), IBytes: uint64(s.ibytes), IMissed: uint64(s.imissed),
		IErrors: uint64(s.ierrors), RxNoMbuf: uint64(s.rx_nombuf),
		Queues: make([]QueueCounters, min(len(p.queues), MaxQueueStats)),
	}
	for i := range out.Queues {
		out.Queues[i] = QueueCounters{Packets: uint64(s.q_ipackets[i]), Bytes: uint64(s.q_ibytes[i]), Errors: uint64(s.q_errors[i])}
	}
	return out, nil
}

// Close stops and closes the port and frees its mempool. Workers must have
// stopped polling; mbufs they still hold are freed here.
func (p *Port) Close() error {
	p.closeOnce.Do(func() {
		for _, q := range p.queues {
			q.close()
		}
		if ret := C.rte_eth_dev_stop(C.uint16_t(p.id)); ret != 0 {
			p.closeErr = fmt.Errorf("dpdk: port %q: stop: %v", p.info.Name, syscall.Errno(-ret))
		}
		if ret := C.rte_eth_dev_close(C.uint16_t(p.id)); ret != 0 && p.closeErr == nil {
			p.closeErr = fmt.Errorf("dpdk: port %q: close: %v", p.info.Name, syscall.Errno(-ret))
		}
		C.rte_mempool_free(p.pool)
	})
	return p.closeErr
}
