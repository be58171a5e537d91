// Package detect decides, every tick, which hosts are under attack, what the
// attack is and which mitigation to ask for.
//
// Each tick the detector compares every changed host's per-tick rates with
// its thresholds (learned ones first, then its hostgroup's). A host above a
// threshold for trigger_ticks consecutive ticks is attacked: the detector
// fingerprints the host's recent samples, names the attack type, synthesizes
// a FlowSpec rule (or falls back to a blackhole) and asks the Mitigator.
// While it goes on, traffic over a threshold that its rules do not match is
// a new vector with a rule of its own (see vector.go). The attack ends, and
// all its requests are withdrawn, once the host stayed calm for hold_time
// and min_ban_time has passed. Every decision uses tick end times only, so
// a replay on packet time gives the same attacks every run.
//
// Concurrency: OnTick runs on the aggregator's goroutine, which must also be
// the one that fills the sample store. Ban, Unban, Attacks and Stats may be
// called from any goroutine; Ban and Unban take effect at the next tick.
package detect

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/gaissmai/bart"
	"github.com/rampartnet/rampart/internal/validate"
	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/hostgroup"
	"github.com/rampartnet/rampart/sensor/hosts"
	"github.com/rampartnet/rampart/sensor/sample"
	"github.com/rs/zerolog"
)

// Samples is the sample memory read at trigger time; *sample.Store
// satisfies it.
type Samples interface {
	ForHost(dst []sample.Record, key hosts.Key, dir sample.Dir, sinceNs int64, prefixLen6 int) []sample.Record
}

// SampleRanger is a sample memory that can also be walked once for many
// hosts; when Samples implements it, a tick that opens many attacks at once
// (carpet bombing) reads the store once instead of once per attack.
type SampleRanger interface {
	Samples
	// Range calls fn for every record no older than sinceNs.
	Range(sinceNs int64, fn func(*sample.Record))
}

// maxScansPerTick bounds the per-host sample scans one tick does when
// Samples is not a SampleRanger: each reads the whole store. Attacks beyond
// it open at the next tick (Stats.TriggersDeferred).
const maxScansPerTick = 32

// Deps are a Detector's collaborators.
type Deps struct {
	Log        zerolog.Logger
	Thresholds *Thresholds // required
	// Partition is 1 + the index of Thresholds.Partition() in the
	// aggregator's Options.Partitions, so that each host's group comes from
	// the aggregator's cache; 0 looks the group up by prefix every time.
	Partition  int
	Whitelist  []netip.Prefix // detected and logged, never mitigated
	Tick       time.Duration  // the aggregator's tick; default 100 ms
	PrefixLen6 int            // IPv6 host granularity of the host tables, 128 (default) or 64
	SampleRate uint32         // 1 in N, for fingerprints
	Samples    Samples        // nil: no fingerprints, rules fall back to blackhole
	Mitigator  Mitigator      // nil: LogMitigator
}

// maxCommands bounds the Ban/Unban calls waiting for the next tick.
const maxCommands = 4096

// benignRecheck is how long a host whose traffic looked like a transfer is
// left alone before it is looked at again.
const benignRecheck = 10 * time.Second

// Detector: see the package comment.
type Detector struct {
	cfg        Config
	log        zerolog.Logger
	th         *Thresholds
	part       int // aggregator partition of the hostgroups, -1 for none
	white      *bart.Lite
	tickNs     int64
	prefixLen6 int
	sampleRate uint32
	samples    Samples
	mit        Mitigator
	rec        *recorder
	hooks      []notifier

	// detector goroutine only
	hits      []hit
	wants     []sampleWant // attacks to open and vector checks, this tick
	wantIdx   map[trackKey]int
	wantDir   [aggregate.NumDirs]bool // some want is of this direction
	sets      [][]sample.Record       // per want, when a SampleRanger is read once
	own       Limits                  // learned limits of the host being visited
	buf       []sample.Record
	unc       []sample.Record // samples no rule of an attack matches
	visitFn   func(aggregate.HostView) bool
	collectFn func(*sample.Record)

	cmdMu   sync.Mutex
	cmds    []command
	pending *reconfig

	mu        sync.Mutex // tracks, attacks, history, stats
	tracks    map[trackKey]*track
	history   []Attack // ring of ended attacks
	histNext  int
	stats     Stats
	lastNs    int64
	closed    bool
	closeOnce sync.Once
}

