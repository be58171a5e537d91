package main

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rampartnet/rampart/sensor/packet"
	"github.com/rampartnet/rampart/sensor/pcapfile"
)

// The benchmark traces: frame i goes to host 10.0.0.0 + i (past the /16
// too), with a valid IPv4 header checksum, the sizes asked for, and
// timestamps near now (a live pcap source runs on packet time).
func TestWriteTrace(t *testing.T) {
	for _, tc := range []struct {
		name  string
		hosts int
		size  int
		sizes []int
	}{
		{"64", 3, 64, []int{64, 64, 64}},
		{"imix", 13, 0, append(append([]int{}, imix...), 64)},
		{"past the /16", 70000, 512, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "t.pcap")
			before := time.Now()
			if err := writeTrace(path, tc.hosts, tc.size); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			r, err := pcapfile.NewReader(f)
			if err != nil {
				t.Fatal(err)
			}
			var d packet.Decoder
			for i := 0; ; i++ {
				data, _, ts, err := r.Next()
				if errors.Is(err, io.EOF) {
					if i != tc.hosts {
						t.Fatalf("%d frames, want %d", i, tc.hosts)
					}
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				var h packet.Header
				if !d.Decode(data, &h) {
					t.Fatalf("frame %d does not decode", i)
				}
				if h.Dst4 != 10<<24|uint32(i) {
					t.Fatalf("frame %d to %#x, want 10.0.0.0 + %d", i, h.Dst4, i)
				}
				if tc.sizes != nil && len(data) != tc.sizes[i] {
					t.Fatalf("frame %d is %d bytes, want %d", i, len(data), tc.sizes[i])
				}
				var sum uint32
				for j := 14; j < 34; j += 2 {
					sum += uint32(binary.BigEndian.Uint16(data[j:]))
				}
				for sum > 0xffff {
					sum = sum&0xffff + sum>>16
				}
				if sum != 0xffff {
					t.Fatalf("frame %d: IPv4 header checksum does not verify (%#x)", i, sum)
				}
				if at := time.Unix(0, ts); at.Before(before.Add(-time.Second)) || at.After(time.Now().Add(time.Second)) {
					t.Fatalf("frame %d at %v, not near now", i, at)
				}
			}
		})
	}
}

func TestGroupName(t *testing.T) {
	for g, want := range map[group]string{{"pcap", 64}: "pcap/64", {"pcap", 0}: "pcap/imix", {"ipfix loopback", -1}: "ipfix loopback"} {
		if got := g.String(); got != want {
			t.Errorf("%#v: %q, want %q", g, got, want)
		}
	}
}
