package bgp

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/server"
	"github.com/rs/zerolog"

	"github.com/rampartnet/rampart/internal/validate"
	"github.com/rampartnet/rampart/sensor/detect"
)

// Speaker is the embedded BGP speaker; it implements detect.Mitigator.
// Mitigate and Withdraw check the guardrails and update the table of active
// announcements under a lock, then queue the BGP work for one worker
// goroutine, so the detector never waits for GoBGP or the disk.
type Speaker struct {
	log   zerolog.Logger
	cfg   Config
	guard guard
	now   func() time.Time

	mu        sync.Mutex
	running   bool
	table     map[string]*entry // by announcement key (the NLRI)
	byID      map[string]string // request ID → key; may point at a key another ID took over
	active    map[string]int    // by action
	bucket    bucket
	version   uint64 // table changes, to save only when needed
	ops       chan op
	counts    counters
	sessions  map[string]string
	srv       *server.BgpServer
	stopWatch context.CancelFunc
	done      chan struct{}
}

type entry struct {
	rec record
	ann *announcement
}

// op is one path for the worker to announce or withdraw.
type op struct {
	id       string
	ann      *announcement
	withdraw bool
}

type counters struct {
	refused                    map[string]uint64
	queueDrops                 uint64
	announced, withdrawn       uint64
	applyErrors, saveErrors    uint64
	expired, restored, dropped uint64
}

var _ detect.Mitigator = (*Speaker)(nil)

