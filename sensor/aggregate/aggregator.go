// Package aggregate merges the per-tick deltas of every worker into per-host
// totals and sliding-window rates, and totals and rates per group of hosts.
//
// Window: the last `window` of ticks. Each tick has a log of the hosts that
// had traffic in it (one narrow entry per host); a host keeps running sums
// over the window. Closing tick t adds t's log to the sums and subtracts the
// log of tick t-W, so a tick costs O(hosts touched now + hosts touched W ticks
// ago), and an idle host costs nothing until idle expiry removes it.
//
// Concurrency: one goroutine owns an Aggregator and is the only writer: the
// Run loop, or in synchronous mode (replay, tests) the caller of Apply and
// CloseTick. The owner holds the write lock only while applying a batch and
// closing a tick. OnTick runs on the owner without the lock. Every read method
// (Range, Lookup, Total, Groups, Stats) takes the read lock, so other
// goroutines may call them at any time; a long Range delays the next apply,
// and workers then keep counting into their tables until it ends.
package aggregate

import (
	"math"
	"sync"
	"time"

	"github.com/rampartnet/rampart/internal/validate"
	"github.com/rampartnet/rampart/sensor/clock"
	"github.com/rampartnet/rampart/sensor/hosts"
	"github.com/rampartnet/rampart/sensor/ring"
)

// freeTick marks a slab entry that holds no host.
const freeTick = math.MinInt64

// Options are an Aggregator's collaborators.
type Options struct {
	// Clock decides lateness in Run; default the wall clock. Replay passes a
	// clock.Manual driven by packet time. Synchronous mode does not use it.
	Clock clock.Clock
	// Partitions of hosts into groups, at most MaxPartitions.
	Partitions []Partition
	// OnTick runs after each tick closes, on the owner goroutine.
	OnTick func(Tick)
	// OnBatch sees each batch as it is applied, on the owner goroutine,
	// before the batch goes back to its worker (e.g. to keep its samples).
	OnBatch func(*ring.Batch)
	// Pipes are the workers' rings, for Run.
	Pipes []*ring.Pipe
}

// Stats are the aggregator's own counters.
type Stats struct {
	Hosts        int    // tracked now
	TicksClosed  uint64 // ticks closed one by one
	TicksSkipped uint64 // ticks with no traffic and empty windows, passed in one step
	TicksLate    uint64 // ticks Run closed before every worker delivered them
	BatchesLate  uint64 // batches for a closed tick, counted in the open one
	HostsExpired uint64 // hosts removed after idle_expiry
	HostsDropped uint64 // deltas of new hosts not tracked: max_hosts reached
	TickDuration TickHistogram
	Workers      ring.Stats
}

// tickLog is the traffic of one tick: one entry per host.
type tickLog struct {
	entries []logEntry
}

type logEntry struct {
	c    counts
	host uint32
}

// Aggregator: see the package comment.
type Aggregator struct {
	tickNs   int64
	buckets  int64 // W: ticks in the window
	idle     int64 // idle expiry in ticks
	maxHost  int
	lateness int64
	perSec   perSecond
	perTick  perSecond // 1 s / tick, for TickRate
	clock    clock.Clock
	onTick   func(Tick)
	onBatch  func(*ring.Batch)
	pipes    []*ring.Pipe
	stop     func()

	mu        sync.RWMutex
	t         *table
	logs      []tickLog // W+1: the open tick and the window; tick t is logs[t%(W+1)]
	logLen    int       // entries in all logs
	openLog   *tickLog  // logs[open%(W+1)]
	started   bool
	open      int64 // tick being filled; its end is open*tickNs
	changed   []uint32
	parts     []partState
	all       groupState
	epoch     uint32 // peak epoch, bumped by ResetPeaks
	resetTick int64  // last tick closed before the latest ResetPeaks
	sweep     uint32 // idle expiry cursor in the slab
	stats     Stats
	workers   []ring.Stats
	hints     hints
}

