package aggregate

import "time"

// TickBuckets are the upper bounds of the tick-duration histogram: from
// well under a 100 ms tick to several ticks (the detector falls behind).
var TickBuckets = [...]time.Duration{
	time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond,
	20 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond,
	500 * time.Millisecond, time.Second,
}

// TickHistogram is how long closing a tick took, the OnTick consumers
// (detector, snapshots) included: counts per bucket (not cumulative), the
// last one for longer than every bound.
type TickHistogram struct {
	Counts [len(TickBuckets) + 1]uint64
	Sum    time.Duration
	Max    time.Duration
}

func (h *TickHistogram) observe(d time.Duration) {
	i := 0
	for i < len(TickBuckets) && d > TickBuckets[i] {
		i++
	}
	h.Counts[i]++
	h.Sum += d
	h.Max = max(h.Max, d)
}

// Count is the number of ticks observed.
func (h *TickHistogram) Count() uint64 {
	var n uint64
	for _, c := range h.Counts {
		n += c
	}
	return n
}
