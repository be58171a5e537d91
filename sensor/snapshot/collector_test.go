package snapshot

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/hosts"
	"github.com/rampartnet/rampart/sensor/ring"
)

const (
	tick      = 100 * time.Millisecond
	tickNs    = int64(tick)
	perIv     = 10 // ticks per 1 s interval
	winTicks  = 10 // 1 s window
	numGroups = 3
)

func key(i int) hosts.Key {
	var k hosts.Key
	k[10], k[11] = 0xff, 0xff
	k[12], k[13], k[14], k[15] = 10, 0, byte(i>>8), byte(i)
	return k
}

// traffic is one host's delta in one tick, made from a packet count p so
// that every metric, byte count and flow count differs.
func traffic(i, p int) hosts.Delta {
	d := hosts.Delta{Key: key(i)}
	u := uint64(p)
	d.In.Packets[hosts.Total], d.In.Bytes[hosts.Total] = u, 100*u
	d.In.Packets[hosts.UDP], d.In.Bytes[hosts.UDP] = u-u/3, 100*(u-u/3)
	d.In.Packets[hosts.ICMP], d.In.Bytes[hosts.ICMP] = u/3, 100*(u/3)
	d.In.Flows = u / 4
	d.Out.Packets[hosts.Total], d.Out.Bytes[hosts.Total] = u/2, 60*(u/2)
	d.Out.Packets[hosts.TCP], d.Out.Bytes[hosts.TCP] = u/2, 60*(u/2)
	d.Out.Packets[hosts.SYN], d.Out.Bytes[hosts.SYN] = u/5, 60*(u/5)
	d.Out.Packets[hosts.Frag] = u / 7
	d.Out.Bytes[hosts.Frag] = 60 * (u / 7)
	d.Out.Flows = u / 6
	return d
}

// rig is an aggregator driven synchronously with a Collector on its OnTick.
type rig struct {
	agg *aggregate.Aggregator
	col *Collector
	n   int64 // last closed tick
}

