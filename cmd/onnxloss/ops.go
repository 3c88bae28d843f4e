package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/onnxloss/onnxloss/verify/eval"
)

func opsCommand() *cli.Command {
	return &cli.Command{
		Name:  "ops",
		Usage: "list the ONNX operators the reference evaluator implements",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "node-tests", Usage: "also count, per op, the ONNX node tests in `DIR` (test_*/model.onnx) the evaluator runs", DefaultText: "none"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 0 {
				return cli.Exit("ops takes no arguments", exitBadInput)
			}
			tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
			if dir := c.String("node-tests"); dir != "" {
				tests, err := eval.LoadNodeTests(dir)
				if err == nil && len(tests) == 0 {
					err = fmt.Errorf("no test_*/model.onnx found: give ONNX's backend node tests directory")
				}
				if err != nil {
					return badInput(fmt.Errorf("node tests %s: %w", dir, err))
				}
				counts, err := eval.OpCoverage(dir)
				if err != nil {
					return badInput(fmt.Errorf("node tests %s: %w", dir, err))
				}
				fmt.Fprintln(tw, "op\tfamily\tnode tests run\tcontaining the op")
				for _, oc := range counts {
					fmt.Fprintf(tw, "%s\t%s\t%d\t%d\n", oc.OpType, oc.Family, oc.Run, oc.Total)
				}
				return tw.Flush()
			}
			fmt.Fprintln(tw, "op\tfamily")
			for _, op := range eval.Ops() {
				fmt.Fprintf(tw, "%s\t%s\n", op.OpType, op.Family)
			}
			return tw.Flush()
		},
	}
}