type trackKey struct {
	key hosts.Key
	dir aggregate.Dir
}

// track is a host and direction above a threshold now, under attack, or
// left alone for a while (grace).
type track struct {
	group      int
	run        int   // consecutive ticks above a threshold, up to now
	runStart   int64 // start of the first tick of the run
	seen       int64 // last tick above
	lastAbove  int64
	banUntil   int64
	graceUntil int64 // not detected before
	peak       [aggregate.NumSeries]uint64
	trig       aggregate.Series // series that triggered the attack; NumSeries for a manual ban
	attack     *Attack
	vec        vectorState
}

// hit is a host and direction above a threshold in this tick.
type hit struct {
	key   hosts.Key
	dir   aggregate.Dir
	group int
	over  uint16 // bit per series above its limit
	rates [aggregate.NumSeries]uint64
	lim   Limits
}

type command struct {
	ban    bool
	key    hosts.Key
	dir    aggregate.Dir
	reason string
	dur    time.Duration
}

// New returns a Detector. Close it to end attacks and flush logs.
func New(cfg Config, deps Deps) (*Detector, error) {
	p := validate.New()
	cfg.Validate(p.At("detection"))
	if err := p.Err(); err != nil {
		return nil, err
	}
	if deps.Thresholds == nil {
		return nil, errors.New("detect: Deps.Thresholds is required")
	}
	if deps.Tick == 0 {
		deps.Tick = 100 * time.Millisecond
	}
	if deps.Tick < 0 {
		return nil, fmt.Errorf("detect: Deps.Tick must be > 0, got %v", deps.Tick)
	}
	switch deps.PrefixLen6 {
	case 0:
		deps.PrefixLen6 = 128
	case 64, 128:
	default:
		return nil, fmt.Errorf("detect: Deps.PrefixLen6 must be 64 or 128, got %d", deps.PrefixLen6)
	}
	if deps.Mitigator == nil {
		deps.Mitigator = LogMitigator{Log: deps.Log}
	}
	d := &Detector{
		cfg:        cfg,
		log:        deps.Log,
		th:         deps.Thresholds,
		part:       deps.Partition - 1,
		tickNs:     int64(deps.Tick),
		prefixLen6: deps.PrefixLen6,
		sampleRate: deps.SampleRate,
		samples:    deps.Samples,
		mit:        deps.Mitigator,
		white:      new(bart.Lite),
		tracks:     map[trackKey]*track{},
		wantIdx:    map[trackKey]int{},
		history:    make([]Attack, 0, cfg.History),
		stats:      Stats{Active: map[string]int{}},
	}
	if deps.Partition < 0 || d.part >= aggregate.MaxPartitions {
		return nil, fmt.Errorf("detect: Deps.Partition must be 0 or 1..%d, got %d", aggregate.MaxPartitions, deps.Partition)
	}
	for _, pfx := range deps.Whitelist {
		if !pfx.IsValid() {
			return nil, fmt.Errorf("detect: whitelist prefix %s is not valid", pfx)
		}
		d.white.Insert(pfx.Masked())
	}
	d.visitFn, d.collectFn = d.visit, d.collect
	var err error
	if d.rec, err = newRecorder(cfg, deps.Log); err != nil {
		return nil, err
	}
	if cfg.Webhook.URL != "" {
		d.hooks = append(d.hooks, newWebhook(cfg.Webhook, deps.Log))
	}
	if cfg.Exec.Path != "" {
		d.hooks = append(d.hooks, newExecHook(cfg.Exec, deps.Log))
	}
	return d, nil
}

// OnTick looks at the tick that just closed; call it from the aggregator's
// OnTick.
func (d *Detector) OnTick(t aggregate.Tick) {
	d.applyReconfig()
	d.hits = d.hits[:0]
	t.Changed(d.visitFn)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	now := t.End
	d.lastNs = now
	d.applyCommands(now)
	d.wants = d.wants[:0]
	for i := range d.hits {
		h := &d.hits[i]
		if d.above(h, now) {
			tk := trackKey{h.key, h.dir}
			d.wants = append(d.wants, sampleWant{tk: tk, hit: i, since: d.since(d.tracks[tk], now)})
		}
	}
	d.addChecks(now)
	d.readSamples(now)
	d.sweep(now)
	d.rec.flush()
}

