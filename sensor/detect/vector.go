package detect

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/packet"
	"github.com/rampartnet/rampart/sensor/sample"
)

// Multi-vector attacks. While an attack mitigated by FlowSpec rules stays
// above a threshold, every trigger_ticks ticks the detector matches the
// host's fresh samples against the spans of the attack's rules (each rule
// with its length range widened to all of its vector's lengths: a rule
// leaves out the tails of the length spread on purpose, and those tails
// are the same vector). When less than rule_coverage of the samples match,
// and the unmatched traffic alone is over a threshold (each series' rate
// scaled by the unmatched share of its samples; flows, which do not scale
// with packets, excepted), the unmatched samples are a new vector: they
// are typed and get a rule of their own, one more request of the same
// attack. A vector past max_vectors blackholes the host instead, which
// ends the checks.

// vectorState is what an open attack asked for.
type vectorState struct {
	spans     []*Rule  // of the FlowSpec rules asked for, accepted or refused
	requests  []string // IDs of accepted requests, withdrawn at the end
	hostWide  bool     // a blackhole or redirect covers the host: no vector to add
	nextCheck int64
	lastCheck int64
}

// checkNs is the interval of vector checks and the span of samples each
// reads: trigger_ticks, as for a new attack.
func (d *Detector) checkNs() int64 { return int64(d.cfg.TriggerTicks) * d.tickNs }

// addChecks appends to wants the open attacks due for a vector check: above
// a threshold for trigger_ticks ticks, mitigated by rules only. The oldest
// checked go first, so a plain store's scan budget reaches every attack.
func (d *Detector) addChecks(now int64) {
	from := len(d.wants)
	for i := range d.hits {
		h := &d.hits[i]
		tk := trackKey{h.key, h.dir}
		tr := d.tracks[tk]
		if tr.attack == nil || len(tr.vec.spans) == 0 || tr.vec.hostWide || tr.run < d.cfg.TriggerTicks || now < tr.vec.nextCheck {
			continue
		}
		d.wants = append(d.wants, sampleWant{tk: tk, hit: i, since: now - d.checkNs(), last: tr.vec.lastCheck, check: true})
	}
	slices.SortFunc(d.wants[from:], func(a, b sampleWant) int {
		if c := cmp.Compare(a.last, b.last); c != 0 {
			return c
		}
		if c := cmp.Compare(string(a.tk.key[:]), string(b.tk.key[:])); c != 0 {
			return c
		}
		return cmp.Compare(a.tk.dir, b.tk.dir)
	})
}

// checkVector looks for traffic of host h that the rules of its attack do
// not match, and adds it as a vector when it is over a threshold on its own.
func (d *Detector) checkVector(tr *track, h *hit, now int64, recs []sample.Record) {
	tr.vec.nextCheck, tr.vec.lastCheck = now+d.checkNs(), now
	var all, unc [aggregate.NumSeries]uint64
	d.unc = d.unc[:0]
	for i := range recs {
		ph := &recs[i].Header
		addSeries(&all, ph)
		if !slices.ContainsFunc(tr.vec.spans, func(r *Rule) bool { return r.Matches(ph) }) {
			addSeries(&unc, ph)
			d.unc = append(d.unc, recs[i])
		}
	}
	n := len(recs)
	if len(d.unc) < d.cfg.MinSamples || float64(n-len(d.unc)) >= d.cfg.RuleCoverage*float64(n) {
		return
	}
	var est [aggregate.NumSeries]uint64
	var over uint16
	for s := range aggregate.NumSeries {
		if all[s] == 0 || s == aggregate.FlowsPS {
			continue
		}
		est[s] = uint64(float64(h.rates[s]) * float64(unc[s]) / float64(all[s]))
		if h.lim[s] != Off && est[s] > h.lim[s] {
			over |= 1 << s
		}
	}
	if over == 0 {
		return
	}
	prof := fingerprint(d.unc, d.sampleRate)
	if benign(&prof, over, d.cfg.BenignMaxFlows, d.cfg.MinSamples) {
		return
	}
	d.addVector(tr, h, now, classify(&prof, &est, &h.lim, d.cfg.MinSamples), &prof, over)
}

// addSeries counts one sample in the series it belongs to (bytes for BPS).
func addSeries(c *[aggregate.NumSeries]uint64, h *packet.Header) {
	c[aggregate.PPS]++
	c[aggregate.BPS] += uint64(h.IPLen)
	switch h.Proto {
	case packet.ProtoTCP:
		c[aggregate.TCPPPS]++
		if h.IsSYN() {
			c[aggregate.SYNPPS]++
		}
	case packet.ProtoUDP:
		c[aggregate.UDPPPS]++
	case packet.ProtoICMP, packet.ProtoICMPv6:
		c[aggregate.ICMPPPS]++
	}
	if h.Frag != packet.FragNone {
		c[aggregate.FragPPS]++
	}
}

// addVector requests the mitigation of a new vector (the samples in d.unc)
// of tr's attack and records it.
func (d *Detector) addVector(tr *track, h *hit, now int64, typ string, prof *profile, over uint16) {
	a := tr.attack
	fp := prof.fp
	v := Vector{Type: typ, RequestID: fmt.Sprintf("%s-v%d", a.ID, len(a.Types)+1), DetectedNs: now, DetectedAt: timeText(now), Fingerprint: &fp}
	req := Request{ID: v.RequestID, Prefix: hostPrefix(h.key, d.prefixLen6), Hostgroup: a.Hostgroup}
	var span *Rule
	if len(a.Types) >= d.cfg.MaxVectors {
		req.Action, req.Reason = ActionBlackhole, fmt.Sprintf("fallback: more than max_vectors %d", d.cfg.MaxVectors)
		d.stats.VectorLimitHits++
	} else {
		span = d.ruleFor(&req, &v.Mitigation, d.unc, h.dir)
	}
	d.request(tr, a, req, &v.Mitigation, span)
	if d.rec.pcapDir != "" {
		v.Pcap = d.rec.pcap(v.RequestID, d.unc)
	}
	a.Types = append(a.Types, typ)
	a.Vectors = append(a.Vectors, v)
	d.stats.VectorsAdded++
	ev := d.log.Warn().Str("id", a.ID).Str("request_id", v.RequestID).Str("ip", a.IP).Str("direction", a.Direction).
		Str("type", typ).Int("vectors", len(a.Types)).Str("over", overNames(over)).Str("action", v.Mitigation.Action)
	if v.Mitigation.Rule != nil {
		ev = ev.Str("rule", v.Mitigation.Rule.String())
	}
	if v.Mitigation.Reason != "" {
		ev = ev.Str("reason", v.Mitigation.Reason)
	}
	ev.Msg("attack vector added")
}
