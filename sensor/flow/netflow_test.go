package flow

import (
	"net/netip"
	"testing"

	"github.com/rampartnet/rampart/sensor/packet"
)

func arrivalConfig() Config {
	cfg := DefaultConfig()
	cfg.Accounting = AccountArrival
	return cfg
}

func newCollector(t testing.TB, cfg Config) (*Collector, *recorder) {
	t.Helper()
	rec := &recorder{}
	c, err := New(cfg, AllProtocols, rec)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, rec
}

// want is one expected Count call.
type want struct {
	h              packet.Header
	packets, bytes uint64
}

func checkCalls(t *testing.T, got []countCall, wants []want) {
	t.Helper()
	if len(got) != len(wants) {
		t.Fatalf("got %d Count calls %+v, want %d", len(got), got, len(wants))
	}
	for i, w := range wants {
		g := got[i]
		if g.h != w.h || g.packets != w.packets || g.bytes != w.bytes {
			t.Errorf("call %d = %+v p=%d b=%d\n want %+v p=%d b=%d", i, g.h, g.packets, g.bytes, w.h, w.packets, w.bytes)
		}
	}
}

func tcp4(src, dst string, sport, dport uint16, flags uint8, ipLen uint16) packet.Header {
	return packet.Header{Family: packet.IPv4, Proto: packet.ProtoTCP, TCPFlags: flags, SrcPort: sport, DstPort: dport, IPLen: ipLen, Src4: addr4(src), Dst4: addr4(dst)}
}

func udp4(src, dst string, sport, dport uint16, ipLen uint16) packet.Header {
	return packet.Header{Family: packet.IPv4, Proto: packet.ProtoUDP, SrcPort: sport, DstPort: dport, IPLen: ipLen, Src4: addr4(src), Dst4: addr4(dst)}
}

var (
	v9Template   = set(v9TemplateSet, templateRecord(300, v4Fields...))
	ipfixSampOpt = []tf{{ie: 302, length: 4}}
)

