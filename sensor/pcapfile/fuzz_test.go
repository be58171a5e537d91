package pcapfile

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// FuzzReader checks that any file gives records within bounds or an error
// naming an offset, and that reading ends.
func FuzzReader(f *testing.F) {
	for _, o := range []WriterOptions{{}, {Nanosecond: true, BigEndian: true}} {
		var buf bytes.Buffer
		w, _ := NewWriter(&buf, o)
		w.WritePacket(123456789, 90, make([]byte, 60))
		w.WritePacket(223456789, 64, make([]byte, 64))
		f.Add(buf.Bytes())
	}
	var buf bytes.Buffer
	w, _ := NewNGWriter(&buf, NGWriterOptions{TsResol: 6})
	w.WritePacket(5, 70, make([]byte, 66))
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, file []byte) {
		r, err := NewReader(bytes.NewReader(file))
		if err != nil {
			if !strings.Contains(err.Error(), "offset ") {
				t.Fatalf("header error without offset: %v", err)
			}
			return
		}
		// Every record takes at least 12 bytes of file, so this bounds the loop.
		for i := 0; i <= len(file)/12; i++ {
			data, wire, _, err := r.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				if !strings.Contains(err.Error(), "offset ") {
					t.Fatalf("error without offset: %v", err)
				}
				return
			}
			if len(data) > MaxRecord || wire < uint32(len(data)) {
				t.Fatalf("record of %d bytes, wire %d", len(data), wire)
			}
			if off := r.Offset(); off > int64(len(file)) {
				t.Fatalf("offset %d past file of %d", off, len(file))
			}
		}
		t.Fatalf("more records than the file can hold")
	})
}
