package pcapsrc

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampartnet/rampart/internal/validate"
	"github.com/rampartnet/rampart/sensor/capture"
	"github.com/rampartnet/rampart/sensor/pcapfile"
)

type pkt struct {
	data []byte
	ts   int64
}

func packets(n, size int, t0 int64) []pkt {
	ps := make([]pkt, n)
	for i := range ps {
		d := make([]byte, size+i%7)
		for j := range d {
			d[j] = byte(i*31 + j)
		}
		ps[i] = pkt{d, t0 + int64(i)*1000}
	}
	return ps
}

func writeFile(t *testing.T, ng bool, ps []pkt) string {
	t.Helper()
	var buf bytes.Buffer
	var write func(ts int64, wire uint32, d []byte) error
	if ng {
		w, err := pcapfile.NewNGWriter(&buf, pcapfile.NGWriterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		write = w.WritePacket
	} else {
		w, err := pcapfile.NewWriter(&buf, pcapfile.WriterOptions{Nanosecond: true})
		if err != nil {
			t.Fatal(err)
		}
		write = w.WritePacket
	}
	for _, p := range ps {
		if err := write(p.ts, uint32(len(p.data)+4), p.data); err != nil {
			t.Fatal(err)
		}
	}
	name := filepath.Join(t.TempDir(), "f.pcap")
	if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

func start(t *testing.T, cfg Config) (*Source, capture.Queue) {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	return s, s.Queues()[0]
}

// drain receives everything, checking each burst before releasing it.
func drain(t *testing.T, q capture.Queue, burst int, check func(capture.Frame)) error {
	t.Helper()
	frames := make([]capture.Frame, burst)
	for range 100000 {
		n, err := q.Recv(frames)
		for _, f := range frames[:n] {
			check(f)
		}
		q.Release()
		if err != nil {
			return err
		}
	}
	t.Fatal("queue did not end")
	return nil
}

func TestReplayTwoFilesTwice(t *testing.T) {
	a := packets(50, 60, 1_000_000_000)
	b := packets(30, 1400, 1_000_050_000)
	cfg := Config{Files: []string{writeFile(t, false, a), writeFile(t, true, b)}, Loops: 2}
	s, q := start(t, cfg)
	want := append(append([]pkt{}, a...), b...)
	// The second pass starts after the first ends: span plus the gap.
	span := b[len(b)-1].ts - a[0].ts + passGapNs
	i := 0
	var wireBytes uint64
	err := drain(t, q, 7, func(f capture.Frame) {
		w := want[i%len(want)]
		ts := w.ts + int64(i/len(want))*span
		if !bytes.Equal(f.Data, w.data) || f.TimeNs != ts || f.WireLen != uint32(len(w.data)+4) {
			t.Fatalf("frame %d: len %d ts %d wire %d, want len %d ts %d", i, len(f.Data), f.TimeNs, f.WireLen, len(w.data), ts)
		}
		wireBytes += uint64(f.WireLen)
		i++
	})
	if !errors.Is(err, capture.ErrEOF) {
		t.Fatalf("end error %v, want ErrEOF", err)
	}
	if i != 2*len(want) {
		t.Fatalf("got %d frames, want %d", i, 2*len(want))
	}
	if st := s.Stats()[0]; st.Packets != uint64(i) || st.Bytes != wireBytes {
		t.Errorf("stats %+v, want %d packets %d bytes", st, i, wireBytes)
	}
	if n, err := q.Recv(make([]capture.Frame, 4)); n != 0 || !errors.Is(err, capture.ErrEOF) {
		t.Errorf("Recv after end = %d, %v", n, err)
	}
}

func TestBurstHoldsUntilRelease(t *testing.T) {
	ps := packets(12, 200000, 0)
	_, q := start(t, Config{Files: []string{writeFile(t, false, ps)}, Loops: 1})
	frames := make([]capture.Frame, 64)
	n, err := q.Recv(frames)
	if err != nil || n != arenaSize/200006 {
		t.Fatalf("first burst = %d, %v; want %d frames (arena full)", n, err, arenaSize/200006)
	}
	if m, err := q.Recv(frames[n:]); m != 0 || err != nil {
		t.Fatalf("Recv without Release = %d, %v; want 0, nil", m, err)
	}
	for i, f := range frames[:n] {
		if !bytes.Equal(f.Data, ps[i].data) {
			t.Fatalf("frame %d overwritten before Release", i)
		}
	}
	q.Release()
	got := n
	err = drain(t, q, 64, func(f capture.Frame) {
		if !bytes.Equal(f.Data, ps[got].data) {
			t.Fatalf("frame %d differs", got)
		}
		got++
	})
	if !errors.Is(err, capture.ErrEOF) || got != len(ps) {
		t.Fatalf("got %d frames, end %v", got, err)
	}
}

func TestEmptyFilesForever(t *testing.T) {
	empty := writeFile(t, true, nil)
	_, q := start(t, Config{Files: []string{empty, empty}, Loops: 0})
	n, err := q.Recv(make([]capture.Frame, 8))
	if n != 0 || !errors.Is(err, capture.ErrEOF) || !strings.Contains(err.Error(), "no packets in 2 file(s)") {
		t.Fatalf("Recv = %d, %v; want ErrEOF saying there are no packets", n, err)
	}
}

func TestCorruptFile(t *testing.T) {
	name := writeFile(t, false, packets(5, 60, 0))
	b, _ := os.ReadFile(name)
	b = append(b, make([]byte, 16)...) // a record header claiming length 0 is fine...
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0)
	os.WriteFile(name, b, 0o644)
	_, q := start(t, Config{Files: []string{name}, Loops: 1})
	got := 0
	err := drain(t, q, 4, func(capture.Frame) { got++ })
	if got != 6 || err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "offset") {
		t.Fatalf("got %d frames and %v, want 6 then an error naming the file and offset", got, err)
	}
}

