// Package baselinerun fits learned thresholds offline from the snapshot
// history: it reads snapshots through the analytics reader, feeds
// baseline's models and renders `rampart baseline report`, `whatif` and
// `tune`. The math lives in baseline; this package is the glue and the
// output.
package baselinerun

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"time"

	"github.com/rampartnet/rampart/analytics"
	"github.com/rampartnet/rampart/baseline"
	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/hostgroup"
	"github.com/rampartnet/rampart/sensor/snapshot"
	"github.com/rampartnet/rampart/sensor/thresholdfile"
)

// Series are the thresholded series, inbound then outbound, in the
// sensor's order (aggregate.Series): index d*PerDir + s.
const (
	PerDir    = int(aggregate.NumSeries)
	NumSeries = int(aggregate.NumDirs) * PerDir
)

// SeriesName is e.g. "in.pps" or "out.mbps".
func SeriesName(s int) string {
	return [...]string{"in", "out"}[s/PerDir] + "." + baseline.Metrics[s%PerDir]
}

// Options say which history to fit and against what configuration.
type Options struct {
	Dir        string
	Since      time.Duration // history ending at the newest snapshot; 0: all of it
	Group      string        // only hosts of this hostgroup; "": all
	Hostgroups []hostgroup.Config
	Baseline   baseline.Config
	// Current are learned thresholds in force (a thresholds file): they
	// replace the static ones key by key, decide attacks like them and
	// are what recommendations are clamped against. Nil: none.
	Current *thresholdfile.File
	// Progress, when set, is called with the share of the history read.
	Progress func(done float64)
}

// Run is one fitted history.
type Run struct {
	opts     Options
	Fit      *baseline.Fit
	groups   []string       // by group index: configured groups, then unknown names seen
	groupIdx map[string]int // name -> index
	limits   []hostgroup.Thresholds
	defGroup int
	hostLims map[netip.Addr]hostgroup.Thresholds

	From, To  time.Time // first interval start, last interval end
	Interval  time.Duration
	Intervals int
	Sensors   map[string]bool
	cutoff    time.Time
	files     []analytics.FileInfo
}

// ErrNoHistory: the directory holds no snapshot in the asked range.
var ErrNoHistory = errors.New("no snapshots in the history asked for")

// Limit returns the pointer of series s's limit in t (nil never).
func Limit(t *hostgroup.Thresholds, s int) **float64 {
	l := &t.In
	if s >= PerDir {
		l = &t.Out
	}
	return [...]**float64{&l.PPS, &l.Mbps, &l.Flows, &l.TCPPPS, &l.SYNPPS, &l.UDPPPS, &l.ICMPPPS, &l.FragPPS}[s%PerDir]
}

// New prepares a run; Fit reads the history.
func New(opts Options) (*Run, error) {
	r := &Run{opts: opts, groupIdx: map[string]int{}, Sensors: map[string]bool{}, defGroup: -1}
	for _, g := range opts.Hostgroups {
		r.addGroup(g.Name, g.Thresholds)
		if g.Name == hostgroup.DefaultName {
			r.defGroup = r.groupIdx[g.Name]
		}
	}
	if opts.Group != "" {
		if _, ok := r.groupIdx[opts.Group]; !ok {
			return nil, fmt.Errorf("--group: no hostgroup %q in the configuration", opts.Group)
		}
	}
	if opts.Current != nil {
		r.hostLims = opts.Current.Addrs()
		for name, t := range opts.Current.Groups {
			if i, ok := r.groupIdx[name]; ok {
				r.limits[i] = overlay(r.limits[i], t)
			}
		}
	}
	r.Fit = baseline.NewFit(NumSeries, r.params, r.static, baseline.DefaultMaxBins)
	return r, nil
}

func (r *Run) addGroup(name string, t hostgroup.Thresholds) int {
	r.groupIdx[name] = len(r.groups)
	r.groups = append(r.groups, name)
	r.limits = append(r.limits, t)
	return len(r.groups) - 1
}

// overlay is base with the limits o sets.
func overlay(base, o hostgroup.Thresholds) hostgroup.Thresholds {
	for s := range NumSeries {
		if v := *Limit(&o, s); v != nil {
			*Limit(&base, s) = v
		}
	}
	return base
}

// Current is the thresholds file in force (Options.Current), or nil.
func (r *Run) Current() *thresholdfile.File { return r.opts.Current }

// GroupName is group index g's name.
func (r *Run) GroupName(g int) string {
	if g >= 0 && g < len(r.groups) {
		return r.groups[g]
	}
	return "-"
}

func (r *Run) params(g, s int) baseline.Params {
	return r.opts.Baseline.Params(r.GroupName(g), baseline.Metrics[s%PerDir])
}

// Static is the threshold in force for series s of host k in group g:
// the current file's host entry, else its group's, else the configured
// one.
func (r *Run) static(k baseline.Key, g, s int) (float64, bool) {
	if r.hostLims != nil {
		if t, ok := r.hostLims[netip.AddrFrom16(k).Unmap()]; ok {
			if v := *Limit(&t, s); v != nil {
				return *v, true
			}
		}
	}
	if g < 0 || g >= len(r.limits) {
		return 0, false
	}
	if v := *Limit(&r.limits[g], s); v != nil {
		return *v, true
	}
	return 0, false
}

