package pcapfile

import (
	"encoding/binary"
	"math/bits"
)

// pcapng block types.
const (
	blockSHB = 0x0a0d0d0a // Section Header (the same in both byte orders)
	blockIDB = 1          // Interface Description
	blockOPB = 2          // Packet (obsolete)
	blockSPB = 3          // Simple Packet
	blockEPB = 6          // Enhanced Packet

	byteOrderMagic = 0x1a2b3c4d
	optEnd         = 0
	optTsResol     = 9
	optTsOffset    = 14
)

// iface is what packets need of their Interface Description Block.
type iface struct {
	linkType uint16
	snaplen  uint32
	tsOffset int64 // seconds added to every timestamp (if_tsoffset)
	// Timestamps count units of 10^-pow10 s (pow2 == 0) or 2^-pow2 s.
	pow10, pow2 uint8
}

// ns converts a timestamp in the interface's units to ns since the epoch.
func (f *iface) ns(ts uint64) int64 {
	off := f.tsOffset * 1e9
	if f.pow2 != 0 {
		secs := ts >> f.pow2
		hi, lo := bits.Mul64(ts&(1<<f.pow2-1), 1e9)
		frac := hi<<(64-f.pow2) | lo>>f.pow2
		return off + int64(secs)*1e9 + int64(frac)
	}
	if f.pow10 <= 9 {
		return off + int64(ts)*pow10[9-f.pow10]
	}
	return off + int64(ts/uint64(pow10[f.pow10-9]))
}

var pow10 = [...]int64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10}

func (r *Reader) nextNG() ([]byte, uint32, int64, error) {
	for {
		h, err := r.peek(8, "block header", true)
		if err != nil {
			return nil, 0, 0, err
		}
		typ := r.order32(h)
		if typ == blockSHB {
			if h, err = r.peek(12, "section header", false); err != nil {
				return nil, 0, 0, err
			}
			switch {
			case binary.LittleEndian.Uint32(h[8:]) == byteOrderMagic:
				r.order = binary.LittleEndian
			case binary.BigEndian.Uint32(h[8:]) == byteOrderMagic:
				r.order = binary.BigEndian
			default:
				return nil, 0, 0, r.errorf(r.off+8, "section header byte-order magic %#08x, want %#08x", binary.BigEndian.Uint32(h[8:]), byteOrderMagic)
			}
		} else if r.order == nil {
			return nil, 0, 0, r.errorf(r.off, "block type %#x before the first section header", typ)
		}
		typ = r.order.Uint32(h)
		blen := r.order.Uint32(h[4:])
		if blen < 12 || blen%4 != 0 {
			return nil, 0, 0, r.errorf(r.off+4, "block length %d: must be a multiple of 4 and at least 12", blen)
		}
		switch typ {
		case blockSHB, blockIDB, blockEPB, blockSPB, blockOPB:
		default: // name resolution, statistics, decryption secrets, custom...
			if err := r.skip(int(blen)); err != nil {
				return nil, 0, 0, err
			}
			continue
		}
		if blen > MaxBlock {
			return nil, 0, 0, r.errorf(r.off+4, "block length %d exceeds maximum %d", blen, MaxBlock)
		}
		b, err := r.peek(int(blen), "block", false)
		if err != nil {
			return nil, 0, 0, err
		}
		if tail := r.order.Uint32(b[blen-4:]); tail != blen {
			return nil, 0, 0, r.errorf(r.off+int64(blen)-4, "block trailing length %d differs from leading length %d", tail, blen)
		}
		body := b[8 : blen-4]
		switch typ {
		case blockSHB:
			err = r.sectionHeader(body)
		case blockIDB:
			err = r.interfaceDescription(body)
		default:
			var data []byte
			var wire uint32
			var ts int64
			if data, wire, ts, err = r.packet(typ, body); err == nil {
				r.pending = int(blen)
				return data, wire, ts, nil
			}
		}
		if err != nil {
			return nil, 0, 0, err
		}
		if err := r.skip(int(blen)); err != nil {
			return nil, 0, 0, err
		}
	}
}

// order32 reads a block type before the section's byte order is known.
func (r *Reader) order32(b []byte) uint32 {
	if r.order == nil {
		return binary.LittleEndian.Uint32(b)
	}
	return r.order.Uint32(b)
}

