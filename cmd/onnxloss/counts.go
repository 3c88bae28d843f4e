package main

import (
	"fmt"
	"strings"

	"github.com/onnxloss/onnxloss/internal/termtext"

	"github.com/urfave/cli/v2"

	"github.com/onnxloss/onnxloss/labelcounts"
)

func countsCommand() *cli.Command {
	return &cli.Command{
		Name:      "counts",
		Usage:     "count the samples of each class in a label file and write the counts JSON inject reads",
		ArgsUsage: "LABELS",
		Description: "LABELS is a text file with one integer label per line (blank lines and # comments skipped), " +
			"a CSV/TSV file (--column picks the labels), a .npy array of integer labels of any shape, " +
			"or with --multi-hot a .npy array (N, C) of 0/1 targets. The file is read once, streaming.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the counts JSON to `FILE` (default: stdout)"},
			&cli.StringFlag{Name: "format", Usage: "text, csv or npy (default: from the extension; .tsv is tab-separated CSV)"},
			&cli.StringFlag{Name: "column", Usage: "CSV column of the labels: header `NAME` or 0-based INDEX"},
			&cli.BoolFlag{Name: "multi-hot", Usage: "the .npy array is (N, C) of 0/1: count the positives of each class"},
			&cli.IntFlag{Name: "num-classes", Usage: "number of classes C: classes without samples count 0; a label >= C is an error"},
			&cli.Int64Flag{Name: "ignore-index", Usage: "label value to skip (e.g. -100 or 255)"},
			&cli.StringFlag{Name: "classes", Usage: "class names, comma-separated (`a,b,c`): the output names them"},
			&cli.StringFlag{Name: "classes-file", Usage: "class names, one per line in `FILE`"},
		},
		Action: runCounts,
	}
}

func runCounts(c *cli.Context) error {
	in, err := oneArg(c, "LABELS")
	if err != nil {
		return err
	}
	opt := labelcounts.Options{
		Format: labelcounts.Format(c.String("format")), Column: c.String("column"),
		MultiHot: c.Bool("multi-hot"), NumClasses: c.Int("num-classes"),
	}
	if c.IsSet("num-classes") && opt.NumClasses <= 0 {
		return badInput(fmt.Errorf("--num-classes %d is invalid: use a number of classes >= 1", opt.NumClasses))
	}
	if c.IsSet("ignore-index") {
		v := c.Int64("ignore-index")
		opt.IgnoreIndex = &v
	}
	var classes []string
	switch {
	case c.IsSet("classes") && c.IsSet("classes-file"):
		return badInput(fmt.Errorf("give the class names with --classes or --classes-file, not both"))
	case c.IsSet("classes"):
		classes, err = labelcounts.ParseClasses(c.String("classes"))
	case c.IsSet("classes-file"):
		classes, err = labelcounts.ReadClassesFile(c.String("classes-file"))
	}
	if err != nil {
		return badInput(err)
	}
	if classes != nil {
		if opt.NumClasses != 0 && opt.NumClasses != len(classes) {
			return badInput(fmt.Errorf("--num-classes %d but %d class names: give one name per class", opt.NumClasses, len(classes)))
		}
		opt.NumClasses = len(classes)
	}
	res, err := labelcounts.CountFile(in, opt)
	if err != nil {
		return badInput(err)
	}
	out := c.String("output")
	if out == "" {
		b, err := labelcounts.CountsJSON(res.Counts, classes)
		if err != nil {
			return badInput(err)
		}
		_, err = c.App.Writer.Write(b)
		return err
	}
	if err := labelcounts.WriteCountsFile(out, res.Counts, classes); err != nil {
		return badInput(err)
	}
	what := "labels"
	if opt.MultiHot {
		what = "rows"
	}
	fmt.Fprintf(c.App.ErrWriter, "counted %d %s", res.Labels, what)
	if res.Ignored > 0 {
		fmt.Fprintf(c.App.ErrWriter, " (%d ignored)", res.Ignored)
	}
	fmt.Fprintf(c.App.ErrWriter, " in %d classes: %s\nwrote %s\n", len(res.Counts), formatCounts(res.Counts), termtext.Name(out))
	return nil
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
