package baselinerun

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/rampartnet/rampart/baseline"
	"github.com/rampartnet/rampart/sensor/hostgroup"
	"github.com/rampartnet/rampart/sensor/thresholdfile"
)

// Num is a rate; infinite (no threshold) renders as null in JSON and "-"
// in tables.
type Num float64

// MarshalJSON writes null for infinities and NaN.
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, round(f), 'f', -1, 64), nil
}

// round keeps 4 significant digits: thresholds need no more, and files
// and reports stay stable under noise in the last bits.
func round(v float64) float64 {
	if v == 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return v
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 4, 64), 64)
	return r
}

func (n Num) String() string {
	f := float64(n)
	switch {
	case math.IsInf(f, 0) || math.IsNaN(f):
		return "-"
	case f >= 100:
		return strconv.FormatFloat(round(f), 'f', 0, 64)
	default:
		return strconv.FormatFloat(round(f), 'g', -1, 64)
	}
}

// SeriesReport is one series of a host or group.
type SeriesReport struct {
	Series      string  `json:"series"`           // e.g. in.pps
	Samples     int     `json:"samples"`          // intervals learned
	Attacks     int     `json:"attack_intervals"` // over a threshold in force (not learned) or outliers (learned, left out of the quantile)
	Quantile    float64 `json:"quantile"`         // the p of PQ
	P50         Num     `json:"p50"`
	PQ          Num     `json:"pq"`
	Max         Num     `json:"max"` // highest peak learned
	Current     Num     `json:"current"`
	Recommended Num     `json:"recommended"`
	Source      string  `json:"source"` // host, group or static
	// Headroom is Recommended over Max: below 1 the recommendation would
	// have fired on benign history.
	Headroom Num   `json:"headroom"`
	Hours    []Num `json:"hours,omitempty"` // recommended per hour of day (UTC) with hour_of_day
}

// HostReport is a host's (or, with IP "", a group's pooled) series.
type HostReport struct {
	IP     string         `json:"ip,omitempty"`
	Group  string         `json:"hostgroup"`
	Series []SeriesReport `json:"series"`
	key    baseline.Key
	g      int
}

// Report is `rampart baseline report`.
type Report struct {
	Dir       string       `json:"dir"`
	From      time.Time    `json:"from"`
	To        time.Time    `json:"to"`
	Interval  string       `json:"interval"`
	Intervals int          `json:"intervals"`
	Sensors   []string     `json:"sensors"`
	Rows      int          `json:"host_intervals"`
	Learned   int          `json:"learned"`
	Groups    []HostReport `json:"groups"`
	Hosts     []HostReport `json:"hosts"`
	th        *baseline.Thresholds
}

// Report derives the recommendations from the fitted history.
func (r *Run) Report() *Report {
	th := r.Fit.Thresholds(nil)
	rep := &Report{Dir: r.opts.Dir, From: r.From, To: r.To, Interval: r.Interval.String(), Intervals: r.Intervals,
		Rows: r.Fit.Rows, Learned: r.Fit.Learned, th: th}
	for s := range r.Sensors {
		rep.Sensors = append(rep.Sensors, s)
	}
	sort.Strings(rep.Sensors)
	gs := make([]int, 0, len(r.Fit.Groups))
	for g := range r.Fit.Groups {
		gs = append(gs, g)
	}
	slices.Sort(gs)
	for _, g := range gs {
		gf := r.Fit.Groups[g]
		hr := HostReport{Group: r.GroupName(g), g: g}
		for s, sf := range gf.Series {
			if sf.Count() == 0 {
				continue
			}
			v, ok := th.Group(g, s, baseline.AllDay)
			src := "group"
			cur := r.currentGroup(g, s)
			if !ok {
				v, src = cur, "static"
			}
			hr.Series = append(hr.Series, r.seriesReport(s, g, sf, cur, r.previous(nil, g, s), v, src, func(h int) float64 { v, _ := th.Group(g, s, h); return v }))
		}
		rep.Groups = append(rep.Groups, hr)
	}
	keys := make([]baseline.Key, 0, len(r.Fit.Hosts))
	for k := range r.Fit.Hosts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b baseline.Key) int { return bytes.Compare(a[:], b[:]) })
	for _, k := range keys {
		h := r.Fit.Hosts[k]
		hr := HostReport{IP: netip.AddrFrom16(k).Unmap().String(), Group: r.GroupName(h.Group), key: k, g: h.Group}
		for s, sf := range h.Series {
			if sf == nil {
				continue
			}
			v, src := th.Of(k, h.Group, s, baseline.AllDay)
			cur := h.Static[s]
			sr := r.seriesReport(s, h.Group, sf, cur, r.previous(&k, h.Group, s), v, src.String(), func(hour int) float64 {
				v, _ := th.Of(k, h.Group, s, hour)
				return v
			})
			// Outliers learned are attacks too: counted and not the max.
			if cut, n, kept := th.Outliers(k, s); n > 0 {
				sr.Attacks += int(n)
				sr.PQ, sr.Max = Num(sf.Model.QuantileBelow(sr.Quantile, cut)), Num(kept)
				if kept > 0 {
					sr.Headroom = Num(float64(sr.Recommended) / kept)
				}
			}
			hr.Series = append(hr.Series, sr)
		}
		rep.Hosts = append(rep.Hosts, hr)
	}
	return rep
}

