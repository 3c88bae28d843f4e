package lossops

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Reference computes the loss described by spec in float64, straight from
// the closed-form formulas of the loss catalogue, independently of any ONNX
// graph. It is the yardstick the injected subgraphs are verified against.
//
// logits is row-major with shape (N, C, d1, ..., dk), k ≥ 0, when the class
// axis (spec.Axis) is 1, or any other layout with C at the class axis, e.g.
// (N, T, C). With index labels (spec.MultiHot false) labels has the logits'
// shape without the class axis and targets is ignored; with spec.MultiHot,
// targets is a float tensor of the logits' shape (values in [0, 1]) and
// labels is ignored.
//
// spec.Weights nil means every class weight is 1 (for sigmoid_focal: no
// weight factor at all, which is the same thing). Positions whose label
// equals *spec.IgnoreIndex have loss 0 and are left out of every reduction;
// positions labelled *spec.BackgroundLabel have an all-zero target row
// (sigmoid losses; cb_sigmoid and cb_focal weight such a row's column c by
// w_c, as a multi-hot row). Other labels outside [0, C) are a
// *LabelRangeError naming the label and its position (the graph makes the
// loss NaN there; PyTorch raises). For the count-derived losses
// with spec.SkipZero, positions labelled with a class of count 0 are
// treated as ignored too (see Spec.SkipZero).
//
// The result has lossShape [] (a scalar, loss has one element) for mean,
// sum and foreground (per first label axis, the "sample": the sum over its
// positions divided by max(1, its positions labelled with a class), then
// the mean over samples); for none it has the labels' shape, except sigmoid_focal, whose loss is
// per element and so has the logits' shape.
//
// mean divides the sum of the losses by: Σ_{p∈V} w_{y_p} for weighted_ce
// and ldam (as torch does; |V| without weights); |V| for logit_adjusted and
// balanced_softmax; |V| for focal, cb_softmax, cb_sigmoid and cb_focal (the
// number of positions, all of them with multi-hot targets); |V|·C for
// sigmoid_focal (every element). When that denominator is 0 — every position
// ignored, no positions at all, or only classes of weight 0 — mean returns 0,
// not NaN, so that training never sees a NaN (torch's cross_entropy returns
// NaN for weighted_ce there).
//
// Numerically stable forms are used throughout: log-softmax by subtracting
// the maximum and a log-sum-exp, softplus(x) = max(x, 0) + log1p(exp(-|x|)),
// BCE(x, t) = max(x, 0) - x·t + log1p(exp(-|x|)), 1 - p = -expm1(log p), so
// logits of ±1e4 give finite losses.
func Reference(spec Spec, logits []float64, shape []int, labels []int64, targets []float64) (loss []float64, lossShape []int, err error) {
	if err := spec.Validate(); err != nil {
		return nil, nil, err
	}
	if len(shape) < 2 {
		return nil, nil, fmt.Errorf("logits shape %v has rank %d: logits need shape (N, C, ...) of rank >= 2", shape, len(shape))
	}
	total := 1
	for i, d := range shape {
		if d < 0 {
			return nil, nil, fmt.Errorf("logits shape %v has a negative dimension %d", shape, i)
		}
		if d > 0 && total > math.MaxInt32/d {
			return nil, nil, fmt.Errorf("logits shape %v is too large for the reference", shape)
		}
		total *= d
	}
	if len(logits) != total {
		return nil, nil, fmt.Errorf("logits have %d values but shape %v needs %d", len(logits), shape, total)
	}
	axis, ok := spec.Axis(len(shape))
	if !ok {
		return nil, nil, fmt.Errorf("class axis %d is outside logits of shape %v", spec.ClassAxis, shape)
	}
	nc := shape[axis]
	if nc < 1 {
		return nil, nil, fmt.Errorf("logits shape %v has no classes: dimension %d must be >= 1", shape, axis)
	}
	n := 1 // product of the dims before the class axis
	for _, d := range shape[:axis] {
		n *= d
	}
	inner := 1 // product of the dims after the class axis
	for _, d := range shape[axis+1:] {
		inner *= d
	}
	if spec.Weights != nil && len(spec.Weights) != nc {
		return nil, nil, fmt.Errorf("%d class weights for %d classes: give one weight per class", len(spec.Weights), nc)
	}
	for i, v := range logits {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, nil, fmt.Errorf("logit %d is %v: logits must be finite", i, v)
		}
	}
	npos := n * inner
	posShape := append(append([]int{}, shape[:axis]...), shape[axis+1:]...)
	isBackground := func(y int64) bool { return spec.BackgroundLabel != nil && y == *spec.BackgroundLabel }
	if spec.MultiHot {
		if len(targets) != total {
			return nil, nil, fmt.Errorf("multi-hot targets have %d values but the logits' shape %v needs %d", len(targets), shape, total)
		}
		for i, t := range targets {
			if !(t >= 0 && t <= 1) {
				return nil, nil, fmt.Errorf("multi-hot target %d is %v: targets must be in [0, 1]", i, t)
			}
		}
	} else {
		if len(labels) != npos {
			return nil, nil, fmt.Errorf("labels have %d values but shape %v needs %d", len(labels), posShape, npos)
		}
		if err := CheckLabels(spec, nc, labels, posShape); err != nil {
			return nil, nil, err
		}
	}
	w := func(c int) float64 {
		if spec.Weights == nil {
			return 1
		}
		return spec.Weights[c]
	}
	// idx returns the flat index of class c at position (b, j): b ranges
	// over the dims before the class axis, j over those after it.
	idx := func(b, c, j int) int { return (b*nc+c)*inner + j }

	d := spec.Loss.def()
	if d.UsesCounts && len(spec.Counts) != nc {
		return nil, nil, fmt.Errorf("%d class counts for %d classes: %s needs one count per class", len(spec.Counts), nc, spec.Loss)
	}
	if d.batch != nil {
		return d.batch(&refBatch{spec: spec, logits: logits, shape: shape, labels: labels, targets: targets, axis: axis, nc: nc, n: n, inner: inner, posShape: posShape, w: w})
	}
	perElement := d.PerElement
	var out []float64
	if perElement {
		out = make([]float64, total)
	} else {
		out = make([]float64, npos)
	}
	adj, err := newRefAdjusted(spec, nc)
	if err != nil {
		return nil, nil, err
	}
	var denom compSum // the mean's denominator
	// The foreground reduction's per-sample sums and foreground counts; a
	// sample is an index of the labels' first axis.
	perSample := 1
	if len(posShape) > 0 && posShape[0] > 0 {
		perSample = npos / posShape[0]
	}
	var sampleLoss []compSum
	var sampleFG []float64
	if spec.Reduction == Foreground && len(posShape) > 0 {
		sampleLoss, sampleFG = make([]compSum, posShape[0]), make([]float64, posShape[0])
	}
	x := make([]float64, nc)
	t := make([]float64, nc)
	logp := make([]float64, nc)
	r := &refPosition{spec: spec, logp: logp, w: w, adj: adj, out: out, denom: &denom, nc: nc, inner: inner}
	for b := 0; b < n; b++ {
		for j := 0; j < inner; j++ {
			p := b*inner + j
			for c := 0; c < nc; c++ {
				x[c] = logits[idx(b, c, j)]
			}
			y := -1
			if spec.MultiHot {
				for c := 0; c < nc; c++ {
					t[c] = targets[idx(b, c, j)]
				}
			} else {
				if spec.IgnoreIndex != nil && labels[p] == *spec.IgnoreIndex {
					continue // loss 0, not in V
				}
				for c := range t {
					t[c] = 0
				}
				if isBackground(labels[p]) {
					y = -1 // a negative of every class
				} else {
					y = int(labels[p])
					if adj != nil && adj.skip[y] {
						continue // a class of count 0 with SkipZero: ignored
					}
					t[y] = 1
					if sampleFG != nil {
						sampleFG[p/perSample]++
					}
				}
			}
			r.x, r.t, r.y, r.p, r.b, r.j = x, t, y, p, b, j
			d.position(r)
		}
	}
	switch spec.Reduction {
	case Foreground:
		if sampleLoss == nil {
			return []float64{0}, []int{}, nil
		}
		if perElement {
			for b := 0; b < n; b++ {
				for c := 0; c < nc; c++ {
					for j := 0; j < inner; j++ {
						sampleLoss[(b*inner+j)/perSample].add(out[idx(b, c, j)])
					}
				}
			}
		} else {
			for p, v := range out {
				sampleLoss[p/perSample].add(v)
			}
		}
		var s compSum
		for i := range sampleLoss {
			s.add(sampleLoss[i].sum() / math.Max(1, sampleFG[i]))
		}
		if len(sampleLoss) == 0 {
			return []float64{0}, []int{}, nil // an empty batch: 0, as every mean
		}
		return []float64{s.sum() / float64(len(sampleLoss))}, []int{}, nil
	case None:
		if perElement {
			return out, append([]int(nil), shape...), nil
		}
		return out, posShape, nil
	case Sum:
		var s compSum
		for _, v := range out {
			s.add(v)
		}
		return []float64{s.sum()}, []int{}, nil
	}
	den := denom.sum()
	if den == 0 {
		return []float64{0}, []int{}, nil
	}
	var s compSum
	for _, v := range out {
		s.add(v)
	}
	return []float64{s.sum() / den}, []int{}, nil
}

