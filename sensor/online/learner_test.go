package online

import (
	"net/netip"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/rampartnet/rampart/baseline"
	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/detect"
	"github.com/rampartnet/rampart/sensor/hostgroup"
	"github.com/rampartnet/rampart/sensor/hosts"
	"github.com/rampartnet/rampart/sensor/ring"
)

const tick = 100 * time.Millisecond

func fp(v float64) *float64 { return &v }

func key(s string) hosts.Key { return detect.KeyOf(netip.MustParseAddr(s)) }

// rig: an aggregator in synchronous mode into a detector and the learner,
// as the sensor wires them.
type rig struct {
	t   *testing.T
	agg *aggregate.Aggregator
	det *detect.Detector
	lrn *Learner
	now int64 // last closed tick end
}

func newRig(t *testing.T, cfg Config) *rig {
	t.Helper()
	groups := []hostgroup.Config{
		{Name: "learned", ThresholdsMode: hostgroup.ModeLearned, Prefixes: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/25")},
			Thresholds: hostgroup.Thresholds{In: hostgroup.Limits{PPS: fp(100_000), UDPPPS: fp(100_000)}}},
		{Name: "static", Prefixes: []netip.Prefix{netip.MustParsePrefix("203.0.113.128/25")},
			Thresholds: hostgroup.Thresholds{In: hostgroup.Limits{PPS: fp(100_000), UDPPPS: fp(100_000)}}},
	}
	r := &rig{t: t}
	base, err := detect.NewThresholds(groups, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.lrn = New(zerolog.Nop(), cfg, base, 0, func(dst []detect.Watch) []detect.Watch { return r.det.Watched(dst) })
	if !r.lrn.Active() {
		t.Fatal("learner inactive with a learned group")
	}
	th, err := detect.NewThresholds(groups, r.lrn)
	if err != nil {
		t.Fatal(err)
	}
	dcfg := detect.DefaultConfig()
	dcfg.HoldTime, dcfg.MinBanTime = time.Second, time.Second
	if r.det, err = detect.New(dcfg, detect.Deps{Log: zerolog.Nop(), Thresholds: th, Partition: 1, Tick: tick}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.det.Close() })
	acfg := aggregate.DefaultConfig()
	if r.agg, err = aggregate.New(acfg, aggregate.Options{Partitions: []aggregate.Partition{th.Partition()},
		OnTick: func(tk aggregate.Tick) { r.det.OnTick(tk); r.lrn.OnTick(tk) }}); err != nil {
		t.Fatal(err)
	}
	r.now = int64(time.Hour) // any start; learning paces on tick ends
	r.agg.CloseTick(r.now)
	return r
}

// run closes n ticks with pps packets a second (UDP, 100 bytes) to each host.
func (r *rig) run(n int, pps map[hosts.Key]uint64) {
	for range n {
		r.now += int64(tick)
		b := &ring.Batch{TickEnd: r.now, Final: true}
		for k, rate := range pps {
			d := hosts.Delta{Key: k}
			p := rate * uint64(tick) / uint64(time.Second)
			for _, m := range []hosts.Metric{hosts.Total, hosts.UDP} {
				d.In.Packets[m], d.In.Bytes[m] = p, p*100
			}
			b.Deltas = append(b.Deltas, d)
		}
		r.agg.Apply(b)
		r.agg.CloseTick(r.now)
	}
}

func (r *rig) attacked(k hosts.Key) bool {
	for _, a := range r.det.Attacks() {
		if a.IP == netip.AddrFrom16(k).Unmap().String() && a.State != detect.StateEnded {
			return true
		}
	}
	return false
}

func testConfig() Config {
	c := DefaultConfig()
	c.Recompute = 10 * time.Second
	c.Params = func(group, metric string) baseline.Params {
		p := baseline.DefaultParams()
		p.K, p.MinSamples, p.GroupMinSamples, p.MaxChange = 2, 30, 30, 0
		return p
	}
	return c
}

