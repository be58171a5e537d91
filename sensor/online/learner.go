package online

import (
	"math"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/rampartnet/rampart/baseline"
	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/detect"
	"github.com/rampartnet/rampart/sensor/hosts"
)

// numSeries: every aggregate series in both directions; series index
// d*aggregate.NumSeries + s.
const numSeries = int(aggregate.NumDirs) * int(aggregate.NumSeries)

// metricNames are the hostgroup threshold keys of the aggregate series.
var metricNames = [aggregate.NumSeries]string{
	aggregate.PPS: "pps", aggregate.BPS: "mbps", aggregate.FlowsPS: "flows", aggregate.TCPPPS: "tcp_pps",
	aggregate.SYNPPS: "syn_pps", aggregate.UDPPPS: "udp_pps", aggregate.ICMPPPS: "icmp_pps", aggregate.FragPPS: "frag_pps",
}

// unit converts an aggregate rate to the unit thresholds are configured in
// (Mbit/s for bps), so that floors in the baseline section mean what they say.
func unit(s aggregate.Series) float64 {
	if s == aggregate.BPS {
		return 1e6
	}
	return 1
}

// entry is a host's published limits: the series it has learned (set) and
// their values.
type entry struct {
	lim [aggregate.NumDirs]detect.Limits
	set [aggregate.NumDirs]uint16
}

// published is what the detector reads; replaced whole at each Recompute.
// A host without an entry of its own takes its group's (learned from the
// pooled model), so hosts past MaxHosts and new hosts are covered too.
type published struct {
	hosts  map[hosts.Key]*entry
	groups []*entry // by hostgroup index; nil: nothing learned
	at     time.Time
}

// Stats are the learner's counters.
type Stats struct {
	Hosts         int           // hosts with their own model
	Published     int           // hosts with a learned threshold in force
	Samples       uint64        // host-seconds learned
	SkippedWatch  uint64        // host-seconds left out: tracked by the detector
	OverflowHosts uint64        // host-seconds that taught only their group: MaxHosts reached
	LastRecompute time.Duration // time the last Recompute took
}

// Learner: see the package comment. OnTick runs on the aggregator
// goroutine; Override and Stats are safe from any goroutine.
type Learner struct {
	cfg     Config
	log     zerolog.Logger
	th      *detect.Thresholds // groups, modes and static limits (start time)
	part    int                // aggregator partition of the hostgroups
	watched func([]detect.Watch) []detect.Watch

	l            *baseline.Learner
	learnSeries  [][numSeries]bool // per group: learned, with a static limit
	anyLearned   bool
	recomputeNs  int64
	lastSample   int64
	lastRecomp   int64
	peaks        [numSeries]float64
	watch        []detect.Watch
	watchSet     map[detect.Watch]struct{}
	groupOnlyKey baseline.Key // the key overflow hosts share: their group model

	pub   atomic.Pointer[published]
	stats atomic.Pointer[Stats]
	st    Stats // aggregator goroutine's copy
}

// New builds a learner for the hostgroups in th. watched lists the hosts the
// detector tracks (detect.Detector.Watched); part is the aggregator's
// hostgroup partition index.
func New(log zerolog.Logger, cfg Config, th *detect.Thresholds, part int, watched func([]detect.Watch) []detect.Watch) *Learner {
	o := &Learner{cfg: cfg, log: log, th: th, part: part, watched: watched, watchSet: map[detect.Watch]struct{}{}}
	o.recomputeNs = int64(cfg.Recompute)
	params := cfg.Params
	if params == nil {
		params = func(string, string) baseline.Params { return baseline.DefaultParams() }
	}
	o.learnSeries = make([][numSeries]bool, th.NumGroups())
	for g := range th.NumGroups() {
		if !th.LearnedMode(g) {
			continue
		}
		for d := range aggregate.NumDirs {
			lim := th.GroupLimits(g, d)
			for s := range aggregate.NumSeries {
				if lim[s] != detect.Off {
					o.learnSeries[g][int(d)*int(aggregate.NumSeries)+int(s)] = true
					o.anyLearned = true
				}
			}
		}
	}
	o.l = baseline.NewGroupLearner(numSeries, func(g, s int) baseline.Params {
		name := ""
		if g >= 0 && g < th.NumGroups() {
			name = th.GroupName(g)
		}
		return params(name, metricNames[s%int(aggregate.NumSeries)])
	}, cfg.MaxBins)
	for i := range o.groupOnlyKey {
		o.groupOnlyKey[i] = 0xff // no host has it: ff..ff is no unicast address
	}
	o.pub.Store(&published{hosts: map[hosts.Key]*entry{}})
	o.stats.Store(&Stats{})
	return o
}

// Active reports whether any hostgroup learns: without one the sensor
// does not install the learner.
func (o *Learner) Active() bool { return o.anyLearned }

