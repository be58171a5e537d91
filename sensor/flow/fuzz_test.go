package flow

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// seedDatagrams are valid datagrams of every format and decoder path: the
// fuzz corpus starts from them (testdata/fuzz/FuzzDatagram, rewritten with
// FLOW_WRITE_CORPUS=1).
func seedDatagrams() [][]byte {
	v6Fields := []tf{{ie: 27, length: 16}, {ie: 28, length: 16}, {ie: 4, length: 1}, {ie: 2, length: 8}, {ie: 1, length: 8},
		{ie: 152, length: 8}, {ie: 153, length: 8}, {ie: 82, length: 0xffff}, {ie: 88, length: 2}}
	optFields := []tf{{ie: 302, length: 4}, {ie: 305, length: 4}, {ie: 306, length: 4}}
	return [][]byte{
		v5Datagram(1, 0x4000|10, v5Rec{src: "10.0.0.1", dst: "10.0.0.2", packets: 10, octets: 400, first: 1, last: 5000, sport: 1, dport: 80, flags: 2, proto: 6},
			v5Rec{src: "10.0.0.1", dst: "10.0.0.2", packets: 1, octets: 84, dport: 8 << 8, proto: 1}),
		v9Datagram(1, 7, v9Template, set(300, dataRecords(v4Fields, v4Rec("10.1.0.1", "10.1.0.2", 1, 443, 6, 0x12, 5000, 500000, 1000, 31000))),
			set(v9OptionsSet, v9OptionsTemplate(301, []tf{{ie: 1, length: 4}}, []tf{{ie: 34, length: 4}})), set(301, dataRecords([]tf{{ie: 1, length: 4}, {ie: 34, length: 4}}, []v{0, 100}))),
		ipfixMessage(1, 1, set(ipfixTemplateSet, templateRecord(400, v6Fields...)),
			set(400, dataRecords(v6Fields, []v{"2001:db8::1", "2001:db8::2", 17, 40, 60000, 1700000000000, 1700000020000, []byte("eth0"), 0})),
			set(ipfixOptionsSet, ipfixOptionsTemplate(401, optFields[:1], optFields[1:])), set(401, dataRecords(optFields, []v{1, 1, 9}))),
		sflowDatagram(1, sflowFlowSample(1, 100, sflowRawRecord(sfHeaderEthernet, benchFrame(), 64)), sflowCounterSample(2),
			sflowExpandedFlowSample(3, 10, sflowRawRecord(sfHeaderIPv4, benchFrame()[14:], 50))),
	}
}

func FuzzDatagram(f *testing.F) {
	seeds := seedDatagrams()
	if os.Getenv("FLOW_WRITE_CORPUS") == "1" {
		dir := filepath.Join("testdata", "fuzz", "FuzzDatagram")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			f.Fatal(err)
		}
		for i, s := range seeds {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(s)))
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed%d", i)), []byte(body), 0o644); err != nil {
				f.Fatal(err)
			}
		}
	}
	other := netip.MustParseAddrPort("192.0.2.20:2055")
	f.Fuzz(func(t *testing.T, d []byte) {
		cfg := DefaultConfig()
		cfg.MaxTemplates = 4
		cfg.MaxPendingSpreads = 8
		cfg.MaxExporters = 2
		cfg.MinSpread = 0
		sum := &sumCounter{}
		c, err := New(cfg, AllProtocols, sum)
		if err != nil {
			t.Fatal(err)
		}
		// The datagram as it is, again (now with its own templates), and
		// after each seed's templates, from two exporters.
		c.HandleDatagram(exporterA, d, 1e9)
		c.HandleDatagram(exporterA, d, 2e9)
		for _, s := range seeds {
			c.HandleDatagram(other, s, 3e9)
			c.HandleDatagram(other, d, 4e9)
		}
		c.Tick(5e9)
		st := c.Stats()
		if st.Records != st.Arrival+st.Spread+st.Skipped {
			t.Fatalf("records %d != arrival %d + spread %d + skipped %d", st.Records, st.Arrival, st.Spread, st.Skipped)
		}
		if len(st.Exporters) > cfg.MaxExporters || st.Pending > cfg.MaxPendingSpreads {
			t.Fatalf("%d exporters, %d pending: beyond the bounds", len(st.Exporters), st.Pending)
		}
		for _, e := range st.Exporters {
			if e.Templates > cfg.MaxTemplates {
				t.Fatalf("exporter %v holds %d templates, max %d", e.Exporter, e.Templates, cfg.MaxTemplates)
			}
		}
		c.Flush(6e9)
		if sum.packets != st.Packets || sum.bytes != st.Bytes {
			t.Fatalf("counted %d packets %d bytes, accepted %d %d", sum.packets, sum.bytes, st.Packets, st.Bytes)
		}
		if sum.calls < st.Arrival {
			t.Fatalf("%d Count calls for %d records counted at arrival", sum.calls, st.Arrival)
		}
	})
}
