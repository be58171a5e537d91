package harness

import (
	"bytes"
	"flag"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestMedianPercentile(t *testing.T) {
	for _, tc := range []struct {
		name             string
		xs               []float64
		median, p50, p99 float64
	}{
		{"one", []float64{7}, 7, 7, 7},
		{"odd unsorted", []float64{3, 1, 2}, 2, 2, 2.98},
		{"even", []float64{4, 1, 3, 2}, 2.5, 2.5, 3.97},
		{"twenty ranks", []float64{20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, 10.5, 10.5, 19.81},
	} {
		t.Run(tc.name, func(t *testing.T) {
			orig := append([]float64(nil), tc.xs...)
			if got := Median(tc.xs); math.Abs(got-tc.median) > 1e-9 {
				t.Errorf("Median = %v, want %v", got, tc.median)
			}
			if got := Percentile(tc.xs, 50); math.Abs(got-tc.p50) > 1e-9 {
				t.Errorf("Percentile 50 = %v, want %v", got, tc.p50)
			}
			if got := Percentile(tc.xs, 99); math.Abs(got-tc.p99) > 1e-9 {
				t.Errorf("Percentile 99 = %v, want %v", got, tc.p99)
			}
			for i := range orig {
				if orig[i] != tc.xs[i] {
					t.Fatalf("input reordered: %v", tc.xs)
				}
			}
		})
	}
	if !math.IsNaN(Median(nil)) || !math.IsNaN(Percentile(nil, 50)) || !math.IsNaN(Percentile([]float64{1}, 101)) {
		t.Error("no values or p out of range must give NaN")
	}
}

// sample is a result as a scenario writes it.
func sample() Result {
	met, notMet := true, false
	runs := []Run{
		{"pcap/64", "testpmd", 1, map[string]float64{"mpps": 30}},
		{"pcap/64", "rampart", 1, map[string]float64{"mpps": 24, "imissed": 0}},
		{"pcap/64", "rampart", 2, map[string]float64{"mpps": 20, "imissed": 10}},
		{"pcap/64", "testpmd", 2, map[string]float64{"mpps": 40}},
		{"pcap/64", "testpmd", 3, map[string]float64{"mpps": 0}}, // a failed reference: no ratio
		{"pcap/64", "rampart", 3, map[string]float64{"mpps": 5}},
		{"memif|flowgen", "testpmd", 1, map[string]float64{"mpps": 12.345}},
		{"memif|flowgen", "rampart", 1, map[string]float64{"mpps": 6.1}},
	}
	return Result{
		Scenario: "1-capture", Title: "Capture ceiling", Mode: "quick", Date: "2026-12-04T10:00:00Z",
		Machine:  Machine{Cores: 2, CPUModel: "Test CPU", Kernel: "6.1.0", MemTotalMB: 24000, LoadAvg: [3]float64{1.5, 1, 0.5}},
		Versions: Versions{Rampart: "v0.1-3-gabc", Go: "go1.26.8", DPDK: "22.11.11", BIRD: "2.0.12"},
		Command:  "go run ./bench/cmd/rampart-bench run -scenarios 1",
		Settings: map[string]string{"secs": "3", "burst": "64"},
		Runs:     runs,
		Summary:  Summarize(runs, "testpmd", "mpps"),
		Headlines: []Headline{
			{Name: "rampart / testpmd, 64 B", Value: "0.65", Target: "≥ 0.75", Met: &notMet},
			{Name: "imissed", Value: "0", Target: "0", Met: &met},
			{Name: "no target", Value: "1.2 Mpps"},
		},
		Charts: []Chart{{Kind: "bars", Metric: "mpps", Title: "Mpps", Unit: "Mpps", File: "1-capture-mpps.png"},
			{Kind: "cdf", Metric: "mpps", Title: "Mpps spread", Unit: "Mpps", File: "1-capture-cdf.png"}},
		Notes: []string{"noisy machine"},
	}
}

func TestSummarize(t *testing.T) {
	r := sample()
	s, ok := r.Find("pcap/64", "mpps", "rampart")
	if !ok {
		t.Fatal("no rampart mpps row")
	}
	// Pairs 1 and 2: 24/30 = 0.8, 20/40 = 0.5; pair 3's reference is 0.
	if s.N != 3 || s.Median != 20 || s.Min != 5 || s.Max != 24 || s.Ratio == nil ||
		math.Abs(*s.Ratio-0.65) > 1e-9 || s.RatioMin != 0.5 || s.RatioMax != 0.8 || s.Reference != "testpmd" {
		t.Errorf("rampart row = %+v (ratio %v)", s, s.Ratio)
	}
	if ref, _ := r.Find("pcap/64", "mpps", "testpmd"); ref.Ratio != nil || ref.Median != 30 {
		t.Errorf("reference row = %+v", ref)
	}
	if im, _ := r.Find("pcap/64", "imissed", "rampart"); im.Ratio != nil || im.N != 2 || im.Median != 5 {
		t.Errorf("imissed row (not compared) = %+v", im)
	}
	if len(r.Summary) != 5 {
		t.Errorf("%d summary rows, want 5: %+v", len(r.Summary), r.Summary)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Result)
		want   string
	}{
		{"ok", func(*Result) {}, ""},
		{"path in scenario", func(r *Result) { r.Scenario = "../x" }, `scenario: must be a plain file name, got "../x"`},
		{"no command", func(r *Result) { r.Command = "" }, "command: empty"},
		{"mode", func(r *Result) { r.Mode = "long" }, `mode: must be quick or full, got "long"`},
		{"cores", func(r *Result) { r.Machine.Cores = 0 }, "machine.cores: must be > 0, got 0"},
		{"run variant", func(r *Result) { r.Runs[2].Variant = "" }, "runs[2]: group and variant are required"},
		{"chart kind", func(r *Result) { r.Charts[0].Kind = "pie" }, `charts[0].kind: must be bars or cdf, got "pie"`},
		{"chart path", func(r *Result) { r.Charts[1].File = "../x.png" }, `charts[1].file: must be a plain .png file name, got "../x.png"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := sample()
			tc.change(&r)
			err := r.Validate()
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("Validate() = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestWriteLoad(t *testing.T) {
	dir := t.TempDir()
	r := sample()
	p, err := r.Write(dir)
	if err != nil || p != filepath.Join(dir, "1-capture.json") {
		t.Fatalf("Write = %q, %v", p, err)
	}
	got, err := Load(dir)
	if err != nil || len(got) != 1 {
		t.Fatalf("Load = %d results, %v", len(got), err)
	}
	if Render(got, "bench/results") != Render([]Result{r}, "bench/results") {
		t.Error("a result read back renders differently")
	}
	// Unknown keys are schema drift: refused, naming the file.
	os.WriteFile(filepath.Join(dir, "2-x.json"), []byte(`{"scenario":"2-x","extra":1}`), 0o644)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), `2-x.json: json: unknown field "extra"`) {
		t.Errorf("Load with an unknown key: %v", err)
	}
}

func TestRenderGolden(t *testing.T) {
	got := Render([]Result{sample()}, "bench/results")
	golden := filepath.Join("testdata", "render.golden.md")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("Render differs from %s (go test ./bench/harness -update rewrites it):\n%s", golden, got)
	}
}

func TestReplaceSection(t *testing.T) {
	doc := "# B\nhand\n" + BeginMarker + "\nold\n" + EndMarker + "\nhistory\n"
	got, err := ReplaceSection(doc, "new\n")
	if want := "# B\nhand\n" + BeginMarker + "\nnew\n" + EndMarker + "\nhistory\n"; err != nil || got != want {
		t.Errorf("ReplaceSection = %q, %v; want %q", got, err, want)
	}
	for _, bad := range []string{"no markers", EndMarker + BeginMarker, BeginMarker + BeginMarker + EndMarker} {
		if _, err := ReplaceSection(bad, "x"); err == nil {
			t.Errorf("ReplaceSection(%q) accepted", bad)
		}
	}
}

func TestNum(t *testing.T) {
	for x, want := range map[float64]string{0: "0", 0.1234: "0.123", 1.234: "1.23", 12.34: "12.3", 123.4: "123",
		9999: "9999", 12345: "12.3k", 5.43e6: "5.43M", 2.5e9: "2.50G", -3: "-3.00", math.NaN(): "–"} {
		if got := Num(x); got != want {
			t.Errorf("Num(%v) = %q, want %q", x, got, want)
		}
	}
}

func TestDrawCharts(t *testing.T) {
	dir := t.TempDir()
	r := sample()
	if err := DrawCharts(r, dir); err != nil {
		t.Fatal(err)
	}
	for _, c := range r.Charts {
		b, err := os.ReadFile(filepath.Join(dir, c.File))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", c.File, err)
		}
		if w := img.Bounds().Dx(); w < 400 {
			t.Errorf("%s: %d px wide", c.File, w)
		}
		// Something besides the white background: bars or lines in the
		// first variant's colour.
		found := false
		for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y && !found; y++ {
			for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
				if r, g, b, _ := img.At(x, y).RGBA(); r>>8 == 0x4c && g>>8 == 0x72 && b>>8 == 0xb0 {
					found = true
					break
				}
			}
		}
		if !found {
			t.Errorf("%s: no data drawn", c.File)
		}
	}
	if niceCeil(0) != 1 || niceCeil(3.2) != 5 || niceCeil(10) != 10 || niceCeil(11) != 20 {
		t.Error("niceCeil")
	}
}
