package hosts

import (
	"unsafe"

	"github.com/rampartnet/rampart/sensor/packet"
)

// maxPrefetch is how many line addresses Prefetch gathers before loading
// them: 3 per packet of a 64-packet burst, on the table's own array.
const maxPrefetch = 192

// Prefetch loads the cache lines that counting hs will write (flow cache
// sets, host counters, IPv6 home slots) and changes nothing. Calling it on
// a decoded burst before counting each packet lets the burst's cache misses
// overlap instead of stalling one packet after another. The addresses come
// from the small, cached IPv4 index and from hashing alone, and are loaded
// in one tight loop afterwards: nothing waits for a miss while they are
// gathered.
func (t *Table) Prefetch(hs []packet.Header) {
	addrs := t.prefetch[:0]
	for i := range hs {
		if len(addrs)+3 > maxPrefetch {
			t.touchLines(addrs)
			addrs = addrs[:0]
		}
		h := &hs[i]
		switch h.Family {
		case packet.IPv4:
			addrs = append(addrs, addr(&t.flows.sets[flowHash4(h)&t.flows.mask]))
			if hc, _ := t.fast4(h.Dst4); hc != nil {
				addrs = append(addrs, addr(&hc[dirIn]))
			}
			if hc, _ := t.fast4(h.Src4); hc != nil {
				addrs = append(addrs, addr(&hc[dirOut]))
			}
		case packet.IPv6:
			if t.hosts6 != nil {
				addrs = append(addrs,
					addr(&t.flows.sets[flowHash6(h)&t.flows.mask]),
					addr(t.hosts6.home(addr6(&h.Dst6))),
					addr(t.hosts6.home(addr6(&h.Src6))))
			}
		}
	}
	t.touchLines(addrs)
}

func addr[T any](p *T) unsafe.Pointer { return unsafe.Pointer(p) }

// touchLines loads one byte of each line: a tight loop of independent
// loads, so that as many misses as the CPU can track are in flight.
func (t *Table) touchLines(addrs []unsafe.Pointer) {
	var x byte
	for _, p := range addrs {
		x += *(*byte)(p)
	}
	t.sink += x
}