func (r *Reader) sectionHeader(body []byte) error {
	if len(body) < 16 {
		return r.errorf(r.off, "section header body %d bytes, want at least 16", len(body))
	}
	if major := r.order.Uint16(body[4:]); major != 1 {
		return r.errorf(r.off+12, "pcapng major version %d, want 1", major)
	}
	r.ifaces = r.ifaces[:0] // interface ids restart in each section
	return nil
}

func (r *Reader) interfaceDescription(body []byte) error {
	if len(body) < 8 {
		return r.errorf(r.off, "interface description body %d bytes, want at least 8", len(body))
	}
	if len(r.ifaces) == MaxInterfaces {
		return r.errorf(r.off, "more than %d interfaces in one section", MaxInterfaces)
	}
	f := iface{linkType: r.order.Uint16(body), snaplen: r.order.Uint32(body[4:]), pow10: 6}
	opts, at := body[8:], r.off+16
	for len(opts) >= 4 {
		code, n := r.order.Uint16(opts), int(r.order.Uint16(opts[2:]))
		if code == optEnd {
			break
		}
		if 4+n > len(opts) {
			return r.errorf(at, "interface option %d length %d exceeds block", code, n)
		}
		v := opts[4 : 4+n]
		switch {
		case code == optTsResol && n == 1:
			res := v[0]
			switch {
			case res&0x80 != 0 && res&0x7f <= 63:
				f.pow2, f.pow10 = res&0x7f, 0
				if f.pow2 == 0 { // 2^0: whole seconds
					f.pow10 = 0
				}
			case res&0x80 == 0 && int(res) < len(pow10)+9:
				f.pow10 = res
			default:
				return r.errorf(at+4, "if_tsresol %#x not supported", res)
			}
		case code == optTsOffset && n == 8:
			f.tsOffset = int64(r.order.Uint64(v))
		}
		adv := 4 + (n+3)&^3
		if adv > len(opts) {
			break
		}
		opts, at = opts[adv:], at+int64(adv)
	}
	r.ifaces = append(r.ifaces, f)
	return nil
}

// packet decodes an Enhanced, Simple or obsolete Packet Block body.
func (r *Reader) packet(typ uint32, body []byte) ([]byte, uint32, int64, error) {
	var id, capLen, wire uint32
	var ts uint64
	var hdr int
	lenAt := r.off + 20 // where the block states the captured length
	switch typ {
	case blockEPB, blockOPB:
		hdr = 20
		if len(body) < hdr {
			return nil, 0, 0, r.errorf(r.off, "packet block body %d bytes, want at least %d", len(body), hdr)
		}
		if typ == blockEPB {
			id = r.order.Uint32(body)
		} else {
			id = uint32(r.order.Uint16(body))
		}
		ts = uint64(r.order.Uint32(body[4:]))<<32 | uint64(r.order.Uint32(body[8:]))
		capLen, wire = r.order.Uint32(body[12:]), r.order.Uint32(body[16:])
	case blockSPB:
		hdr, lenAt = 4, r.off+8
		if len(body) < hdr {
			return nil, 0, 0, r.errorf(r.off, "simple packet block body %d bytes, want at least 4", len(body))
		}
		wire = r.order.Uint32(body)
		capLen = min(wire, uint32(len(body)-hdr))
		if len(r.ifaces) > 0 && r.ifaces[0].snaplen != 0 {
			capLen = min(capLen, r.ifaces[0].snaplen)
		}
	}
	if int(id) >= len(r.ifaces) {
		return nil, 0, 0, r.errorf(r.off+8, "packet on interface %d, but the section describes %d", id, len(r.ifaces))
	}
	f := &r.ifaces[id]
	if f.linkType != LinkEthernet {
		return nil, 0, 0, r.errorf(r.off+8, "interface %d link type %d not supported, want %d (Ethernet)", id, f.linkType, LinkEthernet)
	}
	if capLen > MaxRecord {
		return nil, 0, 0, r.errorf(lenAt, "record length %d exceeds maximum %d", capLen, MaxRecord)
	}
	if int(capLen) > len(body)-hdr {
		return nil, 0, 0, r.errorf(lenAt, "record length %d exceeds its block (%d bytes of data)", capLen, len(body)-hdr)
	}
	tsNs := r.lastTs
	if typ != blockSPB {
		tsNs = f.ns(ts)
		r.lastTs = tsNs
	}
	return body[hdr : hdr+int(capLen)], max(wire, capLen), tsNs, nil
}
