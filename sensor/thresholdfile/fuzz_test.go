package thresholdfile

import (
	"testing"
)

// FuzzParse: any input gives a file or an error, and a file that parses
// survives Marshal and Parse unchanged in its hosts.
func FuzzParse(f *testing.F) {
	f.Add([]byte("version: 1\nhosts: {192.0.2.1: {in: {pps: 10, syn_pps: 2}}}\ngroups: {web: {out: {mbps: 5}}}\n"))
	f.Add([]byte("version: 1\nhosts: {\"2001:db8::1\": {out: {frag_pps: 1e3}}}\n"))
	f.Add([]byte("version: 1\ngenerated_at: 2026-12-04T10:00:00Z\nsource: x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data)
		if err != nil {
			return
		}
		out, err := file.Marshal()
		if err != nil {
			t.Fatalf("Marshal of a parsed file: %v", err)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(Marshal(Parse(x))): %v\n%s", err, out)
		}
		if len(again.Addrs()) != len(file.Addrs()) || len(again.Groups) != len(file.Groups) {
			t.Fatalf("round trip changed the entries: %d/%d hosts, %d/%d groups",
				len(again.Addrs()), len(file.Addrs()), len(again.Groups), len(file.Groups))
		}
	})
}
