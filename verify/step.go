package verify

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/inject"
	"github.com/onnxloss/onnxloss/onnxpb"
	"github.com/onnxloss/onnxloss/verify/eval"
)

// StepMetadataKey is the metadata_props key under which `onnxloss step`
// records a step model's loss, parameters and gradient outputs.
const StepMetadataKey = "onnxloss.step"

// stepMetadata mirrors stepmodel.Metadata (kept here so verify does not
// depend on the package that builds step models).
type stepMetadata struct {
	Optimizer string   `json:"optimizer"`
	Loss      string   `json:"loss"`
	Params    []string `json:"params"`
	Grads     []string `json:"grads"`
}

// IsStepModel reports whether m was written by `onnxloss step`.
func IsStepModel(m *graphedit.Model) bool {
	_, ok := m.Metadata(StepMetadataKey)
	return ok
}

// StepOptions controls StepGradients.
type StepOptions struct {
	// Tolerance compares the model's gradients with the float64 analytic
	// ones (float32 models; the float64 copy is compared at 1e-6).
	Tolerance Tolerance
	Seed      int64
	// Samples is the number of elements per parameter checked by finite
	// differences (0: 8).
	Samples int
	// Params, when set, limits the check to these parameters (large
	// models: each finite difference is two forward passes).
	Params []string
}

// StepGradients checks a step model's gradients. It draws seeded inputs
// (symbolic dims of size 3, labels in [0, C)), and per parameter compares
// (1) the gradient that a float64 copy of the same graph computes with
// central finite differences of that copy's loss on sampled elements, and
// (2) the model's own gradient outputs with the float64 copy's. Dropout
// runs as the identity (its mask is random).
func StepGradients(m *graphedit.Model, path string, opt StepOptions) (*Report, error) {
	raw, _ := m.Metadata(StepMetadataKey)
	var md stepMetadata
	if err := json.Unmarshal([]byte(raw), &md); err != nil {
		return nil, fmt.Errorf("%s: bad %s metadata: %w", path, StepMetadataKey, err)
	}
	if md.Optimizer != "" && md.Optimizer != "none" {
		// An optimizer step model holds its gradients as unnamed inner values
		// and takes its parameters as state inputs: what verify checks is the
		// gradient model of the same train model (the update itself is checked
		// against torch.optim by the test suite).
		return nil, fmt.Errorf("%s is an %s step model: verify checks gradients of `onnxloss step --optimizer none` models; write one from the same train model and verify that", path, md.Optimizer)
	}
	if len(md.Params) != len(md.Grads) || md.Loss == "" {
		return nil, fmt.Errorf("%s: %s metadata names %d params and %d gradients", path, StepMetadataKey, len(md.Params), len(md.Grads))
	}
	if opt.Samples <= 0 {
		opt.Samples = 8
	}
	rng := rand.New(rand.NewSource(opt.Seed))
	ranges := indexRanges(m)
	if imd, ok, err := inject.ReadMetadata(m); err == nil && ok {
		ranges[imd.Labels] = int64(imd.NumClasses)
	}
	feeds32, feeds64, err := stepFeeds(m, rng, ranges)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	rep := &Report{Model: path, Mode: "step", Tolerance: opt.Tolerance, Pass: true}
	m = withoutDropout(m)
	sess, err := eval.NewSession(m.Proto, m.Dir)
	if err != nil {
		return nil, fmt.Errorf("preparing the evaluator: %w", err)
	}
	sess.UseInferenceMode()
	got, err := sess.Run(feeds32, md.Grads)
	if err != nil {
		return nil, fmt.Errorf("evaluating the step model: %w", err)
	}
	// The float64 copy takes the parameters as inputs, so finite
	// differences need no new session per step.
	m64, params64, err := float64Copy(m, md.Params)
	if err != nil {
		return nil, err
	}
	s64, err := eval.NewSession(m64, "")
	if err != nil {
		return nil, fmt.Errorf("preparing the float64 copy: %w", err)
	}
	s64.UseInferenceMode()
	for k, v := range params64 {
		feeds64[k] = v
	}
	an, err := s64.Run(feeds64, md.Grads)
	if err != nil {
		return nil, fmt.Errorf("evaluating the float64 copy: %w", err)
	}
	// Copy the gradients out before the session runs again.
	ana64 := map[string][]float64{}
	for k, v := range an {
		ana64[k] = append([]float64(nil), v.AsFloat64()...)
	}
	l0 := 0.0
	lossAt := func() (float64, error) {
		out, err := s64.Run(feeds64, []string{md.Loss})
		if err != nil {
			return 0, err
		}
		return out[md.Loss].AsFloat64()[0], nil
	}
	if l0, err = lossAt(); err != nil {
		return nil, err
	}
	for i, p := range md.Params {
		if len(opt.Params) > 0 && !slices.Contains(opt.Params, p) {
			continue
		}
		g64 := ana64[md.Grads[i]]
		pv := params64[p].Float64s()
		n := opt.Samples
		if n > len(pv) {
			n = len(pv)
		}
		picks := rng.Perm(len(pv))[:n]
		fd := make([]float64, n)
		ana := make([]float64, n)
		for j, k := range picks {
			orig := pv[k]
			h := 1e-6 * math.Max(1, math.Abs(orig))
			pv[k] = orig + h
			up, err := lossAt()
			if err != nil {
				return nil, err
			}
			pv[k] = orig - h
			down, err := lossAt()
			if err != nil {
				return nil, err
			}
			pv[k] = orig
			fd[j] = (up - down) / (2 * h)
			ana[j] = g64[k]
		}
		// Central differences in float64 with h = 1e-6 |p|: truncation
		// ~h^2 times the third derivative, rounding ~2^-52 |loss| / h
		// (allowed 100 times over).
		fdTol := Tolerance{RTol: 1e-6, ATol: 1e-8 + 100*0x1p-52*math.Abs(l0)/1e-6}
		rep.add(compareScaled(fmt.Sprintf("float64 gradient of %s vs finite differences (%d elements)", p, n), md.Grads[i], ana, fd, fdTol))
		rep.add(compareScaled(fmt.Sprintf("model's gradient of %s vs the float64 graph", p), md.Grads[i], got[md.Grads[i]].AsFloat64(), g64, opt.Tolerance))
	}
	return rep, nil
}

