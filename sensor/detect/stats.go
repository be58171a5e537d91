package detect

import "maps"

// Stats are the detector's counters, for metrics.
type Stats struct {
	Active               map[string]int // active attacks by type
	Detected             uint64
	Ended                uint64
	Retriggers           uint64
	Benign               uint64 // volume crossings taken for transfers, not attacks
	Whitelisted          uint64 // attacks on whitelisted hosts, not mitigated
	MitigationsRequested uint64
	MitigationsRefused   uint64
	WithdrawalsFailed    uint64
	CommandsDropped      uint64 // Ban/Unban refused: queue full
	TriggersDeferred     uint64 // attacks opened a tick late: too many at once for per-host sample scans
	VectorsAdded         uint64 // vectors added to open attacks (each one more request)
	VectorLimitHits      uint64 // a vector past max_vectors: the host blackholed instead

	NotificationsSent    uint64
	NotificationsFailed  uint64 // every attempt failed
	NotificationsDropped uint64 // queue full
	RecordsWritten       uint64 // attack log lines
	RecordErrors         uint64
	PcapsWritten         uint64
	PcapErrors           uint64
	PcapsDropped         uint64 // pcap queue full
}

// Stats returns a copy of the counters. Safe from any goroutine.
func (d *Detector) Stats() Stats {
	d.mu.Lock()
	st := d.stats
	st.Active = maps.Clone(d.stats.Active)
	d.mu.Unlock()
	for _, h := range d.hooks {
		q := h.counters()
		st.NotificationsSent += q.sent.Load()
		st.NotificationsFailed += q.failed.Load()
		st.NotificationsDropped += q.dropped.Load()
	}
	st.RecordsWritten, st.RecordErrors = d.rec.written.Load(), d.rec.errors.Load()
	st.PcapsWritten, st.PcapErrors, st.PcapsDropped = d.rec.pcaps.Load(), d.rec.pcapErrors.Load(), d.rec.pcapDropped.Load()
	return st
}
