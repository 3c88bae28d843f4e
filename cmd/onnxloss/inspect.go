package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/inject"
	"github.com/onnxloss/onnxloss/internal/termtext"
)

func inspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "summarize a model: versions, opsets, inputs, outputs, initializers, the logits",
		ArgsUsage: "MODEL",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print the summary as JSON"},
		},
		Action: func(c *cli.Context) error {
			path, err := oneArg(c, "MODEL")
			if err != nil {
				return err
			}
			m, err := graphedit.Load(path)
			if err != nil {
				return badInput(err)
			}
			s := m.Summarize()
			md, _, err := inject.ReadMetadata(m)
			if err != nil {
				return badInput(fmt.Errorf("%s: %w", path, err))
			}
			if c.Bool("json") {
				enc := json.NewEncoder(c.App.Writer)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					graphedit.Summary
					Onnxloss *inject.Metadata `json:"onnxloss"`
				}{s, md})
			}
			printSummary(c, path, s, md)
			if s.Logits != nil && md == nil {
				if vt, ok := m.InferType(s.Logits.Name); ok && vt.Rank() >= 3 {
					fmt.Fprintf(c.App.Writer, "class     %s\n", inject.ClassAxisHint(vt))
				}
			}
			return nil
		},
	}
}

// oneArg returns the single positional argument or a usage error.
func oneArg(c *cli.Context, what string) (string, error) {
	if c.NArg() != 1 {
		return "", cli.Exit(fmt.Sprintf("expected one %s argument, got %d (see `onnxloss %s --help`)", what, c.NArg(), c.Command.Name), exitBadInput)
	}
	return c.Args().First(), nil
}

func printSummary(c *cli.Context, path string, s graphedit.Summary, md *inject.Metadata) {
	w := c.App.Writer
	name := termtext.Name
	fmt.Fprintf(w, "model     %s\n", name(path))
	fmt.Fprintf(w, "ir        %d\n", s.IRVersion)
	var ops []string
	for _, o := range s.Opsets {
		d := o.Domain
		if d == "" {
			d = "ai.onnx"
		}
		ops = append(ops, fmt.Sprintf("%s %d", name(d), o.Version))
	}
	fmt.Fprintf(w, "opsets    %s\n", strings.Join(ops, ", "))
	fmt.Fprintf(w, "producer  %s %s\n", optionalName(s.Producer), optionalName(s.ProducerVersion))
	fmt.Fprintf(w, "graph     %d nodes, %d initializers (%s", s.Nodes, s.Initializers, humanBytes(s.InitializerBytes))
	if s.ExternalTensors > 0 {
		fmt.Fprintf(w, ", %d external", s.ExternalTensors)
	}
	fmt.Fprintln(w, ")")
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\tname\tdtype\tshape")
	for _, v := range s.Inputs {
		fmt.Fprintf(tw, "input\t%s\t%s\t%s\n", name(v.Name), name(v.DType), shapeString(v.Shape))
	}
	for _, v := range s.Outputs {
		fmt.Fprintf(tw, "output\t%s\t%s\t%s\n", name(v.Name), name(v.DType), shapeString(v.Shape))
	}
	tw.Flush()
	fmt.Fprintln(w)
	switch {
	case s.Logits != nil:
		fmt.Fprintf(w, "logits    %s\n", describeLogits(*s.Logits))
	case len(s.LogitsCandidates) == 0:
		fmt.Fprintln(w, "logits    none found (no float output of rank >= 2, no loss node): pass --logits to inject")
	default:
		var names []string
		for _, l := range s.LogitsCandidates {
			names = append(names, describeLogits(l))
		}
		fmt.Fprintf(w, "logits    several candidates: %s — pass --logits to inject\n", strings.Join(names, "; "))
	}
	for _, l := range s.Losses {
		fmt.Fprintf(w, "loss      %s\n", termtext.Line(l.String()))
	}
	if md != nil {
		fmt.Fprintf(w, "onnxloss  %s (weighting %s) on %s, class axis %d, labels %s, output %s — written by onnxloss %s\n", name(md.Loss), name(md.Weighting), name(md.Logits), md.Axis(), name(md.Labels), name(md.LossOutput), name(md.Version))
		for _, h := range md.Heads {
			fmt.Fprintf(w, "head      %s: logits %s, class axis %d, labels %s, output %s, weight %g\n", name(h.Name), name(h.Logits), h.ClassAxis, name(h.Labels), name(h.LossOutput), h.Weight)
		}
	}
}

// describeLogits names the logits, C, and where they were found when that
// is not simply a graph output.
func describeLogits(l graphedit.LogitsSummary) string {
	name := termtext.Name
	s := fmt.Sprintf("%s, C = %s", name(l.Name), classCount(l.C))
	switch {
	case l.Loss != "":
		s += fmt.Sprintf(" (training graph: scores of the %s node %s, labels %s, loss output %s)", name(l.Loss), name(l.LossNode), name(l.Labels), name(l.Output))
	case l.Activation != "":
		s += fmt.Sprintf(" (input of %s node %s: the output %s holds probabilities)", name(l.Activation), name(l.ActivationNode), name(l.Output))
	}
	return s
}

func classCount(c int64) string {
	if c <= 0 {
		return "dynamic"
	}
	return fmt.Sprint(c)
}

func shapeString(shape []string) string {
	if shape == nil {
		return "unknown"
	}
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = termtext.Name(d) // symbolic dims are names from the model
	}
	return "[" + strings.Join(dims, ", ") + "]"
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
