package aggregate

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rampartnet/rampart/sensor/hosts"
)

// edgy returns a count near one of the edges the kernels treat: zero, the
// 32-bit saturation point, the 64-bit wrap, or anything.
func edgy(r *rand.Rand) uint64 {
	switch r.IntN(6) {
	case 0:
		return 0
	case 1:
		return math.MaxUint32 - 2 + r.Uint64N(5)
	case 2:
		return math.MaxUint64 - r.Uint64N(3)
	case 3:
		return r.Uint64N(1 << 20)
	case 4:
		return r.Uint64N(1 << 33)
	}
	return r.Uint64()
}

func randomDelta(r *rand.Rand) hosts.Delta {
	var d hosts.Delta
	for _, c := range []*hosts.Counters{&d.In, &d.Out} {
		for m := range hosts.NumMetrics {
			c.Packets[m], c.Bytes[m] = edgy(r), edgy(r)
		}
		c.Flows = edgy(r)
	}
	d.Key = key(r.Uint32())
	return d
}

func randomCounts(r *rand.Rand) counts {
	var c counts
	for d := range NumDirs {
		c.bytes[d] = edgy(r)
		for i := range c.n[d] {
			c.n[d][i] = uint32(edgy(r))
		}
	}
	return c
}

func randomSums(r *rand.Rand) sums {
	var s sums
	for d := range NumDirs {
		for i := range s[d] {
			s[d][i] = edgy(r)
		}
	}
	return s
}

// TestKernelsMatchGo: each AVX-512 kernel leaves its operands exactly as
// its Go form does, over random operands weighted to the edges.
func TestKernelsMatchGo(t *testing.T) {
	if !useAVX512 {
		t.Skip("this CPU has no AVX-512: the Go forms run")
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20_000 {
		x := randomDelta(r)
		orig := x

		var tot [NumDirs]hosts.Counters
		tot[In], tot[Out] = randomDelta(r).In, randomDelta(r).Out
		want := tot
		addBothGo(&want, &x)
		addBothAVX512(&tot, &x)
		if tot != want {
			t.Fatalf("case %d: addBoth = %+v, want %+v", i, tot, want)
		}

		c := randomCounts(r)
		wantC := c
		wantC.setGo(&x)
		setAVX512(&c, &x)
		if c != wantC {
			t.Fatalf("case %d: set = %+v, want %+v", i, c, wantC)
		}

		c = randomCounts(r)
		wantC = c
		wantC.addGo(&x)
		addAVX512(&c, &x)
		if c != wantC {
			t.Fatalf("case %d: add = %+v, want %+v", i, c, wantC)
		}
		if x != orig {
			t.Fatalf("case %d: a kernel wrote its delta", i)
		}

		s, c := randomSums(r), randomCounts(r)
		wantS := s
		wantS.subGo(&c)
		subAVX512(&s, &c)
		if s != wantS {
			t.Fatalf("case %d: sub = %v, want %v", i, s, wantS)
		}

		s, c, p := randomSums(r), randomCounts(r), randomCounts(r)
		wantS, wantP := s, p
		wantS.addRaiseGo(&c, &wantP)
		addRaiseAVX512(&s, &c, &p)
		if s != wantS || p != wantP {
			t.Fatalf("case %d: addRaise = %v, %+v, want %v, %+v", i, s, p, wantS, wantP)
		}
	}
}

// TestKernelsStayInBounds: the kernels' masked loads and stores touch only
// their operands, so neighbours in an array are left as they were.
func TestKernelsStayInBounds(t *testing.T) {
	if !useAVX512 {
		t.Skip("this CPU has no AVX-512: the Go forms run")
	}
	r := rand.New(rand.NewPCG(3, 4))
	x := randomDelta(r)
	var cs [3]counts
	for i := range cs {
		cs[i] = randomCounts(r)
	}
	before := cs
	setAVX512(&cs[1], &x)
	addAVX512(&cs[1], &x)
	var ss [3]sums
	ps := before
	addRaiseAVX512(&ss[1], &cs[1], &ps[1])
	subAVX512(&ss[1], &cs[1])
	if cs[0] != before[0] || cs[2] != before[2] || ps[0] != before[0] || ps[2] != before[2] {
		t.Error("a counts kernel wrote outside its operand")
	}
	if ss[0] != (sums{}) || ss[2] != (sums{}) {
		t.Error("a sums kernel wrote outside its operand")
	}
}

// TestGoForms runs the aggregator's model tests again with the Go forms,
// which the machines without AVX-512 run.
func TestGoForms(t *testing.T) {
	if !useAVX512 {
		t.Skip("the Go forms are what every test here runs")
	}
	setAVX512Use(t, false)
	for _, tc := range []struct {
		name string
		test func(*testing.T)
	}{
		{"RatesOverWindow", TestRatesOverWindow},
		{"Peaks", TestPeaks},
		{"PeaksMatchModel", TestPeaksMatchModel},
		{"WorkersMergeAndLateBatches", TestWorkersMergeAndLateBatches},
		{"HostBoundAndGroups", TestHostBoundAndGroups},
		{"Deterministic", TestDeterministic},
	} {
		t.Run(tc.name, tc.test)
	}
}
