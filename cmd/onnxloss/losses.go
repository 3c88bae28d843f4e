package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/onnxloss/onnxloss/lossops"
)

// lossesCommand prints the loss catalogue: formulas, defaults, references.
func lossesCommand() *cli.Command {
	return &cli.Command{
		Name:  "losses",
		Usage: "list the losses with their formulas, parameters and defaults, and the reference each matches",
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return badInput(fmt.Errorf("losses takes no arguments, got %q", c.Args().First()))
			}
			_, err := fmt.Fprint(c.App.Writer, lossops.Describe())
			return err
		},
	}
}
