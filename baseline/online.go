package baseline

import "math"

// LearnSeries is Learn for a subset of series: peaks[s] that is NaN is
// not learned (a metric the host's group does not threshold).
func (l *Learner) LearnSeries(k Key, g int, peaks []float64) {
	hm, gm := l.host(k, g), l.group(g)
	for s := range min(len(peaks), len(l.params)) {
		if math.IsNaN(peaks[s]) {
			continue
		}
		if hm.models[s] == nil {
			hm.models[s] = NewModel(l.maxBins)
		}
		if gm.models[s] == nil {
			gm.models[s] = NewModel(l.maxBins)
		}
		hm.models[s].Add(peaks[s])
		gm.models[s].Add(peaks[s])
	}
}

// Has reports whether host k has a model.
func (l *Learner) Has(k Key) bool { _, ok := l.hosts[k]; return ok }

// EachHost calls fn for every host with a model and its group.
func (l *Learner) EachHost(fn func(k Key, g int)) {
	for k, hm := range l.hosts {
		fn(k, hm.group)
	}
}