// New returns an Aggregator; cfg must have passed Validate.
func New(cfg Config, opts Options) (*Aggregator, error) {
	p := validate.New()
	cfg.Validate(p)
	if len(opts.Partitions) > MaxPartitions {
		p.Errorf("aggregate: at most %d partitions, got %d", MaxPartitions, len(opts.Partitions))
	}
	for i, pt := range opts.Partitions {
		if pt.Of == nil {
			p.Errorf("aggregate: partition %d (%q) has no classifier", i, pt.Name)
		}
		if len(pt.Groups) >= math.MaxUint16 {
			p.Errorf("aggregate: partition %q has %d groups, at most %d", pt.Name, len(pt.Groups), math.MaxUint16-1)
		}
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	w := cfg.buckets()
	a := &Aggregator{
		tickNs:   int64(cfg.Tick),
		buckets:  int64(w),
		idle:     cfg.idleTicks(),
		maxHost:  cfg.MaxHosts,
		lateness: int64(cfg.Lateness),
		perSec:   newPerSecond(int64(cfg.Window)),
		perTick:  newPerSecond(int64(cfg.Tick)),
		clock:    opts.Clock,
		onTick:   opts.OnTick,
		onBatch:  opts.OnBatch,
		pipes:    opts.Pipes,
		t:        newTable(),
		logs:     make([]tickLog, w+1),
		all:      newGroupState(w),
	}
	if a.clock == nil {
		a.clock = clock.Wall{}
	}
	for _, pt := range opts.Partitions {
		ps := partState{name: pt.Name, names: pt.Groups, of: pt.Of, groups: make([]groupState, len(pt.Groups)+1)}
		for g := range ps.groups {
			ps.groups[g] = newGroupState(w)
		}
		a.parts = append(a.parts, ps)
	}
	return a, nil
}

// tickOf numbers the tick that ends at end (rounded up to a tick boundary).
func (a *Aggregator) tickOf(end int64) int64 {
	t := end / a.tickNs
	if end%a.tickNs > 0 {
		t++
	}
	return t
}

func (a *Aggregator) begin(t int64) {
	a.mu.Lock() // readers look at open and resetTick
	defer a.mu.Unlock()
	a.started = true
	a.setOpen(t)
	a.resetTick = t - 1
}

// Apply adds a worker's batch to the tick it belongs to. A batch of a later
// tick than the open one first closes the ticks before it; a batch of an
// already closed tick is counted in the open tick (Stats.BatchesLate).
// Synchronous mode and Run both come through here.
func (a *Aggregator) Apply(b *ring.Batch) {
	t := a.tickOf(b.TickEnd)
	if !a.started {
		a.begin(t)
	}
	if t > a.open {
		a.advance(t - 1)
	}
	a.mu.Lock()
	if t < a.open {
		a.stats.BatchesLate++
	}
	a.addAll(b.Worker, t, b.Deltas)
	if b.Worker >= 0 {
		for b.Worker >= len(a.workers) {
			a.workers = append(a.workers, ring.Stats{})
		}
		a.workers[b.Worker].Add(&b.Stats)
	}
	a.mu.Unlock()
	if a.onBatch != nil {
		a.onBatch(b)
	}
}

// CloseTick closes every tick that ends at or before end, calling OnTick for
// each. Before the first Apply it only sets where ticks start.
func (a *Aggregator) CloseTick(end int64) {
	t := a.tickOf(end)
	if !a.started {
		a.begin(t + 1)
		return
	}
	a.advance(t)
}

// advance closes ticks up to and including target.
func (a *Aggregator) advance(target int64) {
	for a.open <= target {
		start := time.Now() // compute time, not the (maybe simulated) clock
		a.mu.Lock()
		if a.open < target && a.quiet() {
			a.skip(target)
		}
		t := a.open
		a.closeTick(t)
		a.setOpen(t + 1)
		a.mu.Unlock()
		if a.onTick != nil {
			a.onTick(Tick{End: t * a.tickNs, a: a})
		}
		d := time.Since(start)
		a.mu.Lock()
		a.stats.TickDuration.observe(d)
		a.mu.Unlock()
	}
}

// quiet reports that nothing is in any window or the open tick, so empty
// ticks can be passed without visiting them.
func (a *Aggregator) quiet() bool {
	if a.logLen != 0 || !a.all.quiet() {
		return false
	}
	for p := range a.parts {
		for g := range a.parts[p].groups {
			if !a.parts[p].groups[g].quiet() {
				return false
			}
		}
	}
	return true
}

// skip passes the empty ticks from open up to target (exclusive), expiring
// hosts as of the last of them; nothing else changes in an empty tick.
func (a *Aggregator) skip(target int64) {
	a.stats.TicksSkipped += uint64(target - a.open)
	a.expire(target-1, a.t.used)
	a.setOpen(target)
}

// setOpen makes t the open tick.
func (a *Aggregator) setOpen(t int64) {
	a.open = t
	a.openLog = &a.logs[t%int64(len(a.logs))]
}

// lookahead is how many index slots addAll loads before using them: the
// loads are independent, so their cache misses overlap.
const lookahead = 16

// addAll counts the deltas of a batch of worker w (or -1) for tick t into
// the open tick. A delta whose position in the worker's tick matches a hint
// (see hint.go) skips the index.
func (a *Aggregator) addAll(w int, t int64, ds []hosts.Delta) {
	var hint []uint32
	if w >= 0 {
		hint = a.hints.at(w, t, len(ds))
	}
	var hs, ss [lookahead]uint64
	var es [lookahead]uint32
	for base := 0; base < len(ds); base += lookahead {
		group := ds[base:min(base+lookahead, len(ds))]
		for j := range group {
			if hint != nil {
				if e := hint[base+j]; e != 0 {
					if m := a.t.at(e - 1); m.key == group[j].Key && m.lastTick != freeTick {
						es[j] = e
						continue
					}
				}
			}
			es[j] = 0
			hs[j] = a.t.hash(&group[j].Key)
			ss[j] = a.t.slots[a.t.home(uint32(hs[j]>>32))]
		}
		for j := range group {
			e := es[j]
			if e == 0 {
				e = a.lookup(&group[j], hs[j], ss[j])
				if hint != nil {
					hint[base+j] = e
				}
				if e == 0 {
					continue
				}
			}
			a.add(e-1, &group[j])
		}
	}
}

// lookup returns the entry plus one of d's host, tracking it if new, or 0
// when it is not tracked (max_hosts reached: d is counted in the groups). h is
// its key's hash and s the content of its home slot, loaded ahead.
func (a *Aggregator) lookup(d *hosts.Delta, h, s uint64) uint32 {
	e, ok := a.t.findFrom(&d.Key, h, s)
	if !ok {
		// s may predate an insert earlier in this batch: look again before inserting.
		e, ok = a.t.find(&d.Key, h)
	}
	if !ok {
		if a.t.live >= a.maxHost {
			a.addUntracked(d)
			return 0
		}
		e = a.t.insert(&d.Key, h)
		a.track(e)
	}
	return e + 1
}

// add counts one delta of tracked host e into the open tick.
func (a *Aggregator) add(e uint32, d *hosts.Delta) {
	pg, i := a.t.pages[e>>pageBits], e&pageMask
	m := &pg.meta[i]
	addBoth(&pg.tot[i], d)
	lg := a.openLog
	if m.lastTick != a.open {
		m.lastTick = a.open
		n := len(lg.entries)
		m.entry = uint32(n)
		if n == cap(lg.entries) {
			lg.entries = append(lg.entries, logEntry{})
		}
		// Every field written once, in place: no zeroing, no copy.
		lg.entries = lg.entries[:n+1]
		le := &lg.entries[n]
		le.host = e
		le.c.set(d)
		a.logLen++
	} else {
		le := &lg.entries[m.entry]
		le.c.add(d)
	}
	a.addGroups(&m.groups, d)
}

// addGroups counts d in its groups. With partitions, the all-hosts tick is
// the sum of partition 0's groups, taken at close (allTick): one add per
// delta fewer.
func (a *Aggregator) addGroups(gs *[MaxPartitions]uint16, d *hosts.Delta) {
	if len(a.parts) == 0 {
		a.all.add(d)
		return
	}
	for p := range a.parts {
		a.parts[p].groups[gs[p]].add(d)
	}
}

// allTick is the open tick's traffic of all hosts.
func (a *Aggregator) allTick() [NumDirs]hosts.Counters {
	if len(a.parts) == 0 {
		return a.all.tick
	}
	var c [NumDirs]hosts.Counters
	for g := range a.parts[0].groups {
		gt := &a.parts[0].groups[g].tick
		addCounters(&c[In], &gt[In])
		addCounters(&c[Out], &gt[Out])
	}
	return c
}

// track sets up a host seen for the first time.
func (a *Aggregator) track(e uint32) {
	m, mk := a.t.at(e), a.t.mark(e)
	m.lastTick, mk.mark = freeTick+1, freeTick+1
	mk.epoch = a.epoch
	for p := range a.parts {
		g := a.classify(p, m.key)
		m.groups[p] = g
		a.parts[p].groups[g].hosts++
	}
	a.all.hosts++
}

func (a *Aggregator) classify(p int, k hosts.Key) uint16 {
	ps := &a.parts[p]
	g := ps.of(k)
	if g < 0 || g >= len(ps.names) {
		return uint16(len(ps.names))
	}
	return uint16(g)
}

func (a *Aggregator) addUntracked(d *hosts.Delta) {
	a.stats.HostsDropped++
	if len(a.parts) == 0 {
		a.all.add(d)
	}
	for p := range a.parts {
		a.parts[p].groups[a.classify(p, d.Key)].add(d)
	}
}

// closeTick moves tick t into the window and drops tick t-W from it.
func (a *Aggregator) closeTick(t int64) {
	n := int64(len(a.logs))
	cur, old := &a.logs[t%n], &a.logs[(t+1)%n] // old holds tick t-W
	a.changed = a.changed[:0]
	firstAfterReset := t == a.resetTick+1
	for i := range old.entries {
		le := &old.entries[i]
		a.mark(le.host, t)
		w := a.t.win(le.host)
		w.sum.sub(&le.c)
		if firstAfterReset {
			a.t.peak(le.host).raise(&w.sum)
		}
	}
	a.logLen -= len(old.entries)
	old.entries = old.entries[:0]
	for i := range cur.entries {
		le := &cur.entries[i]
		a.mark(le.host, t)
		w := a.t.win(le.host)
		w.sum.addRaise(&le.c, a.t.peak(le.host))
	}
	if len(a.parts) > 0 {
		a.all.tick = a.allTick() // before the groups close and clear theirs
	}
	for p := range a.parts {
		for g := range a.parts[p].groups {
			a.parts[p].groups[g].close(t)
		}
	}
	a.all.close(t)
	a.stats.TicksClosed++
	a.expire(t, a.sweepSize())
}

// mark lists a host as changed in tick t, once, and brings its peak into the
// current epoch: a host untouched since ResetPeaks kept its rate through the
// ticks since, so that rate is its peak so far unless no tick has closed yet.
func (a *Aggregator) mark(e uint32, t int64) {
	mk := a.t.mark(e)
	if mk.mark == t {
		return
	}
	mk.mark = t
	a.changed = append(a.changed, e)
	if mk.epoch != a.epoch {
		mk.epoch = a.epoch
		pk := a.t.peak(e)
		a.t.maxPeak(e).lift(pk)
		*pk = counts{}
		if t > a.resetTick+1 {
			pk.raise(&a.t.win(e).sum)
		}
	}
}

// sweepSize spreads an idle-expiry pass over the slab across an eighth of the
// idle period, so a host goes at most idle_expiry/8 late.
func (a *Aggregator) sweepSize() uint32 {
	cycle := max(a.idle/8, 1)
	return uint32((int64(a.t.used) + cycle - 1) / cycle)
}

// expire removes hosts idle since before tick t-idle among the next n slab entries.
func (a *Aggregator) expire(t int64, n uint32) {
	used := a.t.used
	if used == 0 {
		return
	}
	n = min(n, used)
	for range n {
		if a.sweep >= used {
			a.sweep = 0
		}
		e := a.sweep
		a.sweep++
		m := a.t.at(e)
		if m.lastTick == freeTick || m.lastTick > t-a.idle {
			continue
		}
		for p := range a.parts {
			a.parts[p].groups[m.groups[p]].hosts--
		}
		a.all.hosts--
		a.t.remove(e)
		m.lastTick = freeTick
		a.stats.HostsExpired++
	}
}

// Tick is a closed tick, handed to OnTick.
type Tick struct {
	End int64 // ns since the epoch
	a   *Aggregator
}

// Changed calls fn for each host whose rates changed in this tick: those with
// traffic in it and those whose traffic just left the window. Owner only (it
// takes no lock): call it from OnTick.
func (t Tick) Changed(fn func(HostView) bool) {
	for _, e := range t.a.changed {
		if !fn(HostView{a: t.a, e: e}) {
			return
		}
	}
}

// NumChanged is how many hosts Changed visits.
func (t Tick) NumChanged() int { return len(t.a.changed) }
