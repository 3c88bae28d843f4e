package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/internal/termtext"
	"github.com/onnxloss/onnxloss/lossops"
	"github.com/onnxloss/onnxloss/weightplot"
)

func weightsCommand() *cli.Command {
	flags := append(weightFlags(string(lossops.WeightEffective), "none (needed unless --weights)"), &cli.BoolFlag{Name: "json", Usage: "print JSON"},
		&cli.StringFlag{Name: "plot", Usage: "also draw the counts (bars) and the weights of every scheme (lines) to `FILE`: .svg, .pdf or .png (- writes PNG to stdout)", DefaultText: "none"})
	return &cli.Command{
		Name:   "weights",
		Usage:  "show the class weights a weighting scheme gives for counts",
		Flags:  flags,
		Action: runWeights,
	}
}

// weightRow is one class in the weights report.
type weightRow struct {
	Class  int     `json:"class"`
	Name   string  `json:"name,omitempty"`
	Count  float64 `json:"count"`
	Share  float64 `json:"share"`
	Weight float64 `json:"weight"`
}

func runWeights(c *cli.Context) error {
	if c.NArg() != 0 {
		return cli.Exit("weights takes no arguments: pass the counts with --counts FILE", exitBadInput)
	}
	cfg, err := weightConfig(c, lossops.WeightEffective)
	if err != nil {
		return badInput(err)
	}
	if c.String("counts") == "" && cfg.Given == nil {
		return badInput(fmt.Errorf("--counts FILE is required (or --weights for the weights themselves): make the file with onnxloss counts"))
	}
	scheme := cfg.Scheme
	if cfg.Given != nil {
		scheme = lossops.WeightGiven
	}
	if err := checkUnusedFlags(c, "", false, scheme); err != nil {
		return badInput(err)
	}
	counts := &lossops.Counts{}
	if c.String("counts") != "" {
		if counts, err = loadCounts(c.String("counts")); err != nil {
			return badInput(err)
		}
	}
	w, err := counts.ClassWeights(cfg)
	if err != nil {
		return badInput(err)
	}
	if len(counts.Values) == 0 {
		if c.String("plot") != "" {
			return badInput(fmt.Errorf("--plot draws the counts: give --counts FILE too"))
		}
		counts.Values = make([]float64, len(w)) // --weights alone: no counts to show
	}
	if p := c.String("plot"); p != "" {
		// What is at the path (a FIFO, a directory) is checked before
		// its extension: that error is the one to fix first.
		if err := graphedit.CheckOutput(p); err != nil {
			return badInput(err)
		}
		if err := weightplot.WriteFile(p, counts.Values, counts.Classes, weightplot.Options{Beta: cfg.Beta, Normalize: cfg.Normalize}); err != nil {
			return badInput(err)
		}
		fmt.Fprintf(c.App.ErrWriter, "wrote plot %s\n", termtext.Name(p))
	}
	var total float64
	for _, n := range counts.Values {
		total += n
	}
	rows := make([]weightRow, len(w))
	for i := range w {
		rows[i] = weightRow{Class: i, Count: counts.Values[i], Weight: w[i]}
		if total > 0 {
			rows[i].Share = counts.Values[i] / total
		}
		if i < len(counts.Classes) {
			rows[i].Name = counts.Classes[i]
		}
	}
	if c.Bool("json") {
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"weighting": cfg.Scheme, "beta": cfg.Beta, "normalize": cfg.Normalize, "classes": rows})
	}
	fmt.Fprintf(c.App.Writer, "weighting %s", cfg.Scheme)
	if cfg.Scheme == lossops.WeightEffective {
		fmt.Fprintf(c.App.Writer, " (β = %g)", cfg.Beta)
	}
	norm := "normalized to sum C"
	if !cfg.Normalize {
		norm = "raw"
	}
	fmt.Fprintf(c.App.Writer, ", %s\n", norm)
	tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "class\tname\tcount\tshare\tweight\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%d\t%s\t%.0f\t%.2f%%\t%.6g\t\n", r.Class, optionalName(r.Name), r.Count, 100*r.Share, r.Weight)
	}
	return tw.Flush()
}

// optionalName prints a class name safely (see termtext.Name), and nothing
// for a class without one.
func optionalName(s string) string {
	if s == "" {
		return ""
	}
	return termtext.Name(s)
}
