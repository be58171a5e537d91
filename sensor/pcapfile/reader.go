// Package pcapfile reads classic pcap (microsecond and nanosecond, both byte
// orders) and pcapng files of Ethernet frames, and writes both formats. The
// reader allocates nothing per packet: records are returned in place from
// its buffer. Sizes are bounded, so a corrupt file gives an error naming the
// byte offset, never a panic or a huge allocation.
package pcapfile

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
)

// Limits on what a file may ask the reader to hold.
const (
	MaxRecord     = 262144            // bytes of one packet (libpcap's MAXIMUM_SNAPLEN)
	MaxBlock      = MaxRecord + 65536 // bytes of one pcapng block read whole (SHB, IDB, EPB, SPB)
	MaxInterfaces = 4096              // pcapng interfaces per section
)

// LinkEthernet is LINKTYPE_ETHERNET, the only link type the reader accepts:
// the sensor decodes frames from the Ethernet header.
const LinkEthernet = 1

const (
	magicMicro   = 0xa1b2c3d4
	magicNano    = 0xa1b23c4d
	pcapHdrLen   = 24
	recordHdrLen = 16
)

// Error is a problem with the file's contents at a byte offset.
type Error struct {
	Offset int64
	Msg    string
}

func (e *Error) Error() string { return fmt.Sprintf("pcapfile: offset %d: %s", e.Offset, e.Msg) }

// Reader reads packets from a pcap or pcapng stream.
type Reader struct {
	br      *bufio.Reader
	off     int64 // file offset of the next unread byte
	pending int   // bytes of the last record still in br, dropped by the next call
	order   binary.ByteOrder
	ng      bool

	// classic pcap
	tsMul   int64 // ns per timestamp fraction unit
	snaplen uint32

	// pcapng
	ifaces []iface
	lastTs int64 // for Simple Packet Blocks, which carry no time
}

// NewReader reads the file header from r and returns a Reader for its packets.
func NewReader(r io.Reader) (*Reader, error) {
	rd := &Reader{br: bufio.NewReaderSize(r, MaxBlock)}
	if err := rd.readFileHeader(); err != nil {
		return nil, err
	}
	return rd, nil
}

// Reset reuses the reader's buffers for a new stream and reads its header.
func (r *Reader) Reset(src io.Reader) error {
	r.br.Reset(src)
	r.off, r.pending, r.lastTs = 0, 0, 0
	r.ifaces = r.ifaces[:0]
	return r.readFileHeader()
}

// Offset is the file offset just past the last record returned.
func (r *Reader) Offset() int64 { return r.off + int64(r.pending) }

// IsNG reports whether the stream is pcapng.
func (r *Reader) IsNG() bool { return r.ng }

// Next returns the next packet: its captured bytes (valid until the next
// call), its length on the wire (never less than len(data)) and its time in
// ns since the Unix epoch. It returns io.EOF after the last packet.
func (r *Reader) Next() (data []byte, wireLen uint32, tsNs int64, err error) {
	if err := r.skip(r.pending); err != nil {
		return nil, 0, 0, err
	}
	r.pending = 0
	if r.ng {
		return r.nextNG()
	}
	return r.nextPcap()
}

func (r *Reader) errorf(off int64, format string, args ...any) error {
	return &Error{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// peek returns the next n bytes without consuming them. A stream that ends
// cleanly before them gives io.EOF when eofOK, else an error naming what.
func (r *Reader) peek(n int, what string, eofOK bool) ([]byte, error) {
	b, err := r.br.Peek(n)
	if err == nil {
		return b, nil
	}
	if errors.Is(err, io.EOF) {
		if len(b) == 0 && eofOK {
			return nil, io.EOF
		}
		return nil, r.errorf(r.off, "%s truncated: want %d bytes, file has %d", what, n, len(b))
	}
	return nil, fmt.Errorf("pcapfile: offset %d: %w", r.off, err)
}

// skip consumes n bytes already known to be there or reported as truncated.
func (r *Reader) skip(n int) error {
	d, err := r.br.Discard(n)
	r.off += int64(d)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return r.errorf(r.off, "block truncated: %d more bytes expected", n-d)
		}
		return fmt.Errorf("pcapfile: offset %d: %w", r.off, err)
	}
	return nil
}

func (r *Reader) readFileHeader() error {
	b, err := r.peek(4, "file header", false)
	if err != nil {
		return err
	}
	if binary.LittleEndian.Uint32(b) == blockSHB {
		r.ng, r.order = true, nil
		// Check the byte-order magic now, so that a wrong file fails at open;
		// nextNG reads the Section Header Block like any other.
		if b, err = r.peek(12, "section header", false); err != nil {
			return err
		}
		if m := binary.LittleEndian.Uint32(b[8:]); m != byteOrderMagic && m != bits.ReverseBytes32(byteOrderMagic) {
			return r.errorf(8, "section header byte-order magic %#08x, want %#08x", binary.BigEndian.Uint32(b[8:]), byteOrderMagic)
		}
		return nil
	}
	r.ng = false
	if b, err = r.peek(pcapHdrLen, "pcap file header", false); err != nil {
		return err
	}
	switch {
	case binary.LittleEndian.Uint32(b) == magicMicro:
		r.order, r.tsMul = binary.LittleEndian, 1000
	case binary.BigEndian.Uint32(b) == magicMicro:
		r.order, r.tsMul = binary.BigEndian, 1000
	case binary.LittleEndian.Uint32(b) == magicNano:
		r.order, r.tsMul = binary.LittleEndian, 1
	case binary.BigEndian.Uint32(b) == magicNano:
		r.order, r.tsMul = binary.BigEndian, 1
	default:
		return r.errorf(0, "magic %#08x is neither pcap nor pcapng", binary.BigEndian.Uint32(b))
	}
	if major := r.order.Uint16(b[4:]); major != 2 {
		return r.errorf(4, "pcap major version %d, want 2", major)
	}
	r.snaplen = r.order.Uint32(b[16:])
	if lt := r.order.Uint32(b[20:]) & 0xffff; lt != LinkEthernet {
		return r.errorf(20, "link type %d not supported, want %d (Ethernet)", lt, LinkEthernet)
	}
	return r.skip(pcapHdrLen)
}

func (r *Reader) nextPcap() ([]byte, uint32, int64, error) {
	h, err := r.peek(recordHdrLen, "record header", true)
	if err != nil {
		return nil, 0, 0, err
	}
	sec, frac := r.order.Uint32(h[0:]), r.order.Uint32(h[4:])
	capLen, wireLen := r.order.Uint32(h[8:]), r.order.Uint32(h[12:])
	if capLen > MaxRecord {
		return nil, 0, 0, r.errorf(r.off+8, "record length %d exceeds maximum %d (snaplen %d)", capLen, MaxRecord, r.snaplen)
	}
	n := recordHdrLen + int(capLen)
	b, err := r.peek(n, "record", false)
	if err != nil {
		return nil, 0, 0, err
	}
	r.pending = n
	ts := int64(sec)*1e9 + int64(frac)*r.tsMul
	return b[recordHdrLen:n], max(wireLen, capLen), ts, nil
}
