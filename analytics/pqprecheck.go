package analytics

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// pqPrecheck walks the Thrift compact encoding of a Parquet footer before
// arrow-go decodes it: a container longer than the bytes left (every
// element takes at least one byte) or nesting deeper than 64 is refused,
// in time linear in the footer's size, whatever arrow-go's and Thrift's own
// checks do with it (defence in depth, like precheck for IPC files).

const (
	pqMagic        = "PAR1"
	maxThriftDepth = 64
)

// pqPrecheck checks the footer of the Parquet file in r (size bytes).
func pqPrecheck(r io.ReaderAt, size int64) error {
	if size < 12 {
		return fmt.Errorf("%d bytes: too short for Parquet", size)
	}
	var tail [8]byte
	if _, err := r.ReadAt(tail[:], size-8); err != nil {
		return err
	}
	if string(tail[4:]) != pqMagic {
		return errors.New("no Parquet magic at the end")
	}
	n := int64(binary.LittleEndian.Uint32(tail[:4]))
	if n <= 0 || n > size-12 {
		return fmt.Errorf("footer of %d bytes in a file of %d", n, size)
	}
	buf := make([]byte, n)
	if _, err := r.ReadAt(buf, size-8-n); err != nil {
		return err
	}
	w := thriftWalker{b: buf}
	if err := w.skip(tStruct, 0); err != nil {
		return fmt.Errorf("footer at byte %d: %w", w.i, err)
	}
	return nil
}

// Thrift compact protocol types.
const (
	tStop   = 0
	tTrue   = 1
	tFalse  = 2
	tByte   = 3
	tI16    = 4
	tI32    = 5
	tI64    = 6
	tDouble = 7
	tBinary = 8
	tList   = 9
	tSet    = 10
	tMap    = 11
	tStruct = 12
	tUUID   = 13
)

type thriftWalker struct {
	b []byte
	i int
}

var errThriftEOF = errors.New("ends inside a value")

func (w *thriftWalker) byte() (byte, error) {
	if w.i >= len(w.b) {
		return 0, errThriftEOF
	}
	c := w.b[w.i]
	w.i++
	return c, nil
}

func (w *thriftWalker) varint() (uint64, error) {
	var v uint64
	for shift := 0; shift < 64; shift += 7 {
		c, err := w.byte()
		if err != nil {
			return 0, err
		}
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v, nil
		}
	}
	return 0, errors.New("varint longer than 10 bytes")
}

func (w *thriftWalker) bytes(n uint64) error {
	if n > uint64(len(w.b)-w.i) {
		return fmt.Errorf("%d bytes declared, %d left", n, len(w.b)-w.i)
	}
	w.i += int(n)
	return nil
}

// count reads a container length and checks it against the bytes left.
func (w *thriftWalker) count(n uint64) (int, error) {
	if n > uint64(len(w.b)-w.i) {
		return 0, fmt.Errorf("container of %d elements, %d bytes left", n, len(w.b)-w.i)
	}
	return int(n), nil
}

// skip walks one value of type t.
func (w *thriftWalker) skip(t byte, depth int) error {
	if depth > maxThriftDepth {
		return fmt.Errorf("nested deeper than %d", maxThriftDepth)
	}
	switch t {
	case tTrue, tFalse:
		return nil // a bool field's value is in its header
	case tByte:
		_, err := w.byte()
		return err
	case tI16, tI32, tI64:
		_, err := w.varint()
		return err
	case tDouble:
		return w.bytes(8)
	case tUUID:
		return w.bytes(16)
	case tBinary:
		n, err := w.varint()
		if err != nil {
			return err
		}
		return w.bytes(n)
	case tList, tSet:
		h, err := w.byte()
		if err != nil {
			return err
		}
		n := uint64(h >> 4)
		if n == 15 {
			if n, err = w.varint(); err != nil {
				return err
			}
		}
		k, err := w.count(n)
		if err != nil {
			return err
		}
		for range k {
			if err := w.element(h&0x0f, depth+1); err != nil {
				return err
			}
		}
		return nil
	case tMap:
		n, err := w.varint()
		if err != nil || n == 0 {
			return err
		}
		k, err := w.count(n)
		if err != nil {
			return err
		}
		kv, err := w.byte()
		if err != nil {
			return err
		}
		for range k {
			if err := w.element(kv>>4, depth+1); err != nil {
				return err
			}
			if err := w.element(kv&0x0f, depth+1); err != nil {
				return err
			}
		}
		return nil
	case tStruct:
		for {
			h, err := w.byte()
			if err != nil {
				return err
			}
			ft := h & 0x0f
			if ft == tStop {
				return nil
			}
			if h>>4 == 0 { // long form: the field id follows
				if _, err := w.varint(); err != nil {
					return err
				}
			}
			if err := w.skip(ft, depth+1); err != nil {
				return err
			}
		}
	}
	return fmt.Errorf("unknown type %d", t)
}

// element walks a container element: a bool there takes a byte.
func (w *thriftWalker) element(t byte, depth int) error {
	if t == tTrue || t == tFalse {
		_, err := w.byte()
		return err
	}
	return w.skip(t, depth)
}
