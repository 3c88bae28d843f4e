package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/inject"
	"github.com/onnxloss/onnxloss/internal/termtext"
	"github.com/onnxloss/onnxloss/lossops"
	"github.com/onnxloss/onnxloss/onnxpb"
	"github.com/onnxloss/onnxloss/streaming"
)

// weightFlags are the flags that turn counts into class weights, shared by
// inject and weights.
func weightFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "counts", Usage: "per-class sample counts: JSON `FILE` ([n0, n1, …], {\"counts\": […], \"classes\": […]} or {\"0\": n0, …}); onnxloss counts writes it"},
		&cli.StringFlag{Name: "weighting", Usage: "class weights from counts: " + weightingList() + " (default: the loss's)"},
		&cli.StringFlag{Name: "weights", Usage: "the class weights themselves: `W0,W1,…` or a FILE (JSON array, or numbers separated by commas or whitespace); --counts is then only needed by losses that use counts"},
		&cli.Float64Flag{Name: "beta", Value: 0.9999, Usage: "β of the effective number of samples, in [0, 1)"},
		&cli.Float64Flag{Name: "enet-c", Value: lossops.DefaultENetC, Usage: "c of the enet weighting 1/ln(c + p), > 1"},
		&cli.StringFlag{Name: "normalize", Value: "sum", Usage: "sum: scale weights to sum to C; none: keep raw weights (the default with --weights)"},
		&cli.StringFlag{Name: "zero-counts", Value: "error", Usage: "a class with count 0: error, or skip (weight 0)"},
	}
}

// weightingList names the --weighting schemes.
func weightingList() string {
	names := make([]string, len(lossops.Weightings))
	for i, w := range lossops.Weightings {
		names[i] = string(w)
	}
	return strings.Join(names, ", ")
}

// weightConfig reads the weight flags.
func weightConfig(c *cli.Context, def lossops.Weighting) (lossops.WeightConfig, error) {
	cfg := lossops.WeightConfig{Scheme: def, Beta: c.Float64("beta"), ENetC: c.Float64("enet-c")}
	if s := c.String("weighting"); s != "" {
		w, err := lossops.ParseWeighting(s)
		if err != nil {
			return cfg, err
		}
		cfg.Scheme = w
	}
	if c.IsSet("weights") {
		if c.IsSet("weighting") {
			return cfg, fmt.Errorf("give --weights (the weights) or --weighting (weights from counts), not both")
		}
		w, err := lossops.ParseWeightVector(c.String("weights"))
		if err != nil {
			return cfg, err
		}
		cfg.Scheme, cfg.Given = lossops.WeightGiven, w
	}
	if c.String("counts") == "" && cfg.Given == nil {
		return cfg, fmt.Errorf("--counts FILE is required (or --weights for the weights themselves): make the file with onnxloss counts")
	}
	switch c.String("normalize") {
	case "sum":
		// A given vector is used as it is unless --normalize sum is asked.
		cfg.Normalize = cfg.Given == nil || c.IsSet("normalize")
	case "none":
	default:
		return cfg, fmt.Errorf("--normalize %q is invalid: use sum or none", c.String("normalize"))
	}
	switch c.String("zero-counts") {
	case "error":
	case "skip":
		cfg.SkipZero = true
	default:
		return cfg, fmt.Errorf("--zero-counts %q is invalid: use error or skip", c.String("zero-counts"))
	}
	return cfg, nil
}

