package hosts

import "github.com/rampartnet/rampart/sensor/packet"

// Prefetch reads the cache lines that counting hs will write (flow cache
// sets, host counters, IPv6 home slots) and changes nothing. Calling it on
// a decoded burst before counting each packet lets the burst's cache
// misses overlap instead of stalling one packet after another.
func (t *Table) Prefetch(hs []packet.Header) {
	var x uint32
	for i := range hs {
		h := &hs[i]
		switch h.Family {
		case packet.IPv4:
			x += t.flows.sets[flowHash4(h)&t.flows.mask].tag[0]
			if hc, _ := t.fast4(h.Dst4); hc != nil {
				x += hc[dirIn].packets[Total]
			}
			if hc, _ := t.fast4(h.Src4); hc != nil {
				x += hc[dirOut].packets[Total]
			}
		case packet.IPv6:
			if t.hosts6 != nil {
				x += t.flows.sets[flowHash6(h)&t.flows.mask].tag[0]
				x += t.hosts6.peek(addr6(&h.Dst6)) + t.hosts6.peek(addr6(&h.Src6))
			}
		}
	}
	t.sink += x
}
