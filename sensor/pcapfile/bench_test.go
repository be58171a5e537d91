package pcapfile

import (
	"bytes"
	"io"
	"testing"
)

func benchNext(b *testing.B, ng bool) {
	var buf bytes.Buffer
	var write func(int64, uint32, []byte) error
	if ng {
		w, _ := NewNGWriter(&buf, NGWriterOptions{})
		write = w.WritePacket
	} else {
		w, _ := NewWriter(&buf, WriterOptions{Nanosecond: true})
		write = w.WritePacket
	}
	for i := range 10000 {
		write(int64(i), 0, make([]byte, 60))
	}
	file := bytes.NewReader(buf.Bytes())
	r, err := NewReader(file)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(60)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, _, err := r.Next(); err == io.EOF {
			file.Seek(0, io.SeekStart)
			r.Reset(file)
		} else if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNextPcap(b *testing.B)   { benchNext(b, false) }
func BenchmarkNextPcapNG(b *testing.B) { benchNext(b, true) }
