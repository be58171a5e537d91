package pcapfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

type rec struct {
	data []byte
	wire uint32
	ts   int64
}

// testRecords have varied sizes, contents and times (ns precision).
func testRecords() []rec {
	var rs []rec
	for i := range 20 {
		data := make([]byte, 40+i*73)
		for j := range data {
			data[j] = byte(i + j)
		}
		rs = append(rs, rec{data, uint32(len(data) + i%3), 1_700_000_000_123_456_789 + int64(i)*1_000_001_001})
	}
	return rs
}

func readAll(t *testing.T, b []byte) ([]rec, error) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	var rs []rec
	for range 10000 {
		data, wire, ts, err := r.Next()
		if err == io.EOF {
			return rs, nil
		}
		if err != nil {
			return rs, err
		}
		rs = append(rs, rec{bytes.Clone(data), wire, ts})
	}
	t.Fatal("reader did not end")
	return nil, nil
}

func checkRecords(t *testing.T, got, want []rec, tsUnit int64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("read %d records, want %d", len(got), len(want))
	}
	for i := range want {
		wantTs := want[i].ts / tsUnit * tsUnit
		if !bytes.Equal(got[i].data, want[i].data) || got[i].wire != want[i].wire || got[i].ts != wantTs {
			t.Errorf("record %d: len %d wire %d ts %d, want len %d wire %d ts %d",
				i, len(got[i].data), got[i].wire, got[i].ts, len(want[i].data), want[i].wire, wantTs)
		}
	}
}

func TestPcapRoundTrip(t *testing.T) {
	for _, o := range []WriterOptions{{}, {Nanosecond: true}, {BigEndian: true}, {Nanosecond: true, BigEndian: true}} {
		t.Run(fmt.Sprintf("%+v", o), func(t *testing.T) {
			var buf bytes.Buffer
			w, err := NewWriter(&buf, o)
			if err != nil {
				t.Fatal(err)
			}
			want := testRecords()
			for _, r := range want {
				if err := w.WritePacket(r.ts, r.wire, r.data); err != nil {
					t.Fatal(err)
				}
			}
			got, err := readAll(t, buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			unit := int64(1000)
			if o.Nanosecond {
				unit = 1
			}
			checkRecords(t, got, want, unit)
		})
	}
}

func TestPcapSnaplenCuts(t *testing.T) {
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, WriterOptions{Snaplen: 64})
	w.WritePacket(1, 0, make([]byte, 1500))
	got, err := readAll(t, buf.Bytes())
	if err != nil || len(got) != 1 || len(got[0].data) != 64 || got[0].wire != 1500 {
		t.Fatalf("got %v, %v; want one record of 64 bytes, wire 1500", got, err)
	}
}

func TestNGRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		o    NGWriterOptions
		unit int64
	}{
		{NGWriterOptions{}, 1},
		{NGWriterOptions{BigEndian: true}, 1},
		{NGWriterOptions{TsResol: 6}, 1000},
		{NGWriterOptions{TsResol: 0x80 | 30, BigEndian: true}, 1},
	} {
		t.Run(fmt.Sprintf("%+v", tc.o), func(t *testing.T) {
			var buf bytes.Buffer
			w, err := NewNGWriter(&buf, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			want := testRecords()
			for _, r := range want {
				if err := w.WritePacket(r.ts, r.wire, r.data); err != nil {
					t.Fatal(err)
				}
			}
			got, err := readAll(t, buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if tc.o.TsResol&0x80 != 0 { // 2^-30 s is ~0.93 ns: allow one unit of rounding
				for i := range got {
					if d := got[i].ts - want[i].ts; d > 0 || d < -1 {
						t.Errorf("record %d: ts %d, want %d", i, got[i].ts, want[i].ts)
					}
					got[i].ts = want[i].ts
				}
			}
			checkRecords(t, got, want, tc.unit)
		})
	}
}

// ng builds pcapng blocks by hand, independently of NGWriter.
type ng struct {
	order binary.ByteOrder
	b     []byte
}

func (n *ng) u16(v uint16) []byte { b := make([]byte, 2); n.order.PutUint16(b, v); return b }
func (n *ng) u32(v uint32) []byte { b := make([]byte, 4); n.order.PutUint32(b, v); return b }

func (n *ng) block(typ uint32, body ...[]byte) *ng {
	var bb []byte
	for _, p := range body {
		bb = append(bb, p...)
	}
	for len(bb)%4 != 0 {
		bb = append(bb, 0)
	}
	l := uint32(len(bb) + 12)
	n.b = append(n.b, n.u32(typ)...)
	n.b = append(n.b, n.u32(l)...)
	n.b = append(n.b, bb...)
	n.b = append(n.b, n.u32(l)...)
	return n
}

func (n *ng) shb(order binary.ByteOrder) *ng {
	n.order = order
	return n.block(blockSHB, n.u32(byteOrderMagic), n.u16(1), n.u16(0), []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
}

func (n *ng) idb(link uint16, snap uint32, opts ...[]byte) *ng {
	body := [][]byte{n.u16(link), n.u16(0), n.u32(snap)}
	body = append(body, opts...)
	return n.block(blockIDB, body...)
}

func (n *ng) opt(code uint16, v []byte) []byte {
	b := append(n.u16(code), n.u16(uint16(len(v)))...)
	b = append(b, v...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func (n *ng) epb(id uint32, ts uint64, data []byte, wire uint32) *ng {
	return n.block(blockEPB, n.u32(id), n.u32(uint32(ts>>32)), n.u32(uint32(ts)), n.u32(uint32(len(data))), n.u32(wire), data,
		n.opt(1, []byte("comment")), n.u32(0))
}

func TestNGHandBuilt(t *testing.T) {
	le, be := binary.ByteOrder(binary.LittleEndian), binary.ByteOrder(binary.BigEndian)
	p1, p2, p3, p4, p5 := []byte("first-packet"), []byte("second"), []byte("third packet!"), []byte("simple-packet"), []byte("opb")
	n := &ng{}
	n.shb(le)
	n.idb(1, 0, n.opt(2, []byte("eth0")), n.opt(optTsResol, []byte{3}), n.opt(optTsOffset, []byte{10, 0, 0, 0, 0, 0, 0, 0}), n.u32(0))
	n.idb(1, 0)                              // default resolution: microseconds
	n.block(4, n.u32(0))                     // name resolution: skipped
	n.block(0x40000bad, make([]byte, 1000))  // custom block: skipped
	n.epb(0, 1500, p1, 100)                  // 1.5 s + 10 s offset
	n.epb(1, 2_000_001, p2, 6)               // 2.000001 s
	n.block(5, n.u32(1), n.u32(0), n.u32(0)) // interface statistics: skipped
	n.shb(be)                                // new section, other byte order, interfaces restart
	n.idb(1, 8, n.opt(optTsResol, []byte{0x80 | 1}))
	n.epb(0, 7, p3, 13) // 7 half-seconds
	n.block(blockSPB, n.u32(uint32(len(p4))), p4)
	n.block(blockOPB, n.u16(0), n.u16(0), n.u32(0), n.u32(9), n.u32(uint32(len(p5))), n.u32(50), p5)

	got, err := readAll(t, n.b)
	if err != nil {
		t.Fatal(err)
	}
	want := []rec{
		{p1, 100, 11_500_000_000},
		{p2, 6, 2_000_001_000},
		{p3, 13, 3_500_000_000},
		{p4[:8], 13, 3_500_000_000}, // cut to the interface's snaplen; SPB has no time: the previous packet's
		{p5, 50, 4_500_000_000},
	}
	checkRecords(t, got, want, 1)
}

func pcapHeader(magic uint32, order binary.ByteOrder, link uint32) []byte {
	b := make([]byte, 24)
	order.PutUint32(b, magic)
	order.PutUint16(b[4:], 2)
	order.PutUint16(b[6:], 4)
	order.PutUint32(b[16:], 65535)
	order.PutUint32(b[20:], link)
	return b
}

func pcapRecord(capLen, wire uint32, data []byte) []byte {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint32(b[8:], capLen)
	binary.LittleEndian.PutUint32(b[12:], wire)
	return append(b, data...)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestCorrupt(t *testing.T) {
	le := binary.LittleEndian
	hdr := pcapHeader(magicMicro, le, 1)
	good := pcapRecord(4, 4, []byte{1, 2, 3, 4})
	ngWith := func(f func(n *ng)) []byte {
		n := &ng{}
		n.shb(le)
		f(n)
		return n.b
	}
	for _, tc := range []struct {
		name    string
		file    []byte
		records int
		want    string
	}{
		{"empty", nil, 0, "offset 0: file header truncated: want 4 bytes, file has 0"},
		{"bad magic", []byte("GIF89a and some more bytes to fill a header"), 0, "offset 0: magic 0x47494638 is neither pcap nor pcapng"},
		{"short header", hdr[:20], 0, "offset 0: pcap file header truncated: want 24 bytes, file has 20"},
		{"bad version", func() []byte { b := bytes.Clone(hdr); b[4] = 9; return b }(), 0, "offset 4: pcap major version 9, want 2"},
		{"raw ip link type", pcapHeader(magicNano, binary.BigEndian, 101), 0, "offset 20: link type 101 not supported, want 1 (Ethernet)"},
		{"huge record", cat(hdr, good, pcapRecord(9999999, 9999999, nil)), 1, "offset 52: record length 9999999 exceeds maximum 262144 (snaplen 65535)"},
		{"record header cut", cat(hdr, good, make([]byte, 7)), 1, "offset 44: record header truncated: want 16 bytes, file has 7"},
		{"record data cut", cat(hdr, pcapRecord(100, 100, make([]byte, 60))), 0, "offset 24: record truncated: want 116 bytes, file has 76"},
		{"ng bad byte-order magic", func() []byte { b := ngWith(func(*ng) {}); b[8] = 0; return b }(), 0, "offset 8: section header byte-order magic"},
		{"ng block length not multiple of 4", ngWith(func(n *ng) {
			n.b = append(n.b, n.u32(6)...)
			n.b = append(n.b, n.u32(13)...)
			n.b = append(n.b, make([]byte, 8)...)
		}),
			0, "offset 32: block length 13: must be a multiple of 4 and at least 12"},
		{"ng trailing length differs", ngWith(func(n *ng) { n.idb(1, 0); n.b[len(n.b)-1] = 0x7f }), 0, "offset 44: block trailing length 2130706452 differs from leading length 20"},
		{"ng packet before interface", ngWith(func(n *ng) { n.epb(0, 0, []byte{1}, 1) }), 0, "offset 36: packet on interface 0, but the section describes 0"},
		{"ng unknown interface", ngWith(func(n *ng) { n.idb(1, 0); n.epb(3, 0, []byte{1}, 1) }), 0, "offset 56: packet on interface 3, but the section describes 1"},
		{"ng raw ip interface", ngWith(func(n *ng) { n.idb(101, 0); n.epb(0, 0, []byte{1}, 1) }), 0, "offset 56: interface 0 link type 101 not supported, want 1 (Ethernet)"},
		{"ng capture length past block", ngWith(func(n *ng) {
			n.idb(1, 0)
			n.block(blockEPB, n.u32(0), n.u32(0), n.u32(0), n.u32(5000), n.u32(5000), make([]byte, 8))
		}), 0, "offset 68: record length 5000 exceeds its block (8 bytes of data)"},
		{"ng huge capture length", ngWith(func(n *ng) {
			n.idb(1, 0)
			n.block(blockEPB, n.u32(0), n.u32(0), n.u32(0), n.u32(300000), n.u32(5000), make([]byte, 8))
		}), 0, "offset 68: record length 300000 exceeds maximum 262144"},
		{"ng huge block", ngWith(func(n *ng) { n.idb(1, 0); n.b = append(n.b, n.u32(6)...); n.b = append(n.b, n.u32(1<<30)...) }),
			0, "offset 52: block length 1073741824 exceeds maximum 327680"},
		{"ng unknown block cut", ngWith(func(n *ng) {
			n.b = append(n.b, n.u32(0x999)...)
			n.b = append(n.b, n.u32(1<<20)...)
			n.b = append(n.b, make([]byte, 30)...)
		}),
			0, "block truncated"},
		{"ng bad tsresol", ngWith(func(n *ng) { n.idb(1, 0, n.opt(optTsResol, []byte{0x80 | 70})) }), 0, "if_tsresol 0xc6 not supported"},
		{"ng option past block", ngWith(func(n *ng) { n.idb(1, 0, n.u16(2), n.u16(200)) }), 0, "offset 44: interface option 2 length 200 exceeds block"},
		{"ng block before section", func() []byte { b := ngWith(func(n *ng) { n.idb(1, 0) }); return append(b[28:], make([]byte, 8)...) }(), 0, "offset 0: magic 0x01000000 is neither pcap nor pcapng"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readAll(t, tc.file)
			if err == nil {
				t.Fatalf("no error, %d records", len(got))
			}
			if len(got) != tc.records {
				t.Errorf("read %d records before the error, want %d", len(got), tc.records)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "offset ") {
				t.Errorf("error %q, want it to contain %q and an offset", err, tc.want)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Errorf("error %T is not *Error", err)
			}
		})
	}
}

func TestReset(t *testing.T) {
	var a, b bytes.Buffer
	wa, _ := NewWriter(&a, WriterOptions{})
	wa.WritePacket(1000, 1, []byte{1})
	wb, _ := NewNGWriter(&b, NGWriterOptions{})
	wb.WritePacket(2000, 2, []byte{2, 2})
	r, err := NewReader(bytes.NewReader(a.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range [][]byte{b.Bytes(), a.Bytes(), b.Bytes()} {
		if err := r.Reset(bytes.NewReader(src)); err != nil {
			t.Fatal(err)
		}
		data, _, ts, err := r.Next()
		if err != nil || (len(data) != 2 || ts != 2000) && (len(data) != 1 || ts != 1000) {
			t.Fatalf("after Reset: %v %d %v", data, ts, err)
		}
	}
}

func TestNextAllocs(t *testing.T) {
	for _, ngFormat := range []bool{false, true} {
		var buf bytes.Buffer
		var write func(int64, uint32, []byte) error
		if ngFormat {
			w, _ := NewNGWriter(&buf, NGWriterOptions{})
			write = w.WritePacket
		} else {
			w, _ := NewWriter(&buf, WriterOptions{Nanosecond: true})
			write = w.WritePacket
		}
		for i := range 2000 {
			write(int64(i), 0, make([]byte, 60+i%1400))
		}
		r, err := NewReader(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(1000, func() {
			if _, _, _, err := r.Next(); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("pcapng=%v: Next allocates %v times per record, want 0", ngFormat, allocs)
		}
	}
}
