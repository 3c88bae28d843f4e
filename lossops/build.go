package lossops

import (
	"fmt"
	"math"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/onnxpb"
)

// Site says where in a graph a loss attaches: the logits value (class axis
// Spec.ClassAxis) and the labels value the caller has declared.
type Site struct {
	// Logits names the value holding the scores, e.g. (N, C, d1…dk) with
	// class axis 1 or (N, T, C) with class axis 2.
	Logits string
	// LogitsElem is the logits' element type: FLOAT, DOUBLE, FLOAT16 or BFLOAT16.
	LogitsElem onnxpb.TensorProto_DataType
	// Rank is the logits' rank (≥ 2).
	Rank int
	// C is the number of classes.
	C int
	// Labels names the labels value: int64/int32 indices of the logits'
	// shape without the class axis, or with Spec.MultiHot float targets of
	// the logits' shape.
	Labels string
	// LabelsElem is the labels' element type.
	LabelsElem onnxpb.TensorProto_DataType
}

// ComputeElem returns the element type the loss is computed and returned in:
// DOUBLE for float64 logits, FLOAT otherwise.
func (s Site) ComputeElem() onnxpb.TensorProto_DataType {
	if s.LogitsElem == onnxpb.TensorProto_DOUBLE {
		return onnxpb.TensorProto_DOUBLE
	}
	return onnxpb.TensorProto_FLOAT
}

// Build appends the subgraph computing spec's loss from site to b's model and
// returns the name of the loss value (element type site.ComputeElem(); a
// scalar for mean/sum/foreground, the labels' shape for none — the logits'
// shape for sigmoid_focal). Every op on the path from the logits to the
// loss is one that ONNX Runtime training can differentiate. Labels outside
// [0, C) that are neither the ignore_index nor the background label make
// the loss NaN (never wrapped around as Gather would wrap a negative index).
func Build(b *graphedit.Builder, spec Spec, site Site) (string, error) {
	if err := spec.Validate(); err != nil {
		return "", err
	}
	if site.Rank < 2 {
		return "", fmt.Errorf("logits %q have rank %d: need (N, C, ...) with rank >= 2", site.Logits, site.Rank)
	}
	if site.C < 1 {
		return "", fmt.Errorf("logits %q: need at least one class", site.Logits)
	}
	axis, ok := spec.Axis(site.Rank)
	if !ok {
		return "", fmt.Errorf("class axis %d is outside logits %q of rank %d: use an axis in -%d..%d", spec.ClassAxis, site.Logits, site.Rank, site.Rank, site.Rank-1)
	}
	if bg := spec.BackgroundLabel; bg != nil && *bg >= 0 && *bg < int64(site.C) {
		return "", fmt.Errorf("the background label %d is a class id (0..%d): use a value outside the classes, e.g. -1", *bg, site.C-1)
	}
	if spec.Weights != nil && len(spec.Weights) != site.C {
		return "", fmt.Errorf("%d class weights for %d classes", len(spec.Weights), site.C)
	}
	if spec.Loss.FromCounts() && len(spec.Counts) != site.C {
		return "", fmt.Errorf("%d class counts for %d classes: give one count per class", len(spec.Counts), site.C)
	}
	if b.Opset < 11 {
		return "", fmt.Errorf("the model's opset is %d: onnxloss needs opset 11 or newer (re-export with opset_version >= 11)", b.Opset)
	}
	g := &lossGraph{b: b, spec: spec, site: site, elem: site.ComputeElem(), axis: int64(axis)}
	switch site.LogitsElem {
	case onnxpb.TensorProto_FLOAT, onnxpb.TensorProto_DOUBLE:
		g.x = site.Logits
	case onnxpb.TensorProto_FLOAT16:
		g.x = b.Cast("logits_f32", site.Logits, onnxpb.TensorProto_FLOAT)
	case onnxpb.TensorProto_BFLOAT16:
		if b.Opset < 13 {
			return "", fmt.Errorf("bfloat16 logits need opset 13 or newer (Cast from bfloat16), the model has %d", b.Opset)
		}
		g.x = b.Cast("logits_f32", site.Logits, onnxpb.TensorProto_FLOAT)
	default:
		return "", fmt.Errorf("logits %q have element type %s: need float, double, float16 or bfloat16 logits", site.Logits, site.LogitsElem)
	}
	if err := g.prepareLabels(); err != nil {
		return "", err
	}
	return spec.Loss.def().build(g)
}

