// Command rxbench measures Rampart's receive-and-free loop on one pinned
// worker core over a DPDK device, for comparison with dpdk-testpmd
// --forward-mode=rxonly on the same device (see ../run.sh). It prints one
// JSON object: {"mpps", "packets", "seconds", "imissed", ...}.
//
// With -write-pcap it instead writes the benchmark's pcap: one 64-byte
// UDP frame to each of -hosts hosts of 10.0.0.0/16.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rampartnet/rampart/dpdk"
	"github.com/rampartnet/rampart/dpdk/dpdktest"
	"github.com/rampartnet/rampart/sensor/capture"
	"github.com/rampartnet/rampart/sensor/capture/dpdksrc"
)

type result struct {
	Mode     string    `json:"mode"`
	Mpps     float64   `json:"mpps"` // median of per-second rates
	Packets  uint64    `json:"packets"`
	Seconds  float64   `json:"seconds"`
	IMissed  uint64    `json:"imissed"`
	RxNoMbuf uint64    `json:"rx_nombuf"`
	Bursts   uint64    `json:"bursts"`
	Samples  []float64 `json:"samples_mpps"`
}

func main() {
	var (
		vdev     = flag.String("vdev", "", "device string, e.g. net_pcap0,rx_pcap=F,infinite_rx=1")
		mainCore = flag.Int("main-core", 0, "EAL main core")
		worker   = flag.Int("worker-core", 1, "core of the receive worker")
		seconds  = flag.Int("seconds", 5, "measured seconds (after -warmup)")
		warmup   = flag.Duration("warmup", time.Second, "time before measuring")
		burst    = flag.Int("burst", 64, "burst size")
		mbufs    = flag.Int("mbufs", 0, "mempool size (0: sized from the queue)")
		memory   = flag.Int("memory", 512, "EAL memory in MB")
		noHuge   = flag.Bool("no-huge", true, "run EAL without hugepages")
		prefix   = flag.String("file-prefix", fmt.Sprintf("rxbench-%d", os.Getpid()), "EAL file prefix")
		mode     = flag.String("mode", "capture", "burst: the binding's Burst alone (receive and free, the free fused into the next burst); capture: capture.Queue Recv/Release, which also fills the sensor's frame array; eager: Burst then a separate bulk-free call")
		ealArgs  = flag.String("eal-args", "", "extra EAL arguments, space separated")
		pcapOut  = flag.String("write-pcap", "", "write the benchmark pcap to this file and exit")
		hosts    = flag.Int("hosts", 16384, "hosts in the -write-pcap file")
		size     = flag.Int("size", 64, "frame size in the -write-pcap file")
	)
	flag.Parse()
	if *pcapOut != "" {
		frames := make([][]byte, *hosts)
		for i := range frames {
			frames[i] = dpdktest.UDPFrame(*size, i, uint32(i))
		}
		if err := dpdktest.WritePcap(*pcapOut, frames); err != nil {
			fatal(err)
		}
		return
	}
	if *vdev == "" || *seconds <= 0 {
		fatal(fmt.Errorf("-vdev and -seconds > 0 are required"))
	}
	runtime.LockOSThread() // EAL pins the thread it initialises on

	cfg := dpdksrc.DefaultConfig()
	cfg.Ports = []dpdksrc.PortConfig{{Device: *vdev, Queues: 1}}
	cfg.Workers, cfg.MainCore = []int{*worker}, *mainCore
	cfg.Burst, cfg.MempoolSize, cfg.MemoryMB, cfg.NoHuge, cfg.FilePrefix = *burst, *mbufs, *memory, *noHuge, *prefix
	cfg.EALArgs = strings.Fields(*ealArgs)
	src, err := dpdksrc.New(cfg)
	if err != nil {
		fatal(err)
	}
	if err := src.Start(context.Background()); err != nil {
		fatal(err)
	}
	defer os.RemoveAll("/var/run/dpdk/" + *prefix)
	port := src.Ports()[0]
	// Keep this goroutine (stats sampling) off the worker's core.
	if err := capture.PinCurrentThread(*mainCore); err != nil {
		fatal(err)
	}
	// memif connects asynchronously: measure from link up (bounded wait).
	for i := 0; i < 100; i++ {
		if l, err := port.Link(); err == nil && l.Up {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}

	var stop atomic.Bool
	var bursts atomic.Uint64
	done := make(chan error, 1)
	q := src.Queues()[0]
	go func() {
		switch *mode {
		case "capture":
			done <- runCapture(q, *worker, *burst, &stop, &bursts)
		case "burst":
			done <- runBinding(port.RxQueues()[0], *worker, false, &stop, &bursts)
		case "eager":
			done <- runBinding(port.RxQueues()[0], *worker, true, &stop, &bursts)
		default:
			done <- fmt.Errorf("unknown -mode %q", *mode)
		}
	}()

	time.Sleep(*warmup)
	first, err := port.Stats()
	if err != nil {
		fatal(err)
	}
	res := result{Mode: *mode}
	prev, start := first, time.Now()
	tick := time.NewTicker(time.Second)
	for i := 0; i < *seconds; i++ {
		t0 := time.Now()
		<-tick.C
		s, _ := port.Stats()
		res.Samples = append(res.Samples, float64(s.IPackets-prev.IPackets)/time.Since(t0).Seconds()/1e6)
		prev = s
	}
	tick.Stop()
	res.Seconds = time.Since(start).Seconds()
	res.Packets, res.IMissed, res.RxNoMbuf = prev.IPackets-first.IPackets, prev.IMissed-first.IMissed, prev.RxNoMbuf-first.RxNoMbuf
	stop.Store(true)
	if err := <-done; err != nil {
		fatal(err)
	}
	res.Bursts = bursts.Load()
	sorted := slices.Clone(res.Samples)
	slices.Sort(sorted)
	res.Mpps = sorted[len(sorted)/2]
	if err := src.Stop(); err != nil {
		fatal(err)
	}
	json.NewEncoder(os.Stdout).Encode(res)
}

// runCapture is the sensor's worker loop without the pipeline: through
// the capture.Queue interface, exactly as the decoder will see it.
func runCapture(q capture.Queue, core, burst int, stop *atomic.Bool, bursts *atomic.Uint64) error {
	runtime.LockOSThread() // never unlocked: the pinned thread exits with the goroutine
	if err := capture.PinCurrentThread(core); err != nil {
		return err
	}
	b := q.(capture.ThreadBinder)
	if err := b.BindThread(); err != nil {
		return err
	}
	defer b.UnbindThread()
	frames := make([]capture.Frame, burst)
	var n uint64
	for !stop.Load() {
		if _, err := q.Recv(frames); err != nil {
			return err
		}
		q.Release()
		n++
	}
	bursts.Store(n)
	return nil
}

// runBinding is receive-and-free through the binding alone. eager frees
// each burst with its own cgo call, to measure what fusing the free into
// the next receive saves.
func runBinding(q *dpdk.RxQueue, core int, eager bool, stop *atomic.Bool, bursts *atomic.Uint64) error {
	runtime.LockOSThread() // never unlocked: the pinned thread exits with the goroutine
	if err := capture.PinCurrentThread(core); err != nil {
		return err
	}
	if _, err := dpdk.RegisterThread(); err != nil {
		return err
	}
	defer dpdk.UnregisterThread()
	defer q.Flush() // through this thread's mempool cache, before it unregisters
	var n uint64
	for !stop.Load() {
		q.Burst(q.BurstSize())
		if eager {
			q.Flush()
		}
		n++
	}
	bursts.Store(n)
	return nil
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "rxbench:", err)
	os.Exit(1)
}