// currentGroup is the group's threshold in force for series s.
func (r *Run) currentGroup(g, s int) float64 {
	if g >= 0 && g < len(r.limits) {
		if v := *Limit(&r.limits[g], s); v != nil {
			return *v
		}
	}
	return math.Inf(1)
}

func (r *Run) seriesReport(s, g int, sf *baseline.SeriesFit, cur, prev, rec float64, src string, hour func(int) float64) SeriesReport {
	p := r.params(g, s)
	if src != "static" {
		rec = p.Clamp(prev, rec)
	}
	sr := SeriesReport{
		Series: SeriesName(s), Samples: int(sf.Count()), Attacks: sf.Attacks, Quantile: p.Quantile,
		P50: Num(sf.Quantile(0.5)), PQ: Num(sf.Quantile(p.Quantile)), Max: Num(sf.Max),
		Current: Num(cur), Recommended: Num(rec), Source: src, Headroom: Num(math.Inf(1)),
	}
	if sf.Max > 0 {
		sr.Headroom = Num(rec / sf.Max)
	}
	if p.HourOfDay && src != "static" {
		sr.Hours = make([]Num, baseline.Hours)
		for h := range sr.Hours {
			sr.Hours[h] = Num(hour(h))
		}
	}
	return sr
}

// previous is the learned threshold a recommendation is clamped against:
// the current thresholds file's entry for the host (k != nil), else for
// its group; 0 when it has none. A static threshold is not a learned one
// and does not hold learning back.
func (r *Run) previous(k *baseline.Key, g, s int) float64 {
	if r.opts.Current == nil {
		return 0
	}
	if k != nil {
		if t, ok := r.hostLims[netip.AddrFrom16(*k).Unmap()]; ok {
			if v := *Limit(&t, s); v != nil {
				return *v
			}
		}
	}
	if t, ok := r.opts.Current.Groups[r.GroupName(g)]; ok {
		if v := *Limit(&t, s); v != nil {
			return *v
		}
	}
	return 0
}

// WriteTable renders the report for people.
func (rep *Report) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "history %s .. %s: %d intervals of %s, sensors %v; %d host intervals, %d learned, %d over a threshold in force\n",
		rep.From.Format(time.RFC3339), rep.To.Format(time.RFC3339), rep.Intervals, rep.Interval, rep.Sensors,
		rep.Rows, rep.Learned, rep.Rows-rep.Learned)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "HOSTGROUP\tHOST\tSERIES\tSAMPLES\tATTACKS\tP50\tPQ (q)\tMAX\tCURRENT\tRECOMMENDED\tSOURCE\tHEADROOM\t")
	line := func(hr *HostReport) {
		host := hr.IP
		if host == "" {
			host = "(pooled)"
		}
		for _, s := range hr.Series {
			head := "-"
			if !math.IsInf(float64(s.Headroom), 0) {
				head = strconv.FormatFloat(float64(s.Headroom), 'f', 2, 64) + "x"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%v\t%v (%v)\t%v\t%v\t%v\t%s\t%s\t\n", hr.Group, host, s.Series, s.Samples,
				s.Attacks, s.P50, s.PQ, s.Quantile, s.Max, s.Current, s.Recommended, s.Source, head)
		}
	}
	for i := range rep.Groups {
		line(&rep.Groups[i])
	}
	for i := range rep.Hosts {
		line(&rep.Hosts[i])
	}
	return tw.Flush()
}

// WriteJSON renders the report for scripts.
func (rep *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// Tune is the thresholds file of the recommendations: a group entry per
// series whose pooled model is warm, a host entry per series the host
// learned itself. Hour-of-day profiles are not in the file (it has one
// value per series): the whole day's threshold is written.
func (rep *Report) Tune(source string) *thresholdfile.File {
	doc := &thresholdfile.File{Version: thresholdfile.Version, Groups: map[string]hostgroup.Thresholds{}, Hosts: map[string]hostgroup.Thresholds{}}
	set := func(m map[string]hostgroup.Thresholds, name string, series []SeriesReport, src string) {
		for _, s := range series {
			if s.Source != src || math.IsInf(float64(s.Recommended), 0) {
				continue
			}
			t := m[name]
			v := round(float64(s.Recommended))
			*Limit(&t, seriesIndex(s.Series)) = &v
			m[name] = t
		}
	}
	for _, g := range rep.Groups {
		set(doc.Groups, g.Group, g.Series, "group")
	}
	for _, h := range rep.Hosts {
		set(doc.Hosts, h.IP, h.Series, "host")
	}
	doc.GeneratedAt, doc.Source = rep.To, source
	return doc
}

// KeepOthers copies into doc the entries of prev for the groups, and the
// hosts, that rep did not cover (a tune of one --group keeps the rest of
// the file it replaces).
func (rep *Report) KeepOthers(doc, prev *thresholdfile.File) {
	if prev == nil {
		return
	}
	covered := map[string]bool{}
	for _, g := range rep.Groups {
		covered["g/"+g.Group] = true
	}
	for _, h := range rep.Hosts {
		covered["h/"+h.IP] = true
	}
	for name, t := range prev.Groups {
		if !covered["g/"+name] {
			doc.Groups[name] = t
		}
	}
	for a, t := range prev.Addrs() {
		if !covered["h/"+a.String()] {
			doc.Hosts[a.String()] = t
		}
	}
}

func seriesIndex(name string) int {
	for s := range NumSeries {
		if SeriesName(s) == name {
			return s
		}
	}
	panic("baselinerun: unknown series " + name)
}
