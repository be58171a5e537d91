package packettest

import (
	"bufio"
	"math/rand/v2"
	"net/netip"
	"os"
	"sort"
	"time"

	"github.com/rampartnet/rampart/sensor/pcapfile"
)

// Timed is a frame at a packet time (ns since the epoch).
type Timed struct {
	TimeNs int64
	Frame  Frame
	Raw    []byte // written instead of Frame when set (non-IP, truncated, ...)
}

// Flow is traffic of one shape at a steady rate: Frame repeated PPS times a
// second from Start to End (offsets from the trace start), optionally with
// sources spread over a prefix or source ports randomised, as floods are.
type Flow struct {
	Frame       Frame
	PPS         float64
	Start, End  time.Duration
	SrcPrefix   netip.Prefix // if valid: each packet from a random host of it
	RandSrcPort bool
	RandDstPort bool
}

// Generate lays flows out on packet time from startNs, merged in time
// order; the same seed gives the same trace.
func Generate(startNs int64, seed uint64, flows ...Flow) []Timed {
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	var out []Timed
	for _, f := range flows {
		if f.PPS <= 0 || f.End <= f.Start {
			continue
		}
		gap := float64(time.Second) / f.PPS
		n := int(float64(f.End-f.Start) / gap)
		for i := 0; i < n; i++ {
			fr := f.Frame
			if f.SrcPrefix.IsValid() {
				fr.Src = randomIn(rng, f.SrcPrefix)
			}
			if f.RandSrcPort {
				fr.SrcPort = uint16(1024 + rng.IntN(64512))
			}
			if f.RandDstPort {
				fr.DstPort = uint16(1 + rng.IntN(65535))
			}
			out = append(out, Timed{TimeNs: startNs + int64(f.Start) + int64(float64(i)*gap), Frame: fr})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].TimeNs < out[j].TimeNs })
	return out
}

func randomIn(rng *rand.Rand, p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As16()
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	for i := bits; i < 128; i++ {
		if rng.IntN(2) == 1 {
			a[i/8] |= 0x80 >> (i % 8)
		}
	}
	addr := netip.AddrFrom16(a)
	if p.Addr().Is4() {
		return addr.Unmap()
	}
	return addr
}

// WritePcap writes pkts to path as a nanosecond pcap file.
func WritePcap(path string, pkts []Timed) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	w, err := pcapfile.NewWriter(bw, pcapfile.WriterOptions{Nanosecond: true})
	if err != nil {
		f.Close()
		return err
	}
	var buf []byte
	for _, p := range pkts {
		if p.Raw != nil {
			buf = append(buf[:0], p.Raw...)
		} else {
			buf = p.Frame.AppendTo(buf[:0])
		}
		if err := w.WritePacket(p.TimeNs, uint32(len(buf)), buf); err != nil {
			f.Close()
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
