package sensor

import (
	"github.com/rampartnet/rampart/sensor/clock"
	"github.com/rampartnet/rampart/sensor/packet"
)

// recordCounter counts flow records into a worker's table, and samples them
// for fingerprints, as the worker does for packets.
type recordCounter struct{ w *worker }

func (c recordCounter) Count(h *packet.Header, packets, bytes uint64, nowNs int64) {
	c.w.table.Count(h, packets, bytes, nowNs)
	c.w.stats.FlowPackets += packets
	c.w.stats.FlowBytes += bytes
	c.w.sampler.Offer(h, uint32(min(bytes/max(packets, 1), 1<<16)), nowNs)
}

// tickAt is a flow worker's tick: its listener calls it at each tick
// boundary, and the worker sends what it counted since the last one.
func (w *worker) tickAt(nowNs int64) {
	end := clock.TickEnd(nowNs, w.tickNs)
	switch {
	case w.tickEnd == 0:
		w.tickEnd = end
	case nowNs >= w.tickEnd:
		w.closeTick(end)
	}
}
