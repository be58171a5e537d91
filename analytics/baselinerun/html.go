package baselinerun

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/rampartnet/rampart/analytics"
	"github.com/rampartnet/rampart/baseline"
)

// chartPoints bounds a chart's points: longer histories keep each
// bucket's highest peak.
const chartPoints = 720

type chart struct {
	Series      string
	Peaks       template.HTML // SVG polyline points
	Current     template.HTML
	Recommended template.HTML
	YLabels     []yLabel
	From, To    string
	Max, Cur    Num
	Rec         Num
}

type yLabel struct {
	Y    float64
	Text string
}

type hostSection struct {
	HostReport
	ID     string
	Charts []chart
}

// WriteHTML renders the report as one page: the tables, then for up to
// hosts hosts (those with the least headroom first) a chart per series of
// the host's peaks over the history against its current and recommended
// thresholds (log scale). It reads the history a second time.
func (r *Run) WriteHTML(w io.Writer, rep *Report, hosts int) error {
	picked := slices.Clone(rep.Hosts)
	headroom := func(h *HostReport) float64 {
		m := math.Inf(1)
		for _, s := range h.Series {
			m = min(m, float64(s.Headroom))
		}
		return m
	}
	slices.SortStableFunc(picked, func(a, b HostReport) int {
		ha, hb := headroom(&a), headroom(&b)
		switch {
		case ha < hb:
			return -1
		case ha > hb:
			return 1
		}
		return 0
	})
	if len(picked) > hosts {
		picked = picked[:hosts]
	}
	idx := map[baseline.Key]int{}
	for i, h := range picked {
		idx[h.key] = i
	}
	type point struct {
		t     int64
		hour  int
		peaks [NumSeries]float64
	}
	hist := make([][]point, len(picked))
	err := r.scan(func(_ *analytics.Snapshot, row *baseline.Row) {
		if i, ok := idx[row.Key]; ok {
			p := point{t: row.Start, hour: row.Hour}
			copy(p.peaks[:], row.Peaks)
			hist[i] = append(hist[i], p)
		}
	})
	if err != nil {
		return err
	}
	from, to := r.From.UnixNano(), r.To.UnixNano()
	const width, height = 900.0, 180.0
	x := func(t int64) float64 { return width * float64(t-from) / float64(max(1, to-from)) }
	sections := make([]hostSection, len(picked))
	for i, h := range picked {
		sec := hostSection{HostReport: h, ID: "host-" + strings.NewReplacer(".", "-", ":", "-").Replace(h.IP)}
		for _, sr := range h.Series {
			s := seriesIndex(sr.Series)
			lo, hi := math.Inf(1), 0.0
			for _, p := range hist[i] {
				if v := p.peaks[s]; v > 0 {
					lo, hi = min(lo, v), max(hi, v)
				}
			}
			for _, v := range []float64{float64(sr.Current), float64(sr.Recommended)} {
				if v > 0 && !math.IsInf(v, 0) {
					lo, hi = min(lo, v), max(hi, v)
				}
			}
			if hi == 0 {
				continue
			}
			lo = math.Pow(10, math.Floor(math.Log10(lo)))
			hi = math.Pow(10, math.Ceil(math.Log10(hi*1.01)))
			y := func(v float64) float64 {
				v = max(v, lo)
				return height - height*(math.Log10(v)-math.Log10(lo))/(math.Log10(hi)-math.Log10(lo))
			}
			var pts, rec strings.Builder
			bucket := max(1, len(hist[i])/chartPoints)
			for j := 0; j < len(hist[i]); j += bucket {
				top, tb := 0.0, hist[i][j]
				for _, p := range hist[i][j:min(j+bucket, len(hist[i]))] {
					if p.peaks[s] >= top {
						top, tb = p.peaks[s], p
					}
				}
				fmt.Fprintf(&pts, "%.1f,%.1f ", x(tb.t), y(top))
				rv := float64(sr.Recommended)
				if sr.Hours != nil {
					rv = float64(sr.Hours[tb.hour])
				}
				if !math.IsInf(rv, 0) {
					fmt.Fprintf(&rec, "%.1f,%.1f ", x(tb.t), y(rv))
				}
			}
			c := chart{Series: sr.Series, Peaks: template.HTML(pts.String()), Recommended: template.HTML(rec.String()),
				From: r.From.Format("2006-01-02 15:04Z"), To: r.To.Format("2006-01-02 15:04Z"), Max: sr.Max, Cur: sr.Current, Rec: sr.Recommended}
			if cur := float64(sr.Current); !math.IsInf(cur, 0) {
				c.Current = template.HTML(fmt.Sprintf("0,%.1f %.0f,%.1f", y(cur), width, y(cur)))
			}
			for v := lo; v <= hi*1.0001; v *= 10 {
				c.YLabels = append(c.YLabels, yLabel{Y: y(v), Text: Num(v).String()})
			}
			sec.Charts = append(sec.Charts, c)
		}
		sections[i] = sec
	}
	return page.Execute(w, struct {
		*Report
		Sections []hostSection
		Shown    int
	}{rep, sections, len(sections)})
}

