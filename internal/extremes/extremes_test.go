package extremes_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/onnxloss/onnxloss/inject"
	"github.com/onnxloss/onnxloss/internal/goldens"
	"github.com/onnxloss/onnxloss/lossops"
	"github.com/onnxloss/onnxloss/onnxpb"
	"github.com/onnxloss/onnxloss/verify/eval"
)

// opset is the default-domain opset of the host models.
const opset = 17

// ignoreIndex is the ignore_index of the scenarios that ignore positions.
const ignoreIndex = -100

// Unit roundoffs of the two compute types.
const (
	u32 = 0x1p-24
	u64 = 0x1p-53
)

// scenario is one extreme input: logits of shape (n, c), labels and counts.
type scenario struct {
	name string
	n, c int
	// logits returns the row-major (n, c) logits in float64; the float32
	// runs round them to float32 first and give the reference the rounded
	// values.
	logits func(n, c int) []float64
	// labels returns the n labels; nil means a spread of classes.
	labels func(n, c int) []int64
	// counts are the per-class sample counts, len c.
	counts []float64
	// ignoreAll sets ignore_index and labels every position with it.
	ignoreAll bool
}

// mixed returns ±mag logits with pseudo-random signs (seeded by mag, n, c).
func mixed(mag float64) func(n, c int) []float64 {
	return func(n, c int) []float64 {
		r := rand.New(rand.NewPCG(uint64(mag*1000), uint64(n*c)))
		x := make([]float64, n*c)
		for i := range x {
			x[i] = mag
			if r.IntN(2) == 0 {
				x[i] = -mag
			}
		}
		return x
	}
}

// rows returns the given rows as (n, c) logits.
func rows(r ...[]float64) func(n, c int) []float64 {
	return func(n, c int) []float64 {
		var x []float64
		for _, row := range r {
			x = append(x, row...)
		}
		return x
	}
}

// equal returns logits that all equal v.
func equal(v float64) func(n, c int) []float64 {
	return func(n, c int) []float64 {
		x := make([]float64, n*c)
		for i := range x {
			x[i] = v
		}
		return x
	}
}

// normal returns N(0, σ²) logits.
func normal(sigma float64) func(n, c int) []float64 {
	return func(n, c int) []float64 {
		r := rand.New(rand.NewPCG(7, uint64(n*c)))
		x := make([]float64, n*c)
		for i := range x {
			x[i] = sigma * r.NormFloat64()
		}
		return x
	}
}

// spread labels row i with class (7919·i) mod c.
func spread(n, c int) []int64 {
	y := make([]int64, n)
	for i := range y {
		y[i] = int64((7919 * i) % c)
	}
	return y
}

// longTail returns c counts growing geometrically from lo to hi, rounded to
// whole samples.
func longTail(c int, lo, hi float64) []float64 {
	n := make([]float64, c)
	for k := range n {
		f := 0.0
		if c > 1 {
			f = float64(k) / float64(c-1)
		}
		n[k] = math.Round(lo * math.Pow(hi/lo, f))
	}
	return n
}

// same returns c counts equal to v.
func same(c int, v float64) []float64 {
	n := make([]float64, c)
	for i := range n {
		n[i] = v
	}
	return n
}

var scenarios = []scenario{
	{name: "±1e4 right and wrong, C=2", n: 4, c: 2,
		logits: rows([]float64{1e4, -1e4}, []float64{1e4, -1e4}, []float64{-1e4, 1e4}, []float64{-1e4, 1e4}),
		labels: func(int, int) []int64 { return []int64{0, 1, 0, 1} }, counts: []float64{1, 1e9}},
	{name: "±88 mixed, long tail 1..1e9", n: 6, c: 5, logits: mixed(88), counts: []float64{1, 100, 1e4, 1e6, 1e9}},
	{name: "±89 mixed (float32 exp overflows)", n: 6, c: 5, logits: mixed(89), counts: []float64{1e9, 1e6, 1e4, 100, 1}},
	{name: "±1e4 mixed, C=1000, long tail", n: 3, c: 1000, logits: mixed(1e4), counts: longTail(1000, 1, 1e9)},
	{name: "all equal, C=1000", n: 2, c: 1000, logits: equal(7.5), counts: longTail(1000, 1, 1e9)},
	{name: "all equal 1e4, C=2", n: 3, c: 2, logits: equal(1e4), counts: []float64{1, 1e9}},
	{name: "all equal -88, C=2", n: 3, c: 2, logits: equal(-88), counts: []float64{5, 5}},
	{name: "β=0.9999, n=1e9 every class", n: 4, c: 4, logits: normal(3), counts: same(4, 1e9)},
	{name: "β=0.9999, n from 1 to 1e9", n: 10, c: 10, logits: normal(10), counts: longTail(10, 1, 1e9)},
	{name: "batch of 1, C=3", n: 1, c: 3, logits: rows([]float64{2, -1, 0.5}), counts: []float64{10, 1e9, 1}},
	{name: "batch of 1, C=1000, ±1e4", n: 1, c: 1000, logits: mixed(1e4), counts: longTail(1000, 1, 1e9)},
	{name: "every position ignored, ±1e4", n: 4, c: 3, logits: mixed(1e4), counts: []float64{1, 1e4, 1e9}, ignoreAll: true},
	{name: "every position ignored, batch of 1", n: 1, c: 3, logits: mixed(88), counts: []float64{1, 1e4, 1e9}, ignoreAll: true},
}

