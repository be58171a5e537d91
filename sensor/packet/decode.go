package packet

import "encoding/binary"

// Limits on the headers the decoder walks: deeper stacks are ErrTooManyTags
// or ErrBadIPv6Ext, so that the work per frame stays bounded.
const (
	MaxVLANTags   = 3 // 802.1Q / 802.1ad tags (QinQ plus one)
	MaxMPLSLabels = 8 // MPLS label stack entries
	MaxIPv6Ext    = 8 // IPv6 extension headers before the upper layer
)

// fastLen is what Decode's fast path needs: Ethernet, a 20-byte IPv4
// header and 20 bytes of TCP (or UDP and the 12 bytes after it).
const fastLen = ethHeaderLen + ipv4HeaderLen + 20

const (
	etherIPv4   = 0x0800
	etherIPv6   = 0x86dd
	etherVLAN   = 0x8100
	etherQinQ   = 0x88a8
	etherQinQv1 = 0x9100 // pre-standard QinQ
	etherMPLS   = 0x8847
	etherMPLSmc = 0x8848

	ethHeaderLen  = 14
	ipv4HeaderLen = 20
	ipv6HeaderLen = 40
)

// Decoder decodes frames and counts those it skips. One per worker: it is
// not safe for concurrent use.
type Decoder struct {
	Decoded uint64              // frames decoded into a Header
	Errors  [NumErrKinds]uint64 // frames skipped, by reason
}

// Decode fills h from frame (starting at the Ethernet header) and reports
// whether frame is an IP packet; otherwise it counts the reason in d.Errors
// and h holds no meaningful data. Everything common (IPv4 after any tags)
// runs in this one function: calls would cost more than the parsing.
//
// Untagged TCP or UDP over IPv4 without options or fragmentation, most of
// any link and all of a flood, takes a fast path of fixed offsets and one
// length check; it gives what the general walk gives (FuzzDecode checks it
// against the same frame with a VLAN tag). Its fields are set one by one: a
// composite literal would be built on the stack and copied, and that copy
// stalls.
func (d *Decoder) Decode(frame []byte, h *Header) bool {
	if len(frame) >= fastLen && binary.BigEndian.Uint16(frame[12:14]) == etherIPv4 && frame[14] == 0x45 {
		b := frame[ethHeaderLen:fastLen]
		total := binary.BigEndian.Uint16(b[2:4])
		proto := b[9]
		if binary.BigEndian.Uint16(b[6:8])&0x3fff == 0 && total >= fastLen-ethHeaderLen && (proto == ProtoTCP || proto == ProtoUDP) {
			*h = Header{}
			h.Family, h.Proto, h.IPLen = IPv4, proto, total
			h.Src4, h.Dst4 = binary.BigEndian.Uint32(b[12:16]), binary.BigEndian.Uint32(b[16:20])
			h.SrcPort, h.DstPort = binary.BigEndian.Uint16(b[20:22]), binary.BigEndian.Uint16(b[22:24])
			if proto == ProtoTCP {
				h.TCPFlags = b[33]
			}
			return d.ok()
		}
	}
	*h = Header{}
	if len(frame) < ethHeaderLen {
		return d.fail(ErrTruncated)
	}
	et := binary.BigEndian.Uint16(frame[12:14])
	off := ethHeaderLen
	if et != etherIPv4 && et != etherIPv6 { // tags: off the fast path
		if et == etherVLAN || et == etherQinQ || et == etherQinQv1 {
			if len(frame) < off+4 {
				return d.fail(ErrTruncated)
			}
			h.VLAN = binary.BigEndian.Uint16(frame[off:]) & 0x0fff
			for tags := 0; et == etherVLAN || et == etherQinQ || et == etherQinQv1; tags++ {
				if tags == MaxVLANTags {
					return d.fail(ErrTooManyTags)
				}
				if len(frame) < off+4 {
					return d.fail(ErrTruncated)
				}
				et = binary.BigEndian.Uint16(frame[off+2:])
				off += 4
			}
		}
		if et == etherMPLS || et == etherMPLSmc {
			var kind ErrKind
			var ok bool
			if off, et, kind, ok = mplsPayload(frame, off); !ok {
				return d.fail(kind)
			}
		}
	}
	var l4 []byte
	switch et {
	case etherIPv4:
		b := frame[off:]
		if len(b) < ipv4HeaderLen {
			return d.fail(ErrTruncated)
		}
		vihl := b[0]
		hl := int(vihl&0x0f) << 2
		total := int(binary.BigEndian.Uint16(b[2:4]))
		if vihl>>4 != 4 || hl < ipv4HeaderLen || total < hl {
			return d.fail(ErrBadIPv4)
		}
		if len(b) < hl {
			return d.fail(ErrTruncated)
		}
		h.Family = IPv4
		h.IPLen = uint16(total)
		h.Proto = b[9]
		h.Src4 = binary.BigEndian.Uint32(b[12:16])
		h.Dst4 = binary.BigEndian.Uint32(b[16:20])
		frag := binary.BigEndian.Uint16(b[6:8])
		if frag&0x1fff != 0 {
			h.Frag = FragLater
			return d.ok()
		}
		if frag&0x2000 != 0 {
			h.Frag = FragFirst
		}
		if total < len(b) { // Ethernet padding is not L4 data
			b = b[:total]
		}
		l4 = b[hl:]
	case etherIPv6:
		var kind ErrKind
		var ok bool
		if l4, kind, ok = parseIPv6(frame[off:], h); !ok {
			return d.fail(kind)
		}
		if h.Frag == FragLater {
			return d.ok()
		}
	default:
		return d.fail(ErrNonIP)
	}
	// A first fragment whose L4 header is cut (tiny-fragment attacks, RFC
	// 1858) still counts, without the fields it lacks; a whole packet that
	// is cut is truncated.
	switch h.Proto {
	case ProtoTCP:
		if len(l4) >= 20 {
			h.SrcPort = binary.BigEndian.Uint16(l4[0:2])
			h.DstPort = binary.BigEndian.Uint16(l4[2:4])
			h.TCPFlags = l4[13]
			return d.ok()
		}
	case ProtoUDP:
		if len(l4) >= 8 {
			h.SrcPort = binary.BigEndian.Uint16(l4[0:2])
			h.DstPort = binary.BigEndian.Uint16(l4[2:4])
			return d.ok()
		}
	case ProtoICMP, ProtoICMPv6:
		if len(l4) >= 4 {
			h.ICMPType = l4[0]
			return d.ok()
		}
	default:
		return d.ok()
	}
	if h.Frag == FragFirst {
		return d.ok()
	}
	return d.fail(ErrTruncated)
}