// compareScaled compares with the relative tolerance taken against the
// largest |want| (an infinity-norm comparison): gradient entries that are
// sums cancelling to ~0 carry the rounding of their large terms.
func compareScaled(name, output string, got, want []float64, tol Tolerance) Check {
	scale := 0.0
	for _, w := range want {
		scale = math.Max(scale, math.Abs(w))
	}
	c := compareValues(name, output, got, want, Tolerance{ATol: tol.ATol + tol.RTol*scale})
	return c
}

// withoutDropout returns a copy of m whose Dropout nodes have ratio 0:
// their masks are random, so the check runs the mask path with nothing
// dropped (the gradient then must equal the identity's, not be scaled by
// 1/(1 - ratio) as the evaluator's inference-mode identity would need).
func withoutDropout(m *graphedit.Model) *graphedit.Model {
	mp := proto.Clone(m.Proto).(*onnxpb.ModelProto)
	c := &graphedit.Model{Proto: mp, Dir: m.Dir}
	ratios := map[string]string{} // ratio value -> its zero replacement
	for _, n := range mp.GetGraph().GetNode() {
		if n.GetOpType() != "Dropout" {
			continue
		}
		if len(n.GetInput()) >= 2 && n.GetInput()[1] != "" && ratios[n.GetInput()[1]] == "" {
			zero := c.UniqueName("verify/zero_ratio")
			mp.Graph.Initializer = append(mp.Graph.Initializer, graphedit.Float32Tensor(zero, []int64{}, []float32{0}))
			ratios[n.GetInput()[1]] = zero
		}
		for _, a := range n.GetAttribute() {
			if a.GetName() == "ratio" {
				a.F = proto.Float32(0)
			}
		}
	}
	// Every consumer of a ratio (the gradient's 1/(1 - ratio) too) reads 0.
	for _, n := range mp.GetGraph().GetNode() {
		for i, in := range n.GetInput() {
			if z := ratios[in]; z != "" {
				n.Input[i] = z
			}
		}
	}
	return c
}

// indexRanges finds, for integer graph inputs used as Gather indices into
// an initializer (token ids into an embedding), the size of the gathered
// axis.
func indexRanges(m *graphedit.Model) map[string]int64 {
	out := map[string]int64{}
	for _, n := range m.Graph().GetNode() {
		if n.GetOpType() != "Gather" || len(n.GetInput()) < 2 {
			continue
		}
		t := m.Initializer(n.GetInput()[0])
		if t == nil {
			continue
		}
		axis := graphedit.AttrIntOr(n, "axis", 0)
		if axis < 0 {
			axis += int64(len(t.GetDims()))
		}
		if axis >= 0 && axis < int64(len(t.GetDims())) {
			out[n.GetInput()[1]] = t.GetDims()[axis]
		}
	}
	return out
}