// lossGraph holds the values shared by the parts of one loss subgraph.
type lossGraph struct {
	b    *graphedit.Builder
	spec Spec
	site Site
	elem onnxpb.TensorProto_DataType
	axis int64 // the class axis of the logits, in [0, rank)

	x      string // logits in the compute type
	y      string // int64 labels with ignored, background and out-of-range positions replaced by class 0
	mask   string // compute-type 1/0 per position, "" when nothing is ignored
	target string // compute-type one-hot/multi-hot of the logits' shape
	// foreground is compute-type 1/0 per position: 1 where the label is a
	// class; "" when every position is (no ignore_index, no background).
	foreground string
	// background is bool per position: true where the label is the
	// background label; "" without one.
	background string
	// outOfRange is compute-type NaN/0 per position: NaN where the label is
	// outside [0, C) and neither ignored nor background; "" for multi-hot.
	outOfRange string
}

func (g *lossGraph) scalar(what string, v float64) string { return g.b.Scalar(what, g.elem, v) }

// classShape is (1, C, 1, …), C at the class axis, so a per-class vector
// broadcasts over logits.
func (g *lossGraph) classShape() []int64 {
	dims := make([]int64, g.site.Rank)
	for i := range dims {
		dims[i] = 1
	}
	dims[g.axis] = int64(g.site.C)
	return dims
}

// perPositionAxes are the axes of a labels-shaped value other than its first
// (the sample axis), nil for rank-1 labels: what the foreground reduction
// sums over per sample.
func (g *lossGraph) perPositionAxes() []int64 {
	var axes []int64
	for i := int64(1); i < int64(g.site.Rank-1); i++ {
		axes = append(axes, i)
	}
	return axes
}

func (g *lossGraph) weights(dims []int64) string {
	return g.classVector("class_weights", dims, g.spec.Weights)
}

// classVector adds a per-class initializer of the compute type with shape dims.
func (g *lossGraph) classVector(what string, dims []int64, data []float64) string {
	if g.elem == onnxpb.TensorProto_DOUBLE {
		return g.b.Float64(what, dims, data)
	}
	w := make([]float32, len(data))
	for i, v := range data {
		w[i] = float32(v)
	}
	return g.b.Float32(what, dims, w)
}

