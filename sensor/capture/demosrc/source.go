package demosrc

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/rampartnet/rampart/internal/validate"
	"github.com/rampartnet/rampart/sensor/capture"
)

// Source is the demo generator: one queue.
type Source struct {
	cfg     Config
	q       *queue
	packets atomic.Uint64
	bytes   atomic.Uint64
}

// New validates cfg and builds the frame templates.
func New(cfg Config) (*Source, error) {
	p := validate.New()
	cfg.Validate(p)
	if err := p.Err(); err != nil {
		return nil, fmt.Errorf("demosrc: %w", err)
	}
	return &Source{cfg: cfg}, nil
}

// Name identifies the source in logs.
func (s *Source) Name() string { return "demo" }

// Start builds the traffic and starts its clock.
func (s *Source) Start(ctx context.Context) error {
	if s.q != nil {
		return errors.New("demosrc: already started")
	}
	s.q = newQueue(&s.cfg, s, time.Now, time.Sleep)
	return nil
}

// Queues is the one queue, valid after Start.
func (s *Source) Queues() []capture.Queue {
	if s.q == nil {
		return nil
	}
	return []capture.Queue{s.q}
}

// Stats counts the frames handed out. Safe while the worker polls.
func (s *Source) Stats() []capture.QueueStats {
	return []capture.QueueStats{{Packets: s.packets.Load(), Bytes: s.bytes.Load()}}
}

// Stop ends the source; the worker must have stopped polling.
func (s *Source) Stop() error {
	s.q = nil
	return nil
}

// Attacking reports whether the attack is on at elapsed time since Start.
func (c *Config) Attacking(elapsed time.Duration) bool {
	a := &c.Attack
	if a.Victim == "" || elapsed < a.Start {
		return false
	}
	in := elapsed - a.Start
	if a.Every > 0 {
		in %= a.Every
	}
	return in < a.Duration
}

// phaseStart is when the attack phase covering elapsed began.
func (c *Config) phaseStart(elapsed time.Duration) time.Duration {
	a := &c.Attack
	if a.Every == 0 {
		return a.Start
	}
	return elapsed - (elapsed-a.Start)%a.Every
}

const (
	maxBurst  = 256
	slotSize  = 1536 // one frame: the demo's largest is 1514 bytes
	maxWait   = time.Millisecond
	maxBehind = 100 * time.Millisecond // a stalled worker skips traffic older than this
)

type queue struct {
	cfg   *Config
	src   *Source
	now   func() time.Time
	sleep func(time.Duration)
	rng   *rand.Rand

	benign, syn, amp []template
	arena            []byte

	start      time.Time
	lastNs     int64 // wall-clock time of the last frame handed out
	benignSent uint64
	attackSent uint64        // in the current attack phase
	phase      time.Duration // start of the current attack phase, -1 before any
}

func newQueue(cfg *Config, s *Source, now func() time.Time, sleep func(time.Duration)) *queue {
	r := rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15))
	n4 := netip.MustParsePrefix(cfg.Network4).Masked()
	var hosts4, hosts6 []netip.Addr
	for i := range cfg.Hosts {
		hosts4 = append(hosts4, addrN(n4.Addr(), 1+i))
	}
	if cfg.Network6 != "" {
		n6 := netip.MustParsePrefix(cfg.Network6).Masked()
		for i := 0; i < cfg.Hosts; i += 4 { // a quarter of the hosts are dual-stack
			hosts6 = append(hosts6, addrN(n6.Addr(), 1+i))
		}
	}
	q := &queue{cfg: cfg, src: s, now: now, sleep: sleep, rng: r, arena: make([]byte, maxBurst*slotSize), phase: -1}
	q.benign = benignPool(hosts4, hosts6, r)
	if cfg.Attack.Victim != "" {
		q.syn, q.amp = attackPools(netip.MustParseAddr(cfg.Attack.Victim), r)
	}
	q.start = now()
	q.lastNs = q.start.UnixNano()
	return q
}

// due is how many benign and attack packets are owed at elapsed.
func (q *queue) due(el time.Duration) (benign, attack int) {
	owed := uint64(el.Seconds() * float64(q.cfg.Rate))
	if lim := uint64(maxBehind.Seconds() * float64(q.cfg.Rate)); owed > q.benignSent+lim {
		q.benignSent = owed - lim
	}
	benign = int(owed - min(owed, q.benignSent))
	if !q.cfg.Attacking(el) {
		return benign, 0
	}
	if ps := q.cfg.phaseStart(el); ps != q.phase {
		q.phase, q.attackSent = ps, 0
	}
	owed = uint64((el - q.phase).Seconds() * float64(q.cfg.Attack.Rate))
	if lim := uint64(maxBehind.Seconds() * float64(q.cfg.Attack.Rate)); owed > q.attackSent+lim {
		q.attackSent = owed - lim
	}
	return benign, int(owed - min(owed, q.attackSent))
}

// Recv waits up to a millisecond for a burst's worth of traffic to be due,
// so that an idle demo sleeps instead of spinning, then renders it.
func (q *queue) Recv(frames []capture.Frame) (int, error) {
	want := min(len(frames), maxBurst)
	now := q.now()
	el := now.Sub(q.start)
	nb, na := q.due(el)
	if nb+na < want {
		rate := q.cfg.Rate
		if na > 0 {
			rate += q.cfg.Attack.Rate
		}
		wait := time.Duration(float64(want-nb-na) / float64(rate) * float64(time.Second))
		q.sleep(min(wait, maxWait))
		now = q.now()
		el = now.Sub(q.start)
		nb, na = q.due(el)
	}
	if nb+na > want { // keep the mix when the burst is smaller than what is due
		na = na * want / (nb + na)
		nb = want - na
	}
	n := nb + na
	nowNs := now.UnixNano()
	step := (nowNs - q.lastNs) / int64(max(n, 1))
	var bytes uint64
	mid := el - q.phase
	for i := range n {
		var t *template
		if q.rng.IntN(nb+na) < na {
			na--
			q.attackSent++
			if mid < q.cfg.Attack.Duration/2 {
				t = &q.syn[q.rng.IntN(len(q.syn))]
			} else {
				t = &q.amp[q.rng.IntN(len(q.amp))]
			}
		} else {
			nb--
			q.benignSent++
			t = &q.benign[q.rng.IntN(len(q.benign))]
		}
		data := t.render(q.arena[i*slotSize:(i+1)*slotSize:(i+1)*slotSize], q.rng)
		frames[i].Set(data, uint32(max(len(data), 60)), q.lastNs+step*int64(i+1))
		bytes += uint64(len(data))
	}
	if n > 0 {
		q.lastNs = frames[n-1].TimeNs
		q.src.packets.Add(uint64(n))
		q.src.bytes.Add(bytes)
	}
	return n, nil
}

// Release is a no-op: the arena is rewritten by the next Recv.
func (q *queue) Release() {}
