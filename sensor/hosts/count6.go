package hosts

import "github.com/rampartnet/rampart/sensor/packet"

func (t *Table) count6(h *packet.Header, p, b uint64, nowNs int64) {
	da, sa := addr6(&h.Dst6), addr6(&h.Src6)
	dIn, sIn := t.v6.contains(da), t.v6.contains(sa)
	if !dIn && !sIn {
		t.otherPackets += p
		t.otherBytes += b
		return
	}
	di, si := -1, -1
	if dIn {
		if di = t.hosts6.find(da, nowNs); di < 0 {
			t.full6 += p
		}
	}
	if sIn {
		if si = t.hosts6.find(sa, nowNs); si < 0 {
			t.full6 += p
		}
	}
	if di < 0 && si < 0 {
		return
	}
	var flow uint32
	if h.Frag != packet.FragLater {
		flow = t.flows.isNew(flowHash6(h), nowNs)
	}
	c := classify(h, l4v6)
	if di >= 0 {
		t.add6(di, dirIn, c, p, b, flow)
	}
	if si >= 0 {
		t.add6(si, dirOut, c, p, b, flow)
	}
}

func (t *Table) add6(i int, dir int, c class, p, b uint64, flow uint32) {
	s := &t.hosts6.slots[i]
	d := &s.c[dir&1]
	if !d.fits(p, b) && t.spillHost(&s.c, key6(s.key), dir, c, p, b, flow) {
		return
	}
	if s.c.untouched(dir) {
		t.touched6 = append(t.touched6, uint32(i))
	}
	d.add(c, uint32(p), uint32(b), flow)
}
