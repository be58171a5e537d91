package pcapfile

import (
	"encoding/binary"
	"fmt"
	"io"
)

// NGWriterOptions choose the variant of pcapng to write.
type NGWriterOptions struct {
	BigEndian bool
	// TsResol is the if_tsresol option of the one interface: 10^-TsResol
	// seconds, or 2^-(TsResol&0x7f) with the high bit set. 0 means 9 (ns).
	TsResol uint8
}

// NGWriter writes pcapng: one section, one Ethernet interface, Enhanced
// Packet Blocks.
type NGWriter struct {
	w     io.Writer
	order interface {
		binary.ByteOrder
		binary.AppendByteOrder
	}
	unit iface
	buf  []byte
}

// NewNGWriter writes the Section Header and Interface Description blocks.
func NewNGWriter(w io.Writer, o NGWriterOptions) (*NGWriter, error) {
	nw := &NGWriter{w: w}
	nw.order = binary.LittleEndian
	if o.BigEndian {
		nw.order = binary.BigEndian
	}
	res := o.TsResol
	if res == 0 {
		res = 9
	}
	if res&0x80 != 0 {
		nw.unit.pow2 = res & 0x7f
	} else {
		nw.unit.pow10 = res
	}
	shb := nw.block(blockSHB, func(b []byte) []byte {
		b = nw.order.AppendUint32(b, byteOrderMagic)
		b = nw.order.AppendUint16(b, 1)
		b = nw.order.AppendUint16(b, 0)
		return nw.order.AppendUint64(b, ^uint64(0)) // section length unknown
	})
	idb := nw.block(blockIDB, func(b []byte) []byte {
		b = nw.order.AppendUint16(b, LinkEthernet)
		b = nw.order.AppendUint16(b, 0)
		b = nw.order.AppendUint32(b, MaxRecord)
		b = nw.order.AppendUint16(b, optTsResol)
		b = nw.order.AppendUint16(b, 1)
		b = append(b, res, 0, 0, 0)
		return append(b, 0, 0, 0, 0) // opt_endofopt
	})
	if _, err := w.Write(append(shb, idb...)); err != nil {
		return nil, fmt.Errorf("pcapfile: write pcapng header: %w", err)
	}
	return nw, nil
}

// block frames a body built by fill with type, lengths and padding.
func (nw *NGWriter) block(typ uint32, fill func([]byte) []byte) []byte {
	b := nw.order.AppendUint32(nil, typ)
	b = nw.order.AppendUint32(b, 0)
	b = fill(b)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	n := uint32(len(b) + 4)
	nw.order.PutUint32(b[4:], n)
	return nw.order.AppendUint32(b, n)
}

// WritePacket writes one Enhanced Packet Block on interface 0.
func (nw *NGWriter) WritePacket(tsNs int64, wireLen uint32, data []byte) error {
	if tsNs < 0 {
		return fmt.Errorf("pcapfile: timestamp %d before 1970", tsNs)
	}
	wireLen = max(wireLen, uint32(len(data)))
	if len(data) > MaxRecord {
		data = data[:MaxRecord]
	}
	ts := nw.unit.units(tsNs)
	nw.buf = nw.block(blockEPB, func(b []byte) []byte {
		b = nw.order.AppendUint32(b, 0)
		b = nw.order.AppendUint32(b, uint32(ts>>32))
		b = nw.order.AppendUint32(b, uint32(ts))
		b = nw.order.AppendUint32(b, uint32(len(data)))
		b = nw.order.AppendUint32(b, wireLen)
		return append(b, data...)
	})
	if _, err := nw.w.Write(nw.buf); err != nil {
		return fmt.Errorf("pcapfile: write packet block: %w", err)
	}
	return nil
}

// units converts ns since the epoch to the interface's timestamp units.
func (f *iface) units(ns int64) uint64 {
	if f.pow2 != 0 {
		secs, frac := uint64(ns/1e9), uint64(ns%1e9)
		return secs<<f.pow2 | (frac<<f.pow2)/1e9
	}
	if f.pow10 <= 9 {
		return uint64(ns / pow10[9-f.pow10])
	}
	return uint64(ns) * uint64(pow10[f.pow10-9])
}
