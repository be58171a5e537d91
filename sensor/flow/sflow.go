package flow

import (
	"encoding/binary"

	"github.com/rampartnet/rampart/sensor/packet"
)

// sFlow v5 sample and record formats (enterprise 0).
const (
	sfFlowSample       = 1
	sfCounterSample    = 2
	sfExpFlowSample    = 3
	sfExpCounterSample = 4
	sfRawHeader        = 1
	sfSampledIPv4      = 3
	sfSampledIPv6      = 4

	sfHeaderEthernet = 1
	sfHeaderIPv4     = 11
	sfHeaderIPv6     = 12

	sfFlowSampleHead    = 32 // seq, source, rate, pool, drops, input, output, record count
	sfExpFlowSampleHead = 44 // seq, source type, source index, rate, pool, drops, in fmt/val, out fmt/val, count
	sfRawHeaderHead     = 16 // protocol, frame length, stripped, header length
	sfSampledIPv4Len    = 32
	sfSampledIPv6Len    = 56

	ethHeaderLen = 14
	// frameScratch holds an Ethernet header and the longest IP header
	// prefix decoded from a sampled IP header record.
	frameScratch = ethHeaderLen + 512
)

// decodeSFlow decodes an sFlow v5 datagram. Flow samples become one record
// each, counted at arrival with packets = sampling rate and bytes = frame
// length × rate; counter samples are counted and ignored. The sequence
// number counts datagrams per sub-agent.
func (c *Collector) decodeSFlow(e *exporter, d []byte, nowNs int64) {
	var off int
	switch binary.BigEndian.Uint32(d[4:]) {
	case 1:
		off = 12
	case 2:
		off = 24
	default:
		e.stats.Errors[ErrBadSample]++
		return
	}
	if len(d) < off+16 {
		e.stats.Errors[ErrTruncated]++
		return
	}
	sub, seq := binary.BigEndian.Uint32(d[off:]), binary.BigEndian.Uint32(d[off+4:])
	n := binary.BigEndian.Uint32(d[off+12:])
	s := e.stream(fmtSFlow, sub, nowNs)
	e.sequence(s, seq, seq+1, false)
	b := d[off+16:]
	for ; n > 0 && len(b) >= 8; n-- { // every sample takes at least 8 bytes
		format, l := binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[4:])
		if uint64(l) > uint64(len(b)-8) {
			e.stats.Errors[ErrTruncated]++
			return
		}
		sample := b[8 : 8+l]
		b = b[8+l:]
		switch format {
		case sfFlowSample:
			c.flowSample(e, s, sample, sfFlowSampleHead, 8, nowNs)
		case sfExpFlowSample:
			c.flowSample(e, s, sample, sfExpFlowSampleHead, 12, nowNs)
		case sfCounterSample, sfExpCounterSample:
			e.stats.CounterSample++
		}
	}
	if n > 0 {
		e.stats.Errors[ErrTruncated]++
	}
}

// flowSample counts one flow sample, from its raw packet header record or
// else its sampled IPv4/IPv6 record.
func (c *Collector) flowSample(e *exporter, s *stream, b []byte, head, rateOff int, nowNs int64) {
	if len(b) < head {
		e.stats.Errors[ErrTruncated]++
		return
	}
	r := c.newRec()
	r.rate = uint64(binary.BigEndian.Uint32(b[rateOff:]))
	if r.rate == 0 {
		r.rate = 1
	}
	n := binary.BigEndian.Uint32(b[head-4:])
	var fallback []byte
	var fallbackFmt uint32
	for b = b[head:]; n > 0 && len(b) >= 8; n-- {
		format, l := binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[4:])
		if uint64(l) > uint64(len(b)-8) {
			e.stats.Errors[ErrBadSample]++
			return
		}
		body := b[8 : 8+l]
		b = b[8+l:]
		switch format {
		case sfRawHeader:
			e.stats.Records++
			c.stats.Records++
			if !c.rawHeader(r, body) {
				c.stats.Skipped++
				return
			}
			c.sample(e, s, r, nowNs)
			return
		case sfSampledIPv4, sfSampledIPv6:
			fallback, fallbackFmt = body, format
		}
	}
	if fallback == nil {
		return // a sample of nothing this collector reads
	}
	e.stats.Records++
	c.stats.Records++
	if !sampledIP(r, fallback, fallbackFmt) {
		c.stats.Skipped++
		return
	}
	c.sample(e, s, r, nowNs)
}