func injectCommand() *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "loss", Usage: "the loss: " + lossList(), Required: true},
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the model with the loss to `FILE`", Required: true},
		&cli.BoolFlag{Name: "no-stream", Usage: "load the whole model into memory (default: models of 64 MiB or more are streamed, tensor data copied unread)"},
		&cli.BoolFlag{Name: "stream", Usage: "stream the model whatever its size (--no-stream wins)"},
	}
	flags = append(flags, weightFlags()...)
	flags = append(flags, paramFlags()...)
	flags = append(flags,
		&cli.StringFlag{Name: "reduction", Usage: "mean, sum, none or foreground (per sample: sum / max(1, foreground positions), then the mean; default: mean, or the replaced loss's)"},
		&cli.Int64Flag{Name: "ignore-index", Usage: "label value excluded from the loss (e.g. -100)"},
		&cli.BoolFlag{Name: "detach-focusing", Usage: "asl: compute the focusing weight without gradient (timm's disable_torch_grad_focal_loss)"},
		&cli.StringFlag{Name: "targets", Value: "index", Usage: "index labels, or multi-hot float targets (sigmoid losses)"},
		&cli.StringFlag{Name: "logits", Usage: "attach to this value, or to several heads: out,aux (default: the single float output of rank >= 2)"},
		&cli.StringFlag{Name: "class-axis", Usage: "the logits' class axis, e.g. 1 or -1 (default: the only axis of static size C; else axis 1 for rank 2 and >= 4)"},
		&cli.Int64Flag{Name: "background-label", Usage: "label of positions that are negatives for every class (dense detection, e.g. -1; sigmoid losses)"},
		&cli.StringFlag{Name: "head-weights", Usage: "weights of the heads' losses in the total loss, e.g. 1,0.5 (default: all 1)"},
		&cli.StringFlag{Name: "labels-name", Value: "labels", Usage: "name of the new labels input"},
		&cli.StringFlag{Name: "labels-dtype", Value: "int64", Usage: "int64 or int32 labels"},
		&cli.StringFlag{Name: "loss-name", Value: "loss", Usage: "name of the new loss output"},
		&cli.BoolFlag{Name: "replace", Usage: "replace a loss onnxloss injected before"},
		&cli.BoolFlag{Name: "keep-loss", Usage: "in a training graph, keep the exported loss beside the new one (named by --loss-name)"},
	)
	return &cli.Command{
		Name:      "inject",
		Usage:     "append a class-imbalance loss to a model; the loss becomes its first output",
		ArgsUsage: "MODEL",
		Flags:     flags,
		Action:    runInject,
	}
}

// paramFlags are the loss parameters' flags, from the catalogue: help says
// which losses read each one and any loss-specific default.
func paramFlags() []cli.Flag {
	var flags []cli.Flag
	for _, p := range lossops.Params {
		users := lossops.ParamUsers(p.Name)
		if len(users) == 0 {
			continue
		}
		names := make([]string, len(users))
		var own []string
		for i, l := range users {
			names[i] = string(l)
			if v := lossops.Lookup(l).Default(p.Name); v != p.Default {
				own = append(own, fmt.Sprintf("%g for %s", v, l))
			}
		}
		usage := fmt.Sprintf("%s (%s)", p.Help, strings.Join(names, ", "))
		if len(own) > 0 {
			usage += "; default " + strings.Join(own, ", ") + ", else"
		}
		flags = append(flags, &cli.Float64Flag{Name: p.Name, Value: p.Default, Usage: usage})
	}
	return flags
}

// paramValue is the value of loss parameter name: the flag if given, else
// the loss's default.
func paramValue(c *cli.Context, loss lossops.Loss, name string) float64 {
	if c.IsSet(name) {
		return c.Float64(name)
	}
	return lossops.Lookup(loss).Default(name)
}

func lossList() string {
	names := make([]string, len(lossops.Losses))
	for i, l := range lossops.Losses {
		names[i] = string(l)
	}
	return strings.Join(names, ", ")
}

