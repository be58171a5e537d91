package aggregate

import (
	"testing"
	"time"

	"github.com/rampartnet/rampart/sensor/hosts"
	"github.com/rampartnet/rampart/sensor/ring"
)

const tickNs = int64(100 * time.Millisecond)

func key(i uint32) hosts.Key {
	var k hosts.Key
	k[10], k[11] = 0xff, 0xff
	k[12], k[13], k[14], k[15] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
	return k
}

// inDelta is pkts incoming packets of size bytes each to host i, all TCP SYN.
func inDelta(i uint32, pkts, size uint64) hosts.Delta {
	d := hosts.Delta{Key: key(i)}
	for _, m := range []hosts.Metric{hosts.Total, hosts.TCP, hosts.SYN} {
		d.In.Packets[m] = pkts
		d.In.Bytes[m] = pkts * size
	}
	d.In.Flows = pkts / 10
	return d
}

func testConfig(window, idle time.Duration) Config {
	c := DefaultConfig()
	c.Window, c.IdleExpiry = window, idle
	return c
}

func mustNew(t testing.TB, cfg Config, opts Options) *Aggregator {
	t.Helper()
	a, err := New(cfg, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return a
}

// step applies one Final batch per worker for tick n and closes it.
func step(a *Aggregator, n int64, perWorker ...[]hosts.Delta) {
	for w, ds := range perWorker {
		a.Apply(&ring.Batch{Worker: w, TickEnd: n * tickNs, Final: true, Deltas: ds})
	}
	a.CloseTick(n * tickNs)
}

func hostStats(t testing.TB, a *Aggregator, i uint32) (HostStats, bool) {
	t.Helper()
	var st HostStats
	ok := a.Lookup(key(i), func(v HostView) { st = v.Stats() })
	return st, ok
}

func batchOf(worker int, n int64, ds ...hosts.Delta) *ring.Batch {
	return &ring.Batch{Worker: worker, TickEnd: n * tickNs, Final: true, Deltas: ds, Stats: ring.Stats{Packets: uint64(worker)}}
}
