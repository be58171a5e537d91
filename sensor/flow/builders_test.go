package flow

import (
	"encoding/binary"
	"net/netip"

	"github.com/rampartnet/rampart/sensor/packet"
)

// Builders of datagrams for tests, fuzz seeds and benchmarks. They write
// what the RFCs say, independently of the decoders.

var be = binary.BigEndian

// recorder is a Counter that keeps every call.
type recorder struct {
	calls          []countCall
	packets, bytes uint64
}

type countCall struct {
	h              packet.Header
	packets, bytes uint64
	nowNs          int64
}

func (r *recorder) Count(h *packet.Header, p, b uint64, nowNs int64) {
	r.calls = append(r.calls, countCall{*h, p, b, nowNs})
	r.packets += p
	r.bytes += b
}

// sumCounter is a Counter that only adds up (no allocation).
type sumCounter struct{ calls, packets, bytes uint64 }

func (s *sumCounter) Count(h *packet.Header, p, b uint64, nowNs int64) {
	s.calls++
	s.packets += p
	s.bytes += b
}

// v5Rec is one NetFlow v5 record.
type v5Rec struct {
	src, dst        string
	packets, octets uint32
	first, last     uint32
	sport, dport    uint16
	flags, proto    uint8
}

func v5Datagram(seq uint32, sampling uint16, recs ...v5Rec) []byte {
	b := be.AppendUint16(nil, 5)
	b = be.AppendUint16(b, uint16(len(recs)))
	b = be.AppendUint32(b, 100000) // sys uptime ms
	b = be.AppendUint32(b, 1700000000)
	b = be.AppendUint32(b, 0)
	b = be.AppendUint32(b, seq)
	b = append(b, 0, 0) // engine type, id
	b = be.AppendUint16(b, sampling)
	for _, r := range recs {
		b = append(b, netip.MustParseAddr(r.src).AsSlice()...)
		b = append(b, netip.MustParseAddr(r.dst).AsSlice()...)
		b = append(b, 0, 0, 0, 0, 0, 1, 0, 2) // next hop, input, output
		b = be.AppendUint32(b, r.packets)
		b = be.AppendUint32(b, r.octets)
		b = be.AppendUint32(b, r.first)
		b = be.AppendUint32(b, r.last)
		b = be.AppendUint16(b, r.sport)
		b = be.AppendUint16(b, r.dport)
		b = append(b, 0, r.flags, r.proto, 0, 0, 0, 0, 0, 24, 24, 0, 0)
	}
	return b
}

// tf is a template field: information element and length (0xffff:
// variable); pen marks an IPFIX enterprise field.
type tf struct {
	ie, length uint16
	pen        uint32
}

// v is a field value: an integer written in the field's length, or bytes.
type v = any

func appendValue(b []byte, length uint16, x v) []byte {
	switch x := x.(type) {
	case string: // an address
		return append(b, netip.MustParseAddr(x).AsSlice()...)
	case []byte:
		if length == 0xffff {
			if len(x) < 255 {
				b = append(b, byte(len(x)))
			} else {
				b = append(b, 0xff)
				b = be.AppendUint16(b, uint16(len(x)))
			}
		}
		return append(b, x...)
	case int:
		var tmp [8]byte
		be.PutUint64(tmp[:], uint64(x))
		return append(b, tmp[8-length:]...)
	}
	panic("appendValue: unknown value type")
}

// set wraps a set body in its header, padded to 4 bytes.
func set(id uint16, body []byte) []byte {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	b := be.AppendUint16(nil, id)
	b = be.AppendUint16(b, uint16(4+len(body)))
	return append(b, body...)
}

func templateRecord(id uint16, fields ...tf) []byte {
	b := be.AppendUint16(nil, id)
	b = be.AppendUint16(b, uint16(len(fields)))
	return appendFields(b, fields)
}

func appendFields(b []byte, fields []tf) []byte {
	for _, f := range fields {
		ie := f.ie
		if f.pen != 0 {
			ie |= 0x8000
		}
		b = be.AppendUint16(b, ie)
		b = be.AppendUint16(b, f.length)
		if f.pen != 0 {
			b = be.AppendUint32(b, f.pen)
		}
	}
	return b
}

// v9OptionsTemplate is a NetFlow v9 options template record: scope and
// option lengths in bytes.
func v9OptionsTemplate(id uint16, scopes, options []tf) []byte {
	b := be.AppendUint16(nil, id)
	b = be.AppendUint16(b, uint16(4*len(scopes)))
	b = be.AppendUint16(b, uint16(4*len(options)))
	b = appendFields(b, scopes)
	return appendFields(b, options)
}

func ipfixOptionsTemplate(id uint16, scopes, options []tf) []byte {
	b := be.AppendUint16(nil, id)
	b = be.AppendUint16(b, uint16(len(scopes)+len(options)))
	b = be.AppendUint16(b, uint16(len(scopes)))
	b = appendFields(b, scopes)
	return appendFields(b, options)
}

// dataRecords encodes records (one value per field) for fields.
func dataRecords(fields []tf, recs ...[]v) []byte {
	var b []byte
	for _, r := range recs {
		for i, f := range fields {
			b = appendValue(b, f.length, r[i])
		}
	}
	return b
}

