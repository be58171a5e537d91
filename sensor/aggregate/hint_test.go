package aggregate

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/rampartnet/rampart/sensor/hosts"
	"github.com/rampartnet/rampart/sensor/ring"
)

// TestHintsChangeNothing feeds the same traffic to an aggregator that uses
// worker hints and to one that cannot (Worker -1), in orders that make hints
// right, shifted and stale (hosts expire and their entries are reused by
// others), and expects the same hosts.
func TestHintsChangeNothing(t *testing.T) {
	tests := []struct {
		name  string
		order func(rng *rand.Rand, n int64, ds []hosts.Delta)
	}{
		{"same order every tick", func(*rand.Rand, int64, []hosts.Delta) {}},
		{"rotated each tick", func(_ *rand.Rand, n int64, ds []hosts.Delta) {
			r := int(n) % len(ds)
			tmp := append([]hosts.Delta(nil), ds...)
			copy(ds, tmp[r:])
			copy(ds[len(ds)-r:], tmp[:r])
		}},
		{"shuffled", func(rng *rand.Rand, _ int64, ds []hosts.Delta) {
			rng.Shuffle(len(ds), func(i, j int) { ds[i], ds[j] = ds[j], ds[i] })
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := func(hinted bool) []HostStats {
				cfg := testConfig(time.Second, 2*time.Second)
				cfg.MaxHosts = 180
				a := mustNew(t, cfg, Options{})
				rng := rand.New(rand.NewPCG(5, 6))
				for n := int64(1); n <= 120; n++ {
					// Hosts come and go: a moving range, so some expire and
					// others take their entries; duplicates across workers.
					lo := uint32(n / 4)
					for w := range 2 {
						var ds []hosts.Delta
						for i := lo; i < lo+200; i += uint32(1 + w) {
							ds = append(ds, inDelta(i, 1+rng.Uint64N(50), 64+rng.Uint64N(1000)))
						}
						tt.order(rng, n, ds)
						// Two batches per worker, so positions carry across batches.
						for half, part := range [][]hosts.Delta{ds[:len(ds)/2], ds[len(ds)/2:]} {
							b := &ring.Batch{Worker: w, TickEnd: n * tickNs, Final: half == 1, Deltas: part}
							if !hinted {
								b.Worker = -1
							}
							a.Apply(b)
						}
					}
					a.CloseTick(n * tickNs)
				}
				if s := a.Stats(); s.HostsExpired == 0 || s.HostsDropped == 0 {
					t.Fatalf("traffic too tame: %+v", s)
				}
				var hs []HostStats
				a.Range(func(v HostView) bool { hs = append(hs, v.Stats()); return true })
				return hs
			}
			with, without := run(true), run(false)
			if len(with) == 0 || !reflect.DeepEqual(with, without) {
				t.Fatalf("hosts differ with hints (%d hosts) and without (%d)", len(with), len(without))
			}
		})
	}
}
