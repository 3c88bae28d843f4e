// Package weightplot draws the picture a user looks at to choose a weighting scheme:
// class counts as bars and the class weights of every scheme as lines, classes sorted by count.
package weightplot

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgpdf"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/onnxloss/onnxloss/atomicfile"
	"github.com/onnxloss/onnxloss/lossops"
)

// Options say what to draw.
type Options struct {
	// Beta is β of the effective-number weighting, in [0, 1).
	Beta float64
	// Normalize scales each scheme's weights to sum to the number of
	// classes with a non-zero count (as --normalize sum does).
	Normalize bool
	// Title heads the picture; "" gives a default.
	Title string
	// Width and Height are the picture's size in pixels (at 120 dpi);
	// 0 gives 1080×840.
	Width, Height int
}

// DPI is the resolution of the rendered PNG.
const DPI = 120

// palette holds one colour per scheme, distinguishable in print and for
// the common forms of colour blindness (Okabe–Ito).
var palette = []color.Color{
	color.RGBA{R: 0x55, G: 0x55, B: 0x55, A: 0xff}, // none: grey
	color.RGBA{R: 0xd5, G: 0x5e, B: 0x00, A: 0xff}, // inverse: vermillion
	color.RGBA{R: 0x00, G: 0x72, B: 0xb2, A: 0xff}, // sqrt_inverse: blue
	color.RGBA{R: 0x00, G: 0x9e, B: 0x73, A: 0xff}, // effective: green
}

// Render draws counts (one per class; names may be nil) as a PNG to w: on
// top the counts as bars on a log scale, below the weights of the schemes
// none, inverse, sqrt_inverse and effective (at opt.Beta) as lines on a log
// scale, classes sorted by count, largest first. Classes with count 0 get
// no bar and no weight (as with --zero-counts skip).
func Render(w io.Writer, counts []float64, names []string, opt Options) error {
	return RenderFormat(w, PNG, counts, names, opt)
}

// Format is a plot file format.
type Format string

// The formats WriteFile picks by extension.
const (
	PNG Format = "png"
	SVG Format = "svg"
	PDF Format = "pdf"
)

// FormatOf returns the format a plot file's extension asks for: .png, .svg
// or .pdf (any case); any other extension is an error, so a plot is never
// written in a format its name does not say.
func FormatOf(path string) (Format, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".png":
		return PNG, nil
	case ".svg":
		return SVG, nil
	case ".pdf":
		return PDF, nil
	default:
		return "", fmt.Errorf("plot file %s has extension %q: use .png, .svg or .pdf", path, ext)
	}
}

// canvas is a drawing surface that encodes itself.
type canvas interface {
	vg.CanvasSizer
	io.WriterTo
}

