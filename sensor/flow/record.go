package flow

import (
	"encoding/binary"
	"math/bits"

	"github.com/rampartnet/rampart/sensor/packet"
)

// What a template field means to the collector: the information elements
// it reads (NetFlow v9 field types and IPFIX IEs share these numbers), all
// others are skipped.
const (
	wSkip uint8 = iota
	wOctets
	wPackets
	wOctetsAlt  // postOctetDeltaCount / OUT_BYTES, octetTotalCount: used when wOctets is absent
	wPacketsAlt // postPacketDeltaCount / OUT_PKTS, packetTotalCount
	wProto
	wTCPFlags
	wSrcPort
	wDstPort
	wSrc4
	wDst4
	wSrc6
	wDst6
	wICMPTypeCode // type<<8 | code
	wICMPType
	wFirstUptime // ms of system uptime (v9), or since systemInitTimeMilliseconds (IPFIX)
	wLastUptime
	wStartSec
	wEndSec
	wStartMs
	wEndMs
	wStartDeltaUs // µs before the export time
	wEndDeltaUs
	wFragOffset
	wFragFlags
	wSamplingInterval // samplingInterval, samplerRandomInterval: 1 of N
	wSamplerID        // flowSamplerId, selectorId
	wPacketInterval   // samplingPacketInterval: N packets taken ...
	wPacketSpace      // ... samplingPacketSpace: then M skipped
	wSamplingSize     // samplingSize of ...
	wSamplingPop      // ... samplingPopulation
)

// ies maps an information element number to what it means.
var ies = [512]uint8{
	1: wOctets, 2: wPackets, 4: wProto, 6: wTCPFlags, 7: wSrcPort, 8: wSrc4,
	11: wDstPort, 12: wDst4, 21: wLastUptime, 22: wFirstUptime, 23: wOctetsAlt,
	24: wPacketsAlt, 27: wSrc6, 28: wDst6, 32: wICMPTypeCode, 34: wSamplingInterval,
	48: wSamplerID, 50: wSamplingInterval, 85: wOctetsAlt, 86: wPacketsAlt,
	88: wFragOffset, 139: wICMPTypeCode, 150: wStartSec, 151: wEndSec,
	152: wStartMs, 153: wEndMs, 158: wStartDeltaUs, 159: wEndDeltaUs,
	176: wICMPType, 178: wICMPType, 197: wFragFlags, 302: wSamplerID,
	305: wPacketInterval, 306: wPacketSpace, 309: wSamplingSize, 310: wSamplingPop,
}

func ieWhat(ie uint16) uint8 {
	if int(ie) < len(ies) {
		return ies[ie]
	}
	return wSkip
}

// Bits of rec.have.
const (
	hOctets uint32 = 1 << iota
	hPackets
	hSrc4
	hDst4
	hSrc6
	hDst6
	hICMPType
	hICMPTypeCode
	hStart
	hEnd
	hSamplerID
	hMoreFrags
)

// rec is one flow record (or sFlow sample) on its way to the Counter.
type rec struct {
	h                  packet.Header
	have               uint32
	packets, octets    uint64
	packetsAlt, octAlt uint64
	icmpTypeCode       uint16
	startNs, endNs     int64  // in one unit-free timeline: only the difference is used
	rate               uint64 // sampling rate the record itself reports, 0 if none
	pktInterval        uint64
	pktSpace           uint64
	sampSize, sampPop  uint64
	samplerID          uint64
}

// uintBE reads an unsigned big-endian value of 1 to 8 bytes (IPFIX allows
// reduced-size encoding); longer values read their last 8 bytes.
func uintBE(b []byte) uint64 {
	if len(b) >= 8 {
		return binary.BigEndian.Uint64(b[len(b)-8:])
	}
	var v uint64
	for _, x := range b {
		v = v<<8 | uint64(x)
	}
	return v
}