// sample counts a decoded sFlow sample: instantaneous, so at arrival.
func (c *Collector) sample(e *exporter, s *stream, r *rec, nowNs int64) {
	rate := e.rateFor(s, r)
	e.stats.SamplingRate = uint32(min(rate, 1<<32-1))
	c.account(r, rate, 0, nowNs)
}

// rawHeader decodes a raw packet header record through the packet decoder.
func (c *Collector) rawHeader(r *rec, b []byte) bool {
	if len(b) < sfRawHeaderHead {
		return false
	}
	proto := binary.BigEndian.Uint32(b)
	frameLen := binary.BigEndian.Uint32(b[4:])
	stripped := binary.BigEndian.Uint32(b[8:])
	hl := binary.BigEndian.Uint32(b[12:])
	hdr := b[sfRawHeaderHead:]
	if uint64(hl) > uint64(len(hdr)) {
		return false
	}
	hdr = hdr[:hl]
	var frame []byte
	switch proto {
	case sfHeaderEthernet:
		frame = hdr
	case sfHeaderIPv4, sfHeaderIPv6:
		et := uint16(0x0800)
		if proto == sfHeaderIPv6 {
			et = 0x86dd
		}
		c.frame[12], c.frame[13] = byte(et>>8), byte(et)
		frame = c.frame[:ethHeaderLen+copy(c.frame[ethHeaderLen:], hdr)]
		frameLen += ethHeaderLen // bytes count what a capture would see
	default:
		return false
	}
	if !c.dec.Decode(frame, &r.h) {
		return false
	}
	r.packets = 1
	r.octets = uint64(frameLen - min(stripped, frameLen))
	return true
}

// sampledIP decodes a sampled IPv4 or IPv6 record: the IP packet length
// and the 5-tuple, without the packet.
func sampledIP(r *rec, b []byte, format uint32) bool {
	var l4 []byte
	if format == sfSampledIPv4 {
		if len(b) < sfSampledIPv4Len {
			return false
		}
		r.h.Family = packet.IPv4
		r.h.Src4, r.h.Dst4 = binary.BigEndian.Uint32(b[8:]), binary.BigEndian.Uint32(b[12:])
		l4 = b[16:]
	} else {
		if len(b) < sfSampledIPv6Len {
			return false
		}
		r.h.Family = packet.IPv6
		r.h.Src6, r.h.Dst6 = [16]byte(b[8:24]), [16]byte(b[24:40])
		l4 = b[40:]
	}
	r.octets = uint64(binary.BigEndian.Uint32(b))
	r.packets = 1
	r.h.Proto = uint8(binary.BigEndian.Uint32(b[4:]))
	switch r.h.Proto {
	case packet.ProtoTCP:
		r.h.TCPFlags = uint8(binary.BigEndian.Uint32(l4[8:]))
		fallthrough
	case packet.ProtoUDP:
		r.h.SrcPort = uint16(binary.BigEndian.Uint32(l4))
		r.h.DstPort = uint16(binary.BigEndian.Uint32(l4[4:]))
	case packet.ProtoICMP, packet.ProtoICMPv6:
		r.h.ICMPType = uint8(binary.BigEndian.Uint32(l4)) // the type stands in src_port
	}
	r.h.IPLen = uint16(min(r.octets, 0xffff))
	return true
}
