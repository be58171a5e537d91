package hosts

import (
	"runtime"
	"testing"
	"unsafe"

	"github.com/rampartnet/rampart/sensor/packet"
)

// heapBytes returns the bytes f allocated.
func heapBytes(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestSlash8AllocatesLittle(t *testing.T) {
	cfg := testConfig()
	cfg.FlowCacheSize = minTableSize
	var tab *Table
	n := heapBytes(func() { tab = mustNew(t, cfg, "10.0.0.0/8") })
	if n > 1<<20 {
		t.Fatalf("New with a /8 allocated %d bytes, want < 1 MiB", n)
	}
	h := hdr("8.8.8.8", "10.200.3.4")
	tab.Count(&h, 1, 1, 0)
	if s := tab.Stats(); s.V4Blocks != 1 {
		t.Fatalf("one host touched: %d blocks, want 1", s.V4Blocks)
	}
	t.Logf("New(/8) allocated %d bytes", n)
}

// TestIPv4MemoryPerHost measures the heap per active IPv4 host, block
// share and touched-list share included, over a fully active /16.
func TestIPv4MemoryPerHost(t *testing.T) {
	if s := unsafe.Sizeof(hostCounters{}); s != 128 {
		t.Errorf("hostCounters is %d bytes, want 128 (one cache line per direction)", s)
	}
	cfg := testConfig()
	cfg.FlowCacheSize = minTableSize
	tab := mustNew(t, cfg, "10.1.0.0/16")
	h := hdr("8.8.8.8", "10.1.0.0")
	n := heapBytes(func() {
		for i := range uint32(1 << 16) {
			h.Dst4 = 0x0a010000 | i
			tab.Count(&h, 1, 64, 0)
		}
	})
	perHost := float64(n) / (1 << 16)
	if perHost > 256 {
		t.Errorf("%.1f bytes per active IPv4 host, want <= 256", perHost)
	}
	t.Logf("%.1f bytes per active IPv4 host (%d blocks)", perHost, tab.Stats().V4Blocks)
}

func TestCountFlushDoNotAllocate(t *testing.T) {
	cfg := testConfig()
	cfg.IPv6Capacity = 1 << 12
	tab := mustNew(t, cfg, "10.0.0.0/16", "2001:db8::/32")
	var v4 [512]packet.Header
	var v6 [512]packet.Header
	for i := range v4 {
		v4[i] = tcp(hdr("8.8.8.8", "10.0.0.0"), uint16(i), 80, packet.TCPSyn)
		v4[i].Dst4 |= uint32(i * 97 % 1024) // four blocks
		v6[i] = udp(hdr("2001:db8::", "2001:4860::1"), uint16(i), 53)
		v6[i].Src6[14], v6[i].Src6[15] = byte(i>>8), byte(i)
	}
	for i := range v4 { // first touch of the IPv4 blocks and IPv6 hosts
		tab.Count(&v4[i], 1, 64, 0)
		tab.Count(&v6[i], 1, 64, 0)
	}
	buf := tab.Flush(nil)
	now := int64(0)
	tests := []struct {
		name string
		f    func()
	}{
		{"count IPv4", func() {
			for i := range v4 {
				tab.Count(&v4[i], 1, 64, now)
			}
		}},
		{"count IPv6 known hosts", func() {
			for i := range v6 {
				tab.Count(&v6[i], 1, 64, now)
			}
		}},
		{"count IPv6 new hosts", func() {
			h := v6[0]
			for i := range 8 {
				h.Src6[12]++ // a new host each time, far below capacity
				h.Src6[13] = byte(i)
				tab.Count(&h, 1, 64, now)
			}
		}},
		{"prefetch", func() {
			tab.Prefetch(v4[:])
			tab.Prefetch(v6[:])
		}},
		{"flush", func() {
			for i := range v4 {
				tab.Count(&v4[i], 1, 64, now)
				tab.Count(&v6[i], 1, 64, now)
			}
			buf = tab.Flush(buf[:0])
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if a := testing.AllocsPerRun(20, func() { now += sec; tt.f() }); a != 0 {
				t.Errorf("%v allocations per run, want 0", a)
			}
		})
	}
	if s := tab.Stats(); s.V6Full != 0 {
		t.Fatalf("IPv6 table overflowed during the test: %+v", s)
	}
}