func v9Datagram(seq, sourceID uint32, sets ...[]byte) []byte {
	b := be.AppendUint16(nil, 9)
	b = be.AppendUint16(b, uint16(len(sets)))
	b = be.AppendUint32(b, 100000)
	b = be.AppendUint32(b, 1700000000)
	b = be.AppendUint32(b, seq)
	b = be.AppendUint32(b, sourceID)
	for _, s := range sets {
		b = append(b, s...)
	}
	return b
}

func ipfixMessage(seq, domain uint32, sets ...[]byte) []byte {
	b := be.AppendUint16(nil, 10)
	b = be.AppendUint16(b, 0)
	b = be.AppendUint32(b, 1700000000)
	b = be.AppendUint32(b, seq)
	b = be.AppendUint32(b, domain)
	for _, s := range sets {
		b = append(b, s...)
	}
	be.PutUint16(b[2:], uint16(len(b)))
	return b
}

// v4Fields is a typical IPv4 template (what softflowd and routers send).
var v4Fields = []tf{
	{ie: 8, length: 4}, {ie: 12, length: 4}, {ie: 7, length: 2}, {ie: 11, length: 2},
	{ie: 4, length: 1}, {ie: 6, length: 1}, {ie: 2, length: 4}, {ie: 1, length: 4},
	{ie: 22, length: 4}, {ie: 21, length: 4}, {ie: 10, length: 2}, {ie: 14, length: 2},
}

// v4Rec returns a record for v4Fields.
func v4Rec(src, dst string, sport, dport, proto, flags, packets, octets, first, last int) []v {
	return []v{src, dst, sport, dport, proto, flags, packets, octets, first, last, 1, 2}
}

// sflowDatagram is an sFlow v5 datagram from IPv4 agent 192.0.2.1.
func sflowDatagram(seq uint32, samples ...[]byte) []byte {
	b := be.AppendUint32(nil, 5)
	b = be.AppendUint32(b, 1)
	b = append(b, 192, 0, 2, 1)
	b = be.AppendUint32(b, 0) // sub-agent
	b = be.AppendUint32(b, seq)
	b = be.AppendUint32(b, 123456)
	b = be.AppendUint32(b, uint32(len(samples)))
	for _, s := range samples {
		b = append(b, s...)
	}
	return b
}

func xdrOpaque(b, data []byte) []byte {
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// sflowRawRecord is a raw packet header flow record of a frame that was
// frameLen bytes long on the wire (with 4 bytes of FCS stripped).
func sflowRawRecord(proto uint32, header []byte, frameLen uint32) []byte {
	body := be.AppendUint32(nil, proto)
	body = be.AppendUint32(body, frameLen)
	body = be.AppendUint32(body, 4)
	body = be.AppendUint32(body, uint32(len(header)))
	body = xdrOpaque(body, header)
	b := be.AppendUint32(nil, sfRawHeader)
	b = be.AppendUint32(b, uint32(len(body)))
	return append(b, body...)
}

// sflowFlowSample is a (compact) flow sample of records.
func sflowFlowSample(seq, rate uint32, records ...[]byte) []byte {
	body := be.AppendUint32(nil, seq)
	body = be.AppendUint32(body, 3)        // source: ifIndex 3
	body = be.AppendUint32(body, rate)     // sampling rate
	body = be.AppendUint32(body, seq*rate) // pool
	body = be.AppendUint32(body, 0)        // drops
	body = be.AppendUint32(body, 3)
	body = be.AppendUint32(body, 4)
	body = be.AppendUint32(body, uint32(len(records)))
	for _, r := range records {
		body = append(body, r...)
	}
	b := be.AppendUint32(nil, sfFlowSample)
	b = be.AppendUint32(b, uint32(len(body)))
	return append(b, body...)
}

// sflowExpandedFlowSample is an expanded flow sample of records.
func sflowExpandedFlowSample(seq, rate uint32, records ...[]byte) []byte {
	body := be.AppendUint32(nil, seq)
	body = be.AppendUint32(body, 0)
	body = be.AppendUint32(body, 3)
	body = be.AppendUint32(body, rate)
	body = be.AppendUint32(body, seq*rate)
	body = be.AppendUint32(body, 0)
	body = be.AppendUint32(body, 0)
	body = be.AppendUint32(body, 3)
	body = be.AppendUint32(body, 0)
	body = be.AppendUint32(body, 4)
	body = be.AppendUint32(body, uint32(len(records)))
	for _, r := range records {
		body = append(body, r...)
	}
	b := be.AppendUint32(nil, sfExpFlowSample)
	b = be.AppendUint32(b, uint32(len(body)))
	return append(b, body...)
}

// sflowCounterSample is a counter sample with one generic interface record.
func sflowCounterSample(seq uint32) []byte {
	rec := be.AppendUint32(nil, 1)
	rec = be.AppendUint32(rec, 88)
	rec = append(rec, make([]byte, 88)...)
	body := be.AppendUint32(nil, seq)
	body = be.AppendUint32(body, 3)
	body = be.AppendUint32(body, 1)
	body = append(body, rec...)
	b := be.AppendUint32(nil, sfCounterSample)
	b = be.AppendUint32(b, uint32(len(body)))
	return append(b, body...)
}

func addr4(s string) uint32 { return be.Uint32(netip.MustParseAddr(s).AsSlice()) }

func addr6(s string) [16]byte { return netip.MustParseAddr(s).As16() }

var exporterA = netip.MustParseAddrPort("192.0.2.10:40000")