// prepareLabels builds the label-side values: int64 labels safe to index
// with, the ignore mask, and for sigmoid losses the 0/1 target tensor.
func (g *lossGraph) prepareLabels() error {
	b := g.b
	if g.spec.MultiHot {
		switch g.site.LabelsElem {
		case g.elem:
			g.target = g.site.Labels
		case onnxpb.TensorProto_FLOAT, onnxpb.TensorProto_DOUBLE, onnxpb.TensorProto_FLOAT16:
			g.target = b.Cast("targets", g.site.Labels, g.elem)
		default:
			return fmt.Errorf("multi-hot targets %q must be float, not %s", g.site.Labels, g.site.LabelsElem)
		}
		return nil
	}
	y := g.site.Labels
	switch g.site.LabelsElem {
	case onnxpb.TensorProto_INT64:
	case onnxpb.TensorProto_INT32:
		y = b.Cast("labels_i64", y, onnxpb.TensorProto_INT64)
	default:
		return fmt.Errorf("labels %q must be int64 or int32, not %s", g.site.Labels, g.site.LabelsElem)
	}
	zero := b.Int64("zero_label", []int64{}, []int64{0})
	if ii := g.spec.IgnoreIndex; ii != nil {
		ignored := b.Op("Equal", "ignored", []string{y, b.Int64("ignore_index", []int64{}, []int64{*ii})})
		y = b.Op("Where", "labels_safe", []string{ignored, zero, y})
		g.mask = b.Cast("valid", b.Op("Not", "valid_bool", []string{ignored}), g.elem)
	}
	var notBackground string // compute-type 1/0 per position
	if bg := g.spec.BackgroundLabel; bg != nil {
		isBG := b.Op("Equal", "background", []string{y, b.Int64("background_label", []int64{}, []int64{*bg})})
		y = b.Op("Where", "labels_not_background", []string{isBG, zero, y})
		g.background = isBG
		notBackground = b.Cast("not_background", b.Op("Not", "not_background_bool", []string{isBG}), g.elem)
		g.foreground = notBackground
	}
	if g.mask != "" {
		if g.foreground == "" {
			g.foreground = g.mask
		} else {
			g.foreground = b.Op("Mul", "foreground", []string{g.foreground, g.mask})
		}
	}
	// Out-of-range labels: negatives are first moved to C (so Gather and
	// GatherElements never wrap them around to class C−1…), then every
	// label > C−1 is replaced by class 0 and marks its position NaN.
	C := int64(g.site.C)
	negative := b.Op("Less", "label_negative", []string{y, zero})
	y = b.Op("Where", "labels_nonnegative", []string{negative, b.Int64("num_classes", []int64{}, []int64{C}), y})
	bad := b.Op("Greater", "label_out_of_range", []string{y, b.Int64("last_class", []int64{}, []int64{C - 1})})
	y = b.Op("Where", "labels_in_range", []string{bad, zero, y})
	g.outOfRange = b.Op("Where", "label_range_nan", []string{bad, g.scalar("nan", math.NaN()), g.scalar("zero", 0)})
	g.y = y
	if g.spec.Loss.FromCounts() {
		g.skipZeroClasses()
	}
	if g.spec.Loss.def().OneHot {
		// One-hot as Equal(label, class id) rather than OneHot: ONNX Runtime
		// has no OneHot kernel with double values.
		ids := make([]int64, g.site.C)
		for i := range ids {
			ids[i] = int64(i)
		}
		classIDs := b.Int64("class_ids", g.classShape(), ids)
		hit := b.Op("Equal", "onehot_bool", []string{b.Unsqueeze("labels_c", g.y, []int64{g.axis}), classIDs})
		g.target = b.Cast("onehot", hit, g.elem)
		if notBackground != "" {
			// A background position is a negative of every class.
			g.target = b.Op("Mul", "target", []string{g.target, b.Unsqueeze("not_background_c", notBackground, []int64{g.axis})})
		}
	}
	return nil
}

// softmaxLoss builds weighted_ce, focal and cb_softmax.
func (g *lossGraph) softmaxLoss() string {
	b, spec := g.b, g.spec
	logp, logpY := g.logSoftmaxAtLabel(g.x)

	var wy string // w_y per position, "" when unweighted
	if spec.Weights != nil {
		wy = b.Op("Gather", "w_y", []string{g.weights([]int64{int64(g.site.C)}), g.y}, graphedit.AttrInt("axis", 0))
	}
	loss := b.Op("Neg", "nll", []string{logpY})
	if spec.Loss == Focal && spec.Gamma != 0 {
		pY := b.Op("Exp", "p_y", []string{logpY})
		q := b.Op("Relu", "one_minus_p_y", []string{b.Op("Sub", "one_minus_p_y_raw", []string{g.scalar("one", 1), pY})})
		if spec.Gamma != 1 {
			q = b.Op("Pow", "focal_modulator", []string{g.powBase(q), g.scalar("gamma", spec.Gamma)})
		}
		loss = b.Op("Mul", "focal", []string{q, loss})
	}
	if wy != "" {
		loss = b.Op("Mul", "weighted", []string{wy, loss})
	}
	if eps := spec.LabelSmoothing; eps > 0 {
		all := logp
		if spec.Weights != nil {
			all = b.Op("Mul", "weighted_logp", []string{logp, g.weights(g.classShape())})
		}
		smooth := b.Op("Neg", "smooth", []string{b.ReduceSum("smooth_sum", all, []int64{g.axis}, false)})
		loss = b.Op("Add", "smoothed", []string{
			b.Op("Mul", "hard_part", []string{g.scalar("one_minus_eps", 1-eps), loss}),
			b.Op("Mul", "smooth_part", []string{g.scalar("eps_over_c", eps/float64(g.site.C)), smooth}),
		})
	}
	// weighted_ce's mean divides by the summed weights of the valid positions.
	var den string
	if spec.Loss == WeightedCE && wy != "" {
		den = wy
	}
	return g.reduce(loss, den)
}