func (d *Decoder) ok() bool {
	d.Decoded++
	return true
}

func (d *Decoder) fail(k ErrKind) bool {
	d.Errors[k%NumErrKinds]++
	return false
}

// Parse fills h from frame without keeping counts. When ok is false, kind
// says why the frame is not a decodable IP packet.
func Parse(frame []byte, h *Header) (kind ErrKind, ok bool) {
	var d Decoder
	if d.Decode(frame, h) {
		return 0, true
	}
	for k, n := range d.Errors {
		if n != 0 {
			return ErrKind(k), false
		}
	}
	return NumErrKinds, false // unreachable: Decode counted a reason
}

// Skipped is the number of frames skipped for any reason.
func (d *Decoder) Skipped() uint64 {
	var n uint64
	for _, e := range d.Errors {
		n += e
	}
	return n
}

// Add adds o's counts to d, to total the decoders of several workers.
func (d *Decoder) Add(o *Decoder) {
	d.Decoded += o.Decoded
	for i, e := range o.Errors {
		d.Errors[i] += e
	}
}

// mplsPayload walks the label stack at frame[off:] and returns the offset of
// its payload and the EtherType it stands for, guessed from the first nibble
// (RFC 4385 pseudowires with a control word start with 0).
func mplsPayload(frame []byte, off int) (payload int, et uint16, kind ErrKind, ok bool) {
	for labels := 0; ; labels++ {
		if labels == MaxMPLSLabels {
			return 0, 0, ErrTooManyTags, false
		}
		if len(frame) < off+4 {
			return 0, 0, ErrTruncated, false
		}
		bottom := frame[off+2]&1 != 0
		off += 4
		if bottom {
			break
		}
	}
	if len(frame) <= off {
		return 0, 0, ErrTruncated, false
	}
	switch frame[off] >> 4 {
	case 4:
		return off, etherIPv4, 0, true
	case 6:
		return off, etherIPv6, 0, true
	}
	return 0, 0, ErrNonIP, false
}

// parseIPv6 fills the IPv6 fields of h and returns the upper-layer bytes
// (none for a later fragment).
func parseIPv6(b []byte, h *Header) (l4 []byte, kind ErrKind, ok bool) {
	if len(b) < ipv6HeaderLen {
		return nil, ErrTruncated, false
	}
	if b[0]>>4 != 6 {
		return nil, ErrBadIPv6, false
	}
	payload := int(binary.BigEndian.Uint16(b[4:6]))
	h.Family = IPv6
	h.IPLen = uint16(min(payload+ipv6HeaderLen, 0xffff))
	h.Src6 = [16]byte(b[8:24])
	h.Dst6 = [16]byte(b[24:40])
	if payload != 0 && payload+ipv6HeaderLen < len(b) { // 0: jumbogram, length in hop-by-hop
		b = b[:payload+ipv6HeaderLen]
	}
	next := b[6]
	off := ipv6HeaderLen
	for ext := 0; ; ext++ {
		var n int
		switch next {
		case 0, 43, 60: // hop-by-hop, routing, destination options
			if len(b) < off+8 {
				return nil, ErrTruncated, false
			}
			n = (int(b[off+1]) + 1) << 3
		case 51: // AH: length in 4-byte units, minus 2
			if len(b) < off+8 {
				return nil, ErrTruncated, false
			}
			n = (int(b[off+1]) + 2) << 2
		case 44: // fragment
			if len(b) < off+8 {
				return nil, ErrTruncated, false
			}
			fo := binary.BigEndian.Uint16(b[off+2 : off+4])
			if fo&0xfff8 != 0 {
				h.Proto = b[off]
				h.Frag = FragLater
				return nil, 0, true
			}
			if fo&1 != 0 {
				h.Frag = FragFirst
			} // else an atomic fragment (RFC 6946): a whole packet
			n = 8
		default:
			h.Proto = next
			return b[off:], 0, true
		}
		if ext == MaxIPv6Ext {
			return nil, ErrBadIPv6Ext, false
		}
		next = b[off]
		off += n
		if off > len(b) {
			return nil, ErrTruncated, false
		}
	}
}
