package hosts

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/rampartnet/rampart/sensor/packet"
)

// FlushRoom fills only dst's spare capacity, keeps the hosts it could not
// emit counting, and over any sequence of partial flushes emits every count
// exactly once, spills (additions too large for 32 bits) included.
func TestFlushRoomEmitsEveryCountOnce(t *testing.T) {
	nets := []string{"10.0.0.0/16", "10.1.2.0/24", "2001:db8::/32"}
	pool := []string{"10.0.0.1", "10.0.3.200", "10.0.255.255", "10.1.2.3", "8.8.8.8",
		"2001:db8::1", "2001:db8::2", "2001:db8:0:1::1", "2001:4860::8888"}
	var v4, v6 []string
	for _, s := range pool {
		if netip.MustParseAddr(s).Is4() {
			v4 = append(v4, s)
		} else {
			v6 = append(v6, s)
		}
	}
	cfg := testConfig()
	cfg.FlowIdleTimeout = 2 * time.Second
	tab := mustNew(t, cfg, nets...)
	m := model{nets: parsePrefixes(nets), prefixLen: 128, idleUnits: int64(tab.flows.idle), hosts: map[Key]*Delta{}, flows: map[flowKey]int64{}}
	rng := rand.New(rand.NewPCG(7, 8))
	sent := map[Key]Delta{}
	take := func(ds []Delta) {
		for k, d := range byKey(ds) {
			acc := sent[k]
			acc.Key = k
			addCounters(&acc.In, &d.In)
			addCounters(&acc.Out, &d.Out)
			sent[k] = acc
		}
	}
	now := int64(0)
	for i := range 20_000 {
		addrs := v4
		if rng.IntN(2) == 0 {
			addrs = v6
		}
		h := hdr(addrs[rng.IntN(len(addrs))], addrs[rng.IntN(len(addrs))])
		h.Proto = []uint8{packet.ProtoTCP, packet.ProtoUDP, packet.ProtoICMP}[rng.IntN(3)]
		h.SrcPort = uint16(rng.IntN(4))
		p, b := uint64(1+rng.IntN(3)), uint64(rng.IntN(1500))
		if rng.IntN(500) == 0 { // a flow record with a large multiplier: spills
			p, b = 1<<31+uint64(rng.IntN(1<<20)), 1<<33
		}
		now += rng.Int64N(int64(50 * time.Millisecond))
		tab.Count(&h, p, b, now)
		m.count(&h, p, b, now)
		if rng.IntN(20) == 0 {
			room := rng.IntN(4)
			buf := make([]Delta, 0, room)
			out, all := tab.FlushRoom(buf)
			if len(out) > room || (room > 0 && &out[:1][0] != &buf[:1][0]) {
				t.Fatalf("packet %d: FlushRoom with room %d emitted %d deltas or grew its buffer", i, room, len(out))
			}
			if all {
				if rest, _ := tab.FlushRoom(make([]Delta, 0, 64)); len(rest) != 0 {
					t.Fatalf("packet %d: FlushRoom said all went out, then emitted %d more", i, len(rest))
				}
			}
			take(out)
		}
	}
	take(tab.Flush(nil))
	if tab.Stats().Spills == 0 {
		t.Fatal("no spill happened: the test misses its hardest case")
	}
	if len(sent) != len(m.hosts) {
		t.Fatalf("emitted %d hosts, model has %d", len(sent), len(m.hosts))
	}
	for k, want := range m.hosts {
		if sent[k] != *want {
			t.Fatalf("host %v\n got %+v\nwant %+v", netip.AddrFrom16(k), sent[k], *want)
		}
	}
}
