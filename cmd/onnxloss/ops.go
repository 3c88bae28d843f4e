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
			&cli.BoolFlag{Name: "json", Usage: "print the list as JSON"},
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
				if c.Bool("json") {
					rows := make([]opRow, len(counts))
					for i, oc := range counts {
						run, total := oc.Run, oc.Total
						rows[i] = opRow{oc.OpType, oc.Family, &run, &total}
					}
					return writeJSON(c.App.Writer, rows)
				}
				fmt.Fprintln(tw, "op\tfamily\tnode tests run\tcontaining the op")
				for _, oc := range counts {
					fmt.Fprintf(tw, "%s\t%s\t%d\t%d\n", oc.OpType, oc.Family, oc.Run, oc.Total)
				}
				return tw.Flush()
			}
			if c.Bool("json") {
				var rows []opRow
				for _, op := range eval.Ops() {
					rows = append(rows, opRow{OpType: op.OpType, Family: op.Family})
				}
				return writeJSON(c.App.Writer, rows)
			}
			fmt.Fprintln(tw, "op\tfamily")
			for _, op := range eval.Ops() {
				fmt.Fprintf(tw, "%s\t%s\n", op.OpType, op.Family)
			}
			return tw.Flush()
		},
	}
}

// opRow is one operator in ops --json.
type opRow struct {
	OpType string `json:"op"`
	Family string `json:"family"`
	// Run and Total are the node tests run and containing the op (with --node-tests).
	Run   *int `json:"node_tests_run,omitempty"`
	Total *int `json:"node_tests,omitempty"`
}