// powFloor is the smallest base the focal modulators pass to Pow(q, γ) when
// γ < 1; see powBase.
const powFloor = 1e-30

// powBase returns the base q (≥ 0) of the focal modulator Pow(q, γ), clamped
// at powFloor when 0 < γ < 1. ONNX Runtime training differentiates Pow as
// dY·γ·q^(γ−1), which for γ < 1 is +Inf at q = 0 (NaN if dY is 0 too), and
// the chain rule then multiplies it by a zero and gives NaN logit gradients;
// q = 1 − p_t is exactly 0 in float32 as soon as a prediction is confidently
// right (|x| ≳ 17). With the clamp that factor stays ≤ γ·1e30, Max routes no
// gradient to q where the clamp is active, and the loss moves only where
// q < 1e-30, i.e. where the unmodulated term is itself below the compute
// type's roundoff (≤ u·w_y, times powFloor^γ ≤ 1).
func (g *lossGraph) powBase(q string) string {
	if g.spec.Gamma >= 1 || g.spec.Gamma == 0 {
		return q
	}
	return g.b.Op("Max", "focal_base_floor", []string{q, g.scalar("pow_floor", powFloor)})
}

// logSoftmaxAtLabel returns LogSoftmax(z) over the class axis and its value
// at each position's label, shape (N, d1…dk).
func (g *lossGraph) logSoftmaxAtLabel(z string) (logp, logpY string) {
	b := g.b
	logp = b.LogSoftmax("logp", z, g.axis, g.site.Rank)
	idx := b.Unsqueeze("label_index", g.y, []int64{g.axis})
	logpY = b.Squeeze("logp_y", b.Op("GatherElements", "logp_y_keep", []string{logp, idx}, graphedit.AttrInt("axis", g.axis)), []int64{g.axis})
	return logp, logpY
}

// bce returns softplus(x) − x·t, log(1 + exp(−|x|)) and x·t, the stable
// pieces the sigmoid losses share.
func (g *lossGraph) bce() (bce, logTerm, xt string) {
	b := g.b
	absX := b.Op("Abs", "abs_x", []string{g.x})
	logTerm = b.Op("Log", "log1p_exp_neg_abs", []string{
		b.Op("Add", "one_plus_exp", []string{g.scalar("one", 1), b.Op("Exp", "exp_neg_abs", []string{b.Op("Neg", "neg_abs_x", []string{absX})})}),
	})
	softplus := b.Op("Add", "softplus_x", []string{b.Op("Relu", "relu_x", []string{g.x}), logTerm})
	xt = b.Op("Mul", "x_t", []string{g.x, g.target})
	bce = b.Op("Sub", "bce", []string{softplus, xt})
	return bce, logTerm, xt
}

// sigmoidFocal builds torchvision's sigmoid_focal_loss, per element.
func (g *lossGraph) sigmoidFocal() string {
	b, spec := g.b, g.spec
	loss, _, _ := g.bce()
	if spec.Gamma != 0 {
		p := b.Op("Sigmoid", "p", []string{g.x})
		oneMinusT := b.Op("Sub", "one_minus_t", []string{g.scalar("one", 1), g.target})
		oneMinusP := b.Op("Sub", "one_minus_p", []string{g.scalar("one", 1), p})
		// 1 − p_t written as a sum of non-negative products so it never
		// rounds below zero (Pow of a negative base would be NaN).
		q := b.Op("Add", "one_minus_p_t", []string{
			b.Op("Mul", "p_neg", []string{p, oneMinusT}),
			b.Op("Mul", "t_one_minus_p", []string{g.target, oneMinusP}),
		})
		if spec.Gamma != 1 {
			q = b.Op("Pow", "focal_modulator", []string{g.powBase(q), g.scalar("gamma", spec.Gamma)})
		}
		loss = b.Op("Mul", "focal", []string{loss, q})
	}
	if spec.Alpha >= 0 {
		// α_t = α·t + (1−α)(1−t) = (1−α) + (2α−1)·t, label side only.
		alphaT := b.Op("Add", "alpha_t", []string{
			g.scalar("one_minus_alpha", 1-spec.Alpha),
			b.Op("Mul", "alpha_t_slope", []string{g.scalar("two_alpha_minus_one", 2*spec.Alpha-1), g.target}),
		})
		loss = b.Op("Mul", "alpha_weighted", []string{loss, alphaT})
	}
	return g.reduceElements(loss)
}

