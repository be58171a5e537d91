package main

import (
	"errors"
	"net/netip"
	"sort"
	"time"

	"github.com/rampartnet/rampart/analytics"
	"github.com/rampartnet/rampart/api"
	"github.com/rampartnet/rampart/bgp"
	"github.com/rampartnet/rampart/sensor"
	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/detect"
	"github.com/rampartnet/rampart/sensor/hosts"
	"github.com/rampartnet/rampart/sensor/packet"
	"github.com/rampartnet/rampart/sensor/ring"
	"github.com/rampartnet/rampart/sensor/snapshot"
)

// apiSensor adapts the sensor and the BGP speaker (nil without BGP) to the
// api package's dependencies. Everything is looked up per call: the
// aggregator and detector exist only once the sensor has started.
type apiSensor struct {
	version string
	started time.Time
	sn      *sensor.Sensor
	sp      *bgp.Speaker
	// prefixLen6 is the IPv6 host granularity of the tables (128 or 64):
	// an address asked about is looked up as the host key that holds it.
	prefixLen6 int
	rl         *reloader // nil: no reloads
	snapCol    *snapshot.Collector
	snapW      *analytics.Writer // nil: snapshots off
}

func newAPIDeps(sn *sensor.Sensor, sp *bgp.Speaker, rl *reloader, prefixLen6 int) api.Deps {
	return newAPISensor(sn, sp, rl, prefixLen6).deps()
}

func newAPISensor(sn *sensor.Sensor, sp *bgp.Speaker, rl *reloader, prefixLen6 int) *apiSensor {
	return &apiSensor{version: version, started: time.Now(), sn: sn, sp: sp, rl: rl, prefixLen6: prefixLen6}
}

func (a *apiSensor) deps() api.Deps {
	sp, rl := a.sp, a.rl
	d := api.Deps{Status: a, Hosts: a, Attacks: a, Mitigations: a}
	if rl != nil {
		d.Reload = rl
	}
	if sp != nil {
		d.BGP = apiBGP{sp}
	}
	return d
}

func (a *apiSensor) Status() api.Status {
	st := api.Status{Version: a.version, StartedAt: a.started.UTC(), UptimeSeconds: time.Since(a.started).Seconds()}
	if src := a.sn.Source(); src != nil {
		st.Source = src.Name()
		for i, q := range src.Stats() {
			st.Queues = append(st.Queues, api.QueueStats{Queue: i, Packets: q.Packets, Bytes: q.Bytes, Missed: q.Missed, Errors: q.Errors, NoMbuf: q.NoMbuf})
		}
		if agg := a.sn.Aggregator(); agg != nil {
			for i := range len(st.Queues) {
				w := agg.WorkerStats(i)
				st.Workers = append(st.Workers, workerStats(i, &w))
			}
		}
	}
	if agg := a.sn.Aggregator(); agg != nil {
		tot := agg.Total()
		dir := func(d aggregate.Dir) api.DirRates {
			return api.DirRates{PPS: tot.Rates[d][aggregate.PPS], BPS: tot.Rates[d][aggregate.BPS], Flows: tot.Rates[d][aggregate.FlowsPS]}
		}
		st.Rates = api.Rates{In: dir(aggregate.In), Out: dir(aggregate.Out)}
		s := agg.Stats()
		st.Aggregator = api.AggregatorStats{Hosts: s.Hosts, TicksClosed: s.TicksClosed, TicksLate: s.TicksLate,
			HostsExpired: s.HostsExpired, HostsDropped: s.HostsDropped, TickDuration: tickHistogram(&s.TickDuration)}
	}
	if det := a.sn.Detector(); det != nil {
		d := det.Stats()
		st.Detector = api.DetectorStats{Active: d.Active, Detected: d.Detected, Ended: d.Ended,
			MitigationsRequested: d.MitigationsRequested, MitigationsRefused: d.MitigationsRefused, CommandsDropped: d.CommandsDropped}
	}
	if a.sp != nil {
		b := a.sp.Stats()
		st.BGP = &api.BGPStats{Sessions: b.Sessions, Active: b.Active, Refused: b.Refused, Announced: b.Announced,
			Withdrawn: b.Withdrawn, ApplyErrors: b.ApplyErrors, QueueDrops: b.QueueDrops}
	}
	for i, f := range a.sn.FlowStats() {
		fs := api.FlowStats{Listener: i, Exporters: len(f.Exporters), Records: f.Records, Rejected: f.Rejected}
		for _, e := range f.Exporters {
			fs.Datagrams += e.Datagrams
			for _, n := range e.Errors {
				fs.Errors += n
			}
		}
		for _, n := range f.Untracked {
			fs.Errors += n
		}
		st.Flows = append(st.Flows, fs)
	}
	if a.rl != nil {
		r := a.rl.Stats()
		st.Reloads = &r
	}
	if l := a.sn.Learner(); l != nil {
		ls := l.Stats()
		st.Learning = &api.LearningStats{Hosts: ls.Hosts, Published: ls.Published, Samples: ls.Samples,
			SkippedWatched: ls.SkippedWatch, OverflowHosts: ls.OverflowHosts, LastRecomputeSeconds: ls.LastRecompute.Seconds()}
	}
	if a.snapW != nil && a.snapCol != nil {
		c, w := a.snapCol.Stats(), a.snapW.Stats()
		st.Snapshots = &api.SnapshotStats{Taken: c.Snapshots, Dropped: c.Dropped, Written: w.Written, Failed: w.Failed,
			Bytes: w.Bytes, Removed: w.Removed, Rows: c.Rows, LastWriteSeconds: w.LastWrite.Seconds(), LastCopySeconds: c.LastCopy.Seconds()}
	}
	return st
}