func newRig(t testing.TB, maxHosts int) *rig {
	t.Helper()
	cfg := aggregate.DefaultConfig()
	cfg.IdleExpiry = 2 * time.Second
	cfg.MaxHosts = maxHosts
	col, err := NewCollector(Config{Interval: time.Second, Partition: "hostgroup"}, tick)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{col: col}
	byNet := aggregate.Partition{Name: "network", Groups: []string{"all"}, Of: func(hosts.Key) int { return 0 }}
	byHost := aggregate.Partition{Name: "hostgroup", Groups: []string{"web", "dns", "mail"},
		Of: func(k hosts.Key) int { return int(k[15]) % (numGroups + 1) }} // 3: no group
	r.agg, err = aggregate.New(cfg, aggregate.Options{
		Partitions: []aggregate.Partition{byNet, byHost},
		OnTick:     func(tk aggregate.Tick) { col.OnTick(tk, r.agg) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// step applies one tick of deltas and closes it.
func (r *rig) step(ds []hosts.Delta) {
	r.n++
	r.agg.Apply(&ring.Batch{Worker: 0, TickEnd: r.n * tickNs, Final: true, Deltas: ds})
	r.agg.CloseTick(r.n * tickNs)
}

func (r *rig) take() *Batch {
	select {
	case b := <-r.col.Batches():
		return b
	default:
		return nil
	}
}

// oracle recomputes interval counts and peaks from the raw per-tick packets.
type oracle struct {
	ticks []map[int]int // tick n-1: host → packets
}

func (o *oracle) row(i int, start, end int64) (Row, bool) {
	var r Row
	active := false
	for n := start + 1; n <= end; n++ {
		if p, ok := o.ticks[n-1][i]; ok {
			active = true
			d := traffic(i, p)
			add(&r.Counts[aggregate.In], &d.In)
			add(&r.Counts[aggregate.Out], &d.Out)
		}
		var win [aggregate.NumDirs]hosts.Counters
		for w := max(n-winTicks+1, 1); w <= n; w++ {
			if p, ok := o.ticks[w-1][i]; ok {
				d := traffic(i, p)
				add(&win[aggregate.In], &d.In)
				add(&win[aggregate.Out], &d.Out)
			}
		}
		for dir := range aggregate.NumDirs {
			c := &win[dir]
			rates := [aggregate.NumSeries]uint64{
				aggregate.PPS: c.Packets[hosts.Total], aggregate.BPS: 8 * c.Bytes[hosts.Total], aggregate.FlowsPS: c.Flows,
				aggregate.TCPPPS: c.Packets[hosts.TCP], aggregate.SYNPPS: c.Packets[hosts.SYN], aggregate.UDPPPS: c.Packets[hosts.UDP],
				aggregate.ICMPPPS: c.Packets[hosts.ICMP], aggregate.FragPPS: c.Packets[hosts.Frag],
			}
			for s, v := range rates {
				r.Peaks[dir][s] = max(r.Peaks[dir][s], v)
			}
		}
	}
	r.Key = key(i)
	r.Group = int32(i % (numGroups + 1))
	if r.Group == numGroups {
		r.Group = -1
	}
	return r, active
}

func add(dst, src *hosts.Counters) {
	for m := range hosts.NumMetrics {
		dst.Packets[m] += src.Packets[m]
		dst.Bytes[m] += src.Bytes[m]
	}
	dst.Flows += src.Flows
}

func TestIntervalDeltasAndPeaks(t *testing.T) {
	r := newRig(t, 1000)
	rng := rand.New(rand.NewPCG(1, 2))
	var o oracle
	// Hosts 0-19 send all along; 20-39 only in intervals 1-2, then go idle
	// long enough to expire (2 s) and come back in interval 6, counting from
	// zero again.
	activeIn := func(i int, iv int64) bool { return i < 20 || iv <= 2 || iv >= 6 }
	const intervals = 8
	var got []*Batch
	for r.n < intervals*perIv+perIv {
		iv := (r.n + 1 - 1) / perIv // interval of the tick being filled
		ts := map[int]int{}
		var ds []hosts.Delta
		for i := range 40 {
			if activeIn(i, iv) && rng.IntN(3) > 0 {
				p := 1 + rng.IntN(200)
				ts[i] = p
				ds = append(ds, traffic(i, p))
			}
		}
		o.ticks = append(o.ticks, ts)
		r.step(ds)
		if b := r.take(); b != nil {
			cp := *b
			cp.Rows = append([]Row(nil), b.Rows...)
			got = append(got, &cp)
			r.col.Release(b)
		}
	}
	// Tick 10 primes; snapshots cover ticks 11-20, ..., 81-90.
	if len(got) != intervals {
		t.Fatalf("got %d snapshots, want %d", len(got), intervals)
	}
	for s, b := range got {
		start, end := int64(s+1)*perIv, int64(s+2)*perIv
		if b.Start != start*tickNs || b.End != end*tickNs {
			t.Fatalf("snapshot %d covers [%d, %d), want [%d, %d)", s, b.Start, b.End, start*tickNs, end*tickNs)
		}
		if want := []string{"web", "dns", "mail"}; len(b.Groups) != 3 || b.Groups[0] != want[0] || b.Groups[2] != want[2] {
			t.Fatalf("groups %q, want %q", b.Groups, want)
		}
		seen := map[hosts.Key]bool{}
		for _, row := range b.Rows {
			i := int(row.Key[14])<<8 | int(row.Key[15])
			want, active := o.row(i, start, end)
			if !active {
				t.Fatalf("snapshot %d: host %d has a row but no traffic", s, i)
			}
			if row != want {
				t.Fatalf("snapshot %d host %d:\n got %+v\nwant %+v", s, i, row, want)
			}
			seen[row.Key] = true
		}
		for i := range 40 {
			if _, active := o.row(i, start, end); active && !seen[key(i)] {
				t.Fatalf("snapshot %d: host %d had traffic but no row", s, i)
			}
		}
	}
	if st := r.col.Stats(); st.Dropped != 0 || st.Snapshots != intervals {
		t.Fatalf("stats %+v, want %d snapshots, none dropped", st, intervals)
	}
}

func TestStuckConsumerDropsWithoutBlocking(t *testing.T) {
	r := newRig(t, 1000)
	load := []hosts.Delta{traffic(1, 10), traffic(2, 20)}
	run := func(intervals int) {
		for range intervals * perIv {
			r.step(load) // would hang here if OnTick blocked
		}
	}
	run(2) // prime at tick 10, first snapshot at tick 20 waits in the channel
	if st := r.col.Stats(); st.Snapshots != 1 || st.Dropped != 0 {
		t.Fatalf("after the first snapshot: %+v", st)
	}
	run(3) // channel full: each snapshot is copied into the spare batch, then dropped
	if st := r.col.Stats(); st.Snapshots != 1 || st.Dropped != 3 {
		t.Fatalf("channel full: %+v, want 1 snapshot, 3 dropped", st)
	}
	held := r.take() // consumer now works on one batch...
	run(1)           // ...the spare goes into the channel...
	held2 := r.take()
	run(2) // ...and is taken too: no batch left, snapshots dropped before copying
	if st := r.col.Stats(); st.Snapshots != 2 || st.Dropped != 5 {
		t.Fatalf("both batches held: %+v, want 2 snapshots, 5 dropped", st)
	}
	if held2.Dropped != 3 {
		t.Fatalf("second snapshot says %d dropped before it, want 3", held2.Dropped)
	}
	r.col.Release(held)
	r.col.Release(held2)
	run(1)
	b := r.take()
	if b == nil {
		t.Fatal("no snapshot after the consumer caught up")
	}
	// Dropped intervals are not folded into the next: it covers one interval.
	if b.End-b.Start != int64(time.Second) || len(b.Rows) != 2 || b.Rows[0].Counts[aggregate.In].Packets[hosts.Total] != 10*perIv {
		t.Fatalf("after drops: [%d, %d) rows %+v", b.Start, b.End, b.Rows)
	}
}

func TestQuietIntervalsSendNothing(t *testing.T) {
	r := newRig(t, 1000)
	for range 2 * perIv {
		r.step([]hosts.Delta{traffic(1, 10)})
	}
	if b := r.take(); b == nil || len(b.Rows) != 1 {
		t.Fatalf("want one row, got %+v", b)
	}
	// An hour later: the aggregator skips the empty ticks in one step.
	r.n += 36000
	r.step([]hosts.Delta{traffic(1, 5)})
	if b := r.take(); b != nil {
		t.Fatalf("quiet hour gave a snapshot of %d rows", len(b.Rows))
	}
	for range perIv {
		r.step([]hosts.Delta{traffic(1, 5)})
	}
	b := r.take()
	if b == nil || len(b.Rows) != 1 || b.Rows[0].Counts[aggregate.In].Packets[hosts.Total] != 5*perIv {
		t.Fatalf("after the quiet hour: %+v", b)
	}
	if st := r.col.Stats(); st.Hosts != 1 {
		t.Fatalf("keeps totals of %d hosts, want 1", st.Hosts)
	}
}

func TestNewCollectorRejects(t *testing.T) {
	for _, c := range []struct {
		iv, tick time.Duration
	}{{0, tick}, {time.Second, 0}, {1050 * time.Millisecond, tick}} {
		if _, err := NewCollector(Config{Interval: c.iv}, c.tick); err == nil {
			t.Errorf("interval %v tick %v accepted", c.iv, c.tick)
		}
	}
}

func batchOf(n int64, ds []hosts.Delta) *ring.Batch {
	return &ring.Batch{Worker: 0, TickEnd: n * tickNs, Final: true, Deltas: ds}
}
