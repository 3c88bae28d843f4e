package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/onnxloss/onnxloss/internal/termtext"

	"github.com/urfave/cli/v2"

	"github.com/onnxloss/onnxloss/labelcounts"
)

func countsCommand() *cli.Command {
	var formats []string
	for _, f := range labelcounts.Formats {
		formats = append(formats, string(f))
	}
	return &cli.Command{
		Name:      "counts",
		Usage:     "count the samples of each class in a dataset and write the counts JSON inject reads",
		ArgsUsage: "INPUT...",
		Description: "Each INPUT is a file, a directory, a glob (quote it) or - for standard input; several are summed. " +
			"The format comes from the path (.txt one integer label per line, .csv/.tsv, .npy, .npz, .json COCO instances, " +
			".png masks, .parquet; a directory with one folder per class is an ImageFolder tree, a directory of PNGs a folder of masks) " +
			"or from --format. label-count reads already aggregated label,count tables (CSV or Parquet). " +
			"String labels get the ids of --classes, or of their sorted unique names. Everything is streamed.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the counts JSON to `FILE` (- for stdout)", DefaultText: "standard output"},
			&cli.StringFlag{Name: "format", Usage: "one of " + strings.Join(formats, ", "), DefaultText: "from the path"},
			&cli.StringFlag{Name: "column", Usage: "label column: CSV header `NAME` or 0-based INDEX, Parquet column, .npz array", DefaultText: "none; label-count: label"},
			&cli.StringFlag{Name: "count-column", Usage: "the count column `NAME` of a label-count table", DefaultText: "count (label-count only)"},
			&cli.BoolFlag{Name: "json", Usage: "print a JSON report (labels, ignored, counts, output) on stdout; needs -o FILE"},
			&cli.BoolFlag{Name: "multi-hot", Usage: "the .npy/.npz array is (N, C) of 0/1: count the positives of each class"},
			&cli.IntFlag{Name: "num-classes", Usage: "number of classes C: classes without samples count 0; a label >= C is an error", DefaultText: "none (the largest label + 1)"},
			&cli.Int64Flag{Name: "ignore-index", Usage: "label value to skip (e.g. -100, or 255 for masks)", DefaultText: "none"},
			&cli.StringFlag{Name: "classes", Usage: "class names, comma-separated (`a,b,c`): name the ids, and give string labels their ids", DefaultText: "none"},
			&cli.StringFlag{Name: "classes-file", Usage: "class names, one per line in `FILE`", TakesFile: true, DefaultText: "none"},
			&cli.StringFlag{Name: "coco-iscrowd", Value: "include", Usage: "COCO annotations with iscrowd = 1: include or exclude"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress line and no summary on stderr (as the global --quiet)"},
		},
		Action: runCounts,
	}
}

func runCounts(c *cli.Context) error {
	inputs := c.Args().Slice()
	if len(inputs) == 0 {
		return badInput(fmt.Errorf("counts needs at least one INPUT: label files, directories, globs, or - for standard input"))
	}
	opt := labelcounts.Options{
		Format: labelcounts.Format(c.String("format")), Column: c.String("column"), CountColumn: c.String("count-column"),
		MultiHot: c.Bool("multi-hot"), NumClasses: c.Int("num-classes"), Stdin: os.Stdin,
	}
	if c.IsSet("num-classes") && opt.NumClasses <= 0 {
		return badInput(fmt.Errorf("--num-classes %d is invalid: use a number of classes >= 1", opt.NumClasses))
	}
	if c.IsSet("ignore-index") {
		v := c.Int64("ignore-index")
		opt.IgnoreIndex = &v
	}
	switch c.String("coco-iscrowd") {
	case "include":
	case "exclude":
		opt.COCOExcludeCrowd = true
	default:
		return badInput(fmt.Errorf("--coco-iscrowd %q is invalid: use include or exclude", c.String("coco-iscrowd")))
	}
	var err error
	switch {
	case c.IsSet("classes") && c.IsSet("classes-file"):
		return badInput(fmt.Errorf("give the class names with --classes or --classes-file, not both"))
	case c.IsSet("classes"):
		opt.Classes, err = labelcounts.ParseClasses(c.String("classes"))
	case c.IsSet("classes-file"):
		opt.Classes, err = labelcounts.ReadClassesFile(c.String("classes-file"))
	}
	if err != nil {
		return badInput(err)
	}
	quiet := c.Bool("quiet")
	if !quiet && isTerminal(c.App.ErrWriter) {
		p := labelcounts.NewProgress(c.App.ErrWriter)
		p.Start()
		defer p.Stop()
		opt.Progress = p
	}
	res, err := labelcounts.CountInputs(inputs, opt)
	if opt.Progress != nil {
		opt.Progress.Stop()
	}
	if err != nil {
		return badInput(err)
	}
	out := c.String("output")
	if c.Bool("json") && out == "" {
		return badInput(fmt.Errorf("--json prints a report on stdout, where the counts JSON goes without -o: write the counts with -o FILE"))
	}
	if out == "" {
		b, err := res.JSON()
		if err != nil {
			return badInput(err)
		}
		_, err = c.App.Writer.Write(b)
		return err
	}
	if err := res.WriteFile(out); err != nil {
		return badInput(err)
	}
	if c.Bool("json") {
		if err := writeJSON(c.App.Writer, struct {
			Labels  int64    `json:"labels"`
			Ignored int64    `json:"ignored"`
			Counts  []int64  `json:"counts"`
			Classes []string `json:"classes,omitempty"`
			Output  string   `json:"output"`
		}{res.Labels, res.Ignored, res.Counts, opt.Classes, out}); err != nil {
			return err
		}
	}
	if quiet {
		return nil
	}
	what := "labels"
	switch {
	case opt.MultiHot || res.Samples > 0:
		what = "rows"
	case res.Format == labelcounts.Masks:
		what = fmt.Sprintf("pixels of %d masks", res.Files)
	case res.Format == labelcounts.ImageFolder:
		what = "images"
	case res.Format == labelcounts.COCO:
		what = "annotations"
	}
	fmt.Fprintf(c.App.ErrWriter, "counted %d %s", res.Labels, what)
	if res.Ignored > 0 {
		fmt.Fprintf(c.App.ErrWriter, " (%d ignored)", res.Ignored)
	}
	fmt.Fprintf(c.App.ErrWriter, " in %d classes: %s\nwrote %s\n", len(res.Counts), formatCounts(res.Counts), termtext.Name(out))
	return nil
}

// isTerminal says whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func formatCounts(n []int64) string {
	const show = 8
	parts := make([]string, 0, show+1)
	for i, v := range n {
		if i == show {
			parts = append(parts, fmt.Sprintf("… (%d more)", len(n)-show))
			break
		}
		parts = append(parts, fmt.Sprint(v))
	}
	return "[" + strings.Join(parts, " ") + "]"
}