func runInject(c *cli.Context) error {
	in, err := oneArg(c, "MODEL")
	if err != nil {
		return err
	}
	opt, err := injectOptions(c)
	if err != nil {
		return badInput(err)
	}
	out := c.String("output")
	if err := checkOutputPath(in, out); err != nil {
		return badInput(err)
	}
	injectFile := streaming.InMemory
	if streaming.Use(in, c.Bool("stream"), c.Bool("no-stream")) {
		injectFile = streaming.Inject
	}
	res, err := injectFile(in, out, opt)
	if err != nil {
		return badInput(err)
	}
	md := res.Metadata
	w := c.App.ErrWriter
	for _, n := range res.Notes {
		fmt.Fprintln(w, "note: "+termtext.Line(n))
	}
	name := termtext.Name
	for _, a := range res.Axes {
		fmt.Fprintf(w, "class axis %d of %s (rank %d): %s\n", a.Axis, name(a.Logits), a.Rank, termtext.Line(a.Reason))
	}
	if len(md.Heads) > 0 {
		parts := make([]string, len(md.Heads))
		for i, h := range md.Heads {
			parts[i] = fmt.Sprintf("%g·%s", h.Weight, name(h.LossOutput))
		}
		fmt.Fprintf(w, "attached %s to %d heads (C = %d) at opset %d; labels %s; first output %s = %s\n", md.Loss, len(md.Heads), md.NumClasses, md.Opset, headLabels(md), name(md.LossOutput), strings.Join(parts, " + "))
	} else {
		fmt.Fprintf(w, "attached %s to %s (%s, rank %d, C = %d) at opset %d; ", md.Loss, name(md.Logits), md.LogitsDType, md.LogitsRank, md.NumClasses, md.Opset)
		if md.Replaced != nil {
			fmt.Fprintf(w, "labels from input %s (%s); loss output %s replaced in place\n", name(md.Labels), md.LabelsDType, name(md.LossOutput))
		} else {
			fmt.Fprintf(w, "new input %s (%s); first output %s\n", name(md.Labels), md.LabelsDType, name(md.LossOutput))
		}
	}
	if lossops.Loss(md.Loss).TakesWeights() {
		fmt.Fprintf(w, "weights (%s): %s\n", md.Weighting, formatWeights(md.Weights))
	}
	if adj, err := md.Spec().Adjustments(md.Classes); err == nil && adj != nil {
		what := "logit offsets (log n)"
		switch lossops.Loss(md.Loss) {
		case lossops.LogitAdjusted:
			what = fmt.Sprintf("logit offsets (τ·log π, τ = %g)", md.Tau)
		case lossops.LDAM:
			what = fmt.Sprintf("margins (max %g, scale %g)", md.MaxMargin, md.Scale)
		}
		fmt.Fprintf(w, "%s: %s\n", what, formatWeights(adj))
	}
	fmt.Fprintf(w, "wrote %s\n", termtext.Name(out))
	return nil
}

// checkOutputPath refuses to overwrite the input and needs an existing
// directory, so no partial work is done on a doomed run.
func checkOutputPath(in, out string) error {
	ia, err1 := filepath.Abs(in)
	oa, err2 := filepath.Abs(out)
	if err1 == nil && err2 == nil && ia == oa {
		return fmt.Errorf("output %s is the input: write to another file (the input is never modified)", out)
	}
	if si, err := os.Stat(in); err == nil {
		if so, err := os.Stat(out); err == nil && os.SameFile(si, so) {
			return fmt.Errorf("output %s is the input: write to another file (the input is never modified)", out)
		}
	}
	dir := filepath.Dir(out)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("output directory %s does not exist: create it first", dir)
	}
	return graphedit.CheckOutput(out)
}