func TestRecordsToHeaders(t *testing.T) {
	sampledFields := append(append([]tf{}, v4Fields...), tf{ie: 34, length: 4})
	v6Fields := []tf{
		{ie: 27, length: 16}, {ie: 28, length: 16}, {ie: 7, length: 2}, {ie: 11, length: 2},
		{ie: 4, length: 1}, {ie: 6, length: 2}, {ie: 2, length: 8}, {ie: 1, length: 8},
		{ie: 152, length: 8}, {ie: 153, length: 8},
		{ie: 82, length: 0xffff},                  // interfaceName, variable length
		{ie: 1, length: 4, pen: 9},                // an enterprise field that reuses a known number
		{ie: 88, length: 2}, {ie: 197, length: 1}, // fragmentOffset, fragmentFlags
	}
	v6rec := func(src, dst string, proto, flags, packets, octets, fragOff, fragFlags int) []v {
		return []v{src, dst, 1234, 53, proto, flags, packets, octets, 1700000000000, 1700000000500, []byte("eth0"), 999999, fragOff, fragFlags}
	}
	v6 := func(src, dst string, proto uint8, sport, dport uint16, ipLen uint16, frag packet.Frag) packet.Header {
		return packet.Header{Family: packet.IPv6, Proto: proto, SrcPort: sport, DstPort: dport, IPLen: ipLen, Src6: addr6(src), Dst6: addr6(dst), Frag: frag}
	}
	cases := []struct {
		name      string
		cfg       func(*Config)
		datagrams [][]byte
		want      []want
	}{{
		name: "v5 tcp udp icmp",
		datagrams: [][]byte{v5Datagram(1, 0,
			v5Rec{src: "10.0.0.1", dst: "10.0.0.2", packets: 10, octets: 400, sport: 1000, dport: 80, flags: 0x02, proto: 6},
			v5Rec{src: "10.0.0.3", dst: "10.0.0.2", packets: 3, octets: 3000, sport: 53, dport: 5353, flags: 0x1f, proto: 17},
			v5Rec{src: "10.0.0.4", dst: "10.0.0.2", packets: 2, octets: 168, dport: 8 << 8, proto: 1},
		)},
		want: []want{
			{tcp4("10.0.0.1", "10.0.0.2", 1000, 80, 0x02, 40), 10, 400},
			{udp4("10.0.0.3", "10.0.0.2", 53, 5353, 1000), 3, 3000},
			{packet.Header{Family: packet.IPv4, Proto: 1, ICMPType: 8, IPLen: 84, Src4: addr4("10.0.0.4"), Dst4: addr4("10.0.0.2")}, 2, 168},
		},
	}, {
		name:      "v5 header sampling with mode bits",
		datagrams: [][]byte{v5Datagram(1, 0x4000|100, v5Rec{src: "10.0.0.1", dst: "10.0.0.2", packets: 2, octets: 120, proto: 17, sport: 1, dport: 2})},
		want:      []want{{udp4("10.0.0.1", "10.0.0.2", 1, 2, 60), 200, 12000}},
	}, {
		name:      "v5 configured override wins",
		cfg:       func(c *Config) { c.SamplingOverride = map[string]uint32{"192.0.2.10": 7} },
		datagrams: [][]byte{v5Datagram(1, 100, v5Rec{src: "10.0.0.1", dst: "10.0.0.2", packets: 2, octets: 120, proto: 17, sport: 1, dport: 2})},
		want:      []want{{udp4("10.0.0.1", "10.0.0.2", 1, 2, 60), 14, 840}},
	}, {
		name: "v9 template and data in one datagram",
		datagrams: [][]byte{v9Datagram(1, 7, v9Template, set(300, dataRecords(v4Fields,
			v4Rec("10.1.0.1", "10.1.0.2", 40000, 443, 6, 0x12, 5, 500, 1000, 2000),
			v4Rec("10.1.0.3", "10.1.0.2", 40001, 443, 6, 0x02, 1, 60, 1000, 1000),
		)))},
		want: []want{
			{tcp4("10.1.0.1", "10.1.0.2", 40000, 443, 0x12, 100), 5, 500},
			{tcp4("10.1.0.3", "10.1.0.2", 40001, 443, 0x02, 60), 1, 60},
		},
	}, {
		name: "v9 options template sampling for the source ID",
		datagrams: [][]byte{
			v9Datagram(1, 7, v9Template, set(v9OptionsSet, v9OptionsTemplate(301, []tf{{ie: 1, length: 4}}, []tf{{ie: 34, length: 4}, {ie: 35, length: 1}}))),
			v9Datagram(2, 7, set(301, dataRecords([]tf{{ie: 1, length: 4}, {ie: 34, length: 4}, {ie: 35, length: 1}}, []v{0, 512, 2}))),
			v9Datagram(3, 7, set(300, dataRecords(v4Fields, v4Rec("10.1.0.1", "10.1.0.2", 1, 2, 17, 0, 3, 300, 0, 0)))),
			v9Datagram(1, 8, v9Template, set(300, dataRecords(v4Fields, v4Rec("10.1.0.1", "10.1.0.2", 1, 2, 17, 0, 3, 300, 0, 0)))),
		},
		want: []want{
			{udp4("10.1.0.1", "10.1.0.2", 1, 2, 100), 1536, 153600},
			{udp4("10.1.0.1", "10.1.0.2", 1, 2, 100), 3, 300}, // another source ID: unsampled
		},
	}, {
		name: "v9 per-record sampling interval",
		datagrams: [][]byte{v9Datagram(1, 7, set(v9TemplateSet, templateRecord(310, sampledFields...)),
			set(310, dataRecords(sampledFields, append(v4Rec("10.1.0.1", "10.1.0.2", 1, 2, 17, 0, 4, 400, 0, 0), 10))))},
		want: []want{{udp4("10.1.0.1", "10.1.0.2", 1, 2, 100), 40, 4000}},
	}, {
		name: "v9 flow sampler IDs",
		datagrams: [][]byte{v9Datagram(1, 7,
			set(v9OptionsSet, v9OptionsTemplate(301, []tf{{ie: 2, length: 4}}, []tf{{ie: 48, length: 1}, {ie: 49, length: 1}, {ie: 50, length: 4}})),
			set(301, dataRecords([]tf{{ie: 2, length: 4}, {ie: 48, length: 1}, {ie: 49, length: 1}, {ie: 50, length: 4}}, []v{1, 1, 2, 100}, []v{2, 2, 2, 1000})),
			set(v9TemplateSet, templateRecord(320, append(append([]tf{}, v4Fields...), tf{ie: 48, length: 1})...)),
			set(320, dataRecords(append(append([]tf{}, v4Fields...), tf{ie: 48, length: 1}),
				append(v4Rec("10.1.0.1", "10.1.0.2", 1, 2, 17, 0, 1, 100, 0, 0), 2),
				append(v4Rec("10.1.0.1", "10.1.0.2", 1, 2, 17, 0, 1, 100, 0, 0), 1),
				append(v4Rec("10.1.0.1", "10.1.0.2", 1, 2, 17, 0, 1, 100, 0, 0), 3), // unknown sampler
			)))},
		want: []want{
			{udp4("10.1.0.1", "10.1.0.2", 1, 2, 100), 1000, 100000},
			{udp4("10.1.0.1", "10.1.0.2", 1, 2, 100), 100, 10000},
			{udp4("10.1.0.1", "10.1.0.2", 1, 2, 100), 1, 100},
		},
	}, {
		name: "ipfix ipv6 with variable and enterprise fields and fragments",
		datagrams: [][]byte{ipfixMessage(0, 1, set(ipfixTemplateSet, templateRecord(400, v6Fields...)),
			set(400, dataRecords(v6Fields,
				v6rec("2001:db8::1", "2001:db8::2", 17, 0, 4, 6000, 0, 0x20),
				v6rec("2001:db8::1", "2001:db8::2", 17, 0, 4, 6000, 185, 0),
				v6rec("2001:db8::3", "2001:db8::2", 6, 0x0102, 2, 120, 0, 0x40),
			)))},
		want: []want{
			{v6("2001:db8::1", "2001:db8::2", 17, 1234, 53, 1500, packet.FragFirst), 4, 6000},
			{v6("2001:db8::1", "2001:db8::2", 17, 0, 0, 1500, packet.FragLater), 4, 6000},
			{packet.Header{Family: packet.IPv6, Proto: 6, TCPFlags: 0x02, SrcPort: 1234, DstPort: 53, IPLen: 60, Src6: addr6("2001:db8::3"), Dst6: addr6("2001:db8::2")}, 2, 120},
		},
	}, {
		name: "ipfix options: selector scope, packet interval and space",
		datagrams: [][]byte{ipfixMessage(0, 1,
			set(ipfixOptionsSet, ipfixOptionsTemplate(401, ipfixSampOpt, []tf{{ie: 305, length: 4}, {ie: 306, length: 4}})),
			set(401, dataRecords([]tf{{ie: 302, length: 4}, {ie: 305, length: 4}, {ie: 306, length: 4}}, []v{5, 1, 99})),
			set(ipfixTemplateSet, templateRecord(402, append(append([]tf{}, v4Fields...), tf{ie: 302, length: 4})...)),
			set(402, dataRecords(append(append([]tf{}, v4Fields...), tf{ie: 302, length: 4}), append(v4Rec("10.1.0.1", "10.1.0.2", 1, 2, 17, 0, 2, 200, 0, 0), 5))),
		)},
		want: []want{{udp4("10.1.0.1", "10.1.0.2", 1, 2, 100), 200, 20000}},
	}, {
		name:      "records without addresses or packets are skipped",
		datagrams: [][]byte{ipfixMessage(0, 1, set(ipfixTemplateSet, templateRecord(403, tf{ie: 2, length: 4}, tf{ie: 56, length: 6})), set(403, dataRecords([]tf{{ie: 2, length: 4}, {ie: 56, length: 6}}, []v{5, []byte{1, 2, 3, 4, 5, 6}}))), v5Datagram(1, 0, v5Rec{src: "10.0.0.1", dst: "10.0.0.2", proto: 6})},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := arrivalConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			c, rec := newCollector(t, cfg)
			for i, d := range tc.datagrams {
				c.HandleDatagram(exporterA, d, int64(i))
			}
			checkCalls(t, rec.calls, tc.want)
			st := c.Stats()
			if len(st.Exporters) != 1 {
				t.Fatalf("exporters = %d, want 1", len(st.Exporters))
			}
			for k, n := range st.Exporters[0].Errors {
				if n != 0 {
					t.Errorf("errors[%v] = %d, want 0", ErrKind(k), n)
				}
			}
			if st.Records != st.Arrival+st.Spread+st.Skipped || st.Arrival != uint64(len(tc.want)) {
				t.Errorf("records %d = arrival %d + spread %d + skipped %d, want arrival %d", st.Records, st.Arrival, st.Spread, st.Skipped, len(tc.want))
			}
		})
	}
}