// RenderFormat is Render in the given format: PNG (raster at DPI), SVG or
// PDF (vector, same layout).
func RenderFormat(w io.Writer, format Format, counts []float64, names []string, opt Options) error {
	if len(counts) == 0 {
		return fmt.Errorf("no class counts to plot")
	}
	if names != nil && len(names) != len(counts) {
		return fmt.Errorf("%d class names for %d counts: give one name per count", len(names), len(counts))
	}
	order := make([]int, len(counts))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return counts[order[a]] > counts[order[b]] })

	top, err := countsPlot(counts, names, order, opt)
	if err != nil {
		return err
	}
	bottom, err := weightsPlot(counts, names, order, opt)
	if err != nil {
		return err
	}
	wpx, hpx := opt.Width, opt.Height
	if wpx <= 0 || hpx <= 0 {
		wpx, hpx = 1080, 840
	}
	inch := func(px int) vg.Length { return vg.Length(px) / DPI * vg.Inch }
	var cv canvas
	switch format {
	case PNG:
		cv = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(inch(wpx), inch(hpx)), vgimg.UseDPI(DPI), vgimg.UseBackgroundColor(color.White))}
	case SVG:
		cv = vgsvg.New(inch(wpx), inch(hpx))
	case PDF:
		cv = vgpdf.New(inch(wpx), inch(hpx))
	default:
		return fmt.Errorf("unknown plot format %q: use png, svg or pdf", format)
	}
	if format != PNG {
		// The vector canvases start transparent; PNG gets white above.
		cw, ch := cv.Size()
		var bg vg.Path
		bg.Move(vg.Point{})
		bg.Line(vg.Point{X: cw})
		bg.Line(vg.Point{X: cw, Y: ch})
		bg.Line(vg.Point{Y: ch})
		bg.Close()
		cv.SetColor(color.White)
		cv.Fill(bg)
	}
	dc := draw.New(cv)
	// The title is drawn across the picture, not by the top plot, so that
	// both plots' canvases start at their data areas and the legend sits
	// inside the lower one.
	title := opt.Title
	if title == "" {
		title = "Class counts and the class weights each --weighting gives"
	}
	ts := top.Title.TextStyle
	ts.Font.Size = vg.Points(14)
	ts.XAlign = draw.XCenter
	ts.YAlign = draw.YTop
	dc.FillText(ts, vg.Point{X: dc.Center().X, Y: dc.Max.Y - vg.Points(8)}, title)
	dc = draw.Crop(dc, 0, 0, 0, -(ts.Rectangle(title).Size().Y + vg.Points(14)))
	// Top 45% for the counts, the rest for the weights; the canvas with the
	// narrower y axis is cropped on the left so both data areas, and so the
	// classes, line up.
	dc = draw.Crop(dc, vg.Points(6), -vg.Points(14), vg.Points(4), 0)
	split := dc.Min.Y + (dc.Max.Y-dc.Min.Y)*0.55
	topC, botC := dc, dc
	topC.Min.Y = split + vg.Points(6)
	botC.Max.Y = split - vg.Points(6)
	dt, db := top.DataCanvas(topC), bottom.DataCanvas(botC)
	if d := dt.Min.X - db.Min.X; d > 0 {
		botC = draw.Crop(botC, d, 0, 0, 0)
	} else {
		topC = draw.Crop(topC, -d, 0, 0, 0)
	}
	dt, db = top.DataCanvas(topC), bottom.DataCanvas(botC)
	if d := dt.Max.X - db.Max.X; d > 0 {
		topC = draw.Crop(topC, 0, -d, 0, 0)
	} else {
		botC = draw.Crop(botC, 0, d, 0, 0)
	}
	top.Draw(topC)
	bottom.Draw(botC)
	if _, err := cv.WriteTo(w); err != nil {
		return fmt.Errorf("encoding %s: %w", strings.ToUpper(string(format)), err)
	}
	return nil
}

// WriteFile renders the plot to path in the format its extension names
// (see FormatOf), via a temporary file in the same directory so a failed
// run leaves nothing behind.
func WriteFile(path string, counts []float64, names []string, opt Options) (err error) {
	format, err := FormatOf(path)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if st, serr := os.Stat(dir); serr != nil || !st.IsDir() {
		return fmt.Errorf("plot directory %s does not exist: create it first", dir)
	}
	return atomicfile.Write(path, func(w io.Writer) error { return RenderFormat(w, format, counts, names, opt) })
}