// visit checks one host's tick rates against its limits.
func (d *Detector) visit(v aggregate.HostView) bool {
	key := v.Key()
	g := -1
	if d.part >= 0 {
		g = v.Group(d.part)
	}
	if g < 0 {
		g = d.th.GroupOf(key)
	}
	grp := &d.th.groups[g]
	for dir := range aggregate.NumDirs {
		lim, fl := &grp.lim[dir], grp.floor[dir]
		if d.th.learned != nil {
			// A field, not a local: passed to an interface, a local would escape (alloc per host).
			d.own = *lim
			d.th.learned.Override(key, g, dir, &d.own)
			lim, fl = &d.own, floor(&d.own)
		}
		if fl == Off || v.TickRate(dir, aggregate.PPS) <= fl {
			continue
		}
		var over uint16
		for s := range aggregate.NumSeries {
			if lim[s] != Off && v.TickRate(dir, s) > lim[s] {
				over |= 1 << s
			}
		}
		if over == 0 {
			continue
		}
		h := hit{key: key, dir: dir, group: g, over: over, lim: *lim}
		for s := range aggregate.NumSeries {
			h.rates[s] = v.TickRate(dir, s)
		}
		d.hits = append(d.hits, h)
	}
	return true
}

// above advances the track of a host above a threshold in tick now and
// reports whether an attack on it is to open.
func (d *Detector) above(h *hit, now int64) bool {
	tk := trackKey{h.key, h.dir}
	tr := d.tracks[tk]
	if tr == nil {
		tr = &track{group: h.group}
		d.tracks[tk] = tr
	}
	if tr.run == 0 {
		tr.runStart = now - d.tickNs
		tr.peak = [aggregate.NumSeries]uint64{}
	}
	tr.run++
	tr.seen, tr.lastAbove = now, now
	for s, r := range h.rates {
		tr.peak[s] = max(tr.peak[s], r)
	}
	if a := tr.attack; a != nil {
		a.PeakPPS = max(a.PeakPPS, h.rates[aggregate.PPS])
		a.PeakBPS = max(a.PeakBPS, h.rates[aggregate.BPS])
		if tr.trig < aggregate.NumSeries {
			a.PeakTrigger = max(a.PeakTrigger, h.rates[tr.trig])
		}
		if tr.run == d.cfg.TriggerTicks { // above again after a calm tick
			tr.banUntil = max(tr.banUntil, now+int64(d.cfg.MinBanTime))
			a.Retriggers++
			d.stats.Retriggers++
			d.log.Info().Str("id", a.ID).Str("ip", a.IP).Int("retriggers", a.Retriggers).
				Str("ban_until", timeText(tr.banUntil)).Msg("attack re-triggered: ban extended")
		}
		return false
	}
	return tr.run >= d.cfg.TriggerTicks && now >= tr.graceUntil
}

// since is where the samples of a new attack begin: its first tick above.
func (d *Detector) since(tr *track, now int64) int64 {
	return max(tr.runStart, now-int64(d.cfg.FingerprintLookback))
}

// sampleWant is a host whose recent samples this tick reads: an attack to
// open, or an open attack's vector check.
type sampleWant struct {
	tk    trackKey
	hit   int // in hits
	since int64
	last  int64 // the previous vector check, to take the oldest first
	check bool
}

// readSamples reads the samples of every want and acts on them, in order.
// A SampleRanger is read once for all; a plain store is scanned once per
// want, at most maxScansPerTick times a tick: attacks beyond it open a tick
// later (Stats.TriggersDeferred), checks beyond it wait for the next tick.
func (d *Detector) readSamples(now int64) {
	if len(d.wants) == 0 {
		return
	}
	r, ranger := d.samples.(SampleRanger)
	if !ranger || len(d.wants) == 1 {
		for n := range d.wants {
			w := &d.wants[n]
			if n >= maxScansPerTick && d.samples != nil {
				if !w.check {
					d.stats.TriggersDeferred++
				}
				continue
			}
			d.act(w, now, d.samplesFor(w.tk.key, w.tk.dir, w.since))
		}
		return
	}
	clear(d.wantIdx)
	d.wantDir = [aggregate.NumDirs]bool{}
	oldest := now
	for n := range d.wants {
		d.wantIdx[d.wants[n].tk] = n
		d.wantDir[d.wants[n].tk.dir] = true
		oldest = min(oldest, d.wants[n].since)
	}
	for len(d.sets) < len(d.wants) {
		d.sets = append(d.sets, nil)
	}
	for n := range d.wants {
		d.sets[n] = d.sets[n][:0]
	}
	r.Range(oldest, d.collectFn)
	for n := range d.wants {
		d.act(&d.wants[n], now, d.sets[n])
		if cap(d.sets[n]) > maxKeptSet { // a carpet bombing's sets are not kept for ever
			d.sets[n] = nil
		}
	}
}