// usesGamma reports whether γ enters the loss.
func usesGamma(l lossops.Loss) bool {
	return l == lossops.Focal || l == lossops.SigmoidFocal || l == lossops.CBFocal
}

// variant is one loss configuration run on every scenario.
type variant struct {
	loss  lossops.Loss
	gamma float64
}

// variants lists every loss of the catalogue, with γ ∈ {0, 0.5, 5} for the
// losses that have a γ.
func variants() []variant {
	var vs []variant
	for _, l := range lossops.Losses {
		if !usesGamma(l) {
			vs = append(vs, variant{l, 2})
			continue
		}
		for _, g := range []float64{0, 0.5, 5} {
			vs = append(vs, variant{l, g})
		}
	}
	return vs
}

// injected is a scenario's host model with a loss injected, ready to run.
type injected struct {
	sess *eval.Session
	md   *inject.Metadata
	spec lossops.Spec
	c    int
}

// build injects v with reduction red into a host model whose logits are
// (N, sc.c) of dtype ("float32" or "float64") at the default options of the
// CLI (default weighting, β = 0.9999, α = 0.25, τ = 1, max margin 0.5,
// scale 30).
func build(sc scenario, v variant, red lossops.Reduction, dtype string) (*injected, error) {
	host := goldens.Case{Opset: opset, LogitsDtype: dtype, Logits: goldens.Tensor{Shape: []int{sc.n, sc.c}}}
	m, err := host.HostModel()
	if err != nil {
		return nil, fmt.Errorf("host model: %w", err)
	}
	opt := inject.Options{
		Loss: v.loss, Counts: &lossops.Counts{Values: sc.counts}, Beta: 0.9999, Normalize: true,
		Gamma: v.gamma, Alpha: 0.25, Reduction: red, LabelsElem: onnxpb.TensorProto_INT64,
		Tau: lossops.DefaultTau, MaxMargin: lossops.DefaultMaxMargin, Scale: lossops.DefaultScale,
		Epsilon: lossops.Lookup(v.loss).Default("epsilon"), Smooth: lossops.Lookup(v.loss).Default("smooth"),
		TverskyBeta: lossops.Lookup(v.loss).Default("tversky-beta"),
		GammaPos:    lossops.Lookup(v.loss).Default("gamma-pos"), GammaNeg: lossops.Lookup(v.loss).Default("gamma-neg"), Clip: lossops.Lookup(v.loss).Default("clip"),
		SeesawP: lossops.Lookup(v.loss).Default("seesaw-p"), SeesawQ: lossops.Lookup(v.loss).Default("seesaw-q"),
	}
	if sc.ignoreAll {
		ii := int64(ignoreIndex)
		opt.IgnoreIndex = &ii
	}
	res, err := inject.Inject(m, opt)
	if err != nil {
		return nil, fmt.Errorf("inject: %w", err)
	}
	sess, err := eval.NewSession(m.Proto, "")
	if err != nil {
		return nil, fmt.Errorf("evaluator: %w", err)
	}
	return &injected{sess: sess, md: res.Metadata, spec: res.Metadata.Spec(), c: sc.c}, nil
}

// labelsOf returns the scenario's labels.
func labelsOf(sc scenario) []int64 {
	switch {
	case sc.ignoreAll:
		y := make([]int64, sc.n)
		for i := range y {
			y[i] = ignoreIndex
		}
		return y
	case sc.labels != nil:
		return sc.labels(sc.n, sc.c)
	}
	return spread(sc.n, sc.c)
}

