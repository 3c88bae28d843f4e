// Command longtailplot draws docs/longtail-recall.png from the JSON that
// scripts/demo-longtail.py writes: per-class test recall of each loss, classes
// in order of their (halving) training counts.
//
//	go run ./scripts/longtailplot -in docs/longtail.json -o docs/longtail-recall.png
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"image/color"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

type results struct {
	Counts []int `json:"counts"`
	Steps  int   `json:"steps"`
	Losses []struct {
		Loss     string    `json:"loss"`
		Label    string    `json:"label"`
		Accuracy float64   `json:"accuracy"`
		Recall   []float64 `json:"recall"`
	} `json:"losses"`
}

// palette: Okabe–Ito colours, as weightplot uses.
var palette = []color.Color{
	color.RGBA{R: 0x55, G: 0x55, B: 0x55, A: 0xff},
	color.RGBA{R: 0xd5, G: 0x5e, B: 0x00, A: 0xff},
	color.RGBA{R: 0x00, G: 0x72, B: 0xb2, A: 0xff},
	color.RGBA{R: 0x00, G: 0x9e, B: 0x73, A: 0xff},
	color.RGBA{R: 0xcc, G: 0x79, B: 0xa7, A: 0xff},
}

func main() {
	in := flag.String("in", "docs/longtail.json", "results JSON of scripts/demo-longtail.py")
	out := flag.String("o", "docs/longtail-recall.png", "PNG to write")
	flag.Parse()
	if err := draw1(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "longtailplot:", err)
		os.Exit(2)
	}
}

func draw1(in, out string) error {
	data, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	var r results
	if err := json.Unmarshal(data, &r); err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	if len(r.Losses) == 0 || len(r.Counts) == 0 {
		return fmt.Errorf("%s: no results", in)
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Test recall per class after %d AdamW steps (ONNX Runtime, onnxloss step models)", r.Steps)
	p.X.Label.Text = "class (training count)"
	p.Y.Label.Text = "recall on a balanced test set"
	p.Y.Min, p.Y.Max = 0, 1.02
	p.Legend.Top, p.Legend.Left = false, true
	ticks := make([]plot.Tick, len(r.Counts))
	for k, n := range r.Counts {
		ticks[k] = plot.Tick{Value: float64(k), Label: fmt.Sprintf("%d\n(%d)", k, n)}
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.Add(plotter.NewGrid())
	for i, l := range r.Losses {
		pts := make(plotter.XYs, len(l.Recall))
		for k, v := range l.Recall {
			pts[k] = plotter.XY{X: float64(k), Y: v}
		}
		line, points, err := plotter.NewLinePoints(pts)
		if err != nil {
			return err
		}
		c := palette[i%len(palette)]
		line.Color, line.Width = c, vg.Points(1.6)
		points.Color, points.Shape = c, draw.CircleGlyph{}
		p.Add(line, points)
		p.Legend.Add(fmt.Sprintf("%s — overall %.3f", l.Label, l.Accuracy), line, points)
	}
	return p.Save(9*vg.Inch, 6*vg.Inch, out)
}
