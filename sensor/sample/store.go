package sample

import (
	"github.com/rampartnet/rampart/sensor/hosts"
	"github.com/rampartnet/rampart/sensor/packet"
)

// Store is the aggregator's memory of recent samples from every worker: a
// ring of fixed size, oldest overwritten. It belongs to one goroutine.
type Store struct {
	recs  []Record
	next  int
	count int
}

// NewStore keeps the size most recent samples.
func NewStore(size int) *Store { return &Store{recs: make([]Record, size)} }

// Add stores recs, overwriting the oldest.
func (s *Store) Add(recs []Record) {
	if len(s.recs) == 0 {
		return
	}
	for i := range recs {
		s.recs[s.next] = recs[i]
		s.next++
		if s.next == len(s.recs) {
			s.next = 0
		}
	}
	s.count = min(s.count+len(recs), len(s.recs))
}

// Len is the number of samples held.
func (s *Store) Len() int { return s.count }

// Dir says which side of a sample the host must be on.
type Dir uint8

const (
	In  Dir = iota // host is the destination
	Out            // host is the source
)

// ForHost appends the samples of key in direction dir no older than sinceNs,
// oldest first, and returns dst. prefixLen6 is the IPv6 host granularity of
// the tables (128 or 64), so that keys of /64 hosts match their samples.
func (s *Store) ForHost(dst []Record, key hosts.Key, dir Dir, sinceNs int64, prefixLen6 int) []Record {
	start := s.next - s.count
	if start < 0 {
		start += len(s.recs)
	}
	for i := 0; i < s.count; i++ {
		r := &s.recs[(start+i)%len(s.recs)]
		if r.TimeNs < sinceNs {
			continue
		}
		if KeyOf(&r.Header, dir, prefixLen6) == key {
			dst = append(dst, *r)
		}
	}
	return dst
}

// KeyOf is the host key of a header's destination (In) or source (Out).
func KeyOf(h *packet.Header, dir Dir, prefixLen6 int) hosts.Key {
	var k hosts.Key
	if h.Family == 4 {
		a := h.Dst4
		if dir == Out {
			a = h.Src4
		}
		k[10], k[11] = 0xff, 0xff
		k[12], k[13], k[14], k[15] = byte(a>>24), byte(a>>16), byte(a>>8), byte(a)
		return k
	}
	a := h.Dst6
	if dir == Out {
		a = h.Src6
	}
	copy(k[:], a[:])
	if prefixLen6 == 64 {
		clear(k[8:])
	}
	return k
}

// Range calls fn for every sample no older than sinceNs, oldest first: one
// pass for all the attacks that open in a tick, where ForHost is one each.
func (s *Store) Range(sinceNs int64, fn func(*Record)) {
	start := s.next - s.count
	if start < 0 {
		start += len(s.recs)
	}
	for i := 0; i < s.count; i++ {
		r := &s.recs[(start+i)%len(s.recs)]
		if r.TimeNs >= sinceNs {
			fn(r)
		}
	}
}