// refPosition is what a per-position closed form (Def.position) sees: the
// logits x and targets t of one non-ignored position p, its label y (−1 for
// the background label or multi-hot targets), scratch logp, the class
// weights w, the count-derived adjustments, and where to put the result:
// out[p] (out[elem(c)] for per-element losses) and the mean's denominator.
type refPosition struct {
	spec  Spec
	x, t  []float64
	logp  []float64
	y     int
	p     int
	b, j  int // p's index before and after the class axis
	nc    int
	inner int
	w     func(c int) float64
	adj   *refAdjusted
	out   []float64
	denom *compSum
}

// elem returns the flat index of class c at this position.
func (r *refPosition) elem(c int) int { return (r.b*r.nc+c)*r.inner + r.j }

// refBatch is what a whole-batch closed form (Def.batch) sees: the inputs
// of Reference, checked, with the layout worked out (n positions before
// the class axis, inner after it, C = nc) and the class weights w.
type refBatch struct {
	spec     Spec
	logits   []float64
	shape    []int
	labels   []int64
	targets  []float64
	axis     int
	nc       int
	n, inner int
	posShape []int
	w        func(c int) float64
}

// at returns the flat index of class c at position (b, j).
func (in *refBatch) at(b, c, j int) int { return (b*in.nc+c)*in.inner + j }

