package aggregate

// TickRate is the per-second rate of s over the last closed tick alone (bits
// per second for BPS): the short-term rate that lets the detector react
// within a few ticks, where the window rate of a flood at 3x a threshold
// needs a third of the window to cross it.
func (v HostView) TickRate(d Dir, s Series) uint64 {
	a, m := v.a, v.a.t.at(v.e)
	last := a.open - 1
	if !a.started || m.lastTick != last {
		return 0
	}
	le := &a.logs[last%int64(len(a.logs))].entries[m.entry]
	return a.perTick.rate(s, le.c.slot(d, seriesSlot[s]))
}
