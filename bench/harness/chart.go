package harness

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

var palette = []color.RGBA{
	{0x4c, 0x72, 0xb0, 0xff}, {0xdd, 0x84, 0x52, 0xff}, {0x55, 0xa8, 0x68, 0xff},
	{0xc4, 0x4e, 0x52, 0xff}, {0x81, 0x72, 0xb3, 0xff}, {0x93, 0x78, 0x60, 0xff},
}

var (
	ink  = color.RGBA{0x22, 0x22, 0x22, 0xff}
	grid = color.RGBA{0xdd, 0xdd, 0xdd, 0xff}
)

const (
	charW   = 7 // basicfont.Face7x13 advance
	marginL = 70
	marginT = 40
	marginB = 60
)

// DrawCharts writes every chart r asks for into dir.
func DrawCharts(r Result, dir string) error {
	for _, c := range r.Charts {
		var png []byte
		switch c.Kind {
		case "bars":
			png = barChart(r, c)
		case "cdf":
			png = cdfChart(r, c)
		}
		if err := os.WriteFile(filepath.Join(dir, c.File), png, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// barChart: the median of c.Metric per group, one bar per variant.
func barChart(r Result, c Chart) []byte {
	var groups, variants []string
	val := map[[2]string]float64{}
	top := 0.0
	for _, s := range r.Summary {
		if s.Metric != c.Metric {
			continue
		}
		groups, variants = appendNew(groups, s.Group), appendNew(variants, s.Variant)
		val[[2]string{s.Group, s.Variant}] = s.Median
		top = math.Max(top, s.Median)
	}
	slot := 30
	for _, g := range groups {
		slot = max(slot, (len(g)+2)*charW/max(len(variants), 1))
	}
	groupW := slot*len(variants) + 20
	w := max(marginL+groupW*len(groups)+20, 420)
	h := 360
	img := canvas(w, h)
	yMax := niceCeil(top)
	plotH := h - marginT - marginB
	axes(img, w, h, c.Title, c.Unit, yMax)
	for gi, g := range groups {
		x0 := marginL + 10 + gi*groupW
		for vi, v := range variants {
			x, ok := val[[2]string{g, v}]
			if !ok {
				continue
			}
			bh := int(float64(plotH) * x / yMax)
			rect(img, x0+vi*slot+2, h-marginB-bh, x0+(vi+1)*slot-2, h-marginB, palette[vi%len(palette)])
		}
		text(img, x0+(groupW-20-len(g)*charW)/2, h-marginB+16, g, ink)
	}
	legend(img, variants, w)
	return encode(img)
}

// cdfChart: the distribution of c.Metric's run values, one step line per
// variant (all groups together).
func cdfChart(r Result, c Chart) []byte {
	var variants []string
	vals := map[string][]float64{}
	top := 0.0
	for _, run := range r.Runs {
		if x, ok := run.Metrics[c.Metric]; ok {
			variants = appendNew(variants, run.Variant)
			vals[run.Variant] = append(vals[run.Variant], x)
			top = math.Max(top, x)
		}
	}
	w, h := 520, 360
	img := canvas(w, h)
	xMax := niceCeil(top)
	plotW, plotH := w-marginL-30, h-marginT-marginB
	axes(img, w, h, c.Title, "share of runs", 1)
	for i := 0; i <= 4; i++ {
		x := marginL + plotW*i/4
		text(img, x-3*charW/2, h-marginB+16, Num(xMax*float64(i)/4), ink)
	}
	text(img, marginL+plotW/2-len(c.Unit)*charW/2, h-marginB+32, c.Unit, ink)
	for vi, v := range variants {
		s := slices.Clone(vals[v])
		slices.Sort(s)
		col := palette[vi%len(palette)]
		px, py := marginL, h-marginB
		for i, x := range s {
			nx := marginL + int(float64(plotW)*x/xMax)
			ny := h - marginB - plotH*(i+1)/len(s)
			rect(img, px, py-1, nx+1, py+1, col)                   // along x at the old height
			rect(img, nx-1, min(py, ny), nx+1, max(py, ny)+1, col) // up at x
			px, py = nx, ny
		}
	}
	legend(img, variants, w)
	return encode(img)
}

func canvas(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	return img
}

// axes draws the title, the y axis from 0 to yMax with five gridlines and
// its unit, and the x axis line.
func axes(img *image.RGBA, w, h int, title, unit string, yMax float64) {
	plotH := h - marginT - marginB
	text(img, (w-len(title)*charW)/2, 18, title, ink)
	text(img, 4, marginT-12, unit, ink)
	for i := 0; i <= 4; i++ {
		y := h - marginB - plotH*i/4
		rect(img, marginL, y, w-20, y+1, grid)
		label := Num(yMax * float64(i) / 4)
		text(img, marginL-6-len(label)*charW, y+4, label, ink)
	}
	rect(img, marginL, marginT, marginL+1, h-marginB, ink)
	rect(img, marginL, h-marginB, w-20, h-marginB+1, ink)
}

func legend(img *image.RGBA, names []string, w int) {
	x := w - 20
	for i := len(names) - 1; i >= 0; i-- {
		x -= len(names[i])*charW + 24
		rect(img, x, 28, x+10, 38, palette[i%len(palette)])
		text(img, x+14, 37, names[i], ink)
	}
}

func rect(img *image.RGBA, x0, y0, x1, y1 int, c color.Color) {
	draw.Draw(img, image.Rect(x0, y0, x1, y1), &image.Uniform{c}, image.Point{}, draw.Src)
}

func text(img *image.RGBA, x, y int, s string, c color.Color) {
	d := font.Drawer{Dst: img, Src: &image.Uniform{c}, Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

func encode(img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(fmt.Sprintf("png of an in-memory RGBA image: %v", err)) // cannot fail on a bytes.Buffer
	}
	return b.Bytes()
}

// niceCeil rounds x up to 1, 2 or 5 times a power of ten (1 for x ≤ 0).
func niceCeil(x float64) float64 {
	if x <= 0 || math.IsNaN(x) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= x {
			return m * p
		}
	}
	return 10 * p
}
