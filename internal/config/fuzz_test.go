package config

import (
	"errors"
	"testing"

	"github.com/rampartnet/rampart/internal/validate"
)

// FuzzParse: any input either parses into a configuration that validates and
// survives a dump/parse round trip, or yields an error; never a panic.
func FuzzParse(f *testing.F) {
	f.Add([]byte(minimal))
	f.Add([]byte("networks: [10.0.0.0/8]\nhostgroups: [{name: a, prefixes: [10.1.0.0/16], thresholds: {in: {pps: 5}}}]\n"))
	f.Add([]byte("bgp: {enabled: true, peers: [{address: ::1, as: 1}]}\n"))
	f.Add([]byte("a: &x [1]\nb: *x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data)
		if err != nil {
			var errs validate.Errors
			if errors.As(err, &errs) {
				for _, e := range errs {
					if e.Msg == "" {
						t.Fatalf("empty message in %v", errs)
					}
				}
			}
			return
		}
		out, err := cfg.Dump()
		if err != nil {
			t.Fatalf("Dump of a valid config: %v", err)
		}
		assertFixedPoint(t, out)
	})
}
