package pcapfile

import (
	"encoding/binary"
	"fmt"
	"io"
)

// WriterOptions choose the variant of classic pcap to write.
type WriterOptions struct {
	Nanosecond bool   // nanosecond timestamps (magic a1b23c4d) instead of microseconds
	BigEndian  bool   // big-endian headers, as written on SPARC or POWER
	Snaplen    uint32 // 0 means MaxRecord
}

// Writer writes classic pcap files of Ethernet frames.
type Writer struct {
	w     io.Writer
	order binary.ByteOrder
	nano  bool
	snap  uint32
	hdr   [recordHdrLen]byte
}

// NewWriter writes the file header to w.
func NewWriter(w io.Writer, o WriterOptions) (*Writer, error) {
	pw := &Writer{w: w, order: binary.ByteOrder(binary.LittleEndian), nano: o.Nanosecond, snap: o.Snaplen}
	if o.BigEndian {
		pw.order = binary.BigEndian
	}
	if pw.snap == 0 {
		pw.snap = MaxRecord
	}
	var h [pcapHdrLen]byte
	magic := uint32(magicMicro)
	if o.Nanosecond {
		magic = magicNano
	}
	pw.order.PutUint32(h[0:], magic)
	pw.order.PutUint16(h[4:], 2)
	pw.order.PutUint16(h[6:], 4)
	pw.order.PutUint32(h[16:], pw.snap)
	pw.order.PutUint32(h[20:], LinkEthernet)
	if _, err := w.Write(h[:]); err != nil {
		return nil, fmt.Errorf("pcapfile: write header: %w", err)
	}
	return pw, nil
}

// WritePacket writes one frame seen at tsNs (ns since the epoch, >= 0) with
// wireLen bytes on the wire; data beyond the snaplen is cut.
func (w *Writer) WritePacket(tsNs int64, wireLen uint32, data []byte) error {
	if tsNs < 0 {
		return fmt.Errorf("pcapfile: timestamp %d before 1970", tsNs)
	}
	wireLen = max(wireLen, uint32(len(data)))
	if uint32(len(data)) > w.snap {
		data = data[:w.snap]
	}
	frac := uint32(tsNs % 1e9)
	if !w.nano {
		frac /= 1000
	}
	w.order.PutUint32(w.hdr[0:], uint32(tsNs/1e9))
	w.order.PutUint32(w.hdr[4:], frac)
	w.order.PutUint32(w.hdr[8:], uint32(len(data)))
	w.order.PutUint32(w.hdr[12:], wireLen)
	if _, err := w.w.Write(w.hdr[:]); err != nil {
		return fmt.Errorf("pcapfile: write record: %w", err)
	}
	if _, err := w.w.Write(data); err != nil {
		return fmt.Errorf("pcapfile: write record: %w", err)
	}
	return nil
}