// ignored reports whether the label at flat position pos is the
// ignore_index (never, for multi-hot targets).
func (in *refBatch) ignored(pos int) bool {
	return !in.spec.MultiHot && in.spec.IgnoreIndex != nil && in.labels[pos] == *in.spec.IgnoreIndex
}

// probsAt writes the predicted probabilities at position (b, j) to p: a
// sigmoid per class for multi-hot targets, the softmax across the classes
// otherwise. x (length nc) is scratch for the logits.
func (in *refBatch) probsAt(b, j int, x, p []float64) {
	for c := 0; c < in.nc; c++ {
		x[c] = in.logits[in.at(b, c, j)]
	}
	if in.spec.MultiHot {
		for c := range x {
			p[c] = refSigmoid(x[c])
		}
		return
	}
	refLogSoftmax(x, p)
	for c := range p {
		p[c] = math.Exp(p[c])
	}
}

// targetAt returns the target of class c at position (b, j), flat
// position pos: the multi-hot target, or one-hot of the label.
func (in *refBatch) targetAt(b, c, j, pos int) float64 {
	if in.spec.MultiHot {
		return in.targets[in.at(b, c, j)]
	}
	if int64(c) == in.labels[pos] {
		return 1
	}
	return 0
}

// LabelRangeError is a label outside [0, C) that is neither the
// ignore_index nor the background label: the injected graph's loss is NaN
// for it (PyTorch raises an error).
type LabelRangeError struct {
	Label int64
	// Index is the label's position in the labels' shape.
	Index           []int
	Classes         int
	IgnoreIndex     *int64
	BackgroundLabel *int64
}

