package main

import (
	"encoding/json"
	"fmt"
	"io"
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
func weightFlags(weightingDefault, countsDefault string) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "counts", TakesFile: true, DefaultText: countsDefault, Usage: "per-class sample counts: JSON `FILE` ([n0, n1, …], {\"counts\": […], \"classes\": […]} or {\"0\": n0, …}; - reads stdin; `onnxloss counts` writes it)"},
		&cli.StringFlag{Name: "weighting", Usage: "class weights from counts: " + weightingList(), DefaultText: weightingDefault},
		&cli.StringFlag{Name: "weights", Usage: "the class weights themselves: `W0,W1,…` or a FILE (JSON array, or numbers separated by commas or whitespace); --counts is then only needed by losses that use counts", DefaultText: "none"},
		&cli.Float64Flag{Name: "beta", Value: 0.9999, Usage: "β of the effective number of samples, in [0, 1) (--weighting effective only)"},
		&cli.Float64Flag{Name: "enet-c", Value: lossops.DefaultENetC, Usage: "c of the enet weighting 1/ln(c + p), > 1 (--weighting enet only)"},
		&cli.StringFlag{Name: "normalize", Value: "sum", Usage: "sum: scale weights to sum to C; none: keep raw weights", DefaultText: "sum; none with --weights"},
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
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the model with the loss to `FILE` (- for stdout)", Required: true},
		&cli.BoolFlag{Name: "no-stream", Usage: "load the whole model into memory (without it, models of 64 MiB or more are streamed, tensor data copied unread)"},
		&cli.BoolFlag{Name: "stream", Usage: "stream the model whatever its size (--no-stream wins)"},
		&cli.BoolFlag{Name: "json", Usage: "also print the summary as one JSON document on stdout (the text stays on stderr)"},
	}
	flags = append(flags, weightFlags(lossWeightingDefaults(), "none (needed unless the loss reads no counts: weighting none or --weights, and not logit_adjusted, balanced_softmax, ldam)")...)
	flags = append(flags, paramFlags()...)
	flags = append(flags,
		&cli.StringFlag{Name: "reduction", Usage: "mean, sum, none or foreground (per sample: sum / max(1, foreground positions), then the mean)", DefaultText: "mean, or the replaced loss's"},
		&cli.Int64Flag{Name: "ignore-index", Usage: "label value excluded from the loss (PyTorch's default is -100: pass it to match)", DefaultText: "none"},
		&cli.BoolFlag{Name: "detach-focusing", Usage: "asl: compute the focusing weight without gradient (timm's disable_torch_grad_focal_loss)"},
		&cli.StringFlag{Name: "targets", Value: "index", Usage: "index labels, or multi-hot float targets (sigmoid losses)"},
		&cli.StringFlag{Name: "logits", Usage: "attach to this value, or to several heads: out,aux", DefaultText: "the single float output of rank >= 2"},
		&cli.StringFlag{Name: "class-axis", Usage: "the logits' class axis, e.g. 1 or -1", DefaultText: "the only axis of static size C; else axis 1 for rank 2 and >= 4"},
		&cli.Int64Flag{Name: "background-label", Usage: "label of positions that are negatives for every class (dense detection, e.g. -1; sigmoid losses)", DefaultText: "none"},
		&cli.StringFlag{Name: "head-weights", Usage: "weights of the heads' losses in the total loss, e.g. 1,0.5", DefaultText: "all 1"},
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
		// A loss with its own default shows it: "4 for asl; 2 for focal, …".
		shown := ""
		if len(own) > 0 {
			var rest []string
			for _, l := range users {
				if lossops.Lookup(l).Default(p.Name) == p.Default {
					rest = append(rest, string(l))
				}
			}
			shown = strings.Join(own, "; ")
			if len(rest) > 0 {
				shown += fmt.Sprintf("; %g for %s", p.Default, strings.Join(rest, ", "))
			}
		}
		flags = append(flags, &cli.Float64Flag{Name: p.Name, Value: p.Default, Usage: usage, DefaultText: shown})
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
	fmt.Fprintf(w, "loss options: %s\n", lossOptionsLine(md))
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
	if c.Bool("json") {
		return writeJSON(c.App.Writer, struct {
			Output   string            `json:"output"`
			Notes    []string          `json:"notes"`
			Axes     []inject.HeadAxis `json:"axes"`
			Metadata *inject.Metadata  `json:"onnxloss"`
		}{out, res.Notes, res.Axes, md})
	}
	return nil
}

// lossOptionsLine shows the options that decide the loss value and are
// easy to get wrong silently: reduction, ignore_index, weighting, targets,
// the class axis and the heads.
func lossOptionsLine(md *inject.Metadata) string {
	ignore := "none"
	if md.IgnoreIndex != nil {
		ignore = fmt.Sprint(*md.IgnoreIndex)
	}
	weighting := md.Weighting
	if md.Weighting == string(lossops.WeightEffective) {
		weighting += fmt.Sprintf(" (β = %g)", md.Beta)
	}
	if !lossops.Loss(md.Loss).TakesWeights() {
		weighting = "none (counts enter as logit terms)"
	}
	axis := 1
	if md.ClassAxis != nil {
		axis = *md.ClassAxis
	}
	heads := "1"
	if len(md.Heads) > 0 {
		heads = fmt.Sprint(len(md.Heads))
	}
	line := fmt.Sprintf("reduction %s, ignore_index %s, weighting %s, targets %s, class axis %d, heads %s", md.Reduction, ignore, weighting, md.Targets, axis, heads)
	if md.BackgroundLabel != nil {
		line += fmt.Sprintf(", background label %d", *md.BackgroundLabel)
	}
	return line
}

// writeJSON writes v as one indented JSON document.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
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
	weighting := cfg.Scheme
	if weighting == "" {
		weighting = lossops.DefaultWeighting(loss)
	}
	if cfg.Given != nil {
		weighting = lossops.WeightGiven
	}
	if err := checkUnusedFlags(c, loss, true, weighting); err != nil {
		return opt, err
	}
	var counts *lossops.Counts
	if c.String("counts") != "" {
		if counts, err = loadCounts(c.String("counts")); err != nil {
			return opt, err
		}
	}
	if counts == nil && inject.NeedsCounts(loss, weighting) {
		return opt, fmt.Errorf("--loss %s with --weighting %s needs --counts FILE (per-class counts; `onnxloss counts LABELS` writes it): pass it, --weights W0,W1,…, or --weighting none", loss, weighting)
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

// loadCounts reads a counts JSON file; a file that is not JSON at all is
// most likely the label file itself, so the error says how to count it.
func loadCounts(path string) (*lossops.Counts, error) {
	counts, err := lossops.LoadCounts(path)
	if err != nil && strings.Contains(err.Error(), "not valid JSON") {
		return nil, fmt.Errorf("%w; if %s holds labels, count them first: onnxloss counts %s -o counts.json", err, termtext.Name(path), termtext.Name(path))
	}
	return counts, err
}
