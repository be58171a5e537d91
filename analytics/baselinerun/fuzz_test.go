package baselinerun

import (
	"math"
	"slices"
	"testing"

	"github.com/rampartnet/rampart/baseline"
	"github.com/rampartnet/rampart/internal/validate"
)

// FuzzParseCandidate: any --candidate gives a candidate or an error, and
// a candidate's values are ones the learner accepts.
func FuzzParseCandidate(f *testing.F) {
	for _, s := range []string{"quantile=0.99,k=3", "p=0.999,k=4,floor=100,floor.mbps=5,name=x", "k=-1", "floor.nope=3", "", ",", "k=NaN", "p=1e309"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		c, err := ParseCandidate(spec)
		if err != nil {
			return
		}
		if c.Quantile != nil && !(*c.Quantile > 0 && *c.Quantile <= 1) {
			t.Fatalf("%q: quantile %v accepted", spec, *c.Quantile)
		}
		if c.K != nil && !(*c.K > 0) || c.K != nil && math.IsInf(*c.K, 0) {
			t.Fatalf("%q: k %v accepted", spec, *c.K)
		}
		for m, v := range c.Floor {
			if m != "" && !slices.Contains(baseline.Metrics, m) || !(v >= 0) || math.IsInf(v, 0) {
				t.Fatalf("%q: floor %q=%v accepted", spec, m, v)
			}
		}
		p := c.adjust()(0, 1, baseline.DefaultParams())
		v := validateParams(p)
		if v != nil {
			t.Fatalf("%q: adjusted params invalid: %v", spec, v)
		}
	})
}

// validateParams reports what is wrong with p, or nil.
func validateParams(p baseline.Params) error {
	v := validate.New()
	p.Validate(v)
	return v.Err()
}
