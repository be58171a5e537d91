package analytics

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/rampartnet/rampart/sensor/snapshot"
)

type chanSource struct {
	ch       chan *snapshot.Batch
	released chan *snapshot.Batch
}

func (s *chanSource) Batches() <-chan *snapshot.Batch { return s.ch }
func (s *chanSource) Release(b *snapshot.Batch)       { s.released <- b }

func TestWriterConsumesAndDrainsOnStop(t *testing.T) {
	src := &chanSource{ch: make(chan *snapshot.Batch, 1), released: make(chan *snapshot.Batch, 4)}
	cfg := Config{Dir: t.TempDir(), Interval: 10 * time.Second}
	w, err := New(zerolog.Nop(), cfg, "edge-1", src)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	b1 := randomBatch(rng, 100, t0)
	src.ch <- b1
	if got := <-src.released; got != b1 {
		t.Fatal("released another batch")
	}
	b2 := randomBatch(rng, 100, t0.Add(10*time.Second))
	src.ch <- b2 // may still wait in the channel when Stop comes
	if err := w.Stop(); err != nil {
		t.Fatal(err)
	}
	if got := <-src.released; got != b2 {
		t.Fatal("second batch not released")
	}
	files, err := List(cfg.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || w.Stats().Written != 2 {
		t.Fatalf("%d files, stats %+v; want both snapshots written", len(files), w.Stats())
	}
}

func TestNewRejects(t *testing.T) {
	for _, id := range []string{"", ".hidden", "a/b", "x y"} {
		if _, err := New(zerolog.Nop(), Config{Dir: "/tmp/x"}, id, nil); err == nil {
			t.Errorf("sensor id %q accepted", id)
		}
	}
	if _, err := New(zerolog.Nop(), Config{}, "ok", nil); err == nil {
		t.Error("empty dir accepted")
	}
}
