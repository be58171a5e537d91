package aggregate

// hints remember, per worker, which host each position of the worker's
// deltas in a tick went to. A worker walks its tables in the same order every
// tick, so the host at position p of this tick is most often the one at p in
// the last: checking that (its key, in the entry about to be touched anyway)
// replaces a random probe of the index with a sequential load. A wrong hint
// only costs the probe.
type hints []workerHints

type workerHints struct {
	tick int64    // tick of the worker's batches seen last
	pos  int      // deltas of the worker in that tick so far
	ent  []uint32 // entry plus one of the host at each position, 0 unknown
}

// at returns the hints for the next n deltas of worker w in tick t.
func (h *hints) at(w int, t int64, n int) []uint32 {
	for w >= len(*h) {
		*h = append(*h, workerHints{})
	}
	wh := &(*h)[w]
	if wh.tick != t {
		wh.tick, wh.pos = t, 0
	}
	p := wh.pos
	wh.pos += n
	for len(wh.ent) < wh.pos {
		wh.ent = append(wh.ent, 0)
	}
	return wh.ent[p:wh.pos:wh.pos]
}