// run evaluates the injected loss on logits x (fed to the host's input in
// the host's dtype) and returns it in float64.
func (in *injected) run(x []float64, labels []int64) ([]float64, error) {
	shape := []int64{int64(len(labels)), int64(in.c)}
	var xt *eval.Tensor
	if in.md.LogitsDType == "float64" {
		xt = eval.NewFloat64(shape, x)
	} else {
		f := make([]float32, len(x))
		for i, v := range x {
			f[i] = float32(v)
		}
		xt = eval.NewFloat32(shape, f)
	}
	out, err := in.sess.Run(map[string]*eval.Tensor{"scores": xt, in.md.Labels: eval.NewInt64([]int64{shape[0]}, labels)}, []string{in.md.LossOutput})
	if err != nil {
		return nil, fmt.Errorf("evaluator: %w", err)
	}
	return out[in.md.LossOutput].AsFloat64(), nil
}

// reference is lossops.Reference on (N, C) logits.
func (in *injected) reference(x []float64, labels []int64) ([]float64, error) {
	want, _, err := lossops.Reference(in.spec, x, []int{len(labels), in.c}, labels, nil)
	if err != nil {
		return nil, fmt.Errorf("closed form: %w", err)
	}
	return want, nil
}

// tolerance bounds |graph − closed form| for each loss value, following the
// rule of verify's roundingTolerance and extending it to the sizes here.
//
// The graph holds the scores its softmax/sigmoid sees, which reach
// M = s·(max|x| + max|offset or margin|) + 25 (s = ldam's scale, else 1), to
// a unit roundoff u·M; a log-softmax or BCE that subtracts two such numbers
// leaves each per-class term with an absolute error of a few u·M, and the
// log of a sum of C exponentials adds up to C·u. So one position's loss is
// within 4·u·(M + C), times:
//   - (1 + γ): the focal modulator (1 − p)^γ moves by at most γ times the
//     error of log p (d/dlog p of (1−p)^γ·(−log p) is bounded by 1 + γ);
//   - C for cb_sigmoid and cb_focal, which sum C per-class BCE terms;
//   - the largest class weight, which multiplies each position's loss.
//
// sum adds P such errors (P = positions, or elements for sigmoid_focal);
// mean averages them. On top, summing P values of the size of the result in
// the compute type costs a relative 4·u·P.
func tolerance(u float64, in *injected, x []float64, want []float64, positions int) []float64 {
	spec := in.spec
	s := math.Max(1, spec.Scale)
	maxX, maxAdj := 0.0, 0.0
	for _, v := range x {
		maxX = math.Max(maxX, math.Abs(v))
	}
	if adj, err := spec.Adjustments(nil); err == nil {
		for _, a := range adj {
			if !math.IsInf(a, 0) {
				maxAdj = math.Max(maxAdj, math.Abs(a))
			}
		}
	}
	M := s*(maxX+maxAdj) + 25
	c := float64(in.c)
	b := 4 * u * (M + c)
	if usesGamma(spec.Loss) {
		b *= 1 + spec.Gamma
	}
	if spec.Loss == lossops.CBSigmoid || spec.Loss == lossops.CBFocal {
		b *= c
	}
	wmax := 1.0
	for _, w := range spec.Weights {
		wmax = math.Max(wmax, w)
	}
	b *= wmax
	p := float64(positions)
	if spec.Loss == lossops.SigmoidFocal {
		p *= c
	}
	if spec.Reduction == lossops.Sum {
		b *= p
	}
	tol := make([]float64, len(want))
	for i, w := range want {
		tol[i] = b + 4*u*p*math.Abs(w)
	}
	return tol
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// rounded returns x rounded to float32, as float64.
func rounded(x []float64) []float64 {
	r := make([]float64, len(x))
	for i, v := range x {
		r[i] = float64(float32(v))
	}
	return r
}

// TestExtremesFloat32 runs every loss (every γ of the focal losses, every
// reduction) on every scenario in float32, as a model exported from PyTorch
// would, and checks the loss is finite and within tolerance (see tolerance)
// of the float64 closed form on the same float32 logits; with every
// position ignored, mean and sum are exactly 0 and none is all zeros (the
// documented result: 0, never NaN).
func TestExtremesFloat32(t *testing.T) {
	for _, sc := range scenarios {
		x := rounded(sc.logits(sc.n, sc.c))
		labels := labelsOf(sc)
		for _, v := range variants() {
			for _, red := range []lossops.Reduction{lossops.Mean, lossops.Sum, lossops.None} {
				name := fmt.Sprintf("%s/%s/γ=%g/%s", sc.name, v.loss, v.gamma, red)
				t.Run(name, func(t *testing.T) {
					in, err := build(sc, v, red, "float32")
					if err != nil {
						t.Fatal(err)
					}
					want, err := in.reference(x, labels)
					if err != nil {
						t.Fatal(err)
					}
					got, err := in.run(x, labels)
					if err != nil {
						t.Fatal(err)
					}
					if len(got) != len(want) {
						t.Fatalf("graph gives %d values, closed form %d", len(got), len(want))
					}
					tol := tolerance(u32, in, x, want, sc.n)
					for i := range want {
						if !finite(want[i]) {
							t.Fatalf("closed form [%d] = %v: the scenario is not finite in the math", i, want[i])
						}
						switch {
						case !finite(got[i]):
							t.Errorf("loss[%d] = %v where the math gives %v", i, got[i], want[i])
						case sc.ignoreAll && got[i] != 0:
							t.Errorf("every position ignored: loss[%d] = %v, want exactly 0", i, got[i])
						case math.Abs(got[i]-want[i]) > tol[i]:
							t.Errorf("loss[%d] = %.9g, closed form %.9g: |diff| %.3g > tolerance %.3g", i, got[i], want[i], math.Abs(got[i]-want[i]), tol[i])
						}
					}
				})
			}
		}
	}
}

// fdIndices picks the logits to differentiate: all of them for small
// problems; for C = 1000 each row's label logit and 15 others per row.
func fdIndices(n, c int, labels []int64) []int {
	if n*c <= 64 {
		idx := make([]int, n*c)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	r := rand.New(rand.NewPCG(3, uint64(n*c)))
	seen := map[int]bool{}
	var idx []int
	for row := 0; row < n; row++ {
		pick := []int{int(labels[row])}
		for len(pick) < 16 {
			pick = append(pick, r.IntN(c))
		}
		for _, k := range pick {
			if k < 0 || k >= c || seen[row*c+k] {
				continue
			}
			seen[row*c+k] = true
			idx = append(idx, row*c+k)
		}
	}
	return idx
}

// fdStep is the central-difference step for a logit of value v: 1e-4
// relative, 1e-4 absolute below 1. Both sides use the same step and the
// same perturbed float64 logits, so the truncation error of the difference
// quotient is the same on both sides and cancels in the comparison.
func fdStep(v float64) float64 { return 1e-4 * math.Max(1, math.Abs(v)) }

// TestExtremesGradients injects every loss into a float64-logits host, so
// the evaluator computes in double, and compares central finite differences
// of its (mean and sum) loss with respect to the logits with central finite
// differences of the float64 closed form, with the same step (fdStep) and
// the same perturbed logits. Both must be finite. Since the truncation
// error is common, they differ only by the two functions' rounding: with
// e(x) the float64 bound of tolerance (u = 2⁻⁵³), |fd_graph − fd_ref| ≤
// (e(x+h) + e(x−h)) / 2h. With every position ignored the loss is constant
// 0, so both differences are exactly 0.
func TestExtremesGradients(t *testing.T) {
	for _, sc := range scenarios {
		x := sc.logits(sc.n, sc.c)
		labels := labelsOf(sc)
		idx := fdIndices(sc.n, sc.c, labels)
		for _, v := range variants() {
			for _, red := range []lossops.Reduction{lossops.Mean, lossops.Sum} {
				name := fmt.Sprintf("%s/%s/γ=%g/%s", sc.name, v.loss, v.gamma, red)
				t.Run(name, func(t *testing.T) {
					in, err := build(sc, v, red, "float64")
					if err != nil {
						t.Fatal(err)
					}
					xp := append([]float64(nil), x...)
					xm := append([]float64(nil), x...)
					eval := func(z []float64) (got, want, tol float64) {
						g, err := in.run(z, labels)
						if err != nil {
							t.Fatal(err)
						}
						w, err := in.reference(z, labels)
						if err != nil {
							t.Fatal(err)
						}
						return g[0], w[0], tolerance(u64, in, z, w, sc.n)[0]
					}
					bad := 0
					for _, i := range idx {
						h := fdStep(x[i])
						xp[i], xm[i] = x[i]+h, x[i]-h
						gp, wp, tp := eval(xp)
						gm, wm, tm := eval(xm)
						xp[i], xm[i] = x[i], x[i]
						d := (x[i] + h) - (x[i] - h)
						fdGot, fdWant := (gp-gm)/d, (wp-wm)/d
						tol := (tp + tm) / d
						switch {
						case !finite(fdWant):
							t.Fatalf("d/dx[%d]: closed-form difference %v is not finite", i, fdWant)
						case !finite(fdGot):
							t.Errorf("d/dx[%d] = %v (loss %v, %v) where the closed form gives %v", i, fdGot, gp, gm, fdWant)
							bad++
						case sc.ignoreAll && (fdGot != 0 || fdWant != 0):
							t.Errorf("every position ignored: d/dx[%d] = %v (closed form %v), want exactly 0", i, fdGot, fdWant)
							bad++
						case math.Abs(fdGot-fdWant) > tol:
							t.Errorf("d/dx[%d] = %.9g, closed form %.9g (step %g): |diff| %.3g > tolerance %.3g", i, fdGot, fdWant, h, math.Abs(fdGot-fdWant), tol)
							bad++
						}
						if bad >= 5 {
							t.Fatal("giving up after 5 mismatches")
						}
					}
				})
			}
		}
	}
}

// powBases returns the names of the base inputs of the Pow nodes inject
// added.
func powBases(m *onnxpb.ModelProto) []string {
	var bases []string
	for _, n := range m.GetGraph().GetNode() {
		if n.GetOpType() == "Pow" && strings.HasPrefix(n.GetName(), inject.NamePrefix+"/") {
			bases = append(bases, n.GetInput()[0])
		}
	}
	return bases
}

// TestPowBaseNeverZero guards the analytic gradient ONNX Runtime training
// builds, which finite differences cannot see: the gradient of Pow(q, γ)
// with respect to q is dY·γ·q^(γ−1), which for 0 < γ < 1 is +Inf at q = 0
// (NaN when dY is 0 too); the chain rule then multiplies it by a zero (the
// other branch of 1 − p_t, or a 0/1 mask) and the logits' gradient is NaN.
// In float32, q = 1 − p_t is exactly 0 as soon as a prediction is
// confidently right (|x| ≳ 17; in float64, |x| ≳ 37), so the graph must
// keep every Pow base strictly positive when γ < 1, in both compute types.
func TestPowBaseNeverZero(t *testing.T) {
	sc := scenario{n: 6, c: 5, counts: []float64{1, 100, 1e4, 1e6, 1e9}}
	labels := spread(sc.n, sc.c)
	for _, mag := range []float64{20, 88, 1e4} {
		x := rounded(mixed(mag)(sc.n, sc.c))
		// Make row 0 confidently right: its label's logit is the largest.
		x[int(labels[0])] = mag
		for _, loss := range []lossops.Loss{lossops.Focal, lossops.SigmoidFocal} {
			for _, gamma := range []float64{0.25, 0.5, 0.9} {
				for _, dtype := range []string{"float32", "float64"} {
					t.Run(fmt.Sprintf("±%g/%s/γ=%g/%s", mag, loss, gamma, dtype), func(t *testing.T) {
						host := goldens.Case{Opset: opset, LogitsDtype: dtype, Logits: goldens.Tensor{Shape: []int{sc.n, sc.c}}}
						m, err := host.HostModel()
						if err != nil {
							t.Fatal(err)
						}
						res, err := inject.Inject(m, inject.Options{Loss: loss, Counts: &lossops.Counts{Values: sc.counts},
							Gamma: gamma, Alpha: 0.25, Reduction: lossops.Mean, LabelsElem: onnxpb.TensorProto_INT64, Normalize: true})
						if err != nil {
							t.Fatal(err)
						}
						bases := powBases(m.Proto)
						if len(bases) == 0 {
							t.Fatal("no Pow node: the test no longer matches the builder")
						}
						sess, err := eval.NewSession(m.Proto, "")
						if err != nil {
							t.Fatal(err)
						}
						shape := []int64{int64(sc.n), int64(sc.c)}
						xt := eval.NewFloat64(shape, x)
						if dtype == "float32" {
							f := make([]float32, len(x))
							for i, v := range x {
								f[i] = float32(v)
							}
							xt = eval.NewFloat32(shape, f)
						}
						out, err := sess.Run(map[string]*eval.Tensor{"scores": xt, res.Metadata.Labels: eval.NewInt64([]int64{int64(sc.n)}, labels)}, bases)
						if err != nil {
							t.Fatal(err)
						}
						for _, b := range bases {
							for i, q := range out[b].AsFloat64() {
								if !(q > 0) {
									t.Errorf("Pow base %s[%d] = %v: its gradient γ·q^(γ−1) is not finite", b, i, q)
								}
							}
						}
					})
				}
			}
		}
	}
}
