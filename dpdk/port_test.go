//go:build !nodpdk

package dpdk

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// drain receives until want packets arrived or the source stays empty,
// calling fn for each; bounded so a lost packet fails instead of hanging.
func drain(q *RxQueue, max, want int, fn func(i int)) int {
	got := 0
	for idle := 0; got < want && idle < 100000; {
		n := q.Burst(max)
		if n > max {
			panic(fmt.Sprintf("Burst(%d) returned %d", max, n))
		}
		if n == 0 {
			idle++
			continue
		}
		for i := 0; i < n; i++ {
			fn(got + i)
		}
		got += n
	}
	return got
}

func TestPcapReplayExactCounts(t *testing.T) {
	p := freshPort(t, "net_pcap", pcapArgs("one.pcap"), PortConfig{RxQueues: 1, Burst: 32, Promiscuous: true})
	q := p.RxQueues()[0]
	var wantBytes uint64
	for _, f := range testFrames {
		wantBytes += uint64(len(f))
	}
	got := drain(q, q.BurstSize(), len(testFrames), func(i int) {
		k := i % q.BurstSize()
		if i >= len(testFrames) {
			t.Errorf("extra packet %d", i)
			return
		}
		if !bytes.Equal(q.Data(k), testFrames[i]) || q.PktLen(k) != uint32(len(testFrames[i])) {
			t.Errorf("packet %d: got %d bytes (pkt_len %d), want %d equal bytes", i, len(q.Data(k)), q.PktLen(k), len(testFrames[i]))
		}
		if d, n := q.Packet(k); &d[0] != &q.Data(k)[0] || len(d) != len(q.Data(k)) || n != q.PktLen(k) {
			t.Errorf("packet %d: Packet gives %d bytes at %p and pkt_len %d, unlike Data and PktLen", i, len(d), &d[0], n)
		}
	})
	if got != len(testFrames) {
		t.Fatalf("received %d packets, want %d", got, len(testFrames))
	}
	if n := q.Burst(q.BurstSize()); n != 0 {
		t.Errorf("burst after the file ended = %d, want 0", n)
	}
	s, err := p.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.IPackets != uint64(len(testFrames)) || s.IBytes != wantBytes || s.Queues[0].Packets != s.IPackets || s.Queues[0].Bytes != wantBytes {
		t.Errorf("stats = %+v, want %d packets and %d bytes", s, len(testFrames), wantBytes)
	}
	if s.IMissed != 0 || s.IErrors != 0 || s.RxNoMbuf != 0 {
		t.Errorf("stats = %+v, want no drops", s)
	}
	info := p.Info()
	if !strings.HasPrefix(info.Name, "net_pcap") || info.Driver != "net_pcap" || info.RxQueues != 1 || info.MempoolSize < 1024 {
		t.Errorf("info = %+v", info)
	}
	if _, err := p.Link(); err != nil {
		t.Errorf("link: %v", err)
	}
}

// Two pcap files make two queues with exactly known contents.
func TestTwoQueuesPerQueueStats(t *testing.T) {
	p := freshPort(t, "net_pcap", pcapArgs("a.pcap", "b.pcap"), PortConfig{RxQueues: 2})
	for i, want := range [][][]byte{queueA, queueB} {
		q := p.RxQueues()[i]
		if got := drain(q, 7, len(want), func(int) {}); got != len(want) {
			t.Errorf("queue %d received %d, want %d", i, got, len(want))
		}
		q.Flush()
	}
	s, err := p.Stats()
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range [][][]byte{queueA, queueB} {
		var b uint64
		for _, f := range want {
			b += uint64(len(f))
		}
		if s.Queues[i].Packets != uint64(len(want)) || s.Queues[i].Bytes != b {
			t.Errorf("queue %d stats = %+v, want %d packets %d bytes", i, s.Queues[i], len(want), b)
		}
	}
	if s.IPackets != uint64(len(queueA)+len(queueB)) {
		t.Errorf("port packets = %d, want %d", s.IPackets, len(queueA)+len(queueB))
	}
}

