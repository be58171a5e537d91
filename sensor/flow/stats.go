package flow

import (
	"net/netip"
	"slices"

	"github.com/rampartnet/rampart/sensor/packet"
)

// ErrKind is why (part of) a datagram was dropped.
type ErrKind uint8

const (
	ErrTruncated     ErrKind = iota // a header, set, sample or record ends past the data it sits in
	ErrVersion                      // unknown version, or a protocol this listener does not take
	ErrBadSet                       // NetFlow v9/IPFIX set with a reserved ID or a length below 4
	ErrBadTemplate                  // template with no fields, too many, or records of length 0
	ErrTemplateLimit                // new template beyond max_templates for the exporter
	ErrBadSample                    // sFlow: unknown agent address type or a malformed flow sample
	NumErrKinds
)

var errKindNames = [NumErrKinds]string{
	"truncated", "bad_version", "bad_set", "bad_template", "template_limit", "bad_sample",
}

// String is the snake_case name used in logs and metrics.
func (k ErrKind) String() string {
	if k < NumErrKinds {
		return errKindNames[k]
	}
	return "unknown"
}

// ExporterStats are one exporter's counters since it was first seen.
type ExporterStats struct {
	Exporter  netip.AddrPort
	Datagrams uint64
	Records   uint64              // flow records and sFlow flow samples decoded
	Errors    [NumErrKinds]uint64 // datagrams (or their rest) dropped, by reason
	// TemplateMisses counts data sets whose template is unknown (not yet
	// received, expired, or evicted): their records are lost.
	TemplateMisses uint64
	// SeqGaps counts jumps forward of the sequence numbers; LostDatagrams
	// (NetFlow v9, sFlow) and LostRecords (NetFlow v5, IPFIX, whose
	// sequence numbers count records) add up the size of the jumps.
	SeqGaps       uint64
	LostDatagrams uint64
	LostRecords   uint64
	SeqResets     uint64 // jumps backwards: an exporter restart or reordering
	CounterSample uint64 // sFlow counter samples, ignored
	Templates     int    // templates held now
	SamplingRate  uint32 // last rate applied to a record
	LastSeenNs    int64
}

// Stats is a snapshot of a Collector.
type Stats struct {
	Exporters []ExporterStats // sorted by address
	// Untracked counts datagrams from exporters not yet tracked whose
	// header did not decode: junk makes no exporter entry.
	Untracked [NumErrKinds]uint64
	// Rejected counts datagrams from new exporters beyond max_exporters.
	Rejected uint64
	// Records counts records decoded from every exporter, including those
	// no longer tracked. Arrival, Spread and Skipped say what became of
	// each:
	// counted at once, spread over ticks, or not countable (no IP
	// addresses, no packets, an sFlow sample that is not IP).
	Records                  uint64
	Arrival, Spread, Skipped uint64
	// SpreadOverflow counts records counted at arrival because
	// max_pending_spreads were already being spread.
	SpreadOverflow uint64
	Pending        int // records being spread now
	// Packets and Bytes are the totals of the records accepted (sampling
	// applied); once every spread is released, the Counter has received
	// exactly these.
	Packets, Bytes uint64
	// Headers counts the sFlow raw packet headers decoded, and HeaderErrors
	// those the packet decoder skipped, by reason.
	Headers      uint64
	HeaderErrors [packet.NumErrKinds]uint64
}

// Stats returns a snapshot. It allocates: call it per tick or less often.
func (c *Collector) Stats() Stats {
	s := c.stats
	s.Pending = len(c.pending)
	s.Headers = c.dec.Decoded
	s.HeaderErrors = c.dec.Errors
	s.Exporters = make([]ExporterStats, 0, len(c.exporters))
	for _, e := range c.exporters {
		es := e.stats
		es.Templates = len(e.templates)
		s.Exporters = append(s.Exporters, es)
	}
	slices.SortFunc(s.Exporters, func(a, b ExporterStats) int { return a.Exporter.Compare(b.Exporter) })
	return s
}
