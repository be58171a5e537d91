package analytics

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/hosts"
	"github.com/rampartnet/rampart/sensor/snapshot"
)

// realisticBatch is n IPv4 hosts of a few /16s with heavy-tailed traffic:
// log-normal packet counts, mostly TCP, few SYN/ICMP, fragments rare. Real
// counters are small numbers with many zeros, which is what ZSTD sees.
func realisticBatch(rng *rand.Rand, n int) *snapshot.Batch {
	b := &snapshot.Batch{Start: t0.UnixNano(), End: t0.UnixNano() + 10e9, Groups: []string{"web", "dns", "mail"}}
	b.Rows = make([]snapshot.Row, n)
	for i := range b.Rows {
		r := &b.Rows[i]
		r.Key[10], r.Key[11] = 0xff, 0xff
		r.Key[12], r.Key[13], r.Key[14], r.Key[15] = 10, byte(i>>16), byte(i>>8), byte(i)
		r.Group = int32(i%4) - 1
		for d := range aggregate.NumDirs {
			c := &r.Counts[d]
			p := uint64(math.Exp(3 + 2*rng.NormFloat64()))
			size := uint64(64 + rng.IntN(1400))
			c.Packets[hosts.Total], c.Bytes[hosts.Total] = p, p*size
			c.Packets[hosts.TCP], c.Bytes[hosts.TCP] = p*7/10, p*7/10*size
			c.Packets[hosts.UDP], c.Bytes[hosts.UDP] = p/4, p/4*size
			c.Packets[hosts.SYN], c.Bytes[hosts.SYN] = p/50, p/50*64
			c.Packets[hosts.ICMP], c.Bytes[hosts.ICMP] = p/100, p/100*84
			if rng.IntN(100) == 0 {
				c.Packets[hosts.Frag], c.Bytes[hosts.Frag] = p/10, p/10*size
			}
			c.Flows = p / 20
			peak := 1 + rng.Float64()*3 // burstiness over the 10 s mean
			for s, v := range [aggregate.NumSeries]uint64{p, 8 * p * size, c.Flows, c.Packets[hosts.TCP], c.Packets[hosts.SYN],
				c.Packets[hosts.UDP], c.Packets[hosts.ICMP], c.Packets[hosts.Frag]} {
				r.Peaks[d][s] = uint64(float64(v) / 10 * peak)
			}
		}
	}
	rng.Shuffle(n, func(i, j int) { b.Rows[i], b.Rows[j] = b.Rows[j], b.Rows[i] })
	return b
}

// BenchmarkWrite1M writes one snapshot of 1M hosts: sort, Arrow build,
// ZSTD, disk, fsync, rename.
func BenchmarkWrite1M(b *testing.B) {
	bt := realisticBatch(rand.New(rand.NewPCG(1, 1)), 1<<20)
	w := testWriter(b, Config{})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := w.Write(bt); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(w.Stats().Bytes)/float64(w.Stats().Written)/(1<<20), "MiB/file")
}