// maxKeptSet is the largest per-want sample buffer kept between ticks.
const maxKeptSet = 4096

// collect adds one record of a SampleRanger to the sets that want it.
func (d *Detector) collect(rec *sample.Record) {
	for dir := range aggregate.NumDirs {
		if !d.wantDir[dir] {
			continue
		}
		k := sample.KeyOf(&rec.Header, sample.Dir(dir), d.prefixLen6)
		if n, ok := d.wantIdx[trackKey{k, dir}]; ok && rec.TimeNs >= d.wants[n].since {
			d.sets[n] = append(d.sets[n], *rec)
		}
	}
}

func (d *Detector) act(w *sampleWant, now int64, recs []sample.Record) {
	h, tr := &d.hits[w.hit], d.tracks[w.tk]
	if w.check {
		d.checkVector(tr, h, now, recs)
		return
	}
	d.start(tr, h, now, recs)
}

// sweep ends the run of every track not above in tick now, drops tracks with
// nothing left to remember, and ends the attacks that are over.
func (d *Detector) sweep(now int64) {
	var ending []trackKey
	for tk, tr := range d.tracks {
		if tr.seen != now {
			tr.run = 0
		}
		if tr.attack == nil {
			if tr.run == 0 && now >= tr.graceUntil {
				delete(d.tracks, tk)
			}
			continue
		}
		if d.over(tr, now) {
			ending = append(ending, tk)
		}
	}
	sortKeys(ending) // map order is random: keep logs and records deterministic
	for _, tk := range ending {
		d.end(tk, d.tracks[tk], now, EndedExpired)
	}
}

// over reports an attack whose mitigation may end at now.
func (d *Detector) over(tr *track, now int64) bool {
	if d.cfg.MaxBanTime > 0 && now-tr.attack.DetectedNs >= int64(d.cfg.MaxBanTime) {
		return true
	}
	return now >= tr.banUntil && now-tr.lastAbove >= int64(d.cfg.HoldTime)
}

func sortKeys(ks []trackKey) {
	slices.SortFunc(ks, func(a, b trackKey) int {
		if c := cmp.Compare(string(a.key[:]), string(b.key[:])); c != 0 {
			return c
		}
		return cmp.Compare(a.dir, b.dir)
	})
}

// start opens an attack on the track of hit h.
func (d *Detector) start(tr *track, h *hit, now int64, recs []sample.Record) {
	prof := fingerprint(recs, d.sampleRate)
	ip := addrOf(h.key)
	if benign(&prof, h.over, d.cfg.BenignMaxFlows, d.cfg.MinSamples) {
		tr.graceUntil = now + int64(benignRecheck)
		d.stats.Benign++
		d.log.Info().Str("ip", ip.String()).Str("direction", h.dir.String()).Int("flows", prof.flows).
			Int("samples", prof.n).Str("over", overNames(h.over)).Msg("heavy transfer in few established flows: not an attack")
		return
	}
	trig, ratio := aggregate.PPS, -1.0
	for s := range aggregate.NumSeries {
		if h.over&(1<<s) != 0 {
			if r := float64(h.rates[s]) / float64(max(h.lim[s], 1)); r > ratio {
				trig, ratio = s, r
			}
		}
	}
	a := d.newAttack(tr, h.key, h.dir, tr.runStart, now)
	a.Type = classify(&prof, &h.rates, &h.lim, d.cfg.MinSamples)
	a.Trigger, tr.trig = trig.String(), trig
	a.Threshold = float64(h.lim[trig])
	a.PeakPPS, a.PeakBPS, a.PeakTrigger = tr.peak[aggregate.PPS], tr.peak[aggregate.BPS], tr.peak[trig]
	fp := prof.fp
	a.Fingerprint = &fp
	d.open(tr, a, h.key, h.dir, recs, now, zerolog.Dict().Str("over", overNames(h.over)).Uint64("rate", h.rates[trig]))
}