func TestTemplateMissThenLateTemplate(t *testing.T) {
	c, rec := newCollector(t, arrivalConfig())
	data := set(300, dataRecords(v4Fields, v4Rec("10.1.0.1", "10.1.0.2", 1, 2, 17, 0, 1, 100, 0, 0)))
	c.HandleDatagram(exporterA, v9Datagram(1, 7, data), 1)
	c.HandleDatagram(exporterA, ipfixMessage(0, 7, set(300, dataRecords(v4Fields, v4Rec("10.1.0.1", "10.1.0.2", 1, 2, 17, 0, 1, 100, 0, 0)))), 1)
	if len(rec.calls) != 0 {
		t.Fatalf("counted %d records without a template", len(rec.calls))
	}
	// The template of another source ID or of IPFIX does not serve v9 source 7.
	c.HandleDatagram(exporterA, v9Datagram(2, 8, v9Template), 2)
	c.HandleDatagram(exporterA, ipfixMessage(1, 7, set(ipfixTemplateSet, templateRecord(300, v4Fields...))), 2)
	c.HandleDatagram(exporterA, v9Datagram(3, 7, data), 3)
	c.HandleDatagram(exporterA, v9Datagram(4, 7, v9Template), 4)
	c.HandleDatagram(exporterA, v9Datagram(5, 7, data), 5)
	c.HandleDatagram(exporterA, v9Datagram(6, 7, data, data), 6)
	st := c.Stats().Exporters[0]
	if st.TemplateMisses != 3 || len(rec.calls) != 3 || st.Templates != 3 {
		t.Errorf("misses %d, counted %d, templates %d; want 3, 3, 3", st.TemplateMisses, len(rec.calls), st.Templates)
	}
}

