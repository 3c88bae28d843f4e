package main

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/onnxloss/onnxloss/autodiff"
	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/optim"
	"github.com/onnxloss/onnxloss/stepmodel"
)

func stepCommand() *cli.Command {
	cmd := &cli.Command{
		Name:      "step",
		Usage:     "build a training-step model (gradients in default-domain ONNX) from a model whose first output is a scalar loss",
		ArgsUsage: "MODEL",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "optimizer", Usage: "none: outputs the loss, then <p>_grad per trainable parameter; sgd or adamw: a training step (see optimizer flags)", Required: true},
			&cli.StringSliceFlag{Name: "train", Usage: "train only parameters whose name matches `GLOB` (repeatable; * matches any run of characters)", DefaultText: "every float initializer"},
			&cli.StringSliceFlag{Name: "freeze", Usage: "do not train parameters whose name matches `GLOB` (repeatable)", DefaultText: "none"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the step model to `FILE`", Required: true},
		},
		Action: runStep,
	}
	cmd.Flags = append(cmd.Flags, optimizerFlags()...)
	return cmd
}

func runStep(c *cli.Context) error {
	in, err := oneArg(c, "MODEL")
	if err != nil {
		return err
	}
	out := c.String("output")
	if err := checkOutputPath(in, out); err != nil {
		return badInput(err)
	}
	opt := c.String("optimizer")
	var o optim.Optimizer
	var settings optim.Settings
	if opt != "none" {
		if o, settings, err = optimizerSettings(c, opt); err != nil {
			return badInput(err)
		}
	}
	m, err := graphedit.Load(in)
	if err != nil {
		return badInput(err)
	}
	sel := stepmodel.Selection{Train: c.StringSlice("train"), Freeze: c.StringSlice("freeze")}
	st, err := stepmodel.Prepare(m, sel)
	if err != nil {
		return badInput(stepError(in, err))
	}
	if o != nil {
		return writeOptimizerStep(c, in, out, st, o, settings)
	}
	if err := st.OutputGradients(); err != nil {
		return badInput(fmt.Errorf("%s: %w", in, err))
	}
	md := stepmodel.Metadata{Optimizer: opt, Loss: st.Loss, Params: st.Params}
	for _, p := range st.Params {
		md.Grads = append(md.Grads, stepmodel.GradName(p))
	}
	b, _ := json.Marshal(md)
	m.SetMetadata(stepmodel.MetadataKey, string(b))
	if err := m.Save(out); err != nil {
		return badInput(err)
	}
	w := c.App.ErrWriter
	fmt.Fprintf(w, "gradients of %s for %d parameters (%d nodes in the graph)\n", st.Loss, len(st.Params), len(m.Graph().GetNode()))
	fmt.Fprintf(w, "wrote %s\n", out)
	return nil
}

// stepError says what to do about a model step cannot differentiate.
func stepError(in string, err error) error {
	var nr *autodiff.NoRuleError
	if errors.As(err, &nr) {
		return fmt.Errorf("%s: %w: --freeze the parameters before that node (or --train only the ones after it)", in, err)
	}
	return fmt.Errorf("%s: %w", in, err)
}
