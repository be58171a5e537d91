// Package archtest holds the rules that keep imports pointing one way: the
// hot path never reaches BGP or Arrow, and only dpdk/ uses cgo.
package archtest

import (
	"encoding/json"
	"io"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

type pkg struct {
	ImportPath string
	Deps       []string
	CgoFiles   []string
}

func listPackages(t *testing.T, tags string, patterns ...string) []pkg {
	t.Helper()
	args := append([]string{"list", "-json=ImportPath,Deps,CgoFiles", "-tags", tags}, patterns...)
	cmd := exec.Command("go", args...)
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v", strings.Join(args, " "), err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 {
		t.Fatalf("go list %v matched no packages", patterns)
	}
	return pkgs
}

const mod = "github.com/rampartnet/rampart"

// Rules: the packages matching Pkg may not depend (directly or not) on any
// import path matching Forbidden.
var rules = []struct {
	pattern   string
	forbidden *regexp.Regexp
	why       string
}{
	{"./sensor/...", regexp.MustCompile(`osrg/gobgp|apache/arrow|google.golang.org/grpc|^` + mod + `/(bgp|analytics|cmd)(/|$)`),
		"the hot path stays free of BGP, Arrow and the tools around it"},
	{"./baseline/...", regexp.MustCompile(`osrg/gobgp|apache/arrow|^` + mod + `/(bgp|analytics|sensor|cmd)(/|$)`),
		"baseline is pure math: no I/O, no sensor"},
	// grpc is not forbidden here: arrow-go's pqarrow (Parquet snapshots)
	// imports arrow/flight, which imports it; nothing here serves or dials.
	{"./analytics/baselinerun/...", regexp.MustCompile(`osrg/gobgp|^` + mod + `/(bgp|api|cmd|internal/config|sensor/detect|sensor/capture|dpdk)(/|$)`),
		"offline fitting reads snapshots and configuration values it is given: no sensor, BGP or config loading"},
	{"./dpdk/...", regexp.MustCompile(`^` + mod + `/`),
		"dpdk/ is a binding: C and the standard library only"},
	{"./bench/harness/...", regexp.MustCompile(`^` + mod + `/`),
		"the benchmark results' schema and report know nothing of what they measure"},
}

func TestImportDirection(t *testing.T) {
	for _, tags := range []string{"", "nodpdk"} {
		for _, r := range rules {
			for _, p := range listPackages(t, tags, r.pattern) {
				for _, d := range p.Deps {
					if r.forbidden.MatchString(d) {
						t.Errorf("tags=%q: %s depends on %s: %s", tags, p.ImportPath, d, r.why)
					}
				}
			}
		}
	}
}

func TestOnlyDPDKUsesCgo(t *testing.T) {
	for _, p := range listPackages(t, "", "./...") {
		if len(p.CgoFiles) > 0 && !strings.HasPrefix(p.ImportPath, mod+"/dpdk") {
			t.Errorf("%s has cgo files %v: only dpdk/ may use cgo", p.ImportPath, p.CgoFiles)
		}
	}
}