func TestTemplateExpiryAndExporterBounds(t *testing.T) {
	cfg := arrivalConfig()
	cfg.TemplateExpiry = 10e9
	cfg.MaxExporters = 2
	cfg.MaxTemplates = 2
	c, rec := newCollector(t, cfg)
	data := v9Datagram(2, 7, set(300, dataRecords(v4Fields, v4Rec("10.1.0.1", "10.1.0.2", 1, 2, 17, 0, 1, 100, 0, 0))))
	c.HandleDatagram(exporterA, v9Datagram(1, 7, v9Template), 0)
	c.HandleDatagram(exporterA, data, 5e9)
	c.HandleDatagram(exporterA, data, 16e9) // template last seen at 0: expired
	if len(rec.calls) != 1 || c.Stats().Exporters[0].TemplateMisses != 1 {
		t.Fatalf("counted %d, misses %d; want 1, 1", len(rec.calls), c.Stats().Exporters[0].TemplateMisses)
	}
	// Template limit: a third template ID is refused, refreshes are not.
	for id := uint16(300); id < 303; id++ {
		c.HandleDatagram(exporterA, v9Datagram(3, 7, set(v9TemplateSet, templateRecord(id, v4Fields...))), 17e9)
	}
	c.HandleDatagram(exporterA, v9Datagram(3, 7, set(v9TemplateSet, templateRecord(300, v4Fields...))), 17e9)
	st := c.Stats().Exporters[0]
	if st.Templates != 2 || st.Errors[ErrTemplateLimit] != 1 {
		t.Errorf("templates %d, limit errors %d; want 2, 1", st.Templates, st.Errors[ErrTemplateLimit])
	}
	// Exporter limit: a third exporter is rejected, junk makes no entry.
	other := netip.MustParseAddrPort("192.0.2.11:1")
	third := netip.MustParseAddrPort("192.0.2.12:1")
	c.HandleDatagram(third, []byte("junk junk junk junk junk"), 17e9)
	c.HandleDatagram(other, v5Datagram(0, 0), 17e9)
	c.HandleDatagram(third, v5Datagram(0, 0), 17e9)
	st2 := c.Stats()
	if len(st2.Exporters) != 2 || st2.Rejected != 1 || st2.Untracked[ErrVersion] != 1 {
		t.Errorf("exporters %d, rejected %d, untracked %v; want 2, 1, 1 bad_version", len(st2.Exporters), st2.Rejected, st2.Untracked)
	}
	// Silent exporters are forgotten by the sweep, which frees room.
	c.Tick(40e9)
	c.HandleDatagram(third, v5Datagram(0, 0), 41e9)
	if st := c.Stats(); len(st.Exporters) != 1 || st.Exporters[0].Exporter != third {
		t.Errorf("after sweep: %+v, want only %v", st.Exporters, third)
	}
}