func workerStats(i int, w *ring.Stats) api.WorkerStats {
	ws := api.WorkerStats{Worker: i, Packets: w.Packets, Bytes: w.Bytes, OtherPackets: w.OtherPackets,
		DecodeErrors: w.DecodeErrors, HostsDropped: w.HostsDropped, FlushesSkipped: w.FlushesSkipped,
		BusySeconds: float64(w.BusyNs) / 1e9, DecodeErrorsByKind: map[string]uint64{}}
	for k, n := range w.DecodeErrorKinds {
		ws.DecodeErrorsByKind[packet.ErrKind(k).String()] = n
	}
	return ws
}

func tickHistogram(h *aggregate.TickHistogram) *api.Histogram {
	out := &api.Histogram{Counts: h.Counts[:], SumSeconds: h.Sum.Seconds(), MaxSeconds: h.Max.Seconds()}
	for _, b := range aggregate.TickBuckets {
		out.Bounds = append(out.Bounds, b.Seconds())
	}
	return out
}

// groupNames are the hostgroup names by index in the hostgroup partition.
func groupNames(agg *aggregate.Aggregator) []string {
	var names []string
	for _, g := range agg.Groups() {
		if g.Partition == "hostgroup" {
			names = append(names, g.Name)
		}
	}
	return names
}

func groupName(names []string, g int) string {
	if g < 0 || g >= len(names) {
		return ""
	}
	return names[g]
}

func (a *apiSensor) Top(s aggregate.Series, d aggregate.Dir, n int) []api.HostRow {
	agg := a.sn.Aggregator()
	if agg == nil {
		return nil
	}
	// Views are valid only under Range's read lock: the heap keeps rows.
	names := groupNames(agg)
	top := api.NewTopN(n, func(x, y api.HostRow) bool { return x.Value < y.Value })
	agg.Range(func(v aggregate.HostView) bool {
		r := v.Rate(d, s)
		if r == 0 {
			return true
		}
		top.Offer(api.HostRow{IP: sensor.KeyAddr(v.Key()).String(), Hostgroup: groupName(names, v.Group(sensor.PartitionHostgroup)),
			Value: r, PPS: v.Rate(d, aggregate.PPS), BPS: v.Rate(d, aggregate.BPS), FlowsPS: v.Rate(d, aggregate.FlowsPS)})
		return true
	})
	return top.Sorted()
}

func (a *apiSensor) Host(ip netip.Addr) (api.Host, bool) {
	agg := a.sn.Aggregator()
	if agg == nil {
		return api.Host{}, false
	}
	names := groupNames(agg)
	var h api.Host
	ok := agg.Lookup(a.key(ip), func(v aggregate.HostView) {
		st := v.Stats()
		h = api.Host{IP: ip.String(), Hostgroup: groupName(names, v.Group(sensor.PartitionHostgroup)),
			LastSeen: time.Unix(0, st.LastSeen).UTC(), In: hostDir(&st, aggregate.In), Out: hostDir(&st, aggregate.Out)}
	})
	if det := a.sn.Detector(); ok && det != nil {
		group, lim := det.HostLimits(a.key(ip))
		h.Hostgroup = group // the one in force now, after any reload
		h.In.Thresholds, h.Out.Thresholds = thresholds(&lim[aggregate.In]), thresholds(&lim[aggregate.Out])
	}
	return h, ok
}