var page = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<title>rampart baseline report</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; font-size: 0.85em; margin-bottom: 1em; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: right; }
th { background: #f2f2f2; }
td.l, th.l { text-align: left; }
svg { background: #fafafa; border: 1px solid #ddd; overflow: visible; }
.peaks { fill: none; stroke: #3366cc; stroke-width: 1; }
.cur { fill: none; stroke: #cc3333; stroke-dasharray: 6 4; stroke-width: 1.5; }
.rec { fill: none; stroke: #339933; stroke-width: 1.5; }
.axis { font-size: 10px; fill: #666; }
</style>
</head>
<body>
<h1>Baseline report</h1>
<p>History {{.From.Format "2006-01-02T15:04:05Z07:00"}} .. {{.To.Format "2006-01-02T15:04:05Z07:00"}}: {{.Intervals}} intervals of {{.Interval}}, sensors {{range .Sensors}}{{.}} {{end}}; {{.Rows}} host intervals, {{.Learned}} learned. Snapshots: <code>{{.Dir}}</code>.</p>
<h2>Hostgroups (pooled)</h2>
<table>
<tr><th class="l">hostgroup</th><th class="l">series</th><th>samples</th><th>attacks</th><th>p50</th><th>pq</th><th>max</th><th>current</th><th>recommended</th><th class="l">source</th></tr>
{{range .Groups}}{{$g := .Group}}{{range .Series}}<tr><td class="l">{{$g}}</td><td class="l">{{.Series}}</td><td>{{.Samples}}</td><td>{{.Attacks}}</td><td>{{.P50}}</td><td>{{.PQ}} ({{.Quantile}})</td><td>{{.Max}}</td><td>{{.Current}}</td><td>{{.Recommended}}</td><td class="l">{{.Source}}</td></tr>
{{end}}{{end}}</table>
<h2>Hosts with the least headroom ({{.Shown}} of {{len .Hosts}})</h2>
<p>Blue: the host's per-second peak per interval (highest of each bucket); red dashed: the threshold in force; green: the recommended threshold (per hour of day where profiled). Log scale.</p>
{{range .Sections}}<section class="host" id="{{.ID}}">
<h3>{{.IP}} <small>({{.Group}})</small></h3>
<table>
<tr><th class="l">series</th><th>samples</th><th>attacks</th><th>p50</th><th>pq</th><th>max</th><th>current</th><th>recommended</th><th class="l">source</th><th>headroom</th></tr>
{{range .Series}}<tr><td class="l">{{.Series}}</td><td>{{.Samples}}</td><td>{{.Attacks}}</td><td>{{.P50}}</td><td>{{.PQ}} ({{.Quantile}})</td><td>{{.Max}}</td><td>{{.Current}}</td><td>{{.Recommended}}</td><td class="l">{{.Source}}</td><td>{{.Headroom}}</td></tr>
{{end}}</table>
{{range .Charts}}<figure>
<figcaption>{{.Series}}: max {{.Max}}, current {{.Cur}}, recommended {{.Rec}}</figcaption>
<svg class="chart" width="960" height="210" viewBox="-50 -10 960 210" role="img" aria-label="{{.Series}} peaks against thresholds">
{{range .YLabels}}<text class="axis" x="-6" y="{{printf "%.1f" .Y}}" text-anchor="end">{{.Text}}</text>
{{end}}<text class="axis" x="0" y="196">{{.From}}</text><text class="axis" x="900" y="196" text-anchor="end">{{.To}}</text>
<polyline class="peaks" points="{{.Peaks}}"/>
{{if .Current}}<polyline class="cur" points="{{.Current}}"/>{{end}}
{{if .Recommended}}<polyline class="rec" points="{{.Recommended}}"/>{{end}}
</svg>
</figure>
{{end}}</section>
{{end}}</body>
</html>
`))