// reduceElements weights per-element losses (the logits' shape) by w_c,
// masks the ignored positions, adds the out-of-range NaN and reduces: mean
// over the valid elements, sum, none (the logits' shape), or foreground.
func (g *lossGraph) reduceElements(loss string) string {
	b, spec := g.b, g.spec
	if spec.Weights != nil {
		loss = b.Op("Mul", "weighted", []string{loss, g.weights(g.classShape())})
	}
	if g.mask != "" {
		loss = b.Op("Mul", "masked_elems", []string{loss, b.Unsqueeze("valid_c", g.mask, []int64{g.axis})})
	}
	if g.outOfRange != "" {
		loss = b.Op("Add", "range_checked_elems", []string{loss, b.Unsqueeze("label_range_nan_c", g.outOfRange, []int64{g.axis})})
	}
	switch spec.Reduction {
	case None:
		return loss
	case Sum:
		return b.ReduceSum("loss_sum", loss, nil, false)
	case Foreground:
		return g.foregroundMean(b.ReduceSum("per_position", loss, []int64{g.axis}, false))
	}
	if g.mask == "" {
		return g.mean(loss, true)
	}
	total := b.ReduceSum("loss_sum", loss, nil, false)
	count := b.Op("Mul", "valid_elems", []string{b.ReduceSum("valid_count", g.mask, nil, false), g.scalar("classes", float64(g.site.C))})
	return b.Op("Div", "loss_mean", []string{total, g.nonZero(count)})
}

// cbSigmoidLoss builds cb_sigmoid and cb_focal: per position w_y·Σ_c of the
// (modulated) binary cross-entropy, or Σ_c w_c·… with multi-hot targets.
func (g *lossGraph) cbSigmoidLoss() string {
	b, spec := g.b, g.spec
	elems, logTerm, xt := g.bce()
	if spec.Loss == CBFocal && spec.Gamma != 0 {
		// modulator = exp(−γ·(t·x + softplus(−x))), softplus(−x) = relu(−x) + log(1 + exp(−|x|)).
		softplusNeg := b.Op("Add", "softplus_neg_x", []string{b.Op("Relu", "relu_neg_x", []string{b.Op("Neg", "neg_x", []string{g.x})}), logTerm})
		inner := b.Op("Add", "modulator_arg", []string{xt, softplusNeg})
		mod := b.Op("Exp", "focal_modulator", []string{b.Op("Mul", "neg_gamma_arg", []string{g.scalar("neg_gamma", -spec.Gamma), inner})})
		elems = b.Op("Mul", "focal", []string{mod, elems})
	}
	if spec.MultiHot && spec.Weights != nil {
		elems = b.Op("Mul", "weighted_elems", []string{elems, g.weights(g.classShape())})
	}
	if spec.BackgroundLabel != nil && spec.Weights != nil {
		// Background rows are all-zero targets, weighted as multi-hot rows
		// are: column c by w_c; class rows by w_y.
		wy := b.Op("Gather", "w_y", []string{g.weights([]int64{int64(g.site.C)}), g.y}, graphedit.AttrInt("axis", 0))
		isBG := b.Unsqueeze("background_c", g.background, []int64{g.axis})
		factor := b.Op("Where", "row_weights", []string{isBG, g.weights(g.classShape()), b.Unsqueeze("w_y_c", wy, []int64{g.axis})})
		elems = b.Op("Mul", "weighted_elems", []string{elems, factor})
		return g.reduce(b.ReduceSum("per_position", elems, []int64{g.axis}, false), "")
	}
	loss := b.ReduceSum("per_position", elems, []int64{g.axis}, false)
	if !spec.MultiHot && spec.Weights != nil {
		wy := b.Op("Gather", "w_y", []string{g.weights([]int64{int64(g.site.C)}), g.y}, graphedit.AttrInt("axis", 0))
		loss = b.Op("Mul", "weighted", []string{wy, loss})
	}
	return g.reduce(loss, "")
}