// New checks cfg and prepares a speaker for the own networks (announcements
// must lie inside them) and the whitelist (never announced).
func New(log zerolog.Logger, cfg Config, own, whitelist []netip.Prefix) (*Speaker, error) {
	cfg.Peers = slices.Clone(cfg.Peers) // FillDefaults writes into them
	cfg.FillDefaults()
	if cfg.QueueSize == 0 {
		cfg.QueueSize = DefaultConfig().QueueSize
	}
	p := validate.New()
	cfg.Validate(p.At("bgp"))
	if !cfg.DryRun && !cfg.Enabled {
		p.Fieldf("bgp.enabled", "must be true to start a speaker (or set dry_run), got false")
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	if len(own) == 0 {
		return nil, errors.New("bgp: no own networks: every announcement would be refused")
	}
	return &Speaker{
		log:      log,
		cfg:      cfg,
		guard:    guard{own: slices.Clone(own), whitelist: slices.Clone(whitelist)},
		now:      time.Now,
		table:    map[string]*entry{},
		byID:     map[string]string{},
		active:   map[string]int{},
		counts:   counters{refused: map[string]uint64{}},
		sessions: map[string]string{},
	}, nil
}

// Start brings up the BGP server and its peers (not in dry run), restores
// the saved table and starts the worker. Restored mitigations skip the rate
// limit but not the other guardrails; expired ones are dropped.
func (s *Speaker) Start(ctx context.Context) error {
	s.mu.Lock()
	started := s.ops != nil
	s.mu.Unlock()
	if started {
		return errors.New("bgp: speaker already started")
	}
	var recs []record
	if s.cfg.StateFile != "" {
		var err error
		if recs, err = loadState(s.cfg.StateFile); err != nil {
			return err
		}
	}
	if !s.cfg.DryRun {
		if err := s.startServer(ctx); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.bucket = newBucket(s.cfg.Limits.MaxPerSecond, now)
	s.ops = make(chan op, s.cfg.QueueSize+len(recs))
	s.done = make(chan struct{})
	s.running = true
	for i := range recs {
		s.restore(&recs[i], now)
	}
	s.version++ // save the restored table (expired and refused ones gone)
	go s.run()
	s.log.Info().Bool("dry_run", s.cfg.DryRun).Int("peers", len(s.cfg.Peers)).Int("restored", len(s.table)).Msg("bgp speaker started")
	return nil
}

// restore re-admits one saved mitigation; the caller holds mu.
func (s *Speaker) restore(r *record, now time.Time) {
	ev := s.log.Info().Str("id", r.ID).Str("action", r.Action)
	if !r.ExpiresAt.IsZero() && !now.Before(r.ExpiresAt) {
		s.counts.expired++
		ev.Time("expired_at", r.ExpiresAt).Msg("saved mitigation expired while stopped, not re-announced")
		return
	}
	a, err := s.cfg.build(r.request())
	if err == nil {
		err = s.check(a)
	}
	if err == nil {
		err = s.admit(*r, a, false)
	}
	if err != nil {
		s.counts.dropped++
		s.log.Warn().Str("id", r.ID).Err(err).Msg("saved mitigation refused, not re-announced")
		return
	}
	s.counts.restored++
	if g := s.cfg.Limits.RestoreGrace; g > 0 {
		if e := s.table[a.key]; e != nil && (e.rec.ExpiresAt.IsZero() || now.Add(g).Before(e.rec.ExpiresAt)) {
			e.rec.ExpiresAt = now.Add(g).UTC()
		}
		ev = ev.Dur("restore_grace", g)
	}
	ev.Str("nlri", a.key).Msg("saved mitigation re-announced")
}

// SetWhitelist replaces the whitelist guardrail (a configuration reload).
// Announcements in force stay: the detector ends the attacks it no longer
// mitigates, and an operator withdraws by hand what was announced by hand.
func (s *Speaker) SetWhitelist(whitelist []netip.Prefix) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.guard.whitelist = slices.Clone(whitelist)
	s.log.Info().Int("prefixes", len(whitelist)).Msg("whitelist guardrail reloaded")
}

// check applies the prefix guardrails; the caller holds mu.
func (s *Speaker) check(a *announcement) error {
	if r := s.guard.check(a); r != nil {
		return r
	}
	return nil
}

// Stop drains the queue, saves the table and closes the sessions. Peers
// drop the routes with the sessions; the next Start re-announces them.
func (s *Speaker) Stop() error {
	s.mu.Lock()
	if !s.running {
		s.mu.Unlock()
		return nil
	}
	s.running = false
	close(s.ops)
	s.mu.Unlock()
	<-s.done
	if s.srv != nil {
		s.stopServer()
	}
	s.log.Info().Msg("bgp speaker stopped")
	return nil
}

// Mitigate checks and queues an announcement; an error means refused.
func (s *Speaker) Mitigate(req detect.Request) error {
	a, err := s.cfg.build(req)
	if err != nil {
		err = refuse(ReasonInvalid, "%s: %v", req.ID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		err = s.check(a) // under mu: SetWhitelist may change the guard
	}
	if err == nil {
		if !s.running {
			err = refuse(ReasonNotRunning, "speaker is not running")
		} else {
			now := s.now()
			rec := record{ID: req.ID, Action: req.Action, Rule: req.Rule, Prefix: req.Prefix, Hostgroup: req.Hostgroup, Reason: req.Reason, AnnouncedAt: now.UTC()}
			if s.cfg.Limits.MaxAge > 0 {
				rec.ExpiresAt = rec.AnnouncedAt.Add(s.cfg.Limits.MaxAge)
			}
			err = s.admit(rec, a, true)
		}
	}
	if err != nil {
		s.refused(req.ID, err)
	}
	return err
}

// refused counts and logs a refusal; the caller holds mu.
func (s *Speaker) refused(id string, err error) {
	reason := ReasonInvalid
	var r *RefusedError
	if errors.As(err, &r) {
		reason = r.Reason
	}
	s.counts.refused[reason]++
	if reason == ReasonQueueFull {
		s.counts.queueDrops++
	}
	s.log.Warn().Str("id", id).Str("reason", reason).Err(err).Msg("mitigation refused")
}

// admit applies the count, queue and rate limits and, if they pass, puts a
// into the table and queues it; the caller holds mu.
func (s *Speaker) admit(rec record, a *announcement, limitRate bool) error {
	old := s.table[a.key]
	var moved *entry // the same ID announced another match before: replace it
	if k, ok := s.byID[rec.ID]; ok && k != a.key {
		if e := s.table[k]; e != nil && e.rec.ID == rec.ID {
			moved = e
		}
	}
	total, per := len(s.table)+1, s.active[a.action]+1
	for _, gone := range []*entry{old, moved} {
		if gone != nil {
			total--
			if gone.ann.action == a.action {
				per--
			}
		}
	}
	if total > s.cfg.Limits.MaxActive && total > len(s.table) {
		return refuse(ReasonMaxActive, "%d active, limits.max_active is %d", len(s.table), s.cfg.Limits.MaxActive)
	}
	if lim := s.cfg.actionLimit(a.action); lim > 0 && per > lim && per > s.active[a.action] {
		return refuse(ReasonMaxActive, "%d %s active, its limit is %d", s.active[a.action], a.action, lim)
	}
	need := 1
	if moved != nil {
		need++
	}
	if len(s.ops)+need > cap(s.ops) {
		return refuse(ReasonQueueFull, "%d requests waiting for the bgp worker", len(s.ops))
	}
	if limitRate && !s.bucket.take(s.now()) {
		return refuse(ReasonRate, "over limits.max_per_second %v", s.cfg.Limits.MaxPerSecond)
	}
	if moved != nil {
		s.remove(moved)
		s.ops <- op{id: rec.ID, ann: moved.ann, withdraw: true}
	}
	if old != nil {
		s.active[old.ann.action]--
	}
	s.table[a.key] = &entry{rec: rec, ann: a}
	s.byID[rec.ID] = a.key
	s.active[a.action]++
	s.version++
	s.ops <- op{id: rec.ID, ann: a}
	return nil
}

// remove takes e out of the table; the caller holds mu and queues the withdraw.
func (s *Speaker) remove(e *entry) {
	delete(s.table, e.ann.key)
	s.active[e.ann.action]--
	s.version++
}

// Withdraw queues the withdrawal of the mitigation id announced. An id
// whose match another request has taken over since is done already.
func (s *Speaker) Withdraw(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	key, known := s.byID[id]
	switch {
	case !s.running:
		err = refuse(ReasonNotRunning, "speaker is not running")
	case !known:
		err = refuse(ReasonUnknownID, "no active mitigation %q", id)
	case len(s.ops) == cap(s.ops):
		err = refuse(ReasonQueueFull, "%d requests waiting for the bgp worker", len(s.ops))
	}
	if err != nil {
		s.refused(id, err)
		return err
	}
	delete(s.byID, id)
	if e := s.table[key]; e != nil && e.rec.ID == id {
		s.remove(e)
		s.ops <- op{id: id, ann: e.ann, withdraw: true}
	}
	return nil
}

func (c *Config) actionLimit(action string) int {
	switch action {
	case detect.ActionFlowSpec:
		return c.Limits.MaxActiveFlowSpec
	case detect.ActionBlackhole:
		return c.Limits.MaxActiveBlackhole
	case detect.ActionRedirect:
		return c.Limits.MaxActiveRedirect
	}
	return 0
}

// run is the worker: it applies queued paths in order, saves the table after
// each batch, and expires old announcements when limits.max_age is set.
func (s *Speaker) run() {
	defer close(s.done)
	var tick <-chan time.Time
	if age := expiryPeriod(s.cfg.Limits); age > 0 {
		t := time.NewTicker(min(time.Second, age))
		defer t.Stop()
		tick = t.C
	}
	var saved uint64
	save := func() {
		s.mu.Lock()
		v := s.version
		var recs []record
		if v != saved && s.cfg.StateFile != "" {
			recs = s.records()
		}
		s.mu.Unlock()
		if v == saved || s.cfg.StateFile == "" {
			return
		}
		if err := saveState(s.cfg.StateFile, recs); err != nil {
			s.mu.Lock()
			s.counts.saveErrors++
			s.mu.Unlock()
			s.log.Error().Err(err).Msg("cannot save the mitigation table")
			return
		}
		saved = v
	}
	save()
	for {
		select {
		case o, ok := <-s.ops:
			// Apply the rest of the batch too, then save once.
			for n := 0; ok; n++ {
				s.apply(o)
				if n == cap(s.ops) {
					break
				}
				if o, ok = s.tryRecv(); ok && o.ann == nil {
					break
				}
			}
			save()
			if !ok {
				return
			}
		case <-tick:
			s.expire()
			save()
		}
	}
}

// tryRecv is the next queued op, op{} if none, or false once closed.
func (s *Speaker) tryRecv() (op, bool) {
	select {
	case o, ok := <-s.ops:
		return o, ok
	default:
		return op{}, true
	}
}

// apply hands one path to GoBGP, or logs it in dry run.
func (s *Speaker) apply(o op) {
	verb := "announced"
	if o.withdraw {
		verb = "withdrawn"
	}
	if s.srv == nil {
		s.log.Info().Str("id", o.id).Str("update", o.ann.updateText(o.withdraw)).Msg("dry run: update not sent")
		s.count(o.withdraw, nil)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var err error
	if o.withdraw {
		err = s.srv.DeletePath(ctx, &api.DeletePathRequest{TableType: api.TableType_GLOBAL, Family: o.ann.path.Family, Path: o.ann.path})
	} else {
		_, err = s.srv.AddPath(ctx, &api.AddPathRequest{TableType: api.TableType_GLOBAL, Path: o.ann.path})
	}
	s.count(o.withdraw, err)
	if err != nil {
		s.log.Error().Str("id", o.id).Str("nlri", o.ann.key).Err(err).Msg("gobgp rejected the path")
		return
	}
	s.log.Info().Str("id", o.id).Str("action", o.ann.action).Str("nlri", o.ann.key).Msg("mitigation " + verb)
}

func (s *Speaker) count(withdraw bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case err != nil:
		s.counts.applyErrors++
	case withdraw:
		s.counts.withdrawn++
	default:
		s.counts.announced++
	}
}

// expiryPeriod is the shortest life an entry can have, or 0 when none expires.
func expiryPeriod(l LimitsConfig) time.Duration {
	switch {
	case l.MaxAge > 0 && l.RestoreGrace > 0:
		return min(l.MaxAge, l.RestoreGrace)
	case l.MaxAge > 0:
		return l.MaxAge
	}
	return l.RestoreGrace
}

// expire withdraws what has outlived limits.max_age, or restore_grace for
// a restored entry nobody asked for again.
func (s *Speaker) expire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for _, e := range s.table {
		if e.rec.ExpiresAt.IsZero() || now.Before(e.rec.ExpiresAt) {
			continue
		}
		if !s.running || len(s.ops) == cap(s.ops) {
			return // next tick
		}
		s.remove(e)
		delete(s.byID, e.rec.ID)
		s.counts.expired++
		s.log.Info().Str("id", e.rec.ID).Str("nlri", e.ann.key).Msg("mitigation expired (limits.max_age)")
		s.ops <- op{id: e.rec.ID, ann: e.ann, withdraw: true}
	}
}

// records is the table in a stable order; the caller holds mu.
func (s *Speaker) records() []record {
	recs := make([]record, 0, len(s.table))
	for _, e := range s.table {
		recs = append(recs, e.rec)
	}
	slices.SortFunc(recs, func(a, b record) int {
		if c := a.AnnouncedAt.Compare(b.AnnouncedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return recs
}

// Active lists the active mitigations' IDs and NLRIs, sorted by NLRI.
func (s *Speaker) Active() []Announcement {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Announcement, 0, len(s.table))
	for _, e := range s.table {
		out = append(out, Announcement{ID: e.rec.ID, Action: e.rec.Action, NLRI: e.ann.key, Hostgroup: e.rec.Hostgroup, Since: e.rec.AnnouncedAt, Expires: e.rec.ExpiresAt})
	}
	slices.SortFunc(out, func(a, b Announcement) int { return strings.Compare(a.NLRI, b.NLRI) })
	return out
}

// Announcement is one active mitigation as the status command shows it.
type Announcement struct {
	ID, Action, NLRI, Hostgroup string
	Since, Expires              time.Time
}

// String is for logs and errors.
func (a Announcement) String() string { return fmt.Sprintf("%s %s %s", a.ID, a.Action, a.NLRI) }
