package detect

import (
	"testing"
	"time"

	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/hosts"
	"github.com/rampartnet/rampart/sensor/packet"
	"github.com/rampartnet/rampart/sensor/ring"
	"github.com/rampartnet/rampart/sensor/sample"
	"github.com/rs/zerolog"
)

type nopMitigator struct{}

func (nopMitigator) Mitigate(Request) error { return nil }
func (nopMitigator) Withdraw(string) error  { return nil }

func benchKey(i uint32) hosts.Key {
	var k hosts.Key
	k[10], k[11] = 0xff, 0xff
	k[12], k[13], k[14], k[15] = 10|byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
	return k
}

// bench is an aggregator of `active` hosts with traffic every tick,
// `attacked` of them at 3x the UDP threshold, feeding a detector whose
// OnTick alone is timed; samples of the attacked hosts fill the store.
type bench struct {
	b     *testing.B
	agg   *aggregate.Aggregator
	batch *ring.Batch
	det   *Detector
	tick  int64
	timed bool
	store adder
	recs  []sample.Record
	fresh bool // re-add recs, stamped in each tick, before it closes
}

func newBench(b *testing.B, active, attacked, storeSize int, ranger bool) *bench {
	th, err := NewThresholds(testGroups(), nil)
	if err != nil {
		b.Fatal(err)
	}
	var store interface {
		Samples
		adder
	} = sample.NewStore(storeSize)
	if !ranger {
		store = forHostOnly{sample.NewStore(storeSize)}
	}
	recs := make([]sample.Record, storeSize)
	for i := range recs {
		k := benchKey(uint32(i % attacked))
		recs[i] = sample.Record{TimeNs: 1, Header: packet.Header{Family: packet.IPv4, Proto: packet.ProtoUDP, SrcPort: 53,
			DstPort: 4444, IPLen: 1400, Src4: uint32(i), Dst4: u32(addrOf(k))}}
	}
	store.Add(recs)
	bn := &bench{b: b, batch: &ring.Batch{Final: true, Deltas: make([]hosts.Delta, active)}, store: store, recs: recs}
	bn.det, err = New(DefaultConfig(), Deps{Log: zerolog.Nop(), Thresholds: th, Partition: 1, Samples: store, Mitigator: nopMitigator{}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { bn.det.Close() })
	acfg := aggregate.DefaultConfig()
	acfg.MaxHosts = active + 1
	bn.agg, err = aggregate.New(acfg, aggregate.Options{Partitions: []aggregate.Partition{th.Partition()}, OnTick: bn.onTick})
	if err != nil {
		b.Fatal(err)
	}
	for i := range bn.batch.Deltas {
		dl := &bn.batch.Deltas[i]
		dl.Key = benchKey(uint32(i))
		pkts := uint64(10)
		if i < attacked {
			pkts = 3_000 // 30k pps in a 100 ms tick
		}
		for _, m := range []hosts.Metric{hosts.Total, hosts.UDP} {
			dl.In.Packets[m], dl.In.Bytes[m] = pkts, pkts*1400
		}
	}
	return bn
}

func (bn *bench) onTick(t aggregate.Tick) {
	if bn.timed {
		bn.b.StartTimer()
	}
	bn.det.OnTick(t)
	if bn.timed {
		bn.b.StopTimer()
	}
}

func (bn *bench) step() {
	bn.tick++
	bn.batch.TickEnd = bn.tick * int64(100*time.Millisecond)
	if bn.fresh {
		for i := range bn.recs {
			bn.recs[i].TimeNs = bn.batch.TickEnd - 1
		}
		bn.store.Add(bn.recs)
	}
	bn.agg.Apply(bn.batch)
	bn.agg.CloseTick(bn.batch.TickEnd)
}

func (bn *bench) run() {
	bn.b.ReportAllocs()
	bn.b.StopTimer()
	bn.b.ResetTimer()
	bn.timed = true
	for range bn.b.N {
		bn.step()
	}
	bn.timed = false
}

// A detector tick with 1M hosts changed and 1,000 of them under attack, in
// steady state (the attacks are open).
func BenchmarkTick1MActive1KAttacked(b *testing.B) {
	const attacked = 1000
	bn := newBench(b, 1<<20, attacked, 1<<16, true)
	for range 3 {
		bn.step()
	}
	if st := bn.det.Stats(); st.Detected != attacked {
		b.Fatalf("%d attacks open, want %d", st.Detected, attacked)
	}
	bn.run()
}

// A tick of 1,000 open attacks (and no other host) with fresh samples of
// them every tick, 64 each, which the vector checks (every trigger_ticks
// ticks) read and match against each attack's rule: the cost of following
// multi-vector attacks.
func BenchmarkVectorChecks1KAttacks(b *testing.B) {
	const attacked = 1000
	bn := newBench(b, attacked, attacked, 1<<16, true)
	bn.fresh = true
	for range 3 {
		bn.step()
	}
	if st := bn.det.Stats(); st.Detected != attacked {
		b.Fatalf("%d attacks open, want %d", st.Detected, attacked)
	}
	bn.run()
	if st := bn.det.Stats(); st.VectorsAdded != 0 {
		b.Fatalf("%d vectors added to attacks that kept theirs", st.VectorsAdded)
	}
}

// The tick in which 1,000 attacks open at once (carpet bombing): a
// fingerprint and a rule each, from a full default-size sample store read
// once (SampleRanger). A plain store opens 32 per tick instead.
func BenchmarkTrigger1KAttacks(b *testing.B) {
	const attacked = 1000
	bn := newBench(b, 10_000, attacked, 1<<18, true)
	bn.b.ReportAllocs()
	b.StopTimer()
	for range b.N {
		bn.det.Close() // a fresh detector per round, same thresholds
		det, err := New(DefaultConfig(), Deps{Log: zerolog.Nop(), Thresholds: bn.det.th, Partition: 1, Samples: bn.det.samples, Mitigator: nopMitigator{}})
		if err != nil {
			b.Fatal(err)
		}
		bn.det = det
		bn.step() // first tick above
		bn.timed = true
		bn.step() // the trigger tick
		bn.timed = false
		if st := det.Stats(); st.Detected != attacked {
			b.Fatalf("%d attacks opened, want %d", st.Detected, attacked)
		}
	}
}
