package flow

import (
	"testing"
	"time"
)

const tick = int64(100 * time.Millisecond)

// v5Flow is a datagram of one UDP record of packets and octets lasting durMs.
func v5Flow(seq uint32, packets, octets, durMs uint32) []byte {
	return v5Datagram(seq, 0, v5Rec{src: "10.0.0.1", dst: "10.0.0.2", packets: packets, octets: octets, first: 1000, last: 1000 + durMs, proto: 17, sport: 1, dport: 2})
}

func TestSpreadConservesAndPaces(t *testing.T) {
	cases := []struct {
		name            string
		packets, octets uint32
		durMs           uint32
		maxSpread       time.Duration
		wantTicks       int // ticks that receive a share
		lastTick        int // tick (after arrival) of the last share
	}{
		// Arrival is 50 ns into a tick, so the span ends 50 ns into the
		// tick after the last full one: that tick gets the last share.
		{"60 s flow over 60 s", 60000, 6_000_007, 60000, time.Minute, 601, 601},
		{"uneven division", 7, 1001, 3000, time.Minute, 7, 31},
		{"capped at max spread", 6000, 600000, 60000, 10 * time.Second, 101, 101},
		{"fewer packets than ticks", 3, 3 * 1500, 10000, time.Minute, 3, 101},
		{"max counts do not overflow", 1<<32 - 1, 1<<32 - 1, 1 << 31, time.Hour, 36001, 36001},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.MaxSpread = tc.maxSpread
			c, rec := newCollector(t, cfg)
			arrival := int64(1_000_000_000_050) // not on a tick boundary
			c.HandleDatagram(exporterA, v5Flow(1, tc.packets, tc.octets, tc.durMs), arrival)
			if len(rec.calls) != 0 {
				t.Fatalf("counted %d at arrival, want 0", len(rec.calls))
			}
			first := arrival - arrival%tick + tick
			ticks, last := 0, 0
			for i := 0; i < 40000 && len(c.pending) > 0; i++ {
				n := len(rec.calls)
				c.Tick(first + int64(i)*tick)
				if len(rec.calls) > n {
					ticks++
					last = i + 1
					call := rec.calls[n]
					if call.packets == 0 {
						t.Fatalf("tick %d: share of bytes without packets", i)
					}
				}
			}
			if rec.packets != uint64(tc.packets) || rec.bytes != uint64(tc.octets) {
				t.Errorf("released %d packets %d bytes, want %d %d", rec.packets, rec.bytes, tc.packets, tc.octets)
			}
			if ticks != tc.wantTicks || last != tc.lastTick {
				t.Errorf("shares in %d ticks, last in tick %d; want %d, %d", ticks, last, tc.wantTicks, tc.lastTick)
			}
			// Even: no share is more than one packet above the mean rate.
			perTick := float64(tc.packets) / float64(min(int64(tc.durMs)*1e6, int64(tc.maxSpread))/tick)
			for _, call := range rec.calls {
				if float64(call.packets) > perTick+1 {
					t.Fatalf("share of %d packets, mean per tick %.1f", call.packets, perTick)
				}
			}
		})
	}
}

func TestSpreadLimits(t *testing.T) {
	cases := []struct {
		name                   string
		cfg                    func(*Config)
		datagrams              [][]byte
		arrival, spread, oflow uint64
	}{
		{"arrival mode", func(c *Config) { c.Accounting = AccountArrival }, [][]byte{v5Flow(1, 100, 1000, 30000)}, 1, 0, 0},
		{"shorter than min_spread", nil, [][]byte{v5Flow(1, 100, 1000, 999)}, 1, 0, 0},
		{"one packet", nil, [][]byte{v5Flow(1, 1, 1000, 30000)}, 1, 0, 0},
		{"pending full", func(c *Config) { c.MaxPendingSpreads = 2 }, [][]byte{v5Flow(1, 100, 1000, 30000), v5Flow(2, 100, 1000, 30000), v5Flow(3, 100, 1000, 30000)}, 1, 2, 1},
		{"no spreading at all", func(c *Config) { c.MaxPendingSpreads = 0 }, [][]byte{v5Flow(1, 100, 1000, 30000)}, 1, 0, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			c, rec := newCollector(t, cfg)
			for i, d := range tc.datagrams {
				c.HandleDatagram(exporterA, d, int64(i))
			}
			st := c.Stats()
			if st.Arrival != tc.arrival || st.Spread != tc.spread || st.SpreadOverflow != tc.oflow || len(rec.calls) != int(tc.arrival) {
				t.Errorf("arrival %d spread %d overflow %d calls %d; want %d %d %d %d", st.Arrival, st.Spread, st.SpreadOverflow, len(rec.calls), tc.arrival, tc.spread, tc.oflow, tc.arrival)
			}
			c.Flush(1e9)
			if rec.packets != st.Packets || rec.bytes != st.Bytes || c.Stats().Pending != 0 {
				t.Errorf("after Flush: counted %d/%d, accepted %d/%d", rec.packets, rec.bytes, st.Packets, st.Bytes)
			}
		})
	}
}