// thresholds are the limits in force by series name; a series without one
// is left out.
func thresholds(l *detect.Limits) map[string]float64 {
	m := map[string]float64{}
	for s := range aggregate.NumSeries {
		if l[s] != detect.Off {
			m[s.String()] = float64(l[s])
		}
	}
	return m
}

func hostDir(st *aggregate.HostStats, d aggregate.Dir) api.HostDir {
	hd := api.HostDir{Rates: map[string]uint64{}, Peaks: map[string]uint64{}, Packets: map[string]uint64{}, Bytes: map[string]uint64{},
		Flows: st.Totals[d].Flows}
	for s := range aggregate.NumSeries {
		hd.Rates[s.String()] = st.Rates[d][s]
		hd.Peaks[s.String()] = st.MaxPeaks[d][s]
	}
	for m := range hosts.NumMetrics {
		hd.Packets[m.String()] = st.Totals[d].Packets[m]
		hd.Bytes[m.String()] = st.Totals[d].Bytes[m]
	}
	return hd
}

func (a *apiSensor) Attacks() []detect.Attack {
	if det := a.sn.Detector(); det != nil {
		return det.Attacks()
	}
	return nil
}

func (a *apiSensor) Mitigations() []api.Mitigation {
	if a.sp == nil {
		return nil
	}
	var out []api.Mitigation
	for _, m := range a.sp.Active() {
		out = append(out, api.Mitigation{ID: m.ID, Action: m.Action, NLRI: m.NLRI, Hostgroup: m.Hostgroup, Since: m.Since.UTC(), Expires: m.Expires.UTC()})
	}
	return out
}

func (a *apiSensor) Ban(ip netip.Addr, d aggregate.Dir, reason string, dur time.Duration) error {
	det := a.sn.Detector()
	if det == nil {
		return api.ErrNotRunning
	}
	return det.Ban(a.key(ip), d, reason, dur)
}

func (a *apiSensor) Unban(ip netip.Addr, reason string) error {
	det := a.sn.Detector()
	if det == nil {
		return api.ErrNotRunning
	}
	return det.Unban(a.key(ip), reason)
}

// key is the host key that counts ip: IPv4 mapped, IPv6 masked to the
// tables' granularity.
func (a *apiSensor) key(ip netip.Addr) hosts.Key {
	if ip.Is6() && !ip.Is4In6() && a.prefixLen6 == 64 {
		p, _ := ip.Prefix(64)
		return hosts.Key(p.Addr().As16())
	}
	return hosts.Key(ip.As16())
}

// apiBGP adapts the speaker to api.BGPControl.
type apiBGP struct{ sp *bgp.Speaker }

func (b apiBGP) BGPStatus() api.BGPStatus {
	st := b.sp.Stats()
	out := api.BGPStatus{Active: st.Active, Refused: st.Refused}
	fams := b.sp.Families()
	for peer, state := range st.Sessions {
		out.Sessions = append(out.Sessions, api.BGPSession{Peer: peer, State: state, Families: fams[peer]})
	}
	sort.Slice(out.Sessions, func(i, j int) bool { return out.Sessions[i].Peer < out.Sessions[j].Peer })
	for _, m := range b.sp.Active() {
		out.Announcements = append(out.Announcements, api.Mitigation{ID: m.ID, Action: m.Action, NLRI: m.NLRI, Hostgroup: m.Hostgroup,
			Since: m.Since.UTC(), Expires: m.Expires.UTC()})
	}
	sort.Slice(out.Announcements, func(i, j int) bool { return out.Announcements[i].ID < out.Announcements[j].ID })
	return out
}

func (b apiBGP) Announce(r detect.Request) error { return apiRefusal(b.sp.Mitigate(r)) }
func (b apiBGP) Withdraw(id string) error        { return apiRefusal(b.sp.Withdraw(id)) }

// apiRefusal turns the speaker's refusal into the api's, which the
// handlers map to status codes by reason.
func apiRefusal(err error) error {
	var r *bgp.RefusedError
	if errors.As(err, &r) {
		return &api.RefusedError{Reason: r.Reason, Detail: r.Detail}
	}
	return err
}
