package flow

import (
	"net/netip"
	"testing"
	"time"

	"github.com/rampartnet/rampart/sensor/hosts"
	"github.com/rampartnet/rampart/sensor/packet"
	"github.com/rampartnet/rampart/sensor/packet/packettest"
)

func benchFrame() []byte {
	f := packettest.Frame{Src: netip.MustParseAddr("198.51.100.1"), Dst: netip.MustParseAddr("203.0.113.5"), Proto: 6, SrcPort: 4000, DstPort: 80, TCPFlags: packet.TCPSyn}
	return f.Bytes()
}

// benchStreams are recorded-like datagrams of each format, full size (as
// exporters send them), to hosts of 10.0.0.0/16; templates come first.
type benchStream struct {
	name      string
	datagrams [][]byte // the first ones may carry only templates
	records   int      // flow records (or samples) in datagrams
}

func benchStreams() []benchStream {
	var v5, v9, ipfix, sf [][]byte
	var n5, n9, nx, ns int
	host := func(i int) string { return netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}).String() }
	v9 = append(v9, v9Datagram(0, 1, v9Template))
	ipfix = append(ipfix, ipfixMessage(0, 1, set(ipfixTemplateSet, templateRecord(300, v4Fields...))))
	frame := benchFrame()
	for d := range 64 {
		var r5 []v5Rec
		var r9 [][]v
		for i := range 30 {
			k := d*30 + i
			r5 = append(r5, v5Rec{src: "198.51.100.1", dst: host(k), packets: 10, octets: 4000, first: 1000, last: 1500, sport: uint16(k), dport: 80, flags: 0x1b, proto: 6})
			r9 = append(r9, v4Rec("198.51.100.1", host(k), k, 80, 6, 0x1b, 10, 4000, 1000, 1500))
		}
		v5 = append(v5, v5Datagram(uint32(d*30), 0, r5...))
		v9 = append(v9, v9Datagram(uint32(d+1), 1, set(300, dataRecords(v4Fields, r9...))))
		ipfix = append(ipfix, ipfixMessage(uint32(d*30), 1, set(300, dataRecords(v4Fields, r9...))))
		var samples [][]byte
		for i := range 10 {
			samples = append(samples, sflowFlowSample(uint32(d*10+i), 1000, sflowRawRecord(sfHeaderEthernet, frame[:54], 64)))
		}
		sf = append(sf, sflowDatagram(uint32(d), samples...))
		n5, n9, nx, ns = n5+30, n9+30, nx+30, ns+10
	}
	return []benchStream{{"v5", v5, n5}, {"v9", v9, n9}, {"ipfix", ipfix, nx}, {"sflow", sf, ns}}
}

// BenchmarkDecodeCount decodes and counts recorded datagrams on one core.
// "sum" counts into a Counter that only adds (the collector's own cost);
// "hosts" into a real hosts.Table monitoring 10.0.0.0/16.
func BenchmarkDecodeCount(b *testing.B) {
	for _, s := range benchStreams() {
		for _, counter := range []string{"sum", "hosts"} {
			b.Run(s.name+"/"+counter, func(b *testing.B) {
				var out Counter = &sumCounter{}
				if counter == "hosts" {
					t, err := hosts.New(hosts.DefaultConfig(), []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")})
					if err != nil {
						b.Fatal(err)
					}
					out = t
				}
				c, err := New(arrivalConfig(), AllProtocols, out)
				if err != nil {
					b.Fatal(err)
				}
				for _, d := range s.datagrams { // warm: templates, exporter, host blocks
					c.HandleDatagram(exporterA, d, 1)
				}
				now := int64(2)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					for _, d := range s.datagrams {
						c.HandleDatagram(exporterA, d, now)
					}
					now += int64(time.Millisecond)
				}
				b.StopTimer()
				records := float64(b.N) * float64(s.records)
				b.ReportMetric(records/b.Elapsed().Seconds(), "records/s")
			})
		}
	}
}

// TestNoAllocsPerRecord: decoding and counting a datagram, and releasing
// spread shares, allocate nothing once templates and exporters are known.
func TestNoAllocsPerRecord(t *testing.T) {
	for _, s := range benchStreams() {
		for _, mode := range []string{AccountArrival, AccountSpread} {
			cfg := DefaultConfig()
			cfg.Accounting = mode
			cfg.MinSpread = 0
			c, err := New(cfg, AllProtocols, &sumCounter{})
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range s.datagrams {
				c.HandleDatagram(exporterA, d, 1)
			}
			c.Flush(2)
			now := int64(3)
			allocs := testing.AllocsPerRun(20, func() {
				for _, d := range s.datagrams {
					c.HandleDatagram(exporterA, d, now)
				}
				now += int64(time.Second)
				c.Tick(now)
				c.Flush(now)
			})
			if allocs != 0 {
				t.Errorf("%s %s: %.1f allocations per run of %d datagrams, want 0", s.name, mode, allocs, len(s.datagrams))
			}
		}
	}
}
