package harness

import (
	"fmt"
	"math"
	"path"
	"slices"
	"strings"
)

// The markers around the generated section of BENCHMARKS.md; everything
// outside them is written by hand and kept.
const (
	BeginMarker = "<!-- bench:begin -->"
	EndMarker   = "<!-- bench:end -->"
)

// Render is the generated section (without the markers) for results;
// chartDir is the results directory as the Markdown file sees it.
func Render(results []Result, chartDir string) string {
	var b strings.Builder
	b.WriteString("<!-- generated from bench/results/*.json by `go run ./bench/cmd/rampart-bench report`; edit bench/, not this section -->\n\n")
	var heads [][]string
	for _, r := range results {
		for _, h := range r.Headlines {
			met := ""
			if h.Met != nil {
				met = map[bool]string{true: "yes", false: "**no**"}[*h.Met]
			}
			heads = append(heads, []string{r.Scenario, h.Name, h.Value, h.Target, met})
		}
	}
	if len(heads) > 0 {
		b.WriteString("### Headlines\n\n")
		table(&b, []string{"scenario", "what", "measured", "target", "met"}, heads)
		b.WriteString("\n")
	}
	for _, r := range results {
		renderOne(&b, r, chartDir)
	}
	return b.String()
}

func renderOne(b *strings.Builder, r Result, chartDir string) {
	fmt.Fprintf(b, "### %s: %s\n\n", r.Scenario, r.Title)
	target := "make bench"
	if r.Mode == "full" {
		target = "make bench-full"
	}
	fmt.Fprintf(b, "`%s` (part of `%s`)\n\n", r.Command, target)
	m, v := r.Machine, r.Versions
	huge := "no hugepages"
	if m.Hugepages {
		huge = fmt.Sprintf("hugepages (%d × 2 MiB reserved)", m.HugepagesTotal)
	}
	fmt.Fprintf(b, "%s run of %s on %d cores (%s, %d MiB), %s, kernel %s, load average %.2f at start. rampart %s, %s",
		r.Mode, r.Date, m.Cores, m.CPUModel, m.MemTotalMB, huge, m.Kernel, m.LoadAvg[0], v.Rampart, v.Go)
	if v.DPDK != "" {
		fmt.Fprintf(b, ", DPDK %s", v.DPDK)
	}
	if v.BIRD != "" {
		fmt.Fprintf(b, ", BIRD %s", v.BIRD)
	}
	b.WriteString(".\n")
	if len(r.Settings) > 0 {
		keys := make([]string, 0, len(r.Settings))
		for k := range r.Settings {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%s=`%s`", k, r.Settings[k])
		}
		fmt.Fprintf(b, "Settings: %s.\n", strings.Join(parts, ", "))
	}
	b.WriteString("\n")
	var rows [][]string
	for _, s := range r.Summary {
		ratio := ""
		if s.Ratio != nil {
			ratio = fmt.Sprintf("**%.2f** (%.2f–%.2f) vs %s", *s.Ratio, s.RatioMin, s.RatioMax, s.Reference)
		}
		rows = append(rows, []string{s.Group, s.Metric, s.Variant, fmt.Sprint(s.N), Num(s.Median), Num(s.P99),
			Num(s.Min) + "–" + Num(s.Max), ratio})
	}
	if len(rows) > 0 {
		table(b, []string{"group", "metric", "variant", "n", "median", "p99", "min–max", "ratio (median of pairs, range)"}, rows)
		b.WriteString("\n")
	} else {
		b.WriteString("No runs completed.\n\n")
	}
	for _, c := range r.Charts {
		fmt.Fprintf(b, "![%s](%s)\n\n", c.Title, path.Join(chartDir, c.File))
	}
	for _, n := range r.Notes {
		fmt.Fprintf(b, "- %s\n", n)
	}
	if len(r.Notes) > 0 {
		b.WriteString("\n")
	}
}

func table(b *strings.Builder, head []string, rows [][]string) {
	b.WriteString("| " + strings.Join(head, " | ") + " |\n|")
	for range head {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, r := range rows {
		for i := range r {
			r[i] = strings.ReplaceAll(r[i], "|", `\|`)
		}
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
}

// Num formats a measured value with three significant digits and an SI
// suffix from 10k up.
func Num(x float64) string {
	switch a := math.Abs(x); {
	case math.IsNaN(x):
		return "–"
	case a >= 1e9:
		return trim(x/1e9) + "G"
	case a >= 1e6:
		return trim(x/1e6) + "M"
	case a >= 1e4:
		return trim(x/1e3) + "k"
	default:
		return trim(x)
	}
}

func trim(x float64) string {
	switch a := math.Abs(x); {
	case a >= 100 || a == 0:
		return fmt.Sprintf("%.0f", x)
	case a >= 10:
		return fmt.Sprintf("%.1f", x)
	case a >= 1:
		return fmt.Sprintf("%.2f", x)
	default:
		return fmt.Sprintf("%.3f", x)
	}
}

// ReplaceSection puts section between the markers of doc; the markers must
// each appear once, begin before end.
func ReplaceSection(doc, section string) (string, error) {
	if strings.Count(doc, BeginMarker) != 1 || strings.Count(doc, EndMarker) != 1 {
		return "", fmt.Errorf("need exactly one %s and one %s, found %d and %d",
			BeginMarker, EndMarker, strings.Count(doc, BeginMarker), strings.Count(doc, EndMarker))
	}
	i, j := strings.Index(doc, BeginMarker), strings.Index(doc, EndMarker)
	if j < i {
		return "", fmt.Errorf("%s comes before %s", EndMarker, BeginMarker)
	}
	return doc[:i+len(BeginMarker)] + "\n" + section + doc[j:], nil
}