// stepFeeds draws the graph inputs: floats N(0,1), integers in [0, range)
// (labels: the classes; Gather indices: the gathered axis).
func stepFeeds(m *graphedit.Model, rng *rand.Rand, ranges map[string]int64) (map[string]*eval.Tensor, map[string]*eval.Tensor, error) {
	f32, f64 := map[string]*eval.Tensor{}, map[string]*eval.Tensor{}
	inits := map[string]bool{}
	for _, t := range m.Graph().GetInitializer() {
		inits[t.GetName()] = true
	}
	for _, in := range m.Graph().GetInput() {
		name := in.GetName()
		if inits[name] {
			continue
		}
		vt, ok := m.ValueType(name)
		if !ok || vt.Shape == nil {
			return nil, nil, fmt.Errorf("input %q has no declared shape", name)
		}
		shape := make([]int64, len(vt.Shape))
		for i, d := range vt.Shape {
			shape[i] = d.Value
			if d.Value < 0 {
				shape[i] = 3
			}
		}
		n := eval.NumElements(shape)
		switch vt.Elem {
		case onnxpb.TensorProto_FLOAT, onnxpb.TensorProto_DOUBLE:
			d64 := make([]float64, n)
			d32 := make([]float32, n)
			for i := range d64 {
				d32[i] = float32(rng.NormFloat64())
				d64[i] = float64(d32[i])
			}
			if vt.Elem == onnxpb.TensorProto_DOUBLE {
				f32[name] = eval.NewFloat64(shape, d64)
			} else {
				f32[name] = eval.NewFloat32(shape, d32)
			}
			f64[name] = eval.NewFloat64(shape, d64)
		case onnxpb.TensorProto_INT64, onnxpb.TensorProto_INT32:
			classes := ranges[name]
			if classes <= 0 {
				return nil, nil, fmt.Errorf("integer input %q: neither onnxloss's inject metadata nor a Gather says its range; verify with --inputs", name)
			}
			v := make([]int64, n)
			for i := range v {
				v[i] = rng.Int63n(classes)
			}
			if vt.Elem == onnxpb.TensorProto_INT32 {
				v32 := make([]int32, n)
				for i, x := range v {
					v32[i] = int32(x)
				}
				f32[name], f64[name] = eval.NewInt32(shape, v32), eval.NewInt32(shape, v32)
			} else {
				f32[name], f64[name] = eval.NewInt64(shape, v), eval.NewInt64(shape, v)
			}
		default:
			return nil, nil, fmt.Errorf("input %q of type %s: verify with --inputs", name, graphedit.ElemName(vt.Elem))
		}
	}
	return f32, f64, nil
}

// float64Copy returns a copy of m computing in float64 (float32 inputs,
// initializers, constants, Casts and declarations become float64) whose
// params are graph inputs, with their float64 values.
func float64Copy(m *graphedit.Model, params []string) (*onnxpb.ModelProto, map[string]*eval.Tensor, error) {
	mp := proto.Clone(m.Proto).(*onnxpb.ModelProto)
	g := mp.GetGraph()
	isParam := map[string]bool{}
	for _, p := range params {
		isParam[p] = true
	}
	vals := map[string]*eval.Tensor{}
	var keep []*onnxpb.TensorProto
	for _, t := range g.GetInitializer() {
		if t.GetDataType() != int32(onnxpb.TensorProto_FLOAT) && !isParam[t.GetName()] {
			keep = append(keep, t)
			continue
		}
		x, err := eval.FromProto(t, m.Dir)
		if err != nil {
			return nil, nil, fmt.Errorf("initializer %q: %w", t.GetName(), err)
		}
		v := eval.NewFloat64(x.Shape(), x.AsFloat64())
		if isParam[t.GetName()] {
			vals[t.GetName()] = v
			dims := make([]graphedit.Dim, len(x.Shape()))
			for i, d := range x.Shape() {
				dims[i] = graphedit.Dim{Value: d}
			}
			g.Input = append(g.Input, graphedit.TensorValueInfo(t.GetName(), graphedit.ValueType{Elem: onnxpb.TensorProto_DOUBLE, Shape: dims}))
			continue
		}
		keep = append(keep, graphedit.Float64Tensor(t.GetName(), x.Shape(), x.AsFloat64()))
	}
	g.Initializer = keep
	for _, list := range [][]*onnxpb.ValueInfoProto{g.GetInput(), g.GetOutput(), g.GetValueInfo()} {
		for _, vi := range list {
			if tt := vi.GetType().GetTensorType(); tt != nil && tt.GetElemType() == int32(onnxpb.TensorProto_FLOAT) {
				tt.ElemType = proto.Int32(int32(onnxpb.TensorProto_DOUBLE))
			}
		}
	}
	for _, n := range g.GetNode() {
		for _, a := range n.GetAttribute() {
			if n.GetOpType() == "Cast" && a.GetName() == "to" && a.GetI() == int64(onnxpb.TensorProto_FLOAT) {
				a.I = proto.Int64(int64(onnxpb.TensorProto_DOUBLE))
			}
			if t := a.GetT(); t != nil && t.GetDataType() == int32(onnxpb.TensorProto_FLOAT) {
				x, err := eval.FromProto(t, m.Dir)
				if err != nil {
					return nil, nil, fmt.Errorf("node %q: %w", n.GetName(), err)
				}
				a.T = graphedit.Float64Tensor(t.GetName(), x.Shape(), x.AsFloat64())
			}
		}
	}
	return mp, vals, nil
}
