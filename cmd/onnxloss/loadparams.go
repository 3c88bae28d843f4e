package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/paramload"
)

func loadParamsCommand() *cli.Command {
	return &cli.Command{
		Name:      "load-params",
		Usage:     "write trained parameter values (.npz or .safetensors) into a model's initializers",
		ArgsUsage: "MODEL PARAMS",
		Description: "PARAMS holds one tensor per initializer to replace, keyed by its name (a step model's `_next`\n" +
			"suffix is accepted; lr, step and optimizer state are skipped). Shapes and types must match.\n" +
			"MODEL is usually the inference model training started from: the output is that model, trained.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Required: true, Usage: "write the model to `FILE`"},
		},
		Action: runLoadParams,
	}
}

func runLoadParams(c *cli.Context) error {
	if c.NArg() != 2 {
		return cli.Exit(fmt.Sprintf("expected MODEL and PARAMS arguments, got %d (see `onnxloss load-params --help`)", c.NArg()), exitBadInput)
	}
	in, paramsPath, out := c.Args().Get(0), c.Args().Get(1), c.String("output")
	if err := checkOutputPath(in, out); err != nil {
		return badInput(err)
	}
	m, err := graphedit.Load(in)
	if err != nil {
		return badInput(err)
	}
	tensors, err := paramload.ReadFile(paramsPath)
	if err != nil {
		return badInput(err)
	}
	rep, err := paramload.Apply(m, tensors)
	if err != nil {
		return badInput(fmt.Errorf("%s: %w", paramsPath, err))
	}
	if len(rep.Updated) == 0 {
		return badInput(fmt.Errorf("%s: no key names an initializer of %s: nothing to write", paramsPath, in))
	}
	if err := m.Save(out); err != nil {
		return badInput(err)
	}
	w := c.App.ErrWriter
	fmt.Fprintf(w, "loaded %d of %d initializers from %s", len(rep.Updated), len(m.Graph().GetInitializer()), paramsPath)
	if len(rep.Skipped) > 0 {
		fmt.Fprintf(w, " (skipped %d optimizer-state keys)", len(rep.Skipped))
	}
	fmt.Fprintf(w, "\nwrote %s\n", out)
	return nil
}
