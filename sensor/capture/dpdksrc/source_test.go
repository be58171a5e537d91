//go:build !nodpdk

package dpdksrc

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampartnet/rampart/sensor/capture"
)

// runWorker is the minimal receive-and-free worker: lock, pin, bind, poll
// until stop or until want frames arrived or the queue stayed empty for
// maxIdle polls, then unbind. The real pipeline decodes where fn is.
func runWorker(q capture.Queue, core int, stop *atomic.Bool, want, maxIdle int, fn func(capture.Frame)) (int, error) {
	runtime.LockOSThread() // never unlocked: the pinned thread exits with the goroutine
	if err := capture.PinCurrentThread(core); err != nil {
		return 0, err
	}
	if b, ok := q.(capture.ThreadBinder); ok {
		if err := b.BindThread(); err != nil {
			return 0, err
		}
		defer b.UnbindThread()
	}
	frames := make([]capture.Frame, 64)
	got := 0
	for idle := 0; got < want && idle < maxIdle && !stop.Load(); {
		n, err := q.Recv(frames)
		if err != nil {
			return got, err
		}
		if n == 0 {
			idle++
			continue
		}
		for _, f := range frames[:n] {
			fn(f)
		}
		got += n
		q.Release()
	}
	return got, nil
}

var pcapDrained bool

func TestRecvExactFramesAndStats(t *testing.T) {
	if pcapDrained {
		t.Skip("the pcap files replay once per process (-count > 1)")
	}
	pcapDrained = true
	qs := testSrc.Queues()
	if len(qs) != 3 || testSrc.Name() != "dpdk" {
		t.Fatalf("%d queues named %q, want 3 named dpdk", len(qs), testSrc.Name())
	}
	var wg sync.WaitGroup
	var stop atomic.Bool
	for i, want := range pcapQueues {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := 0
			got, err := runWorker(qs[i], testSrc.WorkerCores()[i], &stop, len(want)+1, 200000, func(f capture.Frame) {
				if k < len(want) && (!bytes.Equal(f.Data, want[k]) || f.WireLen != uint32(len(want[k])) || f.TimeNs != 0) {
					t.Errorf("queue %d frame %d: %d bytes, wire %d, time %d; want the %d bytes written", i, k, len(f.Data), f.WireLen, f.TimeNs, len(want[k]))
				}
				k++
			})
			if err != nil || got != len(want) {
				t.Errorf("queue %d: received %d (%v), want %d", i, got, err, len(want))
			}
		}()
	}
	wg.Wait()
	stats := testSrc.Stats()
	for i, want := range pcapQueues {
		var b uint64
		for _, f := range want {
			b += uint64(len(f))
		}
		if s := stats[i]; s.Packets != uint64(len(want)) || s.Bytes != b || s.Missed != 0 || s.Errors != 0 || s.NoMbuf != 0 {
			t.Errorf("queue %d stats = %+v, want %d packets, %d bytes, no drops", i, s, len(want), b)
		}
	}
}

func nullQueue(t *testing.T) *Queue {
	q := testSrc.queues[2]
	if info := testSrc.Ports()[q.Port()].Info(); info.Driver != "net_null" {
		t.Fatalf("queue 2 is on %q, want net_null", info.Driver)
	}
	return q
}

func TestRecvReleaseDoesNotAllocate(t *testing.T) {
	q := nullQueue(t)
	frames := make([]capture.Frame, 64)
	var bytes uint64
	allocs := testing.AllocsPerRun(1000, func() {
		n, _ := q.Recv(frames)
		for _, f := range frames[:n] {
			bytes += uint64(f.WireLen)
		}
		q.Release()
	})
	if allocs != 0 {
		t.Errorf("Recv+Release allocates %v times per burst, want 0", allocs)
	}
	if bytes == 0 {
		t.Error("net_null delivered nothing")
	}
}

func TestRecvHonoursShortSlice(t *testing.T) {
	q := nullQueue(t)
	before := testSrc.Stats()[2].Packets
	frames := make([]capture.Frame, 5)
	total := 0
	for i := 0; i < 10; i++ {
		n, err := q.Recv(frames)
		if err != nil || n > len(frames) {
			t.Fatalf("Recv into 5 frames = %d, %v", n, err)
		}
		total += n
		q.Release()
	}

	if got := testSrc.Stats()[2].Packets - before; got != uint64(total) || total == 0 {
		t.Errorf("stats grew by %d, worker saw %d: a short slice must not drop packets", got, total)
	}
}

// A worker stops on the flag and hands every mbuf back before unbinding.
func TestWorkerStopsOnFlag(t *testing.T) {
	q := nullQueue(t)
	var stop atomic.Bool
	done := make(chan int)
	go func() {
		got, err := runWorker(q, q.Core(), &stop, 1<<62, 1<<62, func(capture.Frame) {})
		if err != nil {
			t.Error(err)
		}
		done <- got
	}()
	time.Sleep(20 * time.Millisecond)
	stop.Store(true)
	select {
	case got := <-done:
		if got == 0 {
			t.Error("worker received nothing from net_null")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("worker did not stop")
	}
}

func TestSecondStartFails(t *testing.T) {
	s := &Source{cfg: testSrc.cfg}
	err := s.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "already initialised") {
		t.Errorf("second Start = %v, want EAL already initialised", err)
	}
	if err := s.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "Start called twice") {
		t.Errorf("Start after a failed Start = %v", err)
	}
	if err := s.Stop(); err != nil {
		t.Errorf("Stop of a never-started source = %v", err)
	}
}

// runChild starts a source whose second port does not exist: Start must
// name it and leave EAL cleaned up.
func runChild(name string) int {
	prefix := os.Getenv("RAMPART_DPDKSRC_PREFIX")
	cfg := DefaultConfig()
	cfg.NoHuge, cfg.MemoryMB, cfg.FilePrefix = true, 128, prefix
	cfg.Ports = []PortConfig{{Device: "net_null0", Queues: 1}, {Device: "0000:99:1f.7", Queues: 1}}
	cfg.Workers = []int{0, 0}
	s := &Source{cfg: cfg}
	err := s.Start(context.Background())
	os.RemoveAll("/var/run/dpdk/" + prefix)
	if err == nil {
		os.Stdout.WriteString("\nstarted\n")
		return 0
	}
	os.Stdout.WriteString("\nERR: " + err.Error() + "\n")
	if err := s.Stop(); err != nil {
		os.Stdout.WriteString("\nSTOP: " + err.Error() + "\n")
	}
	return 3
}

func TestStartNamesMissingPort(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=missing-port", "RAMPART_DPDKSRC_PREFIX="+testPrefix+"-child")
	out, _ := cmd.CombinedOutput()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	last := lines[len(lines)-1]
	want := `ERR: capture.dpdk.ports[1]: dpdk: port "0000:99:1f.7" not found`
	if cmd.ProcessState.ExitCode() != 3 || !strings.HasPrefix(last, want) {
		t.Errorf("child exit %d, last line %q; want exit 3 and %q", cmd.ProcessState.ExitCode(), last, want)
	}
}

// BenchmarkRecvRelease is the worker loop over net_null (no generator
// behind it): ns/op is per burst, ns/pkt per packet.
func BenchmarkRecvRelease(b *testing.B) {
	q := testSrc.queues[2]
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := q.BindThread(); err != nil {
		b.Fatal(err)
	}
	defer q.UnbindThread()
	frames := make([]capture.Frame, 64)
	b.ReportAllocs()
	pkts := 0
	for b.Loop() {
		n, _ := q.Recv(frames)
		pkts += n
		q.Release()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(max(pkts, 1)), "ns/pkt")
}
