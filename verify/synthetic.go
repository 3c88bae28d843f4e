package verify

import (
	"errors"
	"fmt"
	"math"
	"math/rand"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/inject"
	"github.com/onnxloss/onnxloss/lossops"
	"github.com/onnxloss/onnxloss/tensorfile"
	"github.com/onnxloss/onnxloss/verify/eval"
)

// Report is the outcome of a verification: one Check per output and case.
type Report struct {
	Model string `json:"model"`
	// Mode is "synthetic", "inputs" or "expect".
	Mode      string    `json:"mode"`
	Tolerance Tolerance `json:"tolerance"`
	// ScaledDefault is set when outputs compared with expected tensors used
	// RuntimeTolerance (each check carries its own tolerance).
	ScaledDefault bool `json:"scaled_default,omitempty"`
	// Scale is the float32 s of that rule (see RuntimeTolerance).
	Scale  float64 `json:"scale,omitempty"`
	Checks []Check `json:"checks"`
	Pass   bool    `json:"pass"`
}

func (r *Report) add(c Check) {
	r.Checks = append(r.Checks, c)
	r.Pass = r.Pass && c.Pass
}

// SyntheticOptions controls the metadata-driven check.
type SyntheticOptions struct {
	Tolerance Tolerance
	// Seed makes the random logits and labels reproducible.
	Seed int64
}

// syntheticShape is one batch shape the synthetic check draws: the batch
// size and the extra dims (used when the logits have rank > 2).
type syntheticShape struct {
	batch   int64
	spatial []int64
}

var syntheticShapes = []syntheticShape{
	{1, []int64{1, 1, 1}},
	{4, []int64{3, 2, 2}},
	{17, []int64{5, 3, 1}},
	{64, []int64{2, 4, 3}},
}

// Synthetic reads the model's onnxloss metadata, draws seeded random logits
// and labels for several batch shapes (with ignored positions when the loss
// has an ignore_index), runs the loss subgraph in the evaluator with the
// logits fed in directly, and compares its loss with lossops' float64 closed
// form on the same (rounded) logits.
func Synthetic(m *graphedit.Model, path string, opt SyntheticOptions) (*Report, error) {
	md, ok, err := inject.ReadMetadata(m)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%s has no onnxloss metadata: run `onnxloss inject` first, or compare outputs with --inputs/--expect", path)
	}
	if err := checkMetadata(md); err != nil {
		return nil, fmt.Errorf("%s: onnxloss metadata: %w", path, err)
	}
	sess, err := eval.NewSession(m.Proto, m.Dir)
	if err != nil {
		return nil, fmt.Errorf("preparing the evaluator: %w", err)
	}
	// A graph exported in training mode keeps its Dropout; like ONNX
	// Runtime's inference sessions, evaluate it as the identity.
	sess.UseInferenceMode()
	rep := &Report{Model: path, Mode: "synthetic", Tolerance: opt.Tolerance, Pass: true}
	rng := rand.New(rand.NewSource(opt.Seed))
	heads := md.Heads
	if len(heads) == 0 {
		heads = []inject.Head{{Logits: md.Logits, LogitsDType: md.LogitsDType, LogitsRank: md.LogitsRank, ClassAxis: md.Axis(), Labels: md.Labels, LossOutput: md.LossOutput, Weight: 1}}
	}
	for _, sh := range syntheticShapes {
		feeds := map[string]*eval.Tensor{}
		type drawn struct {
			logits64 []float64
			shape    []int
			labels   []int64
			targets  []float64
		}
		draws := make([]drawn, len(heads))
		var name string
		for i, h := range heads {
			if h.LogitsRank-2 > len(sh.spatial) {
				return nil, fmt.Errorf("logits of rank %d are not supported by the synthetic check", h.LogitsRank)
			}
			// The non-class dims (batch, then spatial/sequence), with C
			// inserted at the class axis.
			posShape := append([]int64{sh.batch}, sh.spatial[:h.LogitsRank-2]...)
			shape := append(append(append([]int64{}, posShape[:h.ClassAxis]...), int64(md.NumClasses)), posShape[h.ClassAxis:]...)
			if i == 0 {
				name = fmt.Sprintf("synthetic, logits %v", shape)
			} else {
				name += fmt.Sprintf(" + %v", shape)
			}
			logits, logits64, err := randomLogits(rng, h.LogitsDType, shape)
			if err != nil {
				return nil, err
			}
			feeds[h.Logits] = logits
			d := drawn{logits64: logits64, shape: make([]int, len(shape))}
			for k, v := range shape {
				d.shape[k] = int(v)
			}
			if prev := feeds[h.Labels]; prev != nil {
				// A shared labels input: the first head drew it.
				d.labels, d.targets = draws[0].labels, draws[0].targets
			} else {
				labels, labels64, targets, err := randomLabels(rng, md, shape, posShape)
				if err != nil {
					return nil, err
				}
				feeds[h.Labels] = labels
				d.labels, d.targets = labels64, targets
			}
			draws[i] = d
		}
		outputs := []string{md.LossOutput}
		if len(md.Heads) > 0 {
			for _, h := range heads {
				outputs = append(outputs, h.LossOutput)
			}
		}
		out, err := sess.Run(feeds, outputs)
		if errors.Is(err, eval.ErrTooLarge) {
			return nil, fmt.Errorf("evaluating %s: %w", path, err) // bad input, not a mismatch
		}
		if err != nil {
			rep.add(Check{Name: name, Output: md.LossOutput, Problem: "evaluator: " + err.Error()})
			continue
		}
		var total []float64
		for i, h := range heads {
			hspec := md.HeadSpec(h)
			want, _, err := lossops.Reference(hspec, draws[i].logits64, draws[i].shape, draws[i].labels, draws[i].targets)
			if err != nil {
				return nil, fmt.Errorf("closed form: %w", err)
			}
			tol := RoundingTolerance(opt.Tolerance, hspec, h.LogitsDType, draws[i].logits64)
			if len(md.Heads) > 0 {
				rep.add(compareValues(name, h.LossOutput, out[h.LossOutput].AsFloat64(), want, tol))
			}
			if total == nil {
				total = make([]float64, len(want))
			}
			for k := range want {
				total[k] += h.Weight * want[k]
			}
			if i == len(heads)-1 {
				rep.add(compareValues(name, md.LossOutput, out[md.LossOutput].AsFloat64(), total, tol))
			}
		}
	}
	return rep, nil
}