// set stores the value of one field.
func (r *rec) set(what uint8, b []byte) {
	switch what {
	case wOctets:
		r.octets, r.have = uintBE(b), r.have|hOctets
	case wPackets:
		r.packets, r.have = uintBE(b), r.have|hPackets
	case wOctetsAlt:
		r.octAlt = uintBE(b)
	case wPacketsAlt:
		r.packetsAlt = uintBE(b)
	case wProto:
		r.h.Proto = uint8(uintBE(b))
	case wTCPFlags:
		r.h.TCPFlags = uint8(uintBE(b)) // IPFIX sends 2 bytes: the low byte holds the classic flags
	case wSrcPort:
		r.h.SrcPort = uint16(uintBE(b))
	case wDstPort:
		r.h.DstPort = uint16(uintBE(b))
	case wSrc4:
		if len(b) == 4 {
			r.h.Src4, r.have = binary.BigEndian.Uint32(b), r.have|hSrc4
		}
	case wDst4:
		if len(b) == 4 {
			r.h.Dst4, r.have = binary.BigEndian.Uint32(b), r.have|hDst4
		}
	case wSrc6:
		if len(b) == 16 {
			r.h.Src6, r.have = [16]byte(b), r.have|hSrc6
		}
	case wDst6:
		if len(b) == 16 {
			r.h.Dst6, r.have = [16]byte(b), r.have|hDst6
		}
	case wICMPTypeCode:
		r.icmpTypeCode, r.have = uint16(uintBE(b)), r.have|hICMPTypeCode
	case wICMPType:
		r.h.ICMPType, r.have = uint8(uintBE(b)), r.have|hICMPType
	case wFirstUptime, wStartMs:
		r.startNs, r.have = int64(uintBE(b)&(1<<40-1))*1e6, r.have|hStart
	case wLastUptime, wEndMs:
		r.endNs, r.have = int64(uintBE(b)&(1<<40-1))*1e6, r.have|hEnd
	case wStartSec:
		r.startNs, r.have = int64(uintBE(b)&(1<<32-1))*1e9, r.have|hStart
	case wEndSec:
		r.endNs, r.have = int64(uintBE(b)&(1<<32-1))*1e9, r.have|hEnd
	case wStartDeltaUs:
		r.startNs, r.have = -int64(uintBE(b)&(1<<32-1))*1e3, r.have|hStart
	case wEndDeltaUs:
		r.endNs, r.have = -int64(uintBE(b)&(1<<32-1))*1e3, r.have|hEnd
	case wFragOffset:
		if uintBE(b)&0x1fff != 0 {
			r.h.Frag = packet.FragLater
		}
	case wFragFlags:
		if uintBE(b)&0x20 != 0 { // RFC 5102 fragmentFlags: bit 2 (MSB first) is MF
			r.have |= hMoreFrags
		}
	case wSamplingInterval:
		r.rate = uintBE(b)
	case wSamplerID:
		r.samplerID, r.have = uintBE(b), r.have|hSamplerID
	case wPacketInterval:
		r.pktInterval = uintBE(b)
	case wPacketSpace:
		r.pktSpace = uintBE(b)
	case wSamplingSize:
		r.sampSize = uintBE(b)
	case wSamplingPop:
		r.sampPop = uintBE(b)
	}
}

// reportedRate is the sampling rate a record (or an options record)
// carries in any of the forms exporters use, or 0.
func (r *rec) reportedRate() uint64 {
	switch {
	case r.rate > 0:
		return r.rate
	case r.pktInterval > 0:
		return (r.pktInterval + r.pktSpace) / r.pktInterval
	case r.sampSize > 0 && r.sampPop >= r.sampSize:
		return r.sampPop / r.sampSize
	}
	return 0
}

// finish completes r.h from the fields read; ok is false when the record
// names no IP addresses or no packets.
func (r *rec) finish() bool {
	switch {
	case r.have&(hSrc4|hDst4) != 0 && (r.have&(hSrc6|hDst6) == 0 || r.h.Src4|r.h.Dst4 != 0):
		r.h.Family = packet.IPv4
	case r.have&(hSrc6|hDst6) != 0:
		r.h.Family = packet.IPv6
	default:
		return false
	}
	if r.have&hPackets == 0 {
		r.packets = r.packetsAlt
	}
	if r.have&hOctets == 0 {
		r.octets = r.octAlt
	}
	if r.packets == 0 {
		return false
	}
	if r.h.Frag == packet.FragNone && r.have&hMoreFrags != 0 {
		r.h.Frag = packet.FragFirst
	}
	switch r.h.Proto {
	case packet.ProtoTCP:
		if r.h.Frag == packet.FragLater {
			r.h.TCPFlags = 0
		}
	case packet.ProtoUDP:
		r.h.TCPFlags = 0
	case packet.ProtoICMP, packet.ProtoICMPv6:
		// NetFlow v5 and most v9 exporters put type<<8|code in the
		// destination port when they have no ICMP field.
		switch {
		case r.have&hICMPType != 0:
		case r.have&hICMPTypeCode != 0:
			r.h.ICMPType = uint8(r.icmpTypeCode >> 8)
		default:
			r.h.ICMPType = uint8(r.h.DstPort >> 8)
		}
		r.h.SrcPort, r.h.DstPort, r.h.TCPFlags = 0, 0, 0
	default:
		r.h.SrcPort, r.h.DstPort, r.h.TCPFlags = 0, 0, 0
	}
	if r.h.Frag == packet.FragLater {
		r.h.SrcPort, r.h.DstPort = 0, 0
	}
	return true
}

// durationNs is how long the flow lasted, 0 when unknown or inconsistent.
func (r *rec) durationNs() int64 {
	if r.have&(hStart|hEnd) != hStart|hEnd || r.endNs <= r.startNs {
		return 0
	}
	return r.endNs - r.startNs
}

// mulSat is a*b, saturated: a hostile rate or count must not wrap.
func mulSat(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi != 0 {
		return ^uint64(0)
	}
	return lo
}