// classAxis labels x positions 0..C-1 with the sorted classes' names (or
// ids), thinned to at most ~30 labels.
func classAxis(p *plot.Plot, names []string, order []int) {
	step := (len(order) + 29) / 30
	var ticks []plot.Tick
	for i, c := range order {
		t := plot.Tick{Value: float64(i)}
		if i%step == 0 {
			if names != nil {
				t.Label = names[c]
			} else {
				t.Label = fmt.Sprint(c)
			}
		}
		ticks = append(ticks, t)
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.Min, p.X.Max = -0.6, float64(len(order))-0.4
	if names != nil && len(order) > 8 {
		p.X.Tick.Label.Rotation = math.Pi / 4
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YCenter
	}
	p.X.Label.Text = "class, sorted by count (largest first)"
	if names == nil {
		p.X.Label.Text = "class id, sorted by count (largest first)"
	}
}

func style(p *plot.Plot, classes int) {
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.X.Label.TextStyle.Font.Size = vg.Points(11)
	p.Y.Label.TextStyle.Font.Size = vg.Points(11)
	p.X.Tick.Label.Font.Size = vg.Points(9)
	p.Y.Tick.Label.Font.Size = vg.Points(9)
	p.Legend.TextStyle.Font.Size = vg.Points(10)
	g := plotter.NewGrid()
	if classes > 40 {
		g.Vertical.Color = nil // one line per class would hide the data
	}
	p.Add(g)
}

// countsPlot is the top panel: counts as bars, log scale.
func countsPlot(counts []float64, names []string, order []int, opt Options) (*plot.Plot, error) {
	p := plot.New()
	style(p, len(counts))
	minPos, maxc := math.Inf(1), 0.0
	for _, n := range counts {
		if math.IsNaN(n) || math.IsInf(n, 0) || n < 0 {
			return nil, fmt.Errorf("count %v is invalid: counts must be finite and >= 0", n)
		}
		if n > 0 {
			minPos = math.Min(minPos, n)
		}
		maxc = math.Max(maxc, n)
	}
	if maxc == 0 {
		return nil, fmt.Errorf("every class has count 0: nothing to plot")
	}
	base := math.Pow(10, math.Floor(math.Log10(minPos)))
	if base == minPos {
		base /= 2 // keep the smallest bar visible
	}
	sorted := make([]float64, len(order))
	for i, c := range order {
		sorted[i] = counts[c]
	}
	p.Add(&logBars{values: sorted, base: base, color: color.RGBA{R: 0x9c, G: 0xb4, B: 0xd8, A: 0xff}})
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Y.Min, p.Y.Max = base, maxc*1.6
	p.Y.Label.Text = "samples (log scale)"
	classAxis(p, names, order)
	p.X.Label.Text = ""
	return p, nil
}

// weightsPlot is the bottom panel: one line per weighting scheme.
func weightsPlot(counts []float64, names []string, order []int, opt Options) (*plot.Plot, error) {
	p := plot.New()
	style(p, len(counts))
	schemes := []struct {
		w     lossops.Weighting
		label string
	}{
		{lossops.WeightNone, "none: 1"},
		{lossops.WeightInverse, "inverse: 1/n"},
		{lossops.WeightSqrtInverse, "sqrt_inverse: 1/√n"},
		{lossops.WeightEffective, fmt.Sprintf("effective: (1−β)/(1−βⁿ), β = %g", opt.Beta)},
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for k, s := range schemes {
		w, err := lossops.ClassWeights(counts, lossops.WeightConfig{Scheme: s.w, Beta: opt.Beta, Normalize: opt.Normalize, SkipZero: true})
		if err != nil {
			return nil, err
		}
		var pts plotter.XYs
		for i, c := range order {
			if counts[c] > 0 {
				pts = append(pts, plotter.XY{X: float64(i), Y: w[c]})
				lo, hi = math.Min(lo, w[c]), math.Max(hi, w[c])
			}
		}
		line, err := plotter.NewLine(pts)
		if err != nil {
			return nil, fmt.Errorf("plotting %s weights: %w", s.w, err)
		}
		line.LineStyle.Color = palette[k]
		line.LineStyle.Width = vg.Points(2)
		if s.w == lossops.WeightNone {
			line.LineStyle.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		p.Add(line)
		p.Legend.Add(s.label, line)
		if len(pts) <= 40 { // markers while they stay readable
			sc, err := plotter.NewScatter(pts)
			if err == nil {
				sc.GlyphStyle.Color = palette[k]
				sc.GlyphStyle.Radius = vg.Points(2.5)
				sc.GlyphStyle.Shape = draw.CircleGlyph{}
				p.Add(sc)
			}
		}
	}
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Y.Min, p.Y.Max = lo/1.6, hi*8 // headroom for the legend
	// Short axis labels: gonum/plot shrinks the data area to fit a y label
	// longer than it.
	p.Y.Label.Text = "raw weight (log)"
	if opt.Normalize {
		p.Y.Label.Text = "weight, Σ = C (log)"
	}
	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.Padding = vg.Points(3)
	classAxis(p, names, order)
	return p, nil
}

// logBars draws bars from a positive base up to each value, so they work
// on a log scale (plotter.BarChart starts at 0).
type logBars struct {
	values []float64
	base   float64
	color  color.Color
}

// Plot implements plot.Plotter.
func (b *logBars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for i, v := range b.values {
		if v <= 0 {
			continue
		}
		x0, x1 := trX(float64(i)-0.4), trX(float64(i)+0.4)
		y0, y1 := trY(b.base), trY(v)
		pts := []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}
		c.FillPolygon(b.color, c.ClipPolygonY(pts))
	}
}

// DataRange implements plot.DataRanger.
func (b *logBars) DataRange() (xmin, xmax, ymin, ymax float64) {
	ymax = b.base
	for _, v := range b.values {
		ymax = math.Max(ymax, v)
	}
	return -0.5, float64(len(b.values)) - 0.5, b.base, ymax
}