func TestSequenceGaps(t *testing.T) {
	r := v5Rec{src: "10.0.0.1", dst: "10.0.0.2", packets: 1, octets: 60, proto: 17}
	v9data := set(300, dataRecords(v4Fields, v4Rec("10.1.0.1", "10.1.0.2", 1, 2, 17, 0, 1, 100, 0, 0), v4Rec("10.1.0.1", "10.1.0.2", 1, 2, 17, 0, 1, 100, 0, 0)))
	ipfixTmpl := set(ipfixTemplateSet, templateRecord(300, v4Fields...))
	cases := []struct {
		name                       string
		datagrams                  [][]byte
		gaps, lostDgrams, lostRecs uint64
		resets                     uint64
	}{{
		name:      "v5 counts flows",
		datagrams: [][]byte{v5Datagram(100, 0, r, r), v5Datagram(102, 0, r), v5Datagram(108, 0, r), v5Datagram(50, 0, r), v5Datagram(51, 0, r)},
		gaps:      1, lostRecs: 5, resets: 1,
	}, {
		name:      "v9 counts datagrams per source ID",
		datagrams: [][]byte{v9Datagram(10, 1, v9Template, v9data), v9Datagram(11, 1, v9data), v9Datagram(0, 2), v9Datagram(14, 1, v9data), v9Datagram(1, 2)},
		gaps:      1, lostDgrams: 2,
	}, {
		name: "ipfix counts data records per domain",
		datagrams: [][]byte{ipfixMessage(1000, 1, ipfixTmpl), ipfixMessage(1000, 1, set(300, dataRecords(v4Fields, v4Rec("10.1.0.1", "10.1.0.2", 1, 2, 17, 0, 1, 100, 0, 0)))),
			ipfixMessage(1001, 1), ipfixMessage(1004, 1), ipfixMessage(1004, 9, set(301, []byte{1, 2, 3, 4})), ipfixMessage(1090, 9)},
		gaps: 1, lostRecs: 3, // after a template miss the next number is unknown: no gap for domain 9
	}, {
		name:      "sflow counts datagrams per sub-agent",
		datagrams: [][]byte{sflowDatagram(1), sflowDatagram(2), sflowDatagram(5), sflowDatagram(6), sflowDatagram(6)},
		gaps:      1, lostDgrams: 2, resets: 1,
	}, {
		name:      "wrap-around is not a gap",
		datagrams: [][]byte{v9Datagram(0xffffffff, 1), v9Datagram(0, 1), v9Datagram(1, 1)},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newCollector(t, arrivalConfig())
			for i, d := range tc.datagrams {
				c.HandleDatagram(exporterA, d, int64(i))
			}
			st := c.Stats().Exporters[0]
			if st.SeqGaps != tc.gaps || st.LostDatagrams != tc.lostDgrams || st.LostRecords != tc.lostRecs || st.SeqResets != tc.resets {
				t.Errorf("gaps %d lost datagrams %d lost records %d resets %d; want %d %d %d %d",
					st.SeqGaps, st.LostDatagrams, st.LostRecords, st.SeqResets, tc.gaps, tc.lostDgrams, tc.lostRecs, tc.resets)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	tmpl := set(v9TemplateSet, templateRecord(300, v4Fields...))
	cases := []struct {
		name string
		d    []byte
		kind ErrKind
	}{
		{"v9 set longer than datagram", v9Datagram(1, 1, append(be.AppendUint16(be.AppendUint16(nil, 300), 400), 1, 2, 3, 4)), ErrTruncated},
		{"v9 set length below 4", v9Datagram(1, 1, []byte{1, 44, 0, 2, 0, 0, 0, 0}), ErrBadSet},
		{"v9 reserved set ID", v9Datagram(1, 1, set(7, []byte{1, 2, 3, 4})), ErrBadSet},
		{"template of zero-length fields", v9Datagram(1, 1, set(v9TemplateSet, templateRecord(300, tf{ie: 1, length: 0}))), ErrBadTemplate},
		{"template with no fields", v9Datagram(1, 1, set(v9TemplateSet, templateRecord(300))), ErrBadTemplate},
		{"template fields cut", v9Datagram(1, 1, set(v9TemplateSet, be.AppendUint16(be.AppendUint16(nil, 300), 50))), ErrTruncated},
		{"template ID below 256", v9Datagram(1, 1, set(v9TemplateSet, templateRecord(20, v4Fields...))), ErrBadTemplate},
		{"v9 variable-length field", v9Datagram(1, 1, set(v9TemplateSet, templateRecord(300, tf{ie: 1, length: 0xffff}))), ErrTruncated},
		{"options scope not a multiple of 4", v9Datagram(1, 1, set(v9OptionsSet, []byte{1, 44, 0, 3, 0, 4, 0, 1, 0, 4})), ErrBadTemplate},
		{"ipfix length beyond datagram", append(ipfixMessage(1, 1, tmpl)[:4], 0, 0, 0, 0), ErrTruncated},
		{"ipfix variable field overruns the set", ipfixMessage(1, 1, set(ipfixTemplateSet, templateRecord(300, tf{ie: 82, length: 0xffff})), set(300, []byte{200, 1, 2})), ErrTruncated},
		{"ipfix options scope count 0", ipfixMessage(1, 1, set(ipfixOptionsSet, ipfixOptionsTemplate(300, nil, []tf{{ie: 34, length: 4}}))), ErrBadTemplate},
		{"v5 count beyond datagram", be.AppendUint16(v5Datagram(1, 0, v5Rec{src: "1.1.1.1", dst: "2.2.2.2"})[:2], 30), ErrTruncated},
		{"unknown version", []byte{0, 7, 0, 0, 0, 0, 0, 0}, ErrVersion},
		{"sflow unknown agent type", append(be.AppendUint32(be.AppendUint32(nil, 5), 3), make([]byte, 24)...), ErrBadSample},
		{"sflow sample longer than datagram", sflowDatagram(1, []byte{0, 0, 0, 1, 0, 0, 1, 0}), ErrTruncated},
		{"sflow record longer than sample", sflowDatagram(1, sflowFlowSample(1, 1, []byte{0, 0, 0, 1, 0, 0, 9, 0})), ErrBadSample},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, rec := newCollector(t, arrivalConfig())
			c.HandleDatagram(exporterA, v5Datagram(0, 0), 0) // track the exporter
			c.HandleDatagram(exporterA, tc.d, 1)
			st := c.Stats().Exporters[0]
			if st.Errors[tc.kind] != 1 {
				t.Errorf("errors = %v, want one %v", st.Errors, tc.kind)
			}
			if len(rec.calls) != 0 {
				t.Errorf("counted %d records of bad input", len(rec.calls))
			}
			// A good datagram still counts after the bad one.
			c.HandleDatagram(exporterA, v5Datagram(1, 0, v5Rec{src: "10.0.0.1", dst: "10.0.0.2", packets: 1, octets: 40, proto: 6}), 2)
			if len(rec.calls) != 1 {
				t.Errorf("good datagram after bad: counted %d, want 1", len(rec.calls))
			}
		})
	}
}
