// Package harness holds what every benchmark scenario shares: the result
// schema written to bench/results/<scenario>.json, the statistics
// (medians, percentiles, paired ratios), the machine and version record,
// the Markdown section of BENCHMARKS.md generated from all results, and the
// PNG charts. The scenarios themselves (which start real generators) live
// in bench/cmd/rampart-bench.
package harness

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Result is one scenario's file, bench/results/<Scenario>.json.
type Result struct {
	Scenario string            `json:"scenario"` // file name without .json, e.g. "1-capture"
	Title    string            `json:"title"`
	Mode     string            `json:"mode"` // quick or full
	Date     string            `json:"date"` // RFC 3339, UTC
	Machine  Machine           `json:"machine"`
	Versions Versions          `json:"versions"`
	Command  string            `json:"command"`            // reproduces this file
	Settings map[string]string `json:"settings,omitempty"` // what the scenario was run with
	Runs     []Run             `json:"runs"`
	Summary  []Summary         `json:"summary"`
	// Headlines are the few numbers BENCHMARKS.md leads with, each against
	// its target when the project has one.
	Headlines []Headline `json:"headlines,omitempty"`
	Charts    []Chart    `json:"charts,omitempty"`
	Notes     []string   `json:"notes,omitempty"`
}

// Machine is where a result was measured.
type Machine struct {
	Cores          int        `json:"cores"`
	CPUModel       string     `json:"cpu_model"`
	Hugepages      bool       `json:"hugepages"` // the scenario ran on hugepages
	HugepagesTotal int        `json:"hugepages_total"`
	Kernel         string     `json:"kernel"`
	MemTotalMB     int        `json:"mem_total_mb"`
	LoadAvg        [3]float64 `json:"load_avg"` // when the scenario started: other work on the machine
}

// Versions are the versions of everything measured.
type Versions struct {
	Rampart string `json:"rampart"` // git describe
	Go      string `json:"go"`
	DPDK    string `json:"dpdk,omitempty"`
	BIRD    string `json:"bird,omitempty"`
}

// Run is one measurement: a variant (the reference or the candidate) of a
// group (source, packet size...) in a pair; the pair index joins the
// reference and the candidate measured back to back.
type Run struct {
	Group   string             `json:"group"`
	Variant string             `json:"variant"`
	Pair    int                `json:"pair"`
	Metrics map[string]float64 `json:"metrics"`
}

// Summary is one metric of one variant of a group over its runs.
type Summary struct {
	Group   string  `json:"group"`
	Metric  string  `json:"metric"`
	Variant string  `json:"variant"`
	N       int     `json:"n"`
	Median  float64 `json:"median"`
	P99     float64 `json:"p99"`
	Min     float64 `json:"min"`
	Max     float64 `json:"max"`
	// Reference is the variant this one is compared with; Ratio is the
	// median over pairs of this variant's value over the reference's, and
	// RatioMin/RatioMax their range.
	Reference string   `json:"reference,omitempty"`
	Ratio     *float64 `json:"ratio,omitempty"`
	RatioMin  float64  `json:"ratio_min,omitempty"`
	RatioMax  float64  `json:"ratio_max,omitempty"`
}

// Headline is one number of the BENCHMARKS.md lead table.
type Headline struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Target string `json:"target,omitempty"`
	Met    *bool  `json:"met,omitempty"`
}

// Chart asks the report step for a PNG: "bars" draws Metric's median per
// group and variant, "cdf" the distribution of Metric's run values per
// variant.
type Chart struct {
	Kind   string `json:"kind"`
	Metric string `json:"metric"`
	Title  string `json:"title"`
	Unit   string `json:"unit"`
	File   string `json:"file"` // relative to the results directory
}

