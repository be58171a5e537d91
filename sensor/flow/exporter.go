package flow

import "net/netip"

// Per-exporter bounds: an exporter uses few observation domains and
// samplers; more are recycled rather than grown.
const (
	maxStreams  = 16
	maxSamplers = 8
)

// exporter is the state of one exporter: one UDP source address and port,
// which is also the scope of its templates (RFC 7011 §10.3.4).
type exporter struct {
	stats     ExporterStats
	override  uint64 // configured sampling rate, 0 if none
	templates map[uint64]*template
	streams   [maxStreams]stream
}

// stream is one sequence-number space and sampling context of an exporter:
// a NetFlow v5 engine, a v9 source ID, an IPFIX observation domain or an
// sFlow sub-agent.
type stream struct {
	key      uint64 // format<<32 | domain; 0 when the slot is free
	lastNs   int64
	seqValid bool
	nextSeq  uint32
	rate     uint64 // from the v5 header or from options records without a sampler ID
	samplers [maxSamplers]sampler
	nextSamp int // slot the next new sampler takes
}

type sampler struct {
	id   uint64
	rate uint64 // 0 when the slot is free
}

func (c *Collector) newExporter(from netip.AddrPort) *exporter {
	e := &exporter{
		override:  uint64(c.overrides[from.Addr()]),
		templates: make(map[uint64]*template),
	}
	e.stats.Exporter = from
	c.exporters[from] = e
	return e
}

// stream returns the stream of format and domain, taking over the least
// recently used slot for a new one.
func (e *exporter) stream(format uint8, domain uint32, nowNs int64) *stream {
	key := uint64(format)<<32 | uint64(domain)
	old := 0
	for i := range e.streams {
		s := &e.streams[i]
		if s.key == key {
			s.lastNs = nowNs
			return s
		}
		if s.key == 0 || (e.streams[old].key != 0 && s.lastNs < e.streams[old].lastNs) {
			old = i
		}
	}
	s := &e.streams[old]
	*s = stream{key: key, lastNs: nowNs}
	return s
}

// sequence checks seq against the one expected from the previous datagram
// and sets the next expectation. inRecords says whether the sequence
// counts records (v5, IPFIX) or datagrams (v9, sFlow).
func (e *exporter) sequence(s *stream, seq, next uint32, inRecords bool) {
	if s.seqValid {
		switch d := int32(seq - s.nextSeq); {
		case d > 0:
			e.stats.SeqGaps++
			if inRecords {
				e.stats.LostRecords += uint64(d)
			} else {
				e.stats.LostDatagrams += uint64(d)
			}
		case d < 0:
			e.stats.SeqResets++
		}
	}
	s.nextSeq, s.seqValid = next, true
}

// setSampling records the rate an options record (or v5 header) reports.
func (s *stream) setSampling(r *rec) {
	rate := r.reportedRate()
	if rate == 0 {
		return
	}
	if r.have&hSamplerID == 0 {
		s.rate = rate
		return
	}
	for i := range s.samplers {
		if sp := &s.samplers[i]; sp.rate != 0 && sp.id == r.samplerID {
			sp.rate = rate
			return
		}
	}
	s.samplers[s.nextSamp] = sampler{id: r.samplerID, rate: rate}
	s.nextSamp = (s.nextSamp + 1) % maxSamplers
}

// rateFor is the sampling rate of a record: the configured override, else
// the rate the record carries, else that of its sampler or stream, else 1.
func (e *exporter) rateFor(s *stream, r *rec) uint64 {
	if e.override != 0 {
		return e.override
	}
	if rate := r.reportedRate(); rate != 0 {
		return rate
	}
	if r.have&hSamplerID != 0 {
		for i := range s.samplers {
			if sp := &s.samplers[i]; sp.rate != 0 && sp.id == r.samplerID {
				return sp.rate
			}
		}
	}
	if s.rate != 0 {
		return s.rate
	}
	return 1
}

// sweep forgets exporters silent for template_expiry and the templates
// not refreshed for as long.
func (c *Collector) sweep(nowNs int64) {
	for k, e := range c.exporters {
		if nowNs-e.stats.LastSeenNs > c.expiry {
			delete(c.exporters, k)
			continue
		}
		for tk, t := range e.templates {
			if nowNs-t.lastNs > c.expiry {
				delete(e.templates, tk)
			}
		}
	}
}