// Two registered workers poll net_null's two queues until told to stop;
// Close after they stop must free everything they held.
func TestTwoWorkersStopAndClose(t *testing.T) {
	p := freshPort(t, "net_null", "", PortConfig{RxQueues: 2, RxDescriptors: 256, Burst: 64})
	var stop atomic.Bool
	var wg, registered sync.WaitGroup
	registered.Add(2)
	counts := make([]uint64, 2)
	lcores := make([]int, 2)
	for i, q := range p.RxQueues() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			lc, err := RegisterThread()
			registered.Done()
			if err != nil {
				t.Error(err)
				return
			}
			defer UnregisterThread()
			lcores[i] = lc
			// Both hold their lcore ids at once, so the ids must differ.
			registered.Wait()
			for b := 0; b < 1000000 && !stop.Load(); b++ {
				counts[i] += uint64(q.Burst(q.BurstSize()))
				if counts[i] >= 100000 {
					break
				}
			}
			q.Flush()
		}()
	}
	wg.Wait()
	stop.Store(true)
	if lcores[0] == lcores[1] {
		t.Errorf("workers got the same lcore %d", lcores[0])
	}
	s, err := p.Stats()
	if err != nil {
		t.Fatal(err)
	}
	for i := range counts {
		if counts[i] < 100000 || s.Queues[i].Packets != counts[i] {
			t.Errorf("queue %d: worker counted %d, stats say %d, want equal and >= 100000", i, counts[i], s.Queues[i].Packets)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
}

func TestBurstDoesNotAllocate(t *testing.T) {
	p := freshPort(t, "net_null", "", PortConfig{RxQueues: 1, RxDescriptors: 256})
	q := p.RxQueues()[0]
	var sum uint64
	allocs := testing.AllocsPerRun(1000, func() {
		n := q.Burst(q.BurstSize())
		for i := 0; i < n; i++ {
			sum += uint64(len(q.Data(i))) + uint64(q.PktLen(i))
		}
	})
	if allocs != 0 {
		t.Errorf("Burst+Data = %v allocations per burst, want 0", allocs)
	}
	if sum == 0 {
		t.Error("net_null delivered nothing")
	}
}

func TestPortNotFound(t *testing.T) {
	for _, dev := range []string{"net_pcap9", "0000:99:00.0", "03:00.0"} {
		_, err := OpenPort(dev, PortConfig{RxQueues: 1})
		if err == nil || !strings.Contains(err.Error(), DeviceName(dev)) || !strings.Contains(err.Error(), "not found") {
			t.Errorf("OpenPort(%q) = %v, want a not-found error naming it", dev, err)
		}
	}
}

func TestBadPortConfig(t *testing.T) {
	cases := []struct {
		dev  string
		cfg  PortConfig
		want string
	}{
		{pcapBad, PortConfig{RxQueues: 0}, "rx queues must be between 1 and 1024, got 0"},
		{pcapBad, PortConfig{RxQueues: 1, Burst: 513}, "burst must be between 1 and 512, got 513"},
		{pcapBad, PortConfig{RxQueues: 1, MempoolSize: 100}, "mempool of 100 mbufs"},
		{pcapBad, PortConfig{RxQueues: 3}, "3 rx queues asked, the device has at most 1"},
	}
	for _, c := range cases {
		_, err := OpenPort(c.dev, c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("OpenPort(%q, %+v) = %v, want %q", c.dev, c.cfg, err, c.want)
		}
	}
}

func TestProbeBadDevice(t *testing.T) {
	err := ProbeDevice("net_bogus7")
	if err == nil || !strings.Contains(err.Error(), `"net_bogus7"`) {
		t.Errorf("ProbeDevice(net_bogus7) = %v, want an error naming it", err)
	}
}

func TestSecondInitFails(t *testing.T) {
	err := InitEAL(EALOptions{NoHuge: true, FilePrefix: "other"})
	if err == nil || !strings.Contains(err.Error(), "already initialised") {
		t.Fatalf("second InitEAL = %v, want already initialised", err)
	}
}