// Summarize computes a Summary row for every (group, metric, variant) of
// runs, in the order groups and variants first appear. For every metric
// in compare, each variant other than reference gets paired ratios
// against reference (pairs where both are present and the reference is
// not zero).
func Summarize(runs []Run, reference string, compare ...string) []Summary {
	var groups, variants, metrics []string
	for _, r := range runs {
		groups = appendNew(groups, r.Group)
		variants = appendNew(variants, r.Variant)
		for _, m := range sortedKeys(r.Metrics) {
			metrics = appendNew(metrics, m)
		}
	}
	var out []Summary
	for _, g := range groups {
		for _, m := range metrics {
			for _, v := range variants {
				var vals []float64
				for _, r := range runs {
					if x, ok := r.Metrics[m]; ok && r.Group == g && r.Variant == v {
						vals = append(vals, x)
					}
				}
				if len(vals) == 0 {
					continue
				}
				s := Summary{Group: g, Metric: m, Variant: v, N: len(vals), Median: Median(vals),
					P99: Percentile(vals, 99), Min: slices.Min(vals), Max: slices.Max(vals)}
				if v != reference && reference != "" && slices.Contains(compare, m) {
					if rs := PairRatios(runs, g, m, reference, v); len(rs) > 0 {
						med := Median(rs)
						s.Reference, s.Ratio, s.RatioMin, s.RatioMax = reference, &med, slices.Min(rs), slices.Max(rs)
					}
				}
				out = append(out, s)
			}
		}
	}
	return out
}

// PairRatios are candidate/reference for metric in group, pair by pair.
func PairRatios(runs []Run, group, metric, reference, candidate string) []float64 {
	ref := map[int]float64{}
	for _, r := range runs {
		if x, ok := r.Metrics[metric]; ok && r.Group == group && r.Variant == reference {
			ref[r.Pair] = x
		}
	}
	var out []float64
	for _, r := range runs {
		x, ok := r.Metrics[metric]
		if !ok || r.Group != group || r.Variant != candidate {
			continue
		}
		if a, ok := ref[r.Pair]; ok && a != 0 {
			out = append(out, x/a)
		}
	}
	return out
}

// Find returns the summary row of group, metric and variant.
func (r *Result) Find(group, metric, variant string) (Summary, bool) {
	for _, s := range r.Summary {
		if s.Group == group && s.Metric == metric && s.Variant == variant {
			return s, true
		}
	}
	return Summary{}, false
}

// Validate checks what the report step relies on.
func (r *Result) Validate() error {
	switch {
	case r.Scenario == "" || strings.ContainsAny(r.Scenario, "/\\ "):
		return fmt.Errorf("scenario: must be a plain file name, got %q", r.Scenario)
	case r.Title == "":
		return fmt.Errorf("%s: title: empty", r.Scenario)
	case r.Command == "":
		return fmt.Errorf("%s: command: empty", r.Scenario)
	case r.Mode != "quick" && r.Mode != "full":
		return fmt.Errorf("%s: mode: must be quick or full, got %q", r.Scenario, r.Mode)
	case r.Machine.Cores <= 0:
		return fmt.Errorf("%s: machine.cores: must be > 0, got %d", r.Scenario, r.Machine.Cores)
	}
	for i, run := range r.Runs {
		if run.Group == "" || run.Variant == "" {
			return fmt.Errorf("%s: runs[%d]: group and variant are required, got %q, %q", r.Scenario, i, run.Group, run.Variant)
		}
	}
	for i, c := range r.Charts {
		if c.Kind != "bars" && c.Kind != "cdf" {
			return fmt.Errorf("%s: charts[%d].kind: must be bars or cdf, got %q", r.Scenario, i, c.Kind)
		}
		if c.File == "" || filepath.Base(c.File) != c.File || !strings.HasSuffix(c.File, ".png") {
			return fmt.Errorf("%s: charts[%d].file: must be a plain .png file name, got %q", r.Scenario, i, c.File)
		}
	}
	return nil
}

// Write writes r to dir/<scenario>.json.
func (r *Result) Write(dir string) (string, error) {
	if err := r.Validate(); err != nil {
		return "", err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, r.Scenario+".json")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	return path, os.WriteFile(path, append(b, '\n'), 0o644)
}

// Load reads every *.json result in dir, sorted by scenario name.
func Load(dir string) ([]Result, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	slices.Sort(files)
	var out []Result
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		r, err := Decode(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// Decode reads one result file's bytes: strict keys, then Validate.
func Decode(b []byte) (Result, error) {
	var r Result
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return Result{}, err
	}
	if dec.More() {
		return Result{}, fmt.Errorf("data after the result object")
	}
	return r, r.Validate()
}

func appendNew(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

func sortedKeys(m map[string]float64) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