// reduce applies the ignore mask and the reduction to per-position losses.
// The mean divides by Σ den over valid positions when den is given, else by
// the number of valid positions; a zero denominator gives 0, not NaN.
func (g *lossGraph) reduce(loss, den string) string {
	b := g.b
	if g.mask != "" {
		loss = b.Op("Mul", "masked", []string{loss, g.mask})
	}
	if g.outOfRange != "" {
		loss = b.Op("Add", "range_checked", []string{loss, g.outOfRange})
	}
	switch g.spec.Reduction {
	case None:
		return loss
	case Sum:
		return b.ReduceSum("loss_sum", loss, nil, false)
	case Foreground:
		return g.foregroundMean(loss)
	}
	if den == "" && g.mask == "" {
		return g.mean(loss, false)
	}
	switch {
	case den != "" && g.mask != "":
		den = b.Op("Mul", "masked_weights", []string{den, g.mask})
	case den == "":
		den = g.mask
	}
	total := b.ReduceSum("loss_sum", loss, nil, false)
	count := b.ReduceSum("mean_denominator", den, nil, false)
	return b.Op("Div", "loss_mean", []string{total, g.nonZero(count)})
}

// mean is the mean of loss when no position is ignored: Σ loss over the
// number of positions (perElement: of positions × C), 0 for an empty batch
// (N = 0), where ReduceMean would give 0/0 = NaN. The count comes from the
// labels alone, so it adds nothing to the gradient path.
func (g *lossGraph) mean(loss string, perElement bool) string {
	b := g.b
	labels, perLabel := g.y, 1.0 // index labels: one per position
	if g.spec.MultiHot {
		labels, perLabel = g.target, float64(g.site.C) // one per element
	}
	// Not(Less(v, v)) is true for every element, NaN targets included.
	ones := b.Cast("label_ones", b.Op("Not", "label_present", []string{b.Op("Less", "label_absent", []string{labels, labels})}), g.elem)
	count := b.ReduceSum("label_count", ones, nil, false)
	switch {
	case perElement && perLabel == 1:
		count = b.Op("Mul", "element_count", []string{count, g.scalar("classes", float64(g.site.C))})
	case !perElement && perLabel != 1:
		count = b.Op("Div", "position_count", []string{count, g.scalar("classes", perLabel)})
	}
	total := b.ReduceSum("loss_sum", loss, nil, false)
	return b.Op("Div", "loss_mean", []string{total, g.nonZero(count)})
}

// foregroundMean is the foreground reduction of per-position losses (masked
// already): per sample Σ loss / max(1, Σ foreground), then the mean over
// the samples.
func (g *lossGraph) foregroundMean(loss string) string {
	b := g.b
	axes := g.perPositionAxes()
	perSample, fg := loss, g.foreground
	if fg == "" {
		// Every position is foreground: ones of the labels' shape, label side.
		fg = b.Cast("all_foreground", b.Op("Equal", "all_foreground_bool", []string{g.y, g.y}), g.elem)
	}
	if axes != nil {
		perSample = b.ReduceSum("loss_per_sample", loss, axes, false)
		fg = b.ReduceSum("foreground_per_sample", fg, axes, false)
	}
	den := b.Op("Max", "foreground_at_least_one", []string{fg, g.scalar("one", 1)})
	normalized := b.Op("Div", "loss_per_sample_normalized", []string{perSample, den})
	// The mean over the samples, 0 for an empty batch (ReduceMean gives
	// 0/0 = NaN there); the sample count comes from the label side.
	samples := b.ReduceSum("sample_count", b.Cast("sample_ones", b.Op("Not", "sample_present", []string{b.Op("Less", "sample_absent", []string{fg, fg})}), g.elem), nil, false)
	return b.Op("Div", "loss_foreground", []string{b.ReduceSum("loss_foreground_sum", normalized, nil, false), g.nonZero(samples)})
}

// nonZero replaces a zero denominator by one, so an all-ignored batch gives a
// loss of 0 (numerator 0) instead of NaN.
func (g *lossGraph) nonZero(den string) string {
	b := g.b
	isZero := b.Op("Equal", "denominator_is_zero", []string{den, g.scalar("zero", 0)})
	return b.Op("Where", "denominator_safe", []string{isZero, g.scalar("one", 1), den})
}