// newAttack is an attack on key with its identity and times set.
func (d *Detector) newAttack(tr *track, key hosts.Key, dir aggregate.Dir, startNs, now int64) *Attack {
	ip := addrOf(key).String()
	return &Attack{
		ID:         time.Unix(0, now).UTC().Format("20060102T150405.000Z") + "-" + ip + "-" + dir.String(),
		IP:         ip,
		Direction:  dir.String(),
		Hostgroup:  d.th.GroupName(tr.group),
		State:      StateDetected,
		StartedNs:  startNs,
		StartedAt:  timeText(startNs),
		DetectedNs: now,
		DetectedAt: timeText(now),
	}
}

// open mitigates a new attack, logs it and tells the hooks.
func (d *Detector) open(tr *track, a *Attack, key hosts.Key, dir aggregate.Dir, recs []sample.Record, now int64, extra *zerolog.Event) {
	tr.attack = a
	tr.banUntil = max(tr.banUntil, now+int64(d.cfg.MinBanTime))
	tr.vec = vectorState{nextCheck: now + d.checkNs()}
	a.Types = []string{a.Type}
	d.mitigate(tr, a, key, dir, recs)
	d.stats.Detected++
	d.stats.Active[a.Type]++
	if d.rec.pcapDir != "" && len(recs) > 0 {
		a.Pcap = d.rec.pcap(a.ID, recs)
	}
	ev := d.log.Warn().Str("id", a.ID).Str("ip", a.IP).Str("direction", a.Direction).Str("hostgroup", a.Hostgroup).
		Str("type", a.Type).Str("trigger", a.Trigger).Float64("threshold", a.Threshold).Dict("detail", extra).
		Str("action", a.Mitigation.Action).Dur("detection_delay", time.Duration(a.DetectedNs-a.StartedNs))
	if a.Mitigation.Rule != nil {
		ev = ev.Str("rule", a.Mitigation.Rule.String())
	}
	if a.Mitigation.Reason != "" {
		ev = ev.Str("reason", a.Mitigation.Reason)
	}
	ev.Msg("attack detected")
	if d.cfg.AttackLogStart {
		d.rec.write(EventStart, a)
	}
	d.notify(EventStart, a)
}

func (d *Detector) samplesFor(key hosts.Key, dir aggregate.Dir, since int64) []sample.Record {
	if d.samples == nil {
		return nil
	}
	d.buf = d.samples.ForHost(d.buf[:0], key, sample.Dir(dir), since, d.prefixLen6)
	return d.buf
}

// mitigate chooses and requests the mitigation of a new attack.
func (d *Detector) mitigate(tr *track, a *Attack, key hosts.Key, dir aggregate.Dir, recs []sample.Record) {
	m := &a.Mitigation
	pfx := hostPrefix(key, d.prefixLen6)
	req := Request{ID: a.ID, Prefix: pfx, Hostgroup: a.Hostgroup}
	var span *Rule
	switch action := d.th.Action(tr.group); {
	case d.white.Lookup(pfx.Addr()):
		m.Action, m.Reason = ActionNone, "whitelisted"
		d.stats.Whitelisted++
		return
	case action == hostgroup.ActionNone:
		m.Action, m.Reason = ActionNone, "hostgroup action none"
		return
	case action == hostgroup.ActionBlackhole:
		req.Action, req.Reason = ActionBlackhole, "hostgroup action blackhole"
	case action == hostgroup.ActionScrub:
		req.Action, req.Reason = ActionRedirect, "hostgroup action scrub"
	default:
		span = d.ruleFor(&req, m, recs, dir)
	}
	d.request(tr, a, req, m, span)
}