// A host of a learned group learns its normal rate and is then detected at
// 5× it, far below the static threshold; the same traffic on a static
// group's host is not. The attack seconds teach nothing.
func TestLearnedThresholdDetects(t *testing.T) {
	r := newRig(t, testConfig())
	learned, static := key("203.0.113.7"), key("203.0.113.200")
	r.run(600, map[hosts.Key]uint64{learned: 1000, static: 1000}) // a minute of normal
	var lim detect.Limits
	lim[aggregate.PPS] = detect.Off
	r.lrn.Override(learned, 0, aggregate.In, &lim)
	if lim[aggregate.PPS] < 1900 || lim[aggregate.PPS] > 2100 {
		t.Fatalf("learned pps limit %d, want about 2 × 1000", lim[aggregate.PPS])
	}
	if st := r.lrn.Stats(); st.Hosts != 1 || st.Published != 1 || st.Samples < 55 {
		t.Errorf("stats %+v, want 1 host learned and published", st)
	}
	r.run(50, map[hosts.Key]uint64{learned: 5000, static: 5000})
	if !r.attacked(learned) {
		t.Error("5× the learned normal was not detected")
	}
	if r.attacked(static) {
		t.Error("the static group's host was detected below its static threshold")
	}
	r.run(200, map[hosts.Key]uint64{learned: 5000, static: 5000}) // past a recompute, still under attack
	lim[aggregate.PPS] = detect.Off
	r.lrn.Override(learned, 0, aggregate.In, &lim)
	if lim[aggregate.PPS] > 2100 {
		t.Errorf("learned pps limit rose to %d during the attack: attack seconds were learned", lim[aggregate.PPS])
	}
	if r.lrn.Stats().SkippedWatch == 0 {
		t.Error("no host-second skipped while the detector tracked the host")
	}
}

// Hosts past MaxHosts teach their group and get its learned threshold;
// before the group is warm, the static one.
func TestMaxHostsFallsBackToGroup(t *testing.T) {
	cfg := testConfig()
	cfg.MaxHosts = 1
	r := newRig(t, cfg)
	a, b := key("203.0.113.1"), key("203.0.113.2")
	var lim detect.Limits
	r.run(5, map[hosts.Key]uint64{a: 1000, b: 3000})
	lim[aggregate.PPS] = 100_000
	r.lrn.Override(b, 0, aggregate.In, &lim)
	if lim[aggregate.PPS] != 100_000 {
		t.Fatalf("limit %d before anything is warm, want the static 100000", lim[aggregate.PPS])
	}
	r.run(600, map[hosts.Key]uint64{a: 1000, b: 3000})
	if st := r.lrn.Stats(); st.Hosts != 2 || st.OverflowHosts == 0 { // a, and the pooled overflow key
		t.Errorf("stats %+v, want a and the pool, and overflow counted", st)
	}
	r.lrn.Override(b, 0, aggregate.In, &lim)
	// The group pools both hosts: its p99 is about 3000, × 2.
	if lim[aggregate.PPS] < 5500 || lim[aggregate.PPS] > 6500 {
		t.Errorf("overflow host's limit %d, want the group's ~6000", lim[aggregate.PPS])
	}
	// A host of a static group gets nothing learned.
	lim[aggregate.PPS] = 100_000
	r.lrn.Override(key("203.0.113.200"), 1, aggregate.In, &lim)
	if lim[aggregate.PPS] != 100_000 {
		t.Errorf("static group host's limit changed to %d", lim[aggregate.PPS])
	}
}

// Override allocates nothing: it runs for every host every tick.
func TestOverrideNoAllocs(t *testing.T) {
	r := newRig(t, testConfig())
	k := key("203.0.113.7")
	r.run(600, map[hosts.Key]uint64{k: 1000})
	var lim detect.Limits
	if n := testing.AllocsPerRun(100, func() { r.lrn.Override(k, 0, aggregate.In, &lim) }); n != 0 {
		t.Errorf("Override allocates %v times", n)
	}
}

func TestInactiveWithoutLearnedGroups(t *testing.T) {
	th, err := detect.NewThresholds([]hostgroup.Config{hostgroup.Default()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if New(zerolog.Nop(), DefaultConfig(), th, 0, nil).Active() {
		t.Error("learner active without a learned group")
	}
}
