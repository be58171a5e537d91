package flow

import (
	"net/netip"
	"testing"

	"github.com/rampartnet/rampart/sensor/packet"
	"github.com/rampartnet/rampart/sensor/packet/packettest"
)

func TestSFlowSamples(t *testing.T) {
	syn := packettest.Frame{Src: netip.MustParseAddr("198.51.100.1"), Dst: netip.MustParseAddr("203.0.113.5"), Proto: 6, SrcPort: 4000, DstPort: 80, TCPFlags: packet.TCPSyn}
	synBytes := syn.Bytes() // 60 bytes, IP length 40
	udp6 := packettest.Frame{Src: netip.MustParseAddr("2001:db8::1"), Dst: netip.MustParseAddr("2001:db8::5"), Proto: 17, SrcPort: 123, DstPort: 123, Payload: 400}
	udp6Bytes := udp6.Bytes()
	var synHeader, udp6Header packet.Header
	packet.Parse(synBytes, &synHeader)
	packet.Parse(udp6Bytes, &udp6Header)
	ipv4Only := synBytes[14:54] // the IP packet without Ethernet: header protocol 11

	sampledIPv4 := be.AppendUint32(nil, sfSampledIPv4)
	sampledIPv4 = be.AppendUint32(sampledIPv4, 32)
	for _, x := range []uint32{1500, 17, addr4("192.0.2.7"), addr4("203.0.113.9"), 5000, 6000, 0, 0} {
		sampledIPv4 = be.AppendUint32(sampledIPv4, x)
	}
	arp := packettest.Ethernet(packettest.EtherARP, 28)

	cases := []struct {
		name     string
		cfg      func(*Config)
		d        []byte
		want     []want
		counters uint64
		skipped  uint64
	}{{
		name: "ipv4 and ipv6 raw headers, counter sample",
		d: sflowDatagram(1,
			sflowFlowSample(1, 1000, sflowRawRecord(sfHeaderEthernet, synBytes[:54], 64)),
			sflowCounterSample(1),
			sflowExpandedFlowSample(2, 512, sflowRawRecord(sfHeaderEthernet, udp6Bytes[:128], uint32(len(udp6Bytes)+4))),
		),
		want: []want{
			{synHeader, 1000, 60 * 1000},
			{udp6Header, 512, uint64(len(udp6Bytes)) * 512},
		},
		counters: 1,
	}, {
		name: "IPv4 header protocol gets an Ethernet header",
		d:    sflowDatagram(1, sflowFlowSample(1, 10, sflowRawRecord(sfHeaderIPv4, ipv4Only, 44))),
		want: []want{{synHeader, 10, 54 * 10}},
	}, {
		name: "sampled IPv4 record when there is no header",
		d:    sflowDatagram(1, sflowFlowSample(1, 100, sampledIPv4)),
		want: []want{{udp4("192.0.2.7", "203.0.113.9", 5000, 6000, 1500), 100, 150000}},
	}, {
		name: "override wins over the sample rate",
		cfg:  func(c *Config) { c.SamplingOverride = map[string]uint32{"192.0.2.10": 3} },
		d:    sflowDatagram(1, sflowFlowSample(1, 1000, sflowRawRecord(sfHeaderEthernet, synBytes, 64))),
		want: []want{{synHeader, 3, 180}},
	}, {
		name:    "non-IP frame is skipped",
		d:       sflowDatagram(1, sflowFlowSample(1, 1000, sflowRawRecord(sfHeaderEthernet, arp, 64))),
		skipped: 1,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig() // sFlow samples are instantaneous: spread mode counts them at once
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			c, rec := newCollector(t, cfg)
			c.HandleDatagram(exporterA, tc.d, 1)
			checkCalls(t, rec.calls, tc.want)
			st := c.Stats()
			if e := st.Exporters[0]; e.CounterSample != tc.counters || e.Errors != [NumErrKinds]uint64{} {
				t.Errorf("counter samples %d errors %v; want %d, none", e.CounterSample, e.Errors, tc.counters)
			}
			if st.Skipped != tc.skipped || st.Records != uint64(len(tc.want))+tc.skipped {
				t.Errorf("records %d skipped %d; want %d, %d", st.Records, st.Skipped, len(tc.want)+int(tc.skipped), tc.skipped)
			}
		})
	}
}

func TestProtocolsOfListener(t *testing.T) {
	rec := &recorder{}
	c, err := New(arrivalConfig(), SFlow, rec)
	if err != nil {
		t.Fatal(err)
	}
	c.HandleDatagram(exporterA, v5Datagram(1, 0, v5Rec{src: "10.0.0.1", dst: "10.0.0.2", packets: 1, octets: 40, proto: 6}), 1)
	if st := c.Stats(); len(rec.calls) != 0 || st.Untracked[ErrVersion] != 1 {
		t.Errorf("sflow listener took NetFlow: counted %d, untracked %v", len(rec.calls), st.Untracked)
	}
	if _, err := ProtocolsOf("ipfix"); err == nil {
		t.Error("ProtocolsOf(ipfix) succeeded, want an error")
	}
}
