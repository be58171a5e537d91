package analytics

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/hosts"
	"github.com/rampartnet/rampart/sensor/snapshot"
)

var t0 = time.Date(2026, 3, 14, 15, 9, 20, 0, time.UTC)

// randomBatch is n hosts with distinct keys (IPv4 mapped and IPv6) and
// random counters, in random order, starting at start.
func randomBatch(rng *rand.Rand, n int, start time.Time) *snapshot.Batch {
	b := &snapshot.Batch{
		Start: start.UnixNano(), End: start.Add(10 * time.Second).UnixNano(),
		Groups: []string{"web", "dns", "mail"}, Dropped: uint64(rng.IntN(5)),
	}
	seen := map[hosts.Key]bool{}
	for len(b.Rows) < n {
		var r snapshot.Row
		if rng.IntN(2) == 0 {
			r.Key[10], r.Key[11] = 0xff, 0xff
			u := rng.Uint32()
			r.Key[12], r.Key[13], r.Key[14], r.Key[15] = byte(u>>24), byte(u>>16), byte(u>>8), byte(u)
		} else {
			r.Key[0], r.Key[1] = 0x20, 0x01
			for i := 2; i < 16; i++ {
				r.Key[i] = byte(rng.Uint32())
			}
		}
		if seen[r.Key] {
			continue
		}
		seen[r.Key] = true
		r.Group = int32(rng.IntN(len(b.Groups)+1)) - 1
		for d := range aggregate.NumDirs {
			c := &r.Counts[d]
			for m := range hosts.NumMetrics {
				c.Packets[m] = rng.Uint64N(1 << 40)
				c.Bytes[m] = rng.Uint64N(1 << 50)
			}
			c.Flows = rng.Uint64N(1 << 30)
			for s := range aggregate.NumSeries {
				r.Peaks[d][s] = rng.Uint64N(1 << 62)
			}
		}
		b.Rows = append(b.Rows, r)
	}
	return b
}

func sortedRows(rows []snapshot.Row) []snapshot.Row {
	out := slices.Clone(rows)
	slices.SortStableFunc(out, func(a, b snapshot.Row) int { return bytes.Compare(a.Key[:], b.Key[:]) })
	return out
}

func testWriter(t testing.TB, cfg Config) *Writer {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	if cfg.Interval == 0 {
		cfg.Interval = 10 * time.Second
	}
	w, err := New(zerolog.Nop(), cfg, "edge-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	return w
}
