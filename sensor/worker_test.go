package sensor

import (
	"math/rand/v2"
	"net/netip"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rampartnet/rampart/sensor/capture"
	"github.com/rampartnet/rampart/sensor/hosts"
	"github.com/rampartnet/rampart/sensor/packet"
	"github.com/rampartnet/rampart/sensor/packet/packettest"
	"github.com/rampartnet/rampart/sensor/ring"
	"github.com/rampartnet/rampart/sensor/sample"
)

// memQueue serves prebuilt frames round and round, like a NIC queue that
// always has a full burst, with packet time advancing by gap per frame.
type memQueue struct {
	frames [][]byte
	next   int
	now    int64
	gap    int64
}

func (q *memQueue) Recv(fs []capture.Frame) (int, error) {
	for i := range fs {
		d := q.frames[q.next]
		q.next++
		if q.next == len(q.frames) {
			q.next = 0
		}
		q.now += q.gap
		fs[i].Set(d, uint32(len(d)), q.now)
	}
	return len(fs), nil
}

func (q *memQueue) Release() {}

// v4Frames are 64-byte TCP frames to n random hosts of 198.51.0.0/16.
func v4Frames(n int) [][]byte { return v4FramesTo(n, 1<<16) }

// v4FramesTo is v4Frames to hosts 198.51.0.0 up to 198.51.0.0 + hosts - 1.
func v4FramesTo(n, hosts int) [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([][]byte, n)
	for i := range out {
		h := (rng.IntN(256)<<8 | rng.IntN(256)) % hosts // the /16 draws as it always did
		dst := netip.AddrFrom4([4]byte{198, 51, byte(h >> 8), byte(h)})
		out[i] = packettest.Frame{Src: netip.AddrFrom4([4]byte{203, 0, 113, byte(i)}), Dst: dst, Proto: packet.ProtoTCP,
			SrcPort: uint16(1024 + i%60000), DstPort: 443, TCPFlags: packet.TCPAck}.Bytes()
	}
	return out
}

// v6Frames are TCP frames to n distinct hosts of 2001:db8:100::/48.
func v6Frames(n int) [][]byte {
	rng := rand.New(rand.NewPCG(3, 4))
	out := make([][]byte, n)
	for i := range out {
		a := netip.MustParseAddr("2001:db8:100::").As16()
		for j := 6; j < 16; j++ {
			a[j] = byte(rng.IntN(256))
		}
		out[i] = packettest.Frame{Src: netip.MustParseAddr("2001:db8:ffff::1"), Dst: netip.AddrFrom16(a), Proto: packet.ProtoTCP,
			SrcPort: uint16(1024 + i%60000), DstPort: 443, TCPFlags: packet.TCPAck}.Bytes()
	}
	return out
}

func benchWorker(tb testing.TB, frames [][]byte, nets []string, v6cap int) (*worker, *ring.Pipe) {
	tb.Helper()
	cfg := hosts.DefaultConfig()
	cfg.IPv6Capacity = v6cap
	var prefixes []netip.Prefix
	for _, n := range nets {
		prefixes = append(prefixes, netip.MustParsePrefix(n))
	}
	table, err := hosts.New(cfg, prefixes)
	if err != nil {
		tb.Fatal(err)
	}
	pipe := ring.NewPipe(0, pipeBatches, deltasPerBatch)
	var stop atomic.Bool
	q := &memQueue{frames: frames, now: t0, gap: 100} // 10 Mpps of packet time
	w := newWorker(0, q, table, sample.NewSampler(64, 4096, 1), pipe, 64, int64(100*time.Millisecond), &stop)
	return w, pipe
}

// drainPipe plays the aggregator: takes every batch back.
func drainPipe(p *ring.Pipe) {
	for b := p.Pop(); b != nil; b = p.Pop() {
		p.Recycle(b)
	}
}

func TestWorkerSteadyStateDoesNotAllocate(t *testing.T) {
	w, pipe := benchWorker(t, v4Frames(4096), []string{"198.51.0.0/16"}, 1024)
	for i := 0; i < 20_000; i++ { // warm up: blocks allocated, several ticks sent
		_ = w.poll(packetTime{})
		drainPipe(pipe)
	}
	allocs := testing.AllocsPerRun(200, func() {
		for i := 0; i < 100; i++ { // 6,400 packets, crossing tick boundaries
			_ = w.poll(packetTime{})
		}
		drainPipe(pipe)
	})
	if allocs != 0 {
		t.Errorf("worker allocates %v times per 6,400 packets", allocs)
	}
}