// RoundingTolerance widens the absolute tolerance by the rounding of the
// scores the graph feeds to its softmax/sigmoid: those reach M = max|x|·s
// (s = LDAM's scale, else 1) plus count-derived offsets (|log n| ≤ 21 for
// n ≤ 1e9, plus margins), the graph holds them to a unit roundoff u·M
// (u = 2⁻²⁴ in float32, 2⁻⁵³ in float64), and a log-softmax that subtracts
// two such numbers leaves the loss with an absolute error of a few u·M
// whatever the loss's own size. 4·u·M bounds what we see with room to spare
// while staying far below any real defect (a wrong weight or margin moves
// the loss by orders of magnitude more).
func RoundingTolerance(tol Tolerance, spec lossops.Spec, dtype string, logits []float64) Tolerance {
	u := 0x1p-24
	if dtype == "float64" {
		u = 0x1p-53
	}
	maxAbs := 0.0
	for _, v := range logits {
		maxAbs = math.Max(maxAbs, math.Abs(v))
	}
	M := maxAbs*math.Max(1, spec.Scale) + 25
	tol.ATol += 4 * u * M
	return tol
}

// randomLogits draws N(0, 3²) logits in the given dtype and returns them
// with their exact float64 values.
func randomLogits(rng *rand.Rand, dtype string, shape []int64) (*eval.Tensor, []float64, error) {
	n := eval.NumElements(shape)
	v64 := make([]float64, n)
	for i := range v64 {
		v64[i] = 3 * rng.NormFloat64()
	}
	switch dtype {
	case "float64":
		return eval.NewFloat64(shape, v64), v64, nil
	case "float32":
		f := make([]float32, n)
		for i, v := range v64 {
			f[i] = float32(v)
			v64[i] = float64(f[i])
		}
		return eval.NewFloat32(shape, f), v64, nil
	case "float16":
		bits := make([]uint16, n)
		for i, v := range v64 {
			h := tensorfile.Float16FromFloat32(float32(v))
			bits[i] = uint16(h)
			v64[i] = float64(h.Float32())
		}
		return eval.NewFloat16(shape, bits), v64, nil
	case "bfloat16":
		bits := make([]uint16, n)
		for i, v := range v64 {
			bits[i] = uint16(math.Float32bits(float32(v)) >> 16)
			v64[i] = float64(math.Float32frombits(uint32(bits[i]) << 16))
		}
		t, err := eval.New(eval.BFloat16, shape)
		if err != nil {
			return nil, nil, err
		}
		copy(t.Data().([]uint16), bits)
		return t, v64, nil
	}
	return nil, nil, fmt.Errorf("logits dtype %q is not supported by the synthetic check", dtype)
}

// randomLabels draws labels of shape lshape (about a fifth ignored when the
// loss has an ignore_index, about a third background with a background
// label) or 0/1 multi-hot targets for logits of the given shape.
func randomLabels(rng *rand.Rand, md *inject.Metadata, shape, lshape []int64) (*eval.Tensor, []int64, []float64, error) {
	C := int64(md.NumClasses)
	if md.Targets == "multi-hot" {
		n := eval.NumElements(shape)
		t := make([]float32, n)
		t64 := make([]float64, n)
		for i := range t {
			if rng.Intn(3) == 0 {
				t[i], t64[i] = 1, 1
			}
		}
		return eval.NewFloat32(shape, t), nil, t64, nil
	}
	n := eval.NumElements(lshape)
	labels := make([]int64, n)
	for i := range labels {
		labels[i] = rng.Int63n(C)
		if md.BackgroundLabel != nil && rng.Intn(3) == 0 {
			labels[i] = *md.BackgroundLabel
		}
		if md.IgnoreIndex != nil && rng.Intn(5) == 0 {
			labels[i] = *md.IgnoreIndex
		}
	}
	switch md.LabelsDType {
	case "int64":
		return eval.NewInt64(lshape, labels), labels, nil, nil
	case "int32":
		l32 := make([]int32, n)
		for i, v := range labels {
			l32[i] = int32(v)
		}
		return eval.NewInt32(lshape, l32), labels, nil, nil
	}
	return nil, nil, nil, fmt.Errorf("labels dtype %q is not supported", md.LabelsDType)
}
