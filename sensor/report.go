package sensor

import (
	"bytes"
	"sort"
	"strconv"

	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/detect"
	"github.com/rampartnet/rampart/sensor/flow"
	"github.com/rampartnet/rampart/sensor/hosts"
	"github.com/rampartnet/rampart/sensor/packet"
)

// Report is what a replay saw: totals and per-host counters. Its JSON form
// is the output of `rampart replay --json`.
type Report struct {
	Packets      uint64            `json:"packets"`
	Bytes        uint64            `json:"bytes"`
	DecodeErrors map[string]uint64 `json:"decode_errors"`
	OtherPackets uint64            `json:"other_packets"` // IP, neither side monitored
	OtherBytes   uint64            `json:"other_bytes"`
	FirstPacket  int64             `json:"first_packet_ns"`
	LastPacket   int64             `json:"last_packet_ns"`
	Hosts        []HostReport      `json:"hosts"`
	Attacks      []detect.Attack   `json:"attacks"`
	Flow         *FlowReport       `json:"flow,omitempty"`
}

// FlowReport sums up the flow exports a replay found in its capture.
type FlowReport struct {
	Records   uint64           `json:"records"`
	Packets   uint64           `json:"packets"` // sampling applied
	Bytes     uint64           `json:"bytes"`
	Exporters []ExporterReport `json:"exporters"`
}

// ExporterReport is one exporter's health.
type ExporterReport struct {
	Exporter       string `json:"exporter"`
	Datagrams      uint64 `json:"datagrams"`
	Records        uint64 `json:"records"`
	DecodeErrors   uint64 `json:"decode_errors"`
	TemplateMisses uint64 `json:"template_misses"`
	LostDatagrams  uint64 `json:"lost_datagrams"`
	LostRecords    uint64 `json:"lost_records"`
	SamplingRate   uint32 `json:"sampling_rate"`
}

// HostReport is one host's totals and peak per-second rates.
type HostReport struct {
	IP        string    `json:"ip"`
	Hostgroup string    `json:"hostgroup"`
	In        DirReport `json:"-"`
	Out       DirReport `json:"-"`
}

// DirReport is one direction of a host.
type DirReport struct {
	Packets     uint64 `json:"packets"`
	Bytes       uint64 `json:"bytes"`
	TCPPackets  uint64 `json:"tcp_packets"`
	SYNPackets  uint64 `json:"syn_packets"`
	UDPPackets  uint64 `json:"udp_packets"`
	ICMPPackets uint64 `json:"icmp_packets"`
	FragPackets uint64 `json:"frag_packets"`
	Flows       uint64 `json:"flows"`
	PeakPPS     uint64 `json:"peak_pps"`
	PeakBPS     uint64 `json:"peak_bps"`
}

// BuildReport turns a replay's end state into a Report, hosts sorted by address.
func BuildReport(res *ReplayResult, groups []string) *Report {
	r := &Report{
		Packets:      res.Worker.Packets,
		Bytes:        res.Worker.Bytes,
		DecodeErrors: map[string]uint64{},
		OtherPackets: res.Table.OtherPackets,
		OtherBytes:   res.Table.OtherBytes,
		FirstPacket:  res.FirstNs,
		LastPacket:   res.LastNs,
		Hosts:        []HostReport{},
		Attacks:      append([]detect.Attack{}, res.Attacks...),
	}
	if res.Flow != nil && (res.Flow.Records > 0 || len(res.Flow.Exporters) > 0) {
		r.Flow = flowReport(res.Flow)
	}
	for k := packet.ErrKind(0); k < packet.NumErrKinds; k++ {
		r.DecodeErrors[k.String()] = res.Decoder.Errors[k]
	}
	type keyed struct {
		key hosts.Key
		HostReport
	}
	var hs []keyed
	res.Aggregator.Range(func(v aggregate.HostView) bool {
		h := keyed{key: v.Key(), HostReport: HostReport{IP: KeyAddr(v.Key()).String()}}
		if g := v.Group(PartitionHostgroup); g >= 0 && g < len(groups) {
			h.Hostgroup = groups[g]
		}
		h.In = dirReport(v, aggregate.In)
		h.Out = dirReport(v, aggregate.Out)
		hs = append(hs, h)
		return true
	})
	sort.Slice(hs, func(i, j int) bool { return bytes.Compare(hs[i].key[:], hs[j].key[:]) < 0 })
	for _, h := range hs {
		r.Hosts = append(r.Hosts, h.HostReport)
	}
	return r
}

func dirReport(v aggregate.HostView, d aggregate.Dir) DirReport {
	t := v.Totals(d)
	return DirReport{
		Packets:     t.Packets[hosts.Total],
		Bytes:       t.Bytes[hosts.Total],
		TCPPackets:  t.Packets[hosts.TCP],
		SYNPackets:  t.Packets[hosts.SYN],
		UDPPackets:  t.Packets[hosts.UDP],
		ICMPPackets: t.Packets[hosts.ICMP],
		FragPackets: t.Packets[hosts.Frag],
		Flows:       t.Flows,
		PeakPPS:     v.MaxPeak(d, aggregate.PPS),
		PeakBPS:     v.MaxPeak(d, aggregate.BPS),
	}
}

// MarshalJSON writes the host flat, as `ip`, `hostgroup`, then each
// direction's counters prefixed `in_` and `out_`, in a fixed order.
func (h HostReport) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"ip":`)
	b.WriteString(strconv.Quote(h.IP))
	b.WriteString(`,"hostgroup":`)
	b.WriteString(strconv.Quote(h.Hostgroup))
	for _, d := range []struct {
		prefix string
		r      *DirReport
	}{{"in_", &h.In}, {"out_", &h.Out}} {
		for _, f := range d.r.fields() {
			b.WriteString(`,"`)
			b.WriteString(d.prefix)
			b.WriteString(f.name)
			b.WriteString(`":`)
			b.WriteString(strconv.FormatUint(f.v, 10))
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

type field struct {
	name string
	v    uint64
}

func (d *DirReport) fields() []field {
	return []field{
		{"packets", d.Packets}, {"bytes", d.Bytes}, {"tcp_packets", d.TCPPackets},
		{"syn_packets", d.SYNPackets}, {"udp_packets", d.UDPPackets}, {"icmp_packets", d.ICMPPackets},
		{"frag_packets", d.FragPackets}, {"flows", d.Flows}, {"peak_pps", d.PeakPPS}, {"peak_bps", d.PeakBPS},
	}
}

func flowReport(st *flow.Stats) *FlowReport {
	fr := &FlowReport{Records: st.Records, Packets: st.Packets, Bytes: st.Bytes, Exporters: []ExporterReport{}}
	for _, e := range st.Exporters {
		var errs uint64
		for _, n := range e.Errors {
			errs += n
		}
		fr.Exporters = append(fr.Exporters, ExporterReport{
			Exporter: e.Exporter.String(), Datagrams: e.Datagrams, Records: e.Records, DecodeErrors: errs,
			TemplateMisses: e.TemplateMisses, LostDatagrams: e.LostDatagrams, LostRecords: e.LostRecords,
			SamplingRate: e.SamplingRate,
		})
	}
	return fr
}
