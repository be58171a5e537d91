package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/rampartnet/rampart/analytics"
	"github.com/rampartnet/rampart/analytics/baselinerun"
	"github.com/rampartnet/rampart/baseline"
	"github.com/rampartnet/rampart/sensor/hosts"
	"github.com/rampartnet/rampart/sensor/snapshot"
	"github.com/rampartnet/rampart/sensor/thresholdfile"
)

// baselineHistory writes two days of 30-minute snapshots of 12 hosts:
// 10.0.0.0-3 large (group big), the others small (default), a daily
// curve, and two injected attacks.
func baselineHistory(t *testing.T) string {
	t.Helper()
	const nhosts, bigHosts, interval = 12, 4, 30 * time.Minute
	start := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	n := int(48 * time.Hour / interval)
	syn := baseline.NewSynth(baseline.SynthConfig{
		Seed: 7, Hosts: nhosts, Start: start.UnixNano(), Interval: int64(interval), Intervals: n,
		MinPPS: 200, Alpha: 1.1, MaxPPS: 5000, Sizes: []float64{30000, 15000, 10000, 7500}, Noise: 0.25, Night: 0.2,
		Attacks: 2, AttackLen: 3, AttackFactor: 8, AttackMin: 3000,
	})
	dir := t.TempDir()
	w, err := analytics.New(zerolog.Nop(), analytics.Config{Dir: dir, Interval: interval}, "edge-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	pk := make([]float64, baseline.SynthSeries)
	for i := range n {
		s := start.Add(time.Duration(i) * interval)
		b := &snapshot.Batch{Start: s.UnixNano(), End: s.Add(interval).UnixNano(), Groups: []string{"big", "default"}}
		for h := range nhosts {
			syn.Row(h, i, pk)
			r := snapshot.Row{Key: hosts.Key(syn.Key(h)), Group: 1}
			if h < bigHosts {
				r.Group = 0
			}
			baselinerun.SetPeaks(&r, pk)
			b.Rows = append(b.Rows, r)
		}
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestBaselineCommands(t *testing.T) {
	dir := baselineHistory(t)
	common := []string{"--config", "testdata/baseline.yaml", "--snapshots", dir}
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
	}{
		{"baseline_report", []string{"baseline", "report"}, 0},
		{"baseline_report_json", []string{"baseline", "report", "--format", "json", "--group", "big", "--since", "1d"}, 0},
		{"baseline_whatif", []string{"baseline", "whatif", "--candidate", "quantile=0.99,k=3", "--candidate", "name=tight,p=0.9,k=1.5", "--top", "3"}, 0},
		{"baseline_bad_candidate", []string{"baseline", "whatif", "--candidate", "k=-1"}, 2},
		{"baseline_bad_since", []string{"baseline", "report", "--since", "lately"}, 2},
		{"baseline_unknown_group", []string{"baseline", "report", "--group", "dns"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := run(t, append(tc.args, common...)...)
			if code != tc.wantCode {
				t.Errorf("exit code = %d, want %d\nstderr: %s", code, tc.wantCode, stderr)
			}
			golden(t, tc.name, "stdout:\n"+strings.ReplaceAll(stdout, dir, "SNAPSHOTS")+"stderr:\n"+stderr)
		})
	}
	t.Run("no history", func(t *testing.T) {
		_, stderr, code := run(t, "baseline", "report", "--config", "testdata/baseline.yaml", "--snapshots", t.TempDir())
		if code != 1 || !strings.Contains(stderr, "no snapshots") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
}

func TestBaselineReportHTML(t *testing.T) {
	dir := baselineHistory(t)
	out := filepath.Join(t.TempDir(), "report.html")
	_, stderr, code := run(t, "baseline", "report", "--config", "testdata/baseline.yaml", "--snapshots", dir,
		"--format", "html", "--hosts", "5", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	page, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(page), "<!DOCTYPE html>") {
		t.Fatalf("not an HTML page: %.100s", page)
	}
	// Well formed (HTML written as XML-compatible), with one section per
	// charted host, each with a chart per series.
	dec := xml.NewDecoder(strings.NewReader(strings.TrimPrefix(string(page), "<!DOCTYPE html>")))
	dec.Strict, dec.AutoClose, dec.Entity = true, xml.HTMLAutoClose, xml.HTMLEntity
	var sections, svgs, polylines int
	var ids []string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("page does not parse: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			switch se.Name.Local {
			case "section":
				sections++
				for _, a := range se.Attr {
					if a.Name.Local == "id" {
						ids = append(ids, a.Value)
					}
				}
			case "svg":
				svgs++
			case "polyline":
				polylines++
				for _, a := range se.Attr {
					var x, y float64
					if a.Name.Local == "points" && (len(strings.Fields(a.Value)) < 2 || func() bool {
						_, err := fmt.Sscanf(strings.Fields(a.Value)[0], "%g,%g", &x, &y)
						return err != nil
					}()) {
						t.Errorf("polyline points %.80q: want x,y pairs", a.Value)
					}
				}
			}
		}
	}
	if sections != 5 || len(ids) != 5 {
		t.Fatalf("%d host sections (ids %v), want 5", sections, ids)
	}
	for _, id := range ids {
		if !strings.HasPrefix(id, "host-10-0-0-") {
			t.Errorf("section id %q: want host-10-0-0-N", id)
		}
	}
	// Each charted host has in.pps, in.mbps and in.syn_pps; each chart its
	// peaks, the current and the recommended threshold.
	if svgs != 15 || polylines != 45 {
		t.Errorf("%d charts with %d lines, want 15 with 45", svgs, polylines)
	}
}

func TestBaselineTune(t *testing.T) {
	dir := baselineHistory(t)
	out := filepath.Join(t.TempDir(), "thresholds.yaml")
	args := []string{"baseline", "tune", "--config", "testdata/baseline.yaml", "--snapshots", dir, "--out", out}
	stdout, stderr, code := run(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	golden(t, "baseline_tune", "stdout:\n"+strings.ReplaceAll(stdout, out, "OUT"))
	f, err := thresholdfile.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Hosts) != 12 || f.GeneratedAt != time.Date(2026, 11, 4, 0, 0, 0, 0, time.UTC) {
		t.Fatalf("%d hosts generated at %v", len(f.Hosts), f.GeneratedAt)
	}
	first, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "baseline_tune_file", strings.ReplaceAll(string(first), dir, "SNAPSHOTS"))
	// The same history tuned again from scratch gives the same bytes.
	again := filepath.Join(t.TempDir(), "again.yaml")
	if _, stderr, code = run(t, append(args[:len(args)-1], again, "--previous", "none")...); code != 0 {
		t.Fatalf("second tune: exit %d: %s", code, stderr)
	}
	if second, err := os.ReadFile(again); err != nil || string(first) != string(second) {
		t.Errorf("tune is not deterministic (%v):\n%s\n---\n%s", err, first, second)
	}
	// A tune over an existing file starts from it: it is the thresholds in
	// force (attacks are what exceeded it) and each value moves by at most
	// max_change (0.5 here).
	if _, stderr, code = run(t, args...); code != 0 {
		t.Fatalf("third tune: exit %d: %s", code, stderr)
	}
	g, err := thresholdfile.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	for a, th := range g.Addrs() {
		prev := f.Addrs()[a]
		if v, p := *th.In.PPS, *prev.In.PPS; v < p*0.5*0.999 || v > p*1.5*1.001 {
			t.Errorf("%s in.pps moved from %v to %v: more than max_change", a, p, v)
		}
	}
	// A tune of one hostgroup keeps the other groups' and hosts' entries.
	third := g
	if _, stderr, code = run(t, append(args, "--group", "big")...); code != 0 {
		t.Fatalf("tune --group: exit %d: %s", code, stderr)
	}
	if g, err = thresholdfile.Load(out); err != nil || len(g.Groups) != 2 || len(g.Hosts) != 12 {
		t.Fatalf("after tune --group big: %v, %d groups, %d hosts; want 2 and 12", err, len(g.Groups), len(g.Hosts))
	}
	if *g.Groups["default"].In.PPS != *third.Groups["default"].In.PPS {
		t.Errorf("tune --group big changed the default group: %v, was %v", *g.Groups["default"].In.PPS, *third.Groups["default"].In.PPS)
	}
	// The report with the tuned file in force shows it as current.
	stdout, stderr, code = run(t, "baseline", "report", "--format", "json", "--config", "testdata/baseline.yaml",
		"--snapshots", dir, "--thresholds", out)
	if code != 0 {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	var rep struct {
		Hosts []struct {
			IP     string `json:"ip"`
			Series []struct {
				Series      string   `json:"series"`
				Current     *float64 `json:"current"`
				Recommended *float64 `json:"recommended"`
			} `json:"series"`
		} `json:"hosts"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	for _, h := range rep.Hosts {
		want := f.Addrs()
		for _, s := range h.Series {
			if s.Series != "in.pps" {
				continue
			}
			for a, th := range want {
				if a.String() == h.IP && (s.Current == nil || *s.Current != *th.In.PPS) {
					t.Errorf("%s in.pps current %v, want the tuned %v", h.IP, s.Current, *th.In.PPS)
				}
			}
		}
	}
}

func TestProgressBar(t *testing.T) {
	var buf strings.Builder
	b := &progressBar{w: &buf, label: "reading d"}
	for _, v := range []float64{0, 0.001, 0.5, 0.504, 1} {
		b.set(v)
	}
	b.done()
	want := "\rreading d [..............................]   0%" +
		"\rreading d [###############...............]  50%" +
		"\rreading d [##############################] 100%" + "\r\033[K"
	if buf.String() != want {
		t.Errorf("bar drew %q, want %q", buf.String(), want)
	}
}

func TestParseSince(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{{"", 0, true}, {"7d", 7 * 24 * time.Hour, true}, {"1.5d", 36 * time.Hour, true}, {"36h", 36 * time.Hour, true},
		{"0d", 0, false}, {"-3h", 0, false}, {"d", 0, false}, {"week", 0, false}} {
		got, err := parseSince(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("parseSince(%q) = %v, %v; want %v, ok %v", c.in, got, err, c.want, c.ok)
		}
	}
}

// Without --out, tune writes where the sensor reads: detection.thresholds_file.
func TestBaselineTuneDefaultsToThresholdsFile(t *testing.T) {
	dir := baselineHistory(t)
	base, err := os.ReadFile("testdata/baseline.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tdir := t.TempDir()
	out := filepath.Join(tdir, "thresholds.yaml")
	cfg := filepath.Join(tdir, "rampart.yaml")
	doc := string(base)
	if strings.Contains(doc, "\ndetection:") {
		t.Fatal("testdata/baseline.yaml has a detection section: extend it instead")
	}
	if err := os.WriteFile(cfg, []byte(doc+"\ndetection: {thresholds_file: "+strconv.Quote(out)+"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := run(t, "baseline", "tune", "--config", cfg, "--snapshots", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if f, err := thresholdfile.Load(out); err != nil || len(f.Hosts) == 0 {
		t.Fatalf("detection.thresholds_file after tune: %v", err)
	}
	if _, stderr, code := run(t, "baseline", "tune", "--config", "testdata/baseline.yaml", "--snapshots", dir); code != 2 || !strings.Contains(stderr, "--out: required") {
		t.Errorf("tune without --out or thresholds_file: exit %d, stderr %q", code, stderr)
	}
}