// Static is exported for reports: the threshold in force, +Inf if none.
func (r *Run) Static(k baseline.Key, g, s int) float64 {
	if v, ok := r.static(k, g, s); ok {
		return v
	}
	return math.Inf(1)
}

// peaks converts a row's peaks to threshold units (bits/s to Mbit/s).
func peaks(row *snapshot.Row, out []float64) {
	for d := range aggregate.NumDirs {
		for s := range aggregate.NumSeries {
			v := float64(row.Peaks[d][s])
			if s == aggregate.BPS {
				v /= 1e6
			}
			out[int(d)*PerDir+int(s)] = v
		}
	}
}

// SetPeaks is peaks' inverse: it writes peaks in threshold units (index
// d*PerDir + s, bps in Mbit/s) into a row as the sensor stores them, for
// generated histories (tests, benchmarks).
func SetPeaks(row *snapshot.Row, in []float64) {
	for d := range aggregate.NumDirs {
		for s := range aggregate.NumSeries {
			v := in[int(d)*PerDir+int(s)]
			if s == aggregate.BPS {
				v *= 1e6
			}
			row.Peaks[d][s] = uint64(v)
		}
	}
}

// scan calls fn with every row of the history asked for, in time order.
func (r *Run) scan(fn func(s *analytics.Snapshot, row *baseline.Row)) error {
	if r.files == nil {
		files, err := analytics.List(r.opts.Dir)
		if err != nil {
			return err
		}
		if len(files) == 0 {
			return fmt.Errorf("%s: %w", r.opts.Dir, ErrNoHistory)
		}
		r.files = files
		last := files[len(files)-1].Start
		if r.opts.Since > 0 {
			r.cutoff = last.Add(-r.opts.Since)
		}
	}
	first, last := r.files[0].Start, r.files[len(r.files)-1].Start
	if r.cutoff.After(first) {
		first = r.cutoff
	}
	span := float64(last.Sub(first))
	var pk [NumSeries]float64
	row := baseline.Row{Peaks: pk[:]}
	// Decoding (in ReadDir) and fitting (fn) overlap: the reader runs one
	// snapshot ahead of the consumer, in order.
	snaps := make(chan *analytics.Snapshot, 2)
	done := make(chan struct{})
	go func() {
		defer close(done)
		var gmap []int // snapshot group index -> ours, per file
		for s := range snaps {
			gmap = r.rows(s, gmap, &row, fn)
			if r.opts.Progress != nil && span > 0 {
				r.opts.Progress(min(1, float64(s.Meta.Start.Sub(first))/span))
			}
		}
	}()
	err := analytics.ReadDir(r.opts.Dir, func(s *analytics.Snapshot) error {
		if !s.Meta.Start.Before(r.cutoff) {
			snaps <- s
		}
		return nil
	})
	close(snaps)
	<-done
	return err
}

// rows calls fn with each row of s (of the asked group).
func (r *Run) rows(s *analytics.Snapshot, gmap []int, row *baseline.Row, fn func(*analytics.Snapshot, *baseline.Row)) []int {
	gmap = gmap[:0]
	for _, name := range s.Groups {
		i, ok := r.groupIdx[name]
		if !ok {
			i = r.addGroup(name, hostgroup.Thresholds{}) // unknown: nothing thresholded
		}
		gmap = append(gmap, i)
	}
	want := -2
	if r.opts.Group != "" {
		want = r.groupIdx[r.opts.Group]
	}
	row.Start, row.Hour = s.Meta.Start.UnixNano(), s.Meta.Start.UTC().Hour()
	for i := range s.Rows {
		sr := &s.Rows[i]
		row.Group = r.defGroup
		if sr.Group >= 0 && int(sr.Group) < len(gmap) {
			row.Group = gmap[sr.Group]
		}
		if want != -2 && row.Group != want {
			continue
		}
		row.Key = baseline.Key(sr.Key)
		peaks(sr, row.Peaks)
		fn(s, row)
	}
	return gmap
}

// FitHistory reads the history into the models.
func (r *Run) FitHistory() error {
	seen := map[int64]bool{}
	err := r.scan(func(s *analytics.Snapshot, row *baseline.Row) {
		if !seen[row.Start] {
			seen[row.Start] = true
			r.Intervals++
			if r.From.IsZero() || s.Meta.Start.Before(r.From) {
				r.From = s.Meta.Start
			}
			if s.Meta.End.After(r.To) {
				r.To = s.Meta.End
			}
			r.Interval = s.Meta.Interval
			r.Sensors[s.Meta.SensorID] = true
		}
		r.Fit.Add(row.Key, row.Group, row.Hour, row.Peaks)
	})
	if err != nil {
		return err
	}
	if r.Fit.Rows == 0 {
		return fmt.Errorf("%s: %w", r.opts.Dir, ErrNoHistory)
	}
	return nil
}