// ruleFor makes req a FlowSpec rule for recs, or a blackhole when no rule
// covers enough of them; with a rule, it returns the rule's span (see
// synthesis.span).
func (d *Detector) ruleFor(req *Request, m *Mitigation, recs []sample.Record, dir aggregate.Dir) *Rule {
	base := Rule{Destination: req.Prefix}
	if dir == aggregate.Out {
		base = Rule{Source: req.Prefix}
	}
	s := synthesize(recs, base, d.cfg.RuleCoverage, d.cfg.MinSamples)
	if !s.ok {
		req.Action, req.Reason = ActionBlackhole, "fallback: "+s.reason
		return nil
	}
	req.Action, req.Rule = ActionFlowSpec, &s.rule
	m.Rule, m.Coverage = &s.rule, s.coverage
	return &s.span
}

// request asks the Mitigator for req on behalf of attack a, records the
// outcome in m, and remembers the request for vector checks (by the span of
// its rule) and the end. A refused rule still counts as asked, so it is not
// asked again every tick.
func (d *Detector) request(tr *track, a *Attack, req Request, m *Mitigation, span *Rule) {
	m.Action, m.Reason = req.Action, req.Reason
	if req.Action == ActionFlowSpec {
		tr.vec.spans = append(tr.vec.spans, span)
	} else {
		m.Prefix = req.Prefix.String()
		tr.vec.hostWide = true
	}
	if err := d.mit.Mitigate(req); err != nil {
		m.Error = err.Error()
		d.stats.MitigationsRefused++
		d.log.Error().Err(err).Str("id", req.ID).Str("action", req.Action).Msg("mitigation refused")
		return
	}
	d.stats.MitigationsRequested++
	tr.vec.requests = append(tr.vec.requests, req.ID)
	a.State = StateMitigating
}

// end closes the attack of track tk at now.
func (d *Detector) end(tk trackKey, tr *track, now int64, by string) {
	a := tr.attack
	for _, id := range tr.vec.requests {
		// A sensor that stops does not stop the attack: its mitigations stay
		// with the mitigator, which persists them and, after a restart,
		// keeps them for as long as the detector asks for them again.
		if by == EndedShutdown {
			break
		}
		if err := d.mit.Withdraw(id); err != nil {
			d.stats.WithdrawalsFailed++
			d.log.Error().Err(err).Str("id", id).Msg("mitigation withdrawal failed")
		}
	}
	tr.vec = vectorState{}
	a.State = StateEnded
	a.EndedNs, a.EndedAt = now, timeText(now)
	a.Mitigation.EndedBy = by
	for i := range a.Vectors {
		a.Vectors[i].Mitigation.EndedBy = by
	}
	d.stats.Ended++
	if d.stats.Active[a.Type]--; d.stats.Active[a.Type] <= 0 {
		delete(d.stats.Active, a.Type)
	}
	d.log.Info().Str("id", a.ID).Str("ip", a.IP).Str("direction", a.Direction).Str("type", a.Type).
		Str("ended_by", by).Dur("duration", time.Duration(now-a.DetectedNs)).
		Uint64("peak_pps", a.PeakPPS).Uint64("peak_bps", a.PeakBPS).Msg("attack ended")
	d.rec.write(EventEnd, a)
	d.notify(EventEnd, a)
	if len(d.history) < cap(d.history) {
		d.history = append(d.history, *a)
	} else {
		d.history[d.histNext] = *a
		d.histNext = (d.histNext + 1) % len(d.history)
	}
	tr.attack = nil
	tr.run = 0
	if now >= tr.graceUntil {
		delete(d.tracks, tk)
	}
}

func (d *Detector) notify(event string, a *Attack) {
	for _, h := range d.hooks {
		h.notify(Event{Event: event, Attack: a.clone()})
	}
}

// Ban mitigates host key in direction dir from the next tick on, for dur
// (0: until Unban), whatever its rates. A whitelisted host is still not
// mitigated. Safe from any goroutine.
func (d *Detector) Ban(key hosts.Key, dir aggregate.Dir, reason string, dur time.Duration) error {
	if dir >= aggregate.NumDirs {
		return fmt.Errorf("detect: direction must be in or out, got %d", dir)
	}
	if dur < 0 {
		return fmt.Errorf("detect: ban duration must be >= 0, got %v", dur)
	}
	return d.enqueue(command{ban: true, key: key, dir: dir, reason: reason, dur: dur})
}

// Unban ends the attacks on key in both directions at the next tick, and
// keeps the host from being detected again for unban_grace. Safe from any
// goroutine.
func (d *Detector) Unban(key hosts.Key, reason string) error {
	return d.enqueue(command{key: key, reason: reason})
}

