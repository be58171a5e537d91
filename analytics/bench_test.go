package analytics

import (
	"math"
	"math/rand/v2"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/rs/zerolog"

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

// cpuTime is the CPU time (user + system, all threads) the process used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkWrite1M writes one snapshot of 1M hosts: sort, Arrow build,
// ZSTD, disk, fsync, rename. cpu-ms/op, the CPU time of all threads, is
// steadier than ns/op on a shared machine.
func BenchmarkWrite1M(b *testing.B) {
	bt := realisticBatch(rand.New(rand.NewPCG(1, 1)), 1<<20)
	w := testWriter(b, Config{WriteConcurrency: DefaultConfig().WriteConcurrency})
	defer w.Stop()
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		if _, err := w.Write(bt); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu)/1e6/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(w.Stats().Bytes)/float64(w.Stats().Written)/(1<<20), "MiB/file")
}

// BenchmarkBuild1M is the part of a write before compression: sort by ip
// and fill the Arrow columns, in buffers reused across snapshots.
func BenchmarkBuild1M(b *testing.B) {
	bt := realisticBatch(rand.New(rand.NewPCG(1, 1)), 1<<20)
	schema := schemaFor(Meta{Version: SchemaVersion, SensorID: "edge-1", Interval: 10 * time.Second, Start: t0, End: t0})
	cols := &columns{mem: memory.DefaultAllocator}
	defer cols.release()
	var keys []sortKey
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		keys = order(bt.Rows, keys)
		record(cols, schema, bt, keys, 2).Release()
	}
	b.ReportMetric(float64(cpuTime()-cpu)/1e6/float64(b.N), "cpu-ms/op")
}

// BenchmarkCompactHour compacts one sensor's hour of 10 s snapshots (360
// IPC files of 10K hosts each, heavy-tailed counters) into Parquet, and
// reports the sizes of both.
func BenchmarkCompactHour(b *testing.B) {
	dir := b.TempDir()
	rng := rand.New(rand.NewPCG(2, 2))
	w := testWriter(b, Config{Dir: dir})
	w.nosync = true
	h := time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)
	for i := range 360 {
		bt := realisticBatch(rng, 10000)
		bt.Start = h.Add(time.Duration(i) * 10 * time.Second).UnixNano()
		bt.End = bt.Start + 10e9
		if _, err := w.Write(bt); err != nil {
			b.Fatal(err)
		}
	}
	ipcBytes := w.Stats().Bytes
	pq := parquetPath(dir, "edge-1", h)
	opt := CompactOptions{now: later}
	b.ReportAllocs()
	cpu := cpuTime()
	var res []CompactResult
	for b.Loop() {
		_ = os.Remove(pq)
		var err error
		if res, err = Compact(zerolog.Nop(), dir, opt); err != nil || len(res) != 1 || res[0].Action != ActionWritten {
			b.Fatalf("%+v %v", res, err)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu)/1e6/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(res[0].Rows)/(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e9), "rows/s")
	b.ReportMetric(float64(ipcBytes)/(1<<20), "ipc-MiB")
	b.ReportMetric(float64(res[0].Bytes)/(1<<20), "parquet-MiB")
}
