package baselinerun

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/rampartnet/rampart/analytics"
	"github.com/rampartnet/rampart/baseline"
)

// Candidate is a setting to try: each field set replaces the configured
// value for every hostgroup.
type Candidate struct {
	Name     string
	Quantile *float64
	K        *float64
	Floor    map[string]float64 // by metric (baseline.Metrics); "" for all
}

// ParseCandidate reads "quantile=0.99,k=3,floor.pps=5000,floor.mbps=20"
// (keys: quantile or p, k, floor for every metric, floor.METRIC, name).
func ParseCandidate(spec string) (Candidate, error) {
	c := Candidate{Name: spec, Floor: map[string]float64{}}
	if strings.TrimSpace(spec) == "" {
		return c, fmt.Errorf("candidate: empty; want e.g. quantile=0.99,k=3")
	}
	for _, kv := range strings.Split(spec, ",") {
		key, val, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return c, fmt.Errorf("candidate %q: %q: want key=value", spec, kv)
		}
		if key == "name" {
			c.Name = val
			continue
		}
		v, err := strconv.ParseFloat(val, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return c, fmt.Errorf("candidate %q: %s: must be a number, got %q", spec, key, val)
		}
		switch {
		case key == "quantile" || key == "p":
			if !(v > 0 && v <= 1) {
				return c, fmt.Errorf("candidate %q: quantile: must be in (0, 1], got %v", spec, v)
			}
			c.Quantile = &v
		case key == "k":
			if !(v > 0) {
				return c, fmt.Errorf("candidate %q: k: must be > 0, got %v", spec, v)
			}
			c.K = &v
		case key == "floor" || strings.HasPrefix(key, "floor."):
			m := strings.TrimPrefix(strings.TrimPrefix(key, "floor"), ".")
			if m != "" && !slices.Contains(baseline.Metrics, m) {
				return c, fmt.Errorf("candidate %q: %s: unknown metric %q; known metrics: %v", spec, key, m, baseline.Metrics)
			}
			if v < 0 {
				return c, fmt.Errorf("candidate %q: %s: must be >= 0, got %v", spec, key, v)
			}
			c.Floor[m] = v
		default:
			return c, fmt.Errorf("candidate %q: unknown key %q; known keys: quantile (or p), k, floor, floor.METRIC, name", spec, key)
		}
	}
	return c, nil
}

// DefaultCandidates: the configuration's setting, and quantiles 0.99 and
// 0.999 with k of 2, 3 and 5.
func DefaultCandidates() []Candidate {
	out := []Candidate{{Name: "configured"}}
	for _, q := range []float64{0.99, 0.999} {
		for _, k := range []float64{2, 3, 5} {
			out = append(out, Candidate{Name: fmt.Sprintf("quantile=%v,k=%v", q, k), Quantile: &q, K: &k})
		}
	}
	return out
}

func (c *Candidate) adjust() baseline.Adjust {
	return func(g, s int, p baseline.Params) baseline.Params {
		if c.Quantile != nil {
			p.Quantile = *c.Quantile
		}
		if c.K != nil {
			p.K = *c.K
		}
		if v, ok := c.Floor[""]; ok {
			p.Floor = v
		}
		if v, ok := c.Floor[baseline.Metrics[s%PerDir]]; ok {
			p.Floor = v
		}
		return p
	}
}

// SeriesOutcome is one series' share of a what-if.
type SeriesOutcome struct {
	Series         string `json:"series"`
	SmallestCaught Num    `json:"smallest_attack_caught"` // lowest attack-interval peak over its threshold
	// An attack must add this much to a host's median peak to cross its
	// threshold: at the most sensitive host, and at the median host.
	MinDetectable    Num `json:"min_detectable"`
	MedianDetectable Num `json:"median_detectable"`
}