func TestStartErrors(t *testing.T) {
	notPcap := filepath.Join(t.TempDir(), "x.txt")
	os.WriteFile(notPcap, []byte("this is not a capture file at all"), 0o644)
	for _, tc := range []struct{ file, want string }{
		{filepath.Join(t.TempDir(), "missing.pcap"), "no such file"},
		{notPcap, "x.txt: pcapfile: offset 0: magic"},
	} {
		s, err := New(Config{Files: []string{tc.file}, Loops: 1})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(context.Background()); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Start(%s) = %v, want error containing %q", tc.file, err, tc.want)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want []string
	}{
		{Config{Files: []string{"a.pcap"}, Loops: 1}, nil},
		{Config{Files: []string{"a.pcap"}}, nil},
		{DefaultConfig(), []string{"capture.pcap.files: must list at least one pcap or pcapng file, got none"}},
		{Config{Files: []string{"a", ""}, Loops: -2}, []string{
			`capture.pcap.files[1]: must be a file path, got ""`,
			"capture.pcap.loops: must be >= 0 (0 repeats forever), got -2"}},
	} {
		p := validate.New()
		tc.cfg.Validate(p.At("capture").At("pcap"))
		var got []string
		var errs validate.Errors
		if errors.As(p.Err(), &errs) {
			for _, e := range errs {
				got = append(got, e.Error())
			}
		}
		if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
			t.Errorf("Validate(%+v) = %q, want %q", tc.cfg, got, tc.want)
		}
	}
}

func TestRecvAllocs(t *testing.T) {
	_, q := start(t, Config{Files: []string{writeFile(t, true, packets(100, 64, 0))}, Loops: 0})
	frames := make([]capture.Frame, 32)
	allocs := testing.AllocsPerRun(200, func() { // wraps the file many times
		if n, err := q.Recv(frames); n == 0 || err != nil {
			t.Fatalf("Recv = %d, %v", n, err)
		}
		q.Release()
	})
	if allocs != 0 {
		t.Errorf("Recv/Release allocate %v times per burst, want 0", allocs)
	}
}