func (e *LabelRangeError) Error() string {
	allowed := fmt.Sprintf("0..%d", e.Classes-1)
	if e.IgnoreIndex != nil {
		allowed += fmt.Sprintf(" (or the ignore_index %d)", *e.IgnoreIndex)
	}
	if e.BackgroundLabel != nil {
		allowed += fmt.Sprintf(" (or the background label %d)", *e.BackgroundLabel)
	}
	pos := make([]string, len(e.Index))
	for i, v := range e.Index {
		pos[i] = strconv.Itoa(v)
	}
	return fmt.Sprintf("label %d at position %s is out of range: use %s; the injected loss is NaN there", e.Label, strings.Join(pos, ","), allowed)
}

// CheckLabels returns a *LabelRangeError for the first label of labels
// (row-major, of the given shape) that is outside [0, classes) and neither
// spec's ignore_index nor its background label; nil when there is none.
func CheckLabels(spec Spec, classes int, labels []int64, shape []int) error {
	for i, y := range labels {
		if (spec.IgnoreIndex != nil && y == *spec.IgnoreIndex) || (spec.BackgroundLabel != nil && y == *spec.BackgroundLabel) {
			continue
		}
		if y < 0 || y >= int64(classes) {
			return &LabelRangeError{Label: y, Index: unravel(i, shape), Classes: classes, IgnoreIndex: spec.IgnoreIndex, BackgroundLabel: spec.BackgroundLabel}
		}
	}
	return nil
}

// unravel returns the multi-index of flat row-major index i in shape.
func unravel(i int, shape []int) []int {
	idx := make([]int, len(shape))
	for k := len(shape) - 1; k >= 0; k-- {
		if shape[k] > 0 {
			idx[k] = i % shape[k]
			i /= shape[k]
		}
	}
	return idx
}

// refLogSoftmax writes log(softmax(x)) to dst using max subtraction and a
// log-sum-exp.
func refLogSoftmax(x, dst []float64) {
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, v)
	}
	var s compSum
	for _, v := range x {
		s.add(math.Exp(v - m))
	}
	lse := math.Log(s.sum()) // log-sum-exp minus m
	for c, v := range x {
		dst[c] = (v - m) - lse
	}
}

// refSoftplus returns log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)).
func refSoftplus(x float64) float64 {
	return math.Max(x, 0) + math.Log1p(math.Exp(-math.Abs(x)))
}

// refBCE returns the binary cross-entropy of logit x and target t,
// softplus(x) - x·t, as max(x, 0) - x·t + log1p(exp(-|x|)) so that the
// large terms cancel before the small one is added.
func refBCE(x, t float64) float64 {
	return (math.Max(x, 0) - x*t) + math.Log1p(math.Exp(-math.Abs(x)))
}

// refSigmoid returns 1/(1+exp(-x)) without overflow.
func refSigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// compSum is Neumaier-compensated summation, so the reference's sums carry
// (almost) no rounding error of their own.
type compSum struct{ s, c float64 }

func (k *compSum) add(v float64) {
	t := k.s + v
	if math.Abs(k.s) >= math.Abs(v) {
		k.c += (k.s - t) + v
	} else {
		k.c += (v - t) + k.s
	}
	k.s = t
}

func (k *compSum) sum() float64 { return k.s + k.c }
