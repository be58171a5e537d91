package validate

import (
	"errors"
	"testing"
)

func TestPathsAndCollection(t *testing.T) {
	root := New()
	hg := root.At("hostgroups").Index(2)
	Positive(hg.At("thresholds").At("in"), "pps", -5.0)
	OneOf(hg, "action", "nuke", "flowspec", "blackhole")
	Range(root.At("capture"), "burst", 0, 1, 512)
	Positive(root, "ok", 3)

	var errs Errors
	if !errors.As(root.Err(), &errs) {
		t.Fatalf("Err() = %v, want Errors", root.Err())
	}
	want := []string{
		"hostgroups[2].thresholds.in.pps: must be > 0, got -5",
		`hostgroups[2].action: must be one of flowspec, blackhole, got "nuke"`,
		"capture.burst: must be between 1 and 512, got 0",
	}
	if len(errs) != len(want) {
		t.Fatalf("got %d errors %v, want %d", len(errs), errs, len(want))
	}
	for i, w := range want {
		if errs[i].Error() != w {
			t.Errorf("error %d = %q, want %q", i, errs[i].Error(), w)
		}
	}
}

func TestNoErrors(t *testing.T) {
	if err := New().Err(); err != nil {
		t.Fatalf("Err() = %v, want nil", err)
	}
}