func (d *Detector) enqueue(c command) error {
	d.cmdMu.Lock()
	defer d.cmdMu.Unlock()
	if len(d.cmds) >= maxCommands {
		d.mu.Lock()
		d.stats.CommandsDropped++
		d.mu.Unlock()
		return fmt.Errorf("detect: %d commands already wait for the next tick", len(d.cmds))
	}
	d.cmds = append(d.cmds, c)
	return nil
}

func (d *Detector) applyCommands(now int64) {
	d.cmdMu.Lock()
	cmds := d.cmds
	d.cmds = nil
	d.cmdMu.Unlock()
	for _, c := range cmds {
		if c.ban {
			d.ban(c, now)
		} else {
			d.unban(c, now)
		}
	}
}

func (d *Detector) ban(c command, now int64) {
	until := int64(math.MaxInt64)
	if c.dur > 0 {
		until = now + int64(c.dur)
	}
	tk := trackKey{c.key, c.dir}
	tr := d.tracks[tk]
	if tr == nil {
		tr = &track{group: d.th.GroupOf(c.key)}
		d.tracks[tk] = tr
	}
	tr.graceUntil = 0
	if a := tr.attack; a != nil {
		tr.banUntil = max(tr.banUntil, until)
		a.Manual, a.ManualReason = true, c.reason
		d.log.Info().Str("id", a.ID).Str("reason", c.reason).Str("ban_until", timeText(tr.banUntil)).Msg("manual ban extends attack")
		return
	}
	recs := d.samplesFor(c.key, c.dir, now-int64(d.cfg.FingerprintLookback))
	prof := fingerprint(recs, d.sampleRate)
	a := d.newAttack(tr, c.key, c.dir, now, now)
	a.Type, a.Trigger, tr.trig = TypeManual, "manual", aggregate.NumSeries
	a.Manual, a.ManualReason = true, c.reason
	fp := prof.fp
	a.Fingerprint = &fp
	tr.banUntil = until
	d.open(tr, a, c.key, c.dir, recs, now, zerolog.Dict().Str("reason", c.reason))
}

func (d *Detector) unban(c command, now int64) {
	for dir := range aggregate.NumDirs {
		tk := trackKey{c.key, dir}
		tr := d.tracks[tk]
		if tr == nil {
			tr = &track{group: d.th.GroupOf(c.key)}
			d.tracks[tk] = tr
		}
		tr.graceUntil = now + int64(d.cfg.UnbanGrace)
		if tr.attack != nil {
			d.log.Info().Str("id", tr.attack.ID).Str("reason", c.reason).Msg("manual unban")
			d.end(tk, tr, now, EndedManual)
		}
	}
}

// Attacks returns the active attacks and the last `history` ended ones, by
// detection time. Safe from any goroutine.
func (d *Detector) Attacks() []Attack {
	d.mu.Lock()
	out := make([]Attack, 0, len(d.history)+len(d.tracks))
	out = append(out, d.history...)
	for _, tr := range d.tracks {
		if tr.attack != nil {
			out = append(out, tr.attack.clone())
		}
	}
	d.mu.Unlock()
	slices.SortFunc(out, func(a, b Attack) int {
		if c := cmp.Compare(a.DetectedNs, b.DetectedNs); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

// Close ends every active attack as "shutdown" at the last tick, flushes the
// attack log and waits (bounded by their timeouts) for the hooks to deliver
// what they hold.
func (d *Detector) Close() error {
	var err error
	d.closeOnce.Do(func() {
		d.mu.Lock()
		var keys []trackKey
		for tk, tr := range d.tracks {
			if tr.attack != nil {
				keys = append(keys, tk)
			}
		}
		sortKeys(keys)
		for _, tk := range keys {
			d.end(tk, d.tracks[tk], d.lastNs, EndedShutdown)
		}
		d.closed = true
		err = d.rec.close()
		d.mu.Unlock()
		for _, h := range d.hooks {
			h.close()
		}
	})
	return err
}

func overNames(over uint16) string {
	out := ""
	for s := range aggregate.NumSeries {
		if over&(1<<s) != 0 {
			if out != "" {
				out += ","
			}
			out += s.String()
		}
	}
	return out
}
