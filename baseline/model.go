package baseline

import (
	"fmt"
	"math"

	"github.com/DataDog/sketches-go/ddsketch"
)

// RelativeAccuracy of every model's quantiles: a returned quantile is
// within 1 % of a true sample value at that rank.
const RelativeAccuracy = 0.01

// DefaultMaxBins bounds a model's bins. At 1 % accuracy 256 bins span a
// factor of 1.02^256 ≈ 160 below the highest value; lower values collapse
// into the lowest bin, which only low quantiles (never thresholds) see.
const DefaultMaxBins = 256

// Model is a mergeable quantile model of one series' per-second peaks.
// Memory: at most maxBins × 8 bytes of bins plus ~200 bytes; a host whose
// peaks span a factor of 10 uses ~120 bins (~1 KB).
type Model struct {
	sk *ddsketch.DDSketch
}

// NewModel returns an empty model with at most maxBins bins.
func NewModel(maxBins int) *Model {
	sk, err := ddsketch.LogCollapsingLowestDenseDDSketch(RelativeAccuracy, maxBins)
	if err != nil {
		panic(fmt.Sprintf("baseline: sketch with %d bins: %v", maxBins, err)) // constant accuracy: cannot fail
	}
	return &Model{sk: sk}
}

// Add learns one peak; negative values count as zero.
func (m *Model) Add(v float64) {
	_ = m.sk.Add(max(v, 0)) // fails only for negative values
}

// Count is how many peaks the model has learned.
func (m *Model) Count() float64 { return m.sk.GetCount() }

// Quantile is the q-quantile (0 ≤ q ≤ 1) of the learned peaks, or 0 when
// the model is empty.
func (m *Model) Quantile(q float64) float64 {
	v, err := m.sk.GetValueAtQuantile(q)
	if err != nil {
		return 0
	}
	return v
}

// Merge adds o's peaks to m, exactly: the result is the model of both
// histories (while neither collapsed bins).
func (m *Model) Merge(o *Model) error { return m.sk.MergeWith(o.sk) }

// Below is how many learned peaks are at most cut (to the model's
// accuracy), and the highest of them.
func (m *Model) Below(cut float64) (n, highest float64) {
	m.sk.ForEach(func(v, c float64) bool {
		if v <= cut {
			n += c
			highest = max(highest, v)
		}
		return false
	})
	return n, highest
}

// QuantileBelow is the q-quantile of the learned peaks at most cut: the
// model with the peaks above cut left out.
func (m *Model) QuantileBelow(q, cut float64) float64 {
	total := m.Count()
	if math.IsInf(cut, 1) || total <= 1 {
		return m.Quantile(q)
	}
	n, _ := m.Below(cut)
	switch {
	case n >= total:
		return m.Quantile(q)
	case n == 0:
		return 0
	}
	return m.Quantile(q * (n - 1) / (total - 1))
}
