package clock

import (
	"sync"
	"testing"
	"time"
)

func TestManualNeverGoesBack(t *testing.T) {
	steps := []struct {
		advance, want int64
	}{
		{advance: 100, want: 100},
		{advance: 250, want: 250},
		{advance: 200, want: 250}, // out of order packet
		{advance: 250, want: 250},
		{advance: 251, want: 251},
		{advance: -5, want: 251},
	}
	m := NewManual(50)
	if got := m.Now(); got != 50 {
		t.Fatalf("NewManual(50).Now() = %d", got)
	}
	for i, s := range steps {
		if got := m.Advance(s.advance); got != s.want {
			t.Errorf("step %d: Advance(%d) = %d, want %d", i, s.advance, got, s.want)
		}
		if got := m.Now(); got != s.want {
			t.Errorf("step %d: Now() = %d, want %d", i, got, s.want)
		}
	}
}

func TestManualConcurrentReaders(t *testing.T) {
	m := NewManual(0)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		last := int64(0)
		for i := 0; i < 10000; i++ {
			now := m.Now()
			if now < last {
				t.Errorf("reader saw %d after %d", now, last)
				return
			}
			last = now
		}
	}()
	for i := int64(1); i <= 10000; i++ {
		m.Advance(i)
	}
	wg.Wait()
}

func TestWallIsSystemTime(t *testing.T) {
	before := time.Now().UnixNano()
	got := Wall{}.Now()
	after := time.Now().UnixNano()
	if got < before || got > after {
		t.Fatalf("Wall.Now() = %d, not within [%d, %d]", got, before, after)
	}
}

func TestTickEnd(t *testing.T) {
	const tick = 100
	tests := []struct {
		ns, want int64
	}{
		{0, 100},
		{1, 100},
		{99, 100},
		{100, 200},
		{12345, 12400},
		{-1, 0},
		{-100, 0},
		{-101, -100},
	}
	for _, tt := range tests {
		if got := TickEnd(tt.ns, tick); got != tt.want {
			t.Errorf("TickEnd(%d, %d) = %d, want %d", tt.ns, tick, got, tt.want)
		}
		if end := TickEnd(tt.ns, tick); tt.ns < end-tick || tt.ns >= end {
			t.Errorf("TickEnd(%d) = %d: ns not in [end-tick, end)", tt.ns, end)
		}
	}
}
