// Package sample keeps the always-on sample of packet headers that attack
// fingerprints are made from, so that a detection never waits for a capture
// to fill. Workers sample 1 in N packets into a per-tick buffer that travels
// to the aggregator with the tick's deltas; there a Store keeps the most
// recent samples for the detector.
package sample

import "github.com/rampartnet/rampart/sensor/packet"

// Record is one sampled packet.
type Record struct {
	Header  packet.Header
	WireLen uint32
	TimeNs  int64
}

// Sampler decides which packets to keep: one in every Rate, at a pseudo-random
// phase so that periodic traffic does not alias with the sampling period.
type Sampler struct {
	rate   uint32
	left   uint32
	rng    uint32
	buf    []Record
	missed uint64
}

// NewSampler keeps one in rate packets, at most max per tick. rate 0 turns
// sampling off.
func NewSampler(rate uint32, max int, seed uint32) *Sampler {
	if seed == 0 {
		seed = 0x9e3779b9
	}
	s := &Sampler{rate: rate, rng: seed, buf: make([]Record, 0, max)}
	s.left = s.next()
	return s
}

// next draws a gap uniform in [1, 2*rate-1], mean rate.
func (s *Sampler) next() uint32 {
	if s.rate <= 1 {
		return 1
	}
	s.rng ^= s.rng << 13 // xorshift32
	s.rng ^= s.rng >> 17
	s.rng ^= s.rng << 5
	return 1 + s.rng%(2*s.rate-1)
}

// Offer considers one decoded packet. It is on the hot path: one decrement
// and a compare for packets not taken, no allocation ever.
func (s *Sampler) Offer(h *packet.Header, wireLen uint32, timeNs int64) {
	if s.rate == 0 {
		return
	}
	s.left--
	if s.left != 0 {
		return
	}
	s.left = s.next()
	if len(s.buf) == cap(s.buf) {
		s.missed++
		return
	}
	s.buf = append(s.buf, Record{Header: *h, WireLen: wireLen, TimeNs: timeNs})
}

// Take appends the tick's samples to dst, empties the buffer and returns dst.
func (s *Sampler) Take(dst []Record) []Record {
	dst = append(dst, s.buf...)
	s.buf = s.buf[:0]
	return dst
}

// Pending is the number of samples not yet taken.
func (s *Sampler) Pending() int { return len(s.buf) }

// Missed counts samples dropped because the per-tick buffer was full.
func (s *Sampler) Missed() uint64 { return s.missed }

// Rate is the configured 1-in-N rate.
func (s *Sampler) Rate() uint32 { return s.rate }
