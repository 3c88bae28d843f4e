package verify

import (
	"math"

	"github.com/onnxloss/onnxloss/onnxpb"
	"github.com/onnxloss/onnxloss/verify/eval"
)

// The default tolerance for an output of a whole model compared with what
// another runtime computed (--expect without --rtol/--atol) is relative to
// the output's scale:
//
//	|got − want| ≤ s·(|want| + max|want|),   s = 4·u·√(L·D)
//
// with max|want| over the output, u the unit roundoff of its type (2⁻²⁴ for
// float32), L the longest inner product of the model (Conv C/g·kh·kw, Gemm
// or MatMul K, from the weights) and D the number of such layers. Why:
// two runtimes evaluate a network in different summation orders (blocked
// GEMMs, FMA, fused kernels); an inner product of length L leaves a
// relative error of about u·√L of its terms' scale, D layers compound it
// like a random walk, and an element that is small through cancellation
// carries the absolute error of the large values it came from, so the
// discrepancy is a fraction of the output's scale, not of each element.
// 4·u·√(L·D) bounds what we measure: on the 20 exports of testdata/archs
// ONNX Runtime 1.30 and this evaluator differ by 2e-7 to 8.1e-6 of
// max|want| (the worst: densenet121, whose s is 8.9e-5) where s is 6e-6
// (the text classifier) to 1e-4, and issue 19's efficientnet_b0 at
// 224×224 (1.6e-5) is under its s (the same weights as at 64×64: 7.7e-5). s is capped at 1e-4 so that a relative
// error of 1e-3 in any element larger than a ninth of the output's scale
// still fails, and floored at 16u. Integers and bools must match exactly;
// float64 outputs keep DefaultTolerance.
const maxScaledTolerance = 1e-4

// ReductionDepth returns L (the longest inner product of the model's
// Conv, ConvTranspose, Gemm and MatMul layers whose weights are
// initializers) and D (how many such layers there are), both at least 1.
func ReductionDepth(model *onnxpb.ModelProto) (l, d int64) {
	g := model.GetGraph()
	inits := map[string][]int64{}
	for _, t := range g.GetInitializer() {
		inits[t.GetName()] = t.GetDims()
	}
	l, d = 1, 0
	for _, n := range g.GetNode() {
		in := n.GetInput()
		if len(in) < 2 {
			continue
		}
		w, ok := inits[in[1]]
		if !ok || len(w) < 2 {
			continue
		}
		var k int64
		switch n.GetOpType() {
		case "Conv":
			k = 1
			for _, v := range w[1:] {
				k *= v
			}
		case "ConvTranspose":
			k = w[0]
			for _, v := range w[2:] {
				k *= v
			}
		case "Gemm":
			k = w[0]
			for _, a := range n.GetAttribute() {
				if a.GetName() == "transB" && a.GetI() != 0 {
					k = w[1]
				}
			}
		case "MatMul":
			k = w[len(w)-2]
		default:
			continue
		}
		l = max(l, k)
		d++
	}
	return l, max(d, 1)
}

// ScaledTolerance returns s for a model (see above) and an element type
// of unit roundoff u.
func ScaledTolerance(model *onnxpb.ModelProto, u float64) float64 {
	l, d := ReductionDepth(model)
	s := 4 * u * math.Sqrt(float64(l)*float64(d))
	return math.Min(math.Max(s, 16*u), math.Max(maxScaledTolerance, 16*u))
}

// RuntimeTolerance returns the default tolerance for an output of type dt
// whose expected values are want, for a model whose scaled tolerance for
// float32 is s32 (ScaledTolerance(model, 2⁻²⁴)).
func RuntimeTolerance(model *onnxpb.ModelProto, dt eval.DType, want []float64) Tolerance {
	var s float64
	switch dt {
	case eval.Float32:
		s = ScaledTolerance(model, 0x1p-24)
	case eval.Float16:
		s = ScaledTolerance(model, 0x1p-11)
	case eval.BFloat16:
		s = ScaledTolerance(model, 0x1p-8)
	case eval.Float64:
		return DefaultTolerance
	default:
		return Tolerance{}
	}
	m := 0.0
	for _, v := range want {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			m = math.Max(m, math.Abs(v))
		}
	}
	return Tolerance{RTol: s, ATol: s * m}
}