func injectOptions(c *cli.Context) (inject.Options, error) {
	var opt inject.Options
	loss, err := lossops.ParseLoss(c.String("loss"))
	if err != nil {
		return opt, err
	}
	cfg, err := weightConfig(c, "")
	if err != nil {
		return opt, err
	}
	var counts *lossops.Counts
	if c.String("counts") != "" {
		if counts, err = lossops.LoadCounts(c.String("counts")); err != nil {
			return opt, err
		}
	}
	var red lossops.Reduction // "": mean, or carried over from a training graph's loss
	if c.IsSet("reduction") {
		if red, err = lossops.ParseReduction(c.String("reduction")); err != nil {
			return opt, err
		}
	}
	opt = inject.Options{
		Loss: loss, Counts: counts, Weighting: cfg.Scheme, Beta: cfg.Beta, Normalize: cfg.Normalize, SkipZero: cfg.SkipZero,
		Gamma: paramValue(c, loss, "gamma"), Alpha: paramValue(c, loss, "alpha"), Reduction: red, LabelSmoothing: paramValue(c, loss, "label-smoothing"),
		Tau: paramValue(c, loss, "tau"), MaxMargin: paramValue(c, loss, "max-margin"), Scale: paramValue(c, loss, "scale"),
		Epsilon: paramValue(c, loss, "epsilon"), Smooth: paramValue(c, loss, "smooth"), TverskyBeta: paramValue(c, loss, "tversky-beta"),
		GammaPos: paramValue(c, loss, "gamma-pos"), GammaNeg: paramValue(c, loss, "gamma-neg"), Clip: paramValue(c, loss, "clip"),
		DetachFocusing: c.Bool("detach-focusing"),
		SeesawP:        paramValue(c, loss, "seesaw-p"), SeesawQ: paramValue(c, loss, "seesaw-q"),
		Weights: cfg.Given, ENetC: cfg.ENetC,
		Logits: c.String("logits"), LabelsName: c.String("labels-name"), LossName: c.String("loss-name"), Replace: c.Bool("replace"), KeepLoss: c.Bool("keep-loss"),
	}
	if c.IsSet("ignore-index") {
		v := c.Int64("ignore-index")
		opt.IgnoreIndex = &v
	}
	if c.IsSet("background-label") {
		v := c.Int64("background-label")
		opt.BackgroundLabel = &v
	}
	if c.IsSet("class-axis") {
		a, err := strconv.Atoi(strings.TrimSpace(c.String("class-axis")))
		if err != nil {
			return opt, fmt.Errorf("--class-axis %q is invalid: give an integer axis, e.g. 1 or -1", c.String("class-axis"))
		}
		opt.ClassAxis = &a
	}
	if heads := strings.Split(opt.Logits, ","); len(heads) > 1 {
		opt.Heads, opt.Logits = heads, ""
	}
	if c.IsSet("head-weights") {
		for _, f := range strings.Split(c.String("head-weights"), ",") {
			v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return opt, fmt.Errorf("--head-weights %q is invalid: give finite numbers separated by commas, one per head of --logits", c.String("head-weights"))
			}
			opt.HeadWeights = append(opt.HeadWeights, v)
		}
		if len(opt.Heads) == 0 {
			return opt, fmt.Errorf("--head-weights needs several heads: pass them as --logits out,aux")
		}
	}
	switch c.String("targets") {
	case "index":
	case "multi-hot":
		opt.MultiHot = true
	default:
		return opt, fmt.Errorf("--targets %q is invalid: use index or multi-hot", c.String("targets"))
	}
	switch c.String("labels-dtype") {
	case "int64":
		opt.LabelsElem = onnxpb.TensorProto_INT64
	case "int32":
		opt.LabelsElem = onnxpb.TensorProto_INT32
	default:
		return opt, fmt.Errorf("--labels-dtype %q is invalid: use int64 or int32", c.String("labels-dtype"))
	}
	if opt.LabelsName == "" || opt.LossName == "" {
		return opt, fmt.Errorf("--labels-name and --loss-name must not be empty")
	}
	return opt, nil
}

func formatWeights(w []float64) string {
	const show = 8
	parts := make([]string, 0, show+1)
	for i, v := range w {
		if i == show {
			parts = append(parts, fmt.Sprintf("… (%d more)", len(w)-show))
			break
		}
		parts = append(parts, fmt.Sprintf("%.4g", v))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// headLabels names the labels input(s) of a several-head injection.
func headLabels(md *inject.Metadata) string {
	var names []string
	for _, h := range md.Heads {
		if !slices.Contains(names, h.Labels) {
			names = append(names, h.Labels)
		}
	}
	if len(names) == 1 {
		return termtext.Name(names[0]) + " (shared)"
	}
	return termtext.Names(names)
}
