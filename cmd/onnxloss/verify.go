package main

import (
	"errors"
	"fmt"
	"math"

	"github.com/urfave/cli/v2"

	"github.com/onnxloss/onnxloss/graphcheck"
	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/onnxpb"
	"github.com/onnxloss/onnxloss/tensorfile"
	"github.com/onnxloss/onnxloss/verify"
	"github.com/onnxloss/onnxloss/verify/eval"
)

func verifyCommand() *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "check a model's numbers with the pure-Go evaluator (exit 0 pass, 1 mismatch, 2 bad input)",
		ArgsUsage: "MODEL",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "inputs", Usage: "run the whole model on these inputs (`FILE`: .npz, .npy, .pb, .json)", TakesFile: true, DefaultText: "none"},
			&cli.StringFlag{Name: "expect", Usage: "compare the outputs with these tensors another runtime produced (`FILE`; needs --inputs)", TakesFile: true, DefaultText: "none"},
			&cli.Float64Flag{Name: "rtol", Value: verify.DefaultTolerance.RTol, Usage: "relative tolerance (with --expect, setting --rtol or --atol replaces the default scaled rule for every output; see README)", DefaultText: fmt.Sprintf("%g; 1e-4 for step models", verify.DefaultTolerance.RTol)},
			&cli.Float64Flag{Name: "atol", Value: verify.DefaultTolerance.ATol, Usage: "absolute tolerance"},
			&cli.Int64Flag{Name: "seed", Value: 1, Usage: "seed of the synthetic check's random logits and labels"},
			&cli.BoolFlag{Name: "json", Usage: "print the report as JSON"},
			&cli.Float64Flag{Name: "max-tensor-gib", Value: float64(eval.MaxTensorBytes) / (1 << 30), Usage: "largest tensor the evaluator may allocate, in GiB (sizes come from the model)"},
		},
		Action: runVerify,
	}
}

func runVerify(c *cli.Context) error {
	path, err := oneArg(c, "MODEL")
	if err != nil {
		return err
	}
	tol := verify.Tolerance{RTol: c.Float64("rtol"), ATol: c.Float64("atol")}
	if !(tol.RTol >= 0) || !(tol.ATol >= 0) || math.IsInf(tol.RTol, 0) || math.IsInf(tol.ATol, 0) {
		return badInput(fmt.Errorf("--rtol %v / --atol %v are invalid: use finite values >= 0", tol.RTol, tol.ATol))
	}
	g := c.Float64("max-tensor-gib")
	if !(g > 0) || g > 1<<20 {
		return badInput(fmt.Errorf("--max-tensor-gib %v is invalid: use a size in GiB > 0", g))
	}
	eval.MaxTensorBytes = int64(g * (1 << 30))
	if c.IsSet("expect") && !c.IsSet("inputs") {
		return badInput(fmt.Errorf("--expect needs --inputs: give the inputs the other runtime was run on"))
	}
	m, err := graphedit.Load(path)
	if err != nil {
		return badInput(err)
	}
	if err := graphcheck.Check(m.Proto, graphcheck.Options{MaxOpset: graphcheck.MaxInjectOpset}); err != nil {
		return badInput(fmt.Errorf("%s: %w", path, err))
	}
	var rep *verify.Report
	if c.IsSet("inputs") {
		inputs, err := tensorfile.ReadFile(c.String("inputs"))
		if err != nil {
			return badInput(err)
		}
		var expect []*onnxpb.TensorProto
		if c.IsSet("expect") {
			if expect, err = tensorfile.ReadFile(c.String("expect")); err != nil {
				return badInput(err)
			}
		}
		rep, err = verify.FromInputs(m, path, inputs, expect, verify.RunOptions{Tolerance: tol,
			Explicit: c.IsSet("rtol") || c.IsSet("atol"), Progress: c.App.ErrWriter})
		if err != nil {
			return badInput(sizeHint(err))
		}
	} else if verify.IsStepModel(m) {
		stepTol := tol
		if !c.IsSet("rtol") {
			// float32 gradients through a whole network against float64
			// ones, compared at the scale of the largest entry
			stepTol.RTol = 1e-4
		}
		rep, err = verify.StepGradients(m, path, verify.StepOptions{Tolerance: stepTol, Seed: c.Int64("seed")})
		if err != nil {
			return badInput(err)
		}
	} else {
		rep, err = verify.Synthetic(m, path, verify.SyntheticOptions{Tolerance: tol, Seed: c.Int64("seed")})
		if err != nil {
			return badInput(sizeHint(err))
		}
	}
	if c.Bool("json") {
		err = rep.WriteJSON(c.App.Writer)
	} else {
		err = rep.WriteText(c.App.Writer)
	}
	if err != nil {
		return err
	}
	if !rep.Pass {
		return cli.Exit("", exitMismatch)
	}
	return nil
}

// sizeHint adds the fix to an evaluator size error: the cap is a flag.
func sizeHint(err error) error {
	if errors.Is(err, eval.ErrTooLarge) {
		return fmt.Errorf("%w (if the model really needs it, raise --max-tensor-gib)", err)
	}
	return err
}