// received totals what a worker sent through its pipe, as the aggregator
// would take it.
type received struct {
	stats ring.Stats
	in    uint64 // incoming packets in the deltas
}

func (r *received) take(p *ring.Pipe) {
	for b := p.Pop(); b != nil; b = p.Pop() {
		r.stats.Add(&b.Stats)
		for _, d := range b.Deltas {
			r.in += d.In.Packets[hosts.Total]
		}
		p.Recycle(b)
	}
}

// The worker counts every frame exactly, across ticks and batches.
func TestWorkerCountsExactly(t *testing.T) {
	frames := v4Frames(1000)
	w, pipe := benchWorker(t, frames, []string{"198.51.0.0/16"}, 1024)
	w.q.(*memQueue).gap = 10_000 // 100 kpps of packet time
	var got received
	const polls = 5000 // 320,000 packets over 3.2 s of packet time: 32 ticks
	for i := 0; i < polls; i++ {
		_ = w.poll(packetTime{})
		got.take(pipe)
	}
	w.finish()
	got.take(pipe)
	if got.stats.Packets != polls*64 || got.in != polls*64 {
		t.Errorf("worker sent %d packets in stats and %d in deltas, want %d", got.stats.Packets, got.in, polls*64)
	}
}

// A worker whose batches the aggregator holds (a small pipe, drained only
// now and then) sends some ticks in parts or not at all, and still loses no
// packet: hosts not sent keep counting in the table until a batch is free.
func TestWorkerLosesNothingWhenBatchesRunOut(t *testing.T) {
	frames := v4Frames(1000)
	w, _ := benchWorker(t, frames, []string{"198.51.0.0/16"}, 1024)
	w.q.(*memQueue).gap = 10_000   // 100 kpps: 10,000 packets a tick, to ~1000 hosts
	pipe := ring.NewPipe(0, 2, 16) // 32 deltas in flight at most
	w.pipe = pipe
	var got received
	const polls = 5000 // 32 ticks of packet time
	for i := range polls {
		_ = w.poll(packetTime{})
		if i%7 == 0 {
			got.take(pipe)
		}
	}
	for range 100 { // the last tick, in as many parts as it takes (~30)
		w.finish()
		got.take(pipe)
	}
	if got.stats.FlushesSkipped == 0 {
		t.Fatal("no tick found the pipe full: the test misses its case")
	}
	if got.stats.Packets != polls*64 || got.in != polls*64 {
		t.Errorf("worker sent %d packets in stats and %d in deltas, want %d", got.stats.Packets, got.in, polls*64)
	}
}

func benchDecodeCount(b *testing.B, frames [][]byte, nets []string, v6cap int) {
	w, pipe := benchWorker(b, frames, nets, v6cap)
	// Warm up past the first tick hand-off (1M packets = 100 ms of packet
	// time), so that every host and every buffer exists before timing.
	for i := 0; i < max(2*len(frames)/64, 20_000); i++ {
		_ = w.poll(packetTime{})
		drainPipe(pipe)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i += 64 {
		_ = w.poll(packetTime{})
		drainPipe(pipe)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/packet")
	// CPU time is steadier than wall time on a shared machine, which also
	// counts time spent descheduled.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/packet")
}

// BenchmarkDecodeCountV4Slash16: the full per-packet path (decode, count,
// sample, tick hand-off) for 64-byte frames to 64K hosts of a /16.
// b.N counts packets.
func BenchmarkDecodeCountV4Slash16(b *testing.B) {
	benchDecodeCount(b, v4Frames(1<<16), []string{"198.51.0.0/16"}, 1024)
}

// BenchmarkDecodeCountV4Hosts256 is the /16 benchmark with every packet to
// 256 hosts, whose counters stay in L1: what is left is the path's
// instructions, the reference that says how much of the /16's time is misses.
func BenchmarkDecodeCountV4Hosts256(b *testing.B) {
	benchDecodeCount(b, v4FramesTo(1<<16, 256), []string{"198.51.0.0/16"}, 1024)
}

// BenchmarkDecodeCountV6Hosts1M: the same for 1M IPv6 hosts.
func BenchmarkDecodeCountV6Hosts1M(b *testing.B) {
	benchDecodeCount(b, v6Frames(1<<20), []string{"2001:db8:100::/48"}, 1<<21)
}

// cpuTime is the process's CPU time in ns.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