// Outcome is what one candidate would have done over the history.
type Outcome struct {
	Candidate       string          `json:"candidate"`
	Alerts          int             `json:"alerts"`
	AlertIntervals  int             `json:"alert_intervals"`
	FalseIntervals  int             `json:"false_alert_intervals"`
	AttackIntervals int             `json:"attack_intervals"`
	Caught          int             `json:"attack_intervals_caught"`
	HostsFired      int             `json:"hosts_fired"`
	TopHosts        []HostAlerts    `json:"top_hosts"`
	Series          []SeriesOutcome `json:"series"`
}

// HostAlerts is how often a host would have alerted.
type HostAlerts struct {
	IP     string `json:"ip"`
	Alerts int    `json:"alerts"`
}

// WhatIf replays the history (a second read) under each candidate.
func (r *Run) WhatIf(cands []Candidate, top int) ([]Outcome, []*baseline.WhatIf, error) {
	ws := make([]*baseline.WhatIf, len(cands))
	for i := range cands {
		ws[i] = baseline.NewWhatIf(r.Fit.Thresholds(cands[i].adjust()), int64(r.Interval))
	}
	err := r.scan(func(_ *analytics.Snapshot, row *baseline.Row) {
		for _, w := range ws {
			w.Observe(row)
		}
	})
	if err != nil {
		return nil, nil, err
	}
	out := make([]Outcome, len(cands))
	for i, w := range ws {
		o := Outcome{Candidate: cands[i].Name, Alerts: w.Alerts, AlertIntervals: w.AlertIntervals,
			FalseIntervals: w.FalseIntervals, AttackIntervals: w.AttackIntervals, Caught: w.Caught, HostsFired: len(w.HostAlerts)}
		for k, n := range w.HostAlerts {
			o.TopHosts = append(o.TopHosts, HostAlerts{IP: netip.AddrFrom16(k).Unmap().String(), Alerts: n})
		}
		slices.SortFunc(o.TopHosts, func(a, b HostAlerts) int {
			if a.Alerts != b.Alerts {
				return b.Alerts - a.Alerts
			}
			return bytes.Compare(netip.MustParseAddr(a.IP).AsSlice(), netip.MustParseAddr(b.IP).AsSlice())
		})
		if top >= 0 && len(o.TopHosts) > top {
			o.TopHosts = o.TopHosts[:top]
		}
		for s := range NumSeries {
			lo, med, n := w.Th.Sensitivity(s)
			if n == 0 {
				continue
			}
			o.Series = append(o.Series, SeriesOutcome{Series: SeriesName(s), SmallestCaught: Num(w.SmallestCaught[s]),
				MinDetectable: Num(lo), MedianDetectable: Num(med)})
		}
		out[i] = o
	}
	return out, ws, nil
}

// WriteWhatIfTable renders outcomes for people.
func WriteWhatIfTable(w io.Writer, outs []Outcome) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CANDIDATE\tALERTS\tALERT INTERVALS\tFALSE\tATTACKS CAUGHT\tHOSTS FIRED\tTOP HOSTS")
	for _, o := range outs {
		var tops []string
		for _, h := range o.TopHosts {
			tops = append(tops, fmt.Sprintf("%s(%d)", h.IP, h.Alerts))
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d/%d\t%d\t%s\n", o.Candidate, o.Alerts, o.AlertIntervals, o.FalseIntervals,
			o.Caught, o.AttackIntervals, o.HostsFired, strings.Join(tops, " "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CANDIDATE\tSERIES\tSMALLEST ATTACK CAUGHT\tMIN DETECTABLE\tMEDIAN DETECTABLE")
	for _, o := range outs {
		for _, s := range o.Series {
			fmt.Fprintf(tw, "%s\t%s\t%v\t%v\t%v\n", o.Candidate, s.Series, s.SmallestCaught, s.MinDetectable, s.MedianDetectable)
		}
	}
	return tw.Flush()
}

// WriteWhatIfJSON renders outcomes for scripts.
func WriteWhatIfJSON(w io.Writer, outs []Outcome) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(outs)
}