// Override sets the limits key has learned in direction d (detect.Learned).
func (o *Learner) Override(key hosts.Key, g int, d aggregate.Dir, l *detect.Limits) {
	p := o.pub.Load()
	e := p.hosts[key]
	if e == nil && g >= 0 && g < len(p.groups) {
		e = p.groups[g]
	}
	if e == nil {
		return
	}
	for s := range aggregate.NumSeries {
		if e.set[d]&(1<<s) != 0 {
			l[s] = e.lim[d][s]
		}
	}
}

// Stats returns the counters as of the last sample.
func (o *Learner) Stats() Stats { return *o.stats.Load() }

// OnTick samples once a second and recomputes every cfg.Recompute; call it
// from the aggregator's OnTick, after the detector's.
func (o *Learner) OnTick(t aggregate.Tick) {
	if !o.anyLearned {
		return
	}
	if o.lastSample != 0 && t.End-o.lastSample < int64(time.Second) {
		return
	}
	o.lastSample = t.End
	o.sample(t)
	if o.lastRecomp == 0 {
		o.lastRecomp = t.End
	}
	if t.End-o.lastRecomp >= o.recomputeNs {
		o.lastRecomp = t.End
		o.recompute()
	}
	st := o.st
	st.Hosts = o.l.Hosts()
	o.stats.Store(&st)
}

// sample learns each changed host's per-second rates (the 1 s window).
func (o *Learner) sample(t aggregate.Tick) {
	o.watch = o.watched(o.watch[:0])
	clear(o.watchSet)
	for _, w := range o.watch {
		o.watchSet[w] = struct{}{}
	}
	t.Changed(func(v aggregate.HostView) bool {
		g := v.Group(o.part)
		if g < 0 || g >= len(o.learnSeries) || !o.th.LearnedMode(g) {
			return true
		}
		key := v.Key()
		for d := range aggregate.NumDirs {
			if _, w := o.watchSet[detect.Watch{Key: key, Dir: d}]; w {
				o.st.SkippedWatch++
				return true
			}
		}
		learn := &o.learnSeries[g]
		for i := range o.peaks {
			o.peaks[i] = math.NaN()
			if learn[i] {
				d, s := aggregate.Dir(i/int(aggregate.NumSeries)), aggregate.Series(i%int(aggregate.NumSeries))
				o.peaks[i] = float64(v.Rate(d, s)) / unit(s)
			}
		}
		k := baseline.Key(key)
		if o.l.Hosts() >= o.cfg.MaxHosts && !o.l.Has(k) {
			o.st.OverflowHosts++
			k = o.groupOnlyKey // pooled: teaches the group, holds no host's threshold
		}
		o.l.LearnSeries(k, g, o.peaks[:])
		o.st.Samples++
		return true
	})
}

// entry is k's learned limits in group g, nil when none is learned.
func (o *Learner) entry(k baseline.Key, g int, static func(g, s int) float64) *entry {
	var e entry
	for i, learn := range o.learnSeries[g] {
		if !learn {
			continue
		}
		v, src := o.l.Threshold(k, g, i, static(g, i))
		if src == baseline.SourceStatic || math.IsInf(v, 0) || math.IsNaN(v) {
			continue
		}
		d, s := aggregate.Dir(i/int(aggregate.NumSeries)), aggregate.Series(i%int(aggregate.NumSeries))
		e.lim[d][s] = uint64(math.Floor(v * unit(s)))
		e.set[d] |= 1 << s
	}
	if e.set == [aggregate.NumDirs]uint16{} {
		return nil
	}
	return &e
}

// recompute publishes the learned limits of every host with a model.
func (o *Learner) recompute() {
	start := time.Now()
	static := func(g, s int) float64 {
		if g < 0 || g >= o.th.NumGroups() {
			return math.Inf(1)
		}
		d, ser := aggregate.Dir(s/int(aggregate.NumSeries)), aggregate.Series(s%int(aggregate.NumSeries))
		v := o.th.GroupLimits(g, d)[ser]
		if v == detect.Off {
			return math.Inf(1)
		}
		return float64(v) / unit(ser)
	}
	o.l.Recompute(static)
	next := &published{hosts: make(map[hosts.Key]*entry, o.l.Hosts()), groups: make([]*entry, len(o.learnSeries)), at: start}
	// A key no host has: Threshold falls back to the group's published one.
	var nobody baseline.Key
	for g := range o.learnSeries {
		if e := o.entry(nobody, g, static); e != nil {
			next.groups[g] = e
		}
	}
	o.l.EachHost(func(k baseline.Key, g int) {
		if k == o.groupOnlyKey || g < 0 || g >= len(o.learnSeries) {
			return
		}
		if e := o.entry(k, g, static); e != nil {
			next.hosts[hosts.Key(k)] = e
		}
	})
	o.pub.Store(next)
	o.st.Published = len(next.hosts)
	o.st.LastRecompute = time.Since(start)
	o.log.Info().Int("hosts", o.l.Hosts()).Int("published", len(next.hosts)).Dur("took", o.st.LastRecompute).
		Msg("learned thresholds republished")
}
