package main

import (
	"encoding/binary"
	"encoding/json"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/rampartnet/rampart/sensor/packet"
	"github.com/rampartnet/rampart/sensor/packet/packettest"
)

type v5rec struct {
	src, dst        netip.Addr
	sport, dport    uint16
	proto, flags    uint8
	packets, octets uint32
	firstMs, lastMs uint32
}

// netflowV5 builds a NetFlow v5 datagram (RFC-less but stable format:
// 24-byte header, 48-byte records) with the given sampling interval.
func netflowV5(seq uint32, unixSecs uint32, sampling uint16, recs ...v5rec) []byte {
	b := make([]byte, 24+48*len(recs))
	binary.BigEndian.PutUint16(b[0:], 5)
	binary.BigEndian.PutUint16(b[2:], uint16(len(recs)))
	binary.BigEndian.PutUint32(b[4:], 100_000) // sysUptime ms
	binary.BigEndian.PutUint32(b[8:], unixSecs)
	binary.BigEndian.PutUint32(b[16:], seq)
	binary.BigEndian.PutUint16(b[22:], 1<<14|sampling) // mode 1: deterministic
	for i, r := range recs {
		o := b[24+48*i:]
		copy(o[0:], r.src.AsSlice())
		copy(o[4:], r.dst.AsSlice())
		binary.BigEndian.PutUint32(o[16:], r.packets)
		binary.BigEndian.PutUint32(o[20:], r.octets)
		binary.BigEndian.PutUint32(o[24:], r.firstMs)
		binary.BigEndian.PutUint32(o[28:], r.lastMs)
		binary.BigEndian.PutUint16(o[32:], r.sport)
		binary.BigEndian.PutUint16(o[34:], r.dport)
		o[37], o[38] = r.flags, r.proto
	}
	return b
}

// udpFrame wraps payload in an Ethernet/IPv4/UDP frame from exporter to collector.
func udpFrame(payload []byte, dport uint16) []byte {
	f := packettest.Frame{Src: netip.MustParseAddr("192.0.2.50"), Dst: netip.MustParseAddr("192.0.2.60"),
		Proto: packet.ProtoUDP, SrcPort: 9999, DstPort: dport, Payload: len(payload)}.Bytes()
	copy(f[14+20+8:], payload)
	return f
}

func TestReplayFlowExports(t *testing.T) {
	secs := uint32(t0 / 1e9)
	d1 := netflowV5(0, secs, 10,
		v5rec{src: remote, dst: web1, sport: 53, dport: 4000, proto: packet.ProtoUDP, packets: 100, octets: 50_000, firstMs: 99_900, lastMs: 99_900},
		v5rec{src: web2, dst: remote, sport: 443, dport: 5555, proto: packet.ProtoTCP, flags: packet.TCPSyn | packet.TCPAck, packets: 10, octets: 15_000, firstMs: 99_950, lastMs: 99_950},
	)
	d2 := netflowV5(2, secs+1, 10,
		v5rec{src: remote, dst: web1, sport: 40001, dport: 80, proto: packet.ProtoTCP, flags: packet.TCPSyn, packets: 1, octets: 60, firstMs: 100_500, lastMs: 100_500},
	)
	pcap := filepath.Join(t.TempDir(), "netflow.pcap")
	if err := packettest.WritePcap(pcap, []packettest.Timed{
		{TimeNs: t0, Raw: udpFrame(d1, 2055)},
		{TimeNs: t0 + 1e9, Raw: udpFrame(d2, 2055)},
		{TimeNs: t0 + 15e8, Raw: udpFrame([]byte{0, 5, 0xff}, 2055)}, // junk: counted, never a panic
	}); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := run(t, "replay", "--config", "testdata/replay.yaml", "--json", pcap)
	if code != 0 {
		t.Fatalf("replay exit %d: %s", code, stderr)
	}
	golden(t, "replay_netflow_json", stdout)
	var got struct {
		OtherPackets uint64           `json:"other_packets"`
		Hosts        []map[string]any `json:"hosts"`
		Flow         struct {
			Records   uint64 `json:"records"`
			Exporters []struct {
				Exporter    string `json:"exporter"`
				Datagrams   uint64 `json:"datagrams"`
				LostRecords uint64 `json:"lost_records"`
			} `json:"exporters"`
		} `json:"flow"`
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]uint64{
		"198.51.100.10": {"in_packets": 1010, "in_bytes": 500_600, "in_udp_packets": 1000, "in_tcp_packets": 10, "in_syn_packets": 10},
		"198.51.100.20": {"out_packets": 100, "out_bytes": 150_000, "out_tcp_packets": 100, "out_syn_packets": 0},
	}
	for _, h := range got.Hosts {
		for k, v := range want[h["ip"].(string)] {
			if uint64(h[k].(float64)) != v {
				t.Errorf("%s %s = %v, want %d (sampling x10 applied)", h["ip"], k, h[k], v)
			}
		}
		delete(want, h["ip"].(string))
	}
	if len(want) > 0 {
		t.Errorf("hosts missing from the report: %v", want)
	}
	if got.OtherPackets != 3 {
		t.Errorf("other_packets = %d, want the 3 export datagrams themselves", got.OtherPackets)
	}
	if got.Flow.Records != 3 || len(got.Flow.Exporters) != 1 || got.Flow.Exporters[0].Exporter != "192.0.2.50:9999" ||
		got.Flow.Exporters[0].Datagrams != 3 || got.Flow.Exporters[0].LostRecords != 0 {
		t.Errorf("flow = %+v", got.Flow)
	}
}
