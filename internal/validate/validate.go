// Package validate collects configuration errors with the key path of each
// bad value, so that an operator sees every mistake in one run.
package validate

import (
	"fmt"
	"strconv"
	"strings"
)

// FieldError is one bad value: where it is and what is wrong with it.
type FieldError struct {
	Path string
	Msg  string
}

func (e FieldError) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

// Errors is every FieldError found in one validation pass.
type Errors []FieldError

func (e Errors) Error() string {
	lines := make([]string, len(e))
	for i, fe := range e {
		lines[i] = fe.Error()
	}
	return strings.Join(lines, "\n")
}

// Path is a position in the configuration tree. The zero value is the root.
// Copies share one error list, so sub-validators report into their parent.
type Path struct {
	errs *Errors
	path string
}

// New returns the root of a validation pass.
func New() Path { return Path{errs: &Errors{}} }

// At descends into a mapping key.
func (p Path) At(key string) Path {
	if p.path == "" {
		return Path{errs: p.errs, path: key}
	}
	return Path{errs: p.errs, path: p.path + "." + key}
}

// Index descends into a sequence element.
func (p Path) Index(i int) Path {
	return Path{errs: p.errs, path: p.path + "[" + strconv.Itoa(i) + "]"}
}

// String is the dotted key path, e.g. "hostgroups[2].thresholds.in.pps".
func (p Path) String() string { return p.path }

// Errorf records an error at this path.
func (p Path) Errorf(format string, args ...any) {
	*p.errs = append(*p.errs, FieldError{Path: p.path, Msg: fmt.Sprintf(format, args...)})
}

// Fieldf records an error at key below this path.
func (p Path) Fieldf(key, format string, args ...any) { p.At(key).Errorf(format, args...) }

// Err returns the errors recorded so far in the whole pass, or nil.
func (p Path) Err() error {
	if p.errs == nil || len(*p.errs) == 0 {
		return nil
	}
	return *p.errs
}

// Positive records "must be > 0, got X" when v <= 0.
func Positive[T int | int64 | uint32 | uint64 | float64](p Path, key string, v T) {
	if v <= 0 {
		p.Fieldf(key, "must be > 0, got %v", v)
	}
}

// Range records an error when v is outside [lo, hi].
func Range[T int | int64 | uint32 | uint64 | float64](p Path, key string, v, lo, hi T) {
	if v < lo || v > hi {
		p.Fieldf(key, "must be between %v and %v, got %v", lo, hi, v)
	}
}

// OneOf records an error at key when v is not one of allowed.
func OneOf(p Path, key, v string, allowed ...string) { In(p.At(key), v, allowed...) }

// In records an error at p when v is not one of allowed.
func In(p Path, v string, allowed ...string) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	p.Errorf("must be one of %s, got %q", strings.Join(allowed, ", "), v)
}
