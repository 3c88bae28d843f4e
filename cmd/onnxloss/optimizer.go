package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/onnxloss/onnxloss/optim"
	"github.com/onnxloss/onnxloss/stepmodel"
)

// optimizerFlags are the flags of `onnxloss step --optimizer sgd|adamw`.
func optimizerFlags() []cli.Flag {
	return []cli.Flag{
		&cli.Float64Flag{Name: "lr", Usage: "learning rate the init model starts lr at", DefaultText: "none: required for sgd; 0.001 for adamw"},
		&cli.Float64Flag{Name: "momentum", Usage: "sgd momentum (0: plain SGD, no momentum state)", DefaultText: "0 (sgd)"},
		&cli.Float64Flag{Name: "weight-decay", Usage: "sgd: L2 penalty added to the gradient; adamw: decoupled decay", DefaultText: "0 for sgd; 0.01 for adamw"},
		&cli.StringFlag{Name: "betas", Usage: "adamw β1,β2 (`B1,B2`)", DefaultText: "0.9,0.999 (adamw)"},
		&cli.Float64Flag{Name: "eps", Usage: "adamw denominator term", DefaultText: "1e-8 (adamw)"},
		&cli.StringFlag{Name: "init", Usage: "write the init model (the optimizer's starting state) to `FILE`", DefaultText: "the output's name with .init before .onnx"},
	}
}

// optimizerSettings reads the optimizer and its hyperparameters from the
// flags, starting from torch's defaults for that optimizer.
func optimizerSettings(c *cli.Context, name string) (optim.Optimizer, optim.Settings, error) {
	o, err := optim.Lookup(name)
	if err != nil {
		return nil, optim.Settings{}, fmt.Errorf("--optimizer %q is not an optimizer onnxloss has: use one of %s, or none", name, strings.Join(optim.Names(), ", "))
	}
	s := o.Defaults()
	setIf := func(flag string, dst *float64) {
		if c.IsSet(flag) {
			*dst = c.Float64(flag)
		}
	}
	setIf("lr", &s.LR)
	setIf("momentum", &s.Momentum)
	setIf("weight-decay", &s.WeightDecay)
	setIf("eps", &s.Eps)
	if c.IsSet("lr") && !(s.LR > 0 && !math.IsInf(s.LR, 0)) {
		return nil, s, fmt.Errorf("--lr must be a finite number > 0, got %v", s.LR)
	}
	if c.IsSet("betas") {
		parts := strings.Split(c.String("betas"), ",")
		if len(parts) != 2 {
			return nil, s, fmt.Errorf("--betas must be two numbers B1,B2, got %q", c.String("betas"))
		}
		for i, dst := range []*float64{&s.Beta1, &s.Beta2} {
			v, err := strconv.ParseFloat(strings.TrimSpace(parts[i]), 64)
			if err != nil {
				return nil, s, fmt.Errorf("--betas must be two numbers B1,B2, got %q", c.String("betas"))
			}
			*dst = v
		}
	}
	if err := o.Check(s); err != nil {
		return nil, s, err
	}
	return o, s, nil
}

// initPath is where the init model goes: --init, or the output's name with
// .init before .onnx.
func initPath(c *cli.Context, out string) string {
	if p := c.String("init"); p != "" {
		return p
	}
	if base, ok := strings.CutSuffix(out, ".onnx"); ok {
		return base + ".init.onnx"
	}
	return out + ".init.onnx"
}

// fileSize is a file's size for the stderr summary.
func fileSize(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return "size unknown"
	}
	n := float64(st.Size())
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", n/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", n/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", n/(1<<10))
	}
	return fmt.Sprintf("%d B", st.Size())
}

// writeOptimizerStep turns the prepared step into the optimizer's step model
// and writes it and its init model.
func writeOptimizerStep(c *cli.Context, in, out string, st *stepmodel.Step, o optim.Optimizer, s optim.Settings) error {
	initOut := initPath(c, out)
	if err := checkOutputPath(in, initOut); err != nil {
		return badInput(err)
	}
	if initOut == out {
		return badInput(fmt.Errorf("--init %s is the step model's output: give another file", initOut))
	}
	m := st.Model
	res, err := optim.Apply(m, st.Loss, st.Params, st.Grads, o, s)
	if err != nil {
		return badInput(fmt.Errorf("%s: %w", in, err))
	}
	md := stepmodel.Metadata{Optimizer: o.Name(), Loss: st.Loss, Params: st.Params}
	b, _ := json.Marshal(md)
	m.SetMetadata(stepmodel.MetadataKey, string(b))
	if err := res.Init.Save(initOut); err != nil {
		return badInput(err)
	}
	if err := m.Save(out); err != nil {
		return badInput(err)
	}
	w := c.App.ErrWriter
	fmt.Fprintf(w, "trainable parameters: %d (%d elements); optimizer %s\n", len(st.Params), res.Elements, o.Summary(s))
	fmt.Fprintf(w, "step model: %d inputs (%d state), %d outputs, %d nodes\n", len(m.Graph().GetInput()), len(res.StateInputs), len(m.Graph().GetOutput()), len(m.Graph().GetNode()))
	fmt.Fprintf(w, "wrote %s (%s) and its init model %s (%s)\n", out, fileSize(out), initOut, fileSize(initOut))
	return nil
}
