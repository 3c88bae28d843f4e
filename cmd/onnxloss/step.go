package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

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
			&cli.BoolFlag{Name: "json", Usage: "also print what step built as one JSON document on stdout (the text stays on stderr)"},
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
	dims := initializerDims(m)
	sel := stepmodel.Selection{Train: c.StringSlice("train"), Freeze: c.StringSlice("freeze")}
	st, err := stepmodel.Prepare(m, sel)
	if err != nil {
		return badInput(stepError(in, err))
	}
	if o != nil {
		return writeOptimizerStep(c, in, out, st, dims, o, settings)
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
	if c.Bool("json") {
		rep := newStepReport(out, opt, st, dims, m)
		for i := range rep.Params {
			rep.Params[i].Grad = md.Grads[i]
		}
		return writeJSON(c.App.Writer, rep)
	}
	return nil
}

// stepReport is `step --json`: what step built, for scripts.
type stepReport struct {
	Output          string         `json:"output"`
	OutputBytes     int64          `json:"output_bytes"`
	Init            string         `json:"init,omitempty"`
	InitBytes       int64          `json:"init_bytes,omitempty"`
	Optimizer       string         `json:"optimizer"`
	Hyperparameters map[string]any `json:"hyperparameters,omitempty"`
	Loss            string         `json:"loss"`
	Params          []stepParam    `json:"params"`
	Frozen          []string       `json:"frozen"`
	Elements        int64          `json:"elements"`
	// StateInputs are the step model's state inputs in order (optimizers
	// only): parameters with their states, then lr and step.
	StateInputs []string `json:"state_inputs,omitempty"`
	Inputs      int      `json:"inputs"`
	Outputs     int      `json:"outputs"`
	Nodes       int      `json:"nodes"`
}

// stepParam is one trainable parameter in stepReport: Grad is its output
// with --optimizer none, States its optimizer state inputs otherwise.
type stepParam struct {
	Name     string   `json:"name"`
	Shape    []int64  `json:"shape"`
	Elements int64    `json:"elements"`
	Grad     string   `json:"grad,omitempty"`
	States   []string `json:"states,omitempty"`
}

// initializerDims maps every initializer of m to its dims, read before the
// step removes the trained ones.
func initializerDims(m *graphedit.Model) map[string][]int64 {
	dims := map[string][]int64{}
	for _, t := range m.Graph().GetInitializer() {
		dims[t.GetName()] = append([]int64{}, t.GetDims()...)
	}
	return dims
}

// newStepReport fills the fields both kinds of step model share.
func newStepReport(out, optimizer string, st *stepmodel.Step, dims map[string][]int64, m *graphedit.Model) *stepReport {
	g := m.Graph()
	rep := &stepReport{
		Output: out, OutputBytes: fileBytes(out), Optimizer: optimizer, Loss: st.Loss,
		Params: []stepParam{}, Frozen: append([]string{}, st.Frozen...),
		Inputs: len(g.GetInput()), Outputs: len(g.GetOutput()), Nodes: len(g.GetNode()),
	}
	for _, p := range st.Params {
		n := int64(1)
		for _, d := range dims[p] {
			n *= d
		}
		rep.Params = append(rep.Params, stepParam{Name: p, Shape: append([]int64{}, dims[p]...), Elements: n})
		rep.Elements += n
	}
	return rep
}

// fileBytes is a written file's size (0 if it cannot be read back).
func fileBytes(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// stepError says what to do about a model step cannot differentiate.
func stepError(in string, err error) error {
	var nr *autodiff.NoRuleError
	if errors.As(err, &nr) {
		return fmt.Errorf("%s: %w: --freeze the parameters before that node (or --train only the ones after it)", in, err)
	}
	return fmt.Errorf("%s: %w", in, err)
}
