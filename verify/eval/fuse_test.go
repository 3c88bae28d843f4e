package eval

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/onnxloss/onnxloss/onnxpb"
)

// logSoftmax64 is the float64 definition of LogSoftmax along one row.
func logSoftmax64(row []float64) []float64 {
	m := math.Inf(-1)
	for _, v := range row {
		m = math.Max(m, v)
	}
	s := 0.0
	for _, v := range row {
		s += math.Exp(v - m)
	}
	out := make([]float64, len(row))
	for j, v := range row {
		out[j] = v - m - math.Log(s)
	}
	return out
}

// pickModel is LogSoftmax (axis sa) → GatherElements (axis ga), the label
// pick of a cross-entropy; extra lists more graph outputs.
func pickModel(opset, sa, ga int64, extra ...string) *Session {
	m := model(opset, []string{"x", "idx"}, append([]string{"picked"}, extra...), nil,
		node("LogSoftmax", []string{"x"}, []string{"logp"}, attrInt("axis", sa)),
		node("GatherElements", []string{"logp", "idx"}, []string{"picked"}, attrInt("axis", ga)))
	s, err := NewSession(m, "")
	if err != nil {
		panic(err)
	}
	return s
}

// runFusedAndPlain runs s on feeds twice: as prepared (fused), and asking
// for outs, whose values past the first are hidden by a fusion, so that
// the session runs the graph unfused.
func runFusedAndPlain(t *testing.T, s *Session, feeds map[string]*Tensor, outs ...string) (fused, plain map[string]*Tensor) {
	t.Helper()
	fused, err := s.Run(feeds, nil)
	if err != nil {
		t.Fatal(err)
	}
	if plain, err = s.Run(feeds, outs); err != nil {
		t.Fatal(err)
	}
	return fused, plain
}

// onKernelPaths runs f on the AVX-512, AVX2 and portable paths in turn (as
// far as the CPU has them), then restores the CPU's own.
func onKernelPaths(f func(path string)) {
	saved512, saved2 := haveAVX512, haveAVX2
	defer func() { haveAVX512, haveAVX2 = saved512, saved2 }()
	for _, p := range []struct {
		name         string
		avx512, avx2 bool
	}{{"avx512", saved512, saved2}, {"avx2", false, saved2}, {"portable", false, false}} {
		haveAVX512, haveAVX2 = p.avx512, p.avx2
		f(p.name)
	}
}

// TestLogSoftmaxGatherFused checks the fused label pick against the float64
// definition, and bit for bit against the two nodes run unfused (a run that
// asks for the log-probabilities too), on the AVX-512, AVX2 and portable
// paths: random rows, rows with +Inf, −Inf and NaN, negative indices, int32
// indices, several picks per row.
func TestLogSoftmaxGatherFused(t *testing.T) {
	onKernelPaths(func(path string) {
		for _, tc := range []struct {
			n, c, k int
			int32   bool
		}{{64, 1000, 1, false}, {33, 37, 1, true}, {5, 7, 3, false}, {200, 9, 2, true}} {
			r := rand.New(rand.NewPCG(uint64(tc.n), uint64(tc.c)))
			x := make([]float32, tc.n*tc.c)
			for i := range x {
				x[i] = float32(r.NormFloat64() * 4)
			}
			if tc.n > 3 {
				x[1*tc.c+2] = float32(math.Inf(1))
				x[2*tc.c] = float32(math.NaN())
				x[3*tc.c+1] = float32(math.Inf(-1))
			}
			idx64 := make([]int64, tc.n*tc.k)
			for i := range idx64 {
				idx64[i] = int64(r.IntN(2*tc.c) - tc.c) // negative ones count from the end
			}
			var idx *Tensor
			if tc.int32 {
				d := make([]int32, len(idx64))
				for i, v := range idx64 {
					d[i] = int32(v)
				}
				idx = NewInt32([]int64{int64(tc.n), int64(tc.k)}, d)
			} else {
				idx = NewInt64([]int64{int64(tc.n), int64(tc.k)}, idx64)
			}
			s := pickModel(17, -1, 1)
			if len(s.fusedAway) != 1 {
				t.Fatalf("pair not fused (fusedAway %v)", s.fusedAway)
			}
			feeds := map[string]*Tensor{"x": NewFloat32([]int64{int64(tc.n), int64(tc.c)}, x), "idx": idx}
			fused, plain := runFusedAndPlain(t, s, feeds, "picked", "logp")
			got, want := fused["picked"].Float32s(), plain["picked"].Float32s()
			for i := range got {
				row := make([]float64, tc.c)
				rowIdx := i / tc.k
				for j := range row {
					row[j] = float64(x[rowIdx*tc.c+j])
				}
				ref := logSoftmax64(row)
				v := idx64[i]
				if v < 0 {
					v += int64(tc.c)
				}
				r64 := ref[v]
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
					t.Fatalf("%s %+v: picked[%d] = %v fused, %v unfused", path, tc, i, got[i], want[i])
				}
				// float32 logits, float64 sum: a few float32 roundings of the
				// largest term |x − m| plus log Σ.
				tol := 8 * 6e-8 * (math.Abs(r64) + 1)
				if math.IsNaN(r64) || math.IsInf(r64, 0) {
					if !(math.IsNaN(r64) && got[i] != got[i]) && float64(got[i]) != r64 {
						t.Fatalf("%s %+v: picked[%d] = %v, want %v", path, tc, i, got[i], r64)
					}
					continue
				}
				if math.Abs(float64(got[i])-r64) > tol {
					t.Fatalf("%s %+v: picked[%d] = %v, want %v (±%g)", path, tc, i, got[i], r64, tol)
				}
			}
		}
	})
}

// TestLogSoftmaxGatherFusedFallbacks checks the cases the fast path leaves
// to the two ops, and the cases that must not fuse at all.
func TestLogSoftmaxGatherFusedFallbacks(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	// Class axis 1 of a segmenter's [N, C, H, W] logits.
	n, c, hw := 2, 5, 6
	x := make([]float32, n*c*hw)
	for i := range x {
		x[i] = float32(r.NormFloat64() * 3)
	}
	idx := make([]int64, n*hw)
	for i := range idx {
		idx[i] = int64(r.IntN(c))
	}
	s := pickModel(17, 1, 1)
	if len(s.fusedAway) != 1 {
		t.Fatal("axis-1 pair not fused")
	}
	out, err := s.Run(map[string]*Tensor{"x": NewFloat32([]int64{int64(n), int64(c), 2, 3}, x), "idx": NewInt64([]int64{int64(n), 1, 2, 3}, idx)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := out["picked"].Float32s()
	for b := 0; b < n; b++ {
		for p := 0; p < hw; p++ {
			row := make([]float64, c)
			for j := range row {
				row[j] = float64(x[(b*c+j)*hw+p])
			}
			want := logSoftmax64(row)[idx[b*hw+p]]
			if math.Abs(float64(got[b*hw+p])-want) > 1e-6*(math.Abs(want)+1) {
				t.Errorf("picked[%d,%d] = %v, want %v", b, p, got[b*hw+p], want)
			}
		}
	}
	// An index out of range gives the GatherElements error, fused or not.
	bad := map[string]*Tensor{"x": NewFloat32([]int64{2, 3}, []float32{1, 2, 3, 4, 5, 6}), "idx": NewInt64([]int64{2, 1}, []int64{0, 3})}
	_, errFused := pickModel(17, -1, 1).Run(bad, nil)
	_, errPlain := pickModel(17, -1, 1).Run(bad, []string{"picked", "logp"})
	if errFused == nil || errPlain == nil || errFused.Error() != errPlain.Error() || !strings.Contains(errFused.Error(), "index 3 out of range") {
		t.Errorf("out-of-range index: fused %v, unfused %v", errFused, errPlain)
	}
	// No fusion before opset 13, when the log-probabilities are a graph
	// output, or when another node reads them.
	if s := pickModel(12, 1, 1); len(s.fusedAway) != 0 {
		t.Error("opset 12 pair fused")
	}
	if s := pickModel(17, -1, 1, "logp"); len(s.fusedAway) != 0 {
		t.Error("pair fused although logp is a graph output")
	}
	m := model(17, []string{"x", "idx"}, []string{"picked", "e"}, nil,
		node("LogSoftmax", []string{"x"}, []string{"logp"}),
		node("GatherElements", []string{"logp", "idx"}, []string{"picked"}, attrInt("axis", 1)),
		node("Exp", []string{"logp"}, []string{"e"}))
	if s, err := NewSession(m, ""); err != nil || len(s.fusedAway) != 0 {
		t.Errorf("pair with a second reader fused (%v)", err)
	}
}

// bnReluModel is BatchNormalization (attributes attrs, at opset) → Relu;
// extra lists more graph outputs.
func bnReluModel(opset int64, attrs []*onnxpb.AttributeProto, extra ...string) *Session {
	m := model(opset, []string{"x", "s", "b", "m", "v"}, append([]string{"y"}, extra...), nil,
		node("BatchNormalization", []string{"x", "s", "b", "m", "v"}, []string{"bn"}, attrs...),
		node("Relu", []string{"bn"}, []string{"y"}))
	s, err := NewSession(m, "")
	if err != nil {
		panic(err)
	}
	return s
}

// sameBits reports whether two float32 slices are equal bit for bit (any
// NaN matching any NaN: the kernels do not promise payloads).
func sameBits(a, b []float32) int {
	if len(a) != len(b) {
		return 0
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) && !(a[i] != a[i] && b[i] != b[i]) {
			return i
		}
	}
	return -1
}

// TestBatchNormReluFused checks the fused BatchNormalization → Relu bit for
// bit against the two nodes run unfused (a run that also asks for the
// normalised value), and against the float64 definition, over every
// attribute form of BatchNormalization's opsets, spatial ranks 0 to 3, plane
// sizes around the 8-lane kernels' tails, and inputs with NaN, ±Inf, −0 and
// values the normalisation maps to ±0 and tiny negatives; on the AVX2 and
// portable paths.
func TestBatchNormReluFused(t *testing.T) {
	saved2 := haveAVX2
	defer func() { haveAVX2 = saved2 }()
	forms := []struct {
		opset int64
		attrs []*onnxpb.AttributeProto
	}{
		{6, []*onnxpb.AttributeProto{attrInt("is_test", 1), attrFloat("epsilon", 1e-3)}},
		{7, []*onnxpb.AttributeProto{attrInt("spatial", 1), attrFloat("momentum", 0.8)}},
		{9, nil},
		{13, []*onnxpb.AttributeProto{attrFloat("epsilon", 2e-5)}},
		{14, []*onnxpb.AttributeProto{attrInt("training_mode", 0)}},
		{15, []*onnxpb.AttributeProto{attrFloat("epsilon", 1e-4), attrFloat("momentum", 0.99)}},
	}
	shapes := [][]int64{{3, 5}, {2, 3, 13}, {2, 4, 3, 3}, {1, 3, 4, 4}, {2, 2, 5, 4}, {2, 3, 2, 3, 3}, {1, 2, 17, 9}}
	for _, avx := range []bool{saved2, false} {
		haveAVX2 = avx
		for fi, f := range forms {
			for si, sh := range shapes {
				r := rand.New(rand.NewPCG(uint64(fi), uint64(si)))
				ch := int(sh[1])
				x := make([]float32, NumElements(sh))
				for i := range x {
					x[i] = float32(r.NormFloat64() * 3)
				}
				sc, bs, mean, vr := make([]float32, ch), make([]float32, ch), make([]float32, ch), make([]float32, ch)
				for c := range sc {
					sc[c] = float32(r.NormFloat64())
					bs[c] = float32(r.NormFloat64())
					mean[c] = float32(r.NormFloat64())
					vr[c] = float32(r.Float64()*2 + 0.01)
				}
				sc[0], bs[0] = 1, 0 // y = (x − m)/σ: x = m gives ±0
				x[0], x[1] = mean[0], float32(math.Copysign(0, -1))
				x[2%len(x)] = float32(math.NaN())
				x[3%len(x)] = float32(math.Inf(1))
				x[4%len(x)] = float32(math.Inf(-1))
				x[len(x)-1] = mean[(len(x)-1)/int(NumElements(sh[2:]))%ch] + 1e-7
				feeds := map[string]*Tensor{"x": NewFloat32(sh, x), "s": NewFloat32([]int64{int64(ch)}, sc),
					"b": NewFloat32([]int64{int64(ch)}, bs), "m": NewFloat32([]int64{int64(ch)}, mean), "v": NewFloat32([]int64{int64(ch)}, vr)}
				s := bnReluModel(f.opset, f.attrs)
				if !s.fusedAway["bn"] {
					t.Fatalf("opset %d: pair not fused", f.opset)
				}
				fused, plain := runFusedAndPlain(t, s, feeds, "y", "bn")
				got := fused["y"].Float32s()
				if i := sameBits(got, plain["y"].Float32s()); i >= 0 {
					t.Fatalf("avx2=%v opset %d %v: y[%d] = %v fused, %v unfused", avx, f.opset, sh, i, got[i], plain["y"].Float32s()[i])
				}
				eps := 1e-5
				for _, a := range f.attrs {
					if a.GetName() == "epsilon" {
						eps = float64(a.GetF())
					}
				}
				inner := int(NumElements(sh[2:]))
				for i, v := range got {
					c := i / inner % ch
					a := float64(sc[c]) / math.Sqrt(float64(vr[c])+eps)
					want := (float64(x[i])-float64(mean[c]))*a + float64(bs[c])
					if want < 0 {
						want = 0
					}
					// a and the shift rounded to float32, then one FMA or a
					// multiply and an add: a few float32 roundings of the terms.
					tol := 4 * 6e-8 * (math.Abs(float64(x[i])*a) + math.Abs(float64(bs[c])-float64(mean[c])*a) + 1e-30)
					switch {
					case math.IsNaN(want):
						if v == v {
							t.Fatalf("opset %d %v: y[%d] = %v, want NaN", f.opset, sh, i, v)
						}
					case math.IsInf(want, 0):
						if float64(v) != want {
							t.Fatalf("opset %d %v: y[%d] = %v, want %v", f.opset, sh, i, v, want)
						}
					case math.Abs(float64(v)-want) > tol:
						t.Fatalf("opset %d %v: y[%d] = %v, want %v (±%g)", f.opset, sh, i, v, want, tol)
					}
				}
			}
		}
	}
}

// TestBatchNormReluFusedFallbacks checks the pairs the one-pass kernel
// leaves to the two ops (training statistics, float64), runs that feed the
// normalised value (cutting the graph there), and pairs that must not fuse.
func TestBatchNormReluFusedFallbacks(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	sh := []int64{3, 2, 5}
	x := make([]float32, NumElements(sh))
	for i := range x {
		x[i] = float32(r.NormFloat64()*2 + 0.5)
	}
	p := func(v ...float32) *Tensor { return NewFloat32([]int64{int64(len(v))}, v) }
	feeds := map[string]*Tensor{"x": NewFloat32(sh, x), "s": p(1.5, -0.7), "b": p(0.2, 0.1), "m": p(0.3, -0.4), "v": p(0.9, 2.5)}

	// Training mode: batch statistics, through the two ops.
	s := bnReluModel(15, []*onnxpb.AttributeProto{attrInt("training_mode", 1)})
	if !s.fusedAway["bn"] {
		t.Fatal("training-mode pair not fused")
	}
	fused, plain := runFusedAndPlain(t, s, feeds, "y", "bn")
	if i := sameBits(fused["y"].Float32s(), plain["y"].Float32s()); i >= 0 {
		t.Fatalf("training: y[%d] = %v fused, %v unfused", i, fused["y"].Float32s()[i], plain["y"].Float32s()[i])
	}
	for c := 0; c < 2; c++ { // float64 batch statistics
		var sum, sq float64
		for n := 0; n < 3; n++ {
			for k := 0; k < 5; k++ {
				sum += float64(x[(n*2+c)*5+k])
			}
		}
		m := sum / 15
		for n := 0; n < 3; n++ {
			for k := 0; k < 5; k++ {
				d := float64(x[(n*2+c)*5+k]) - m
				sq += d * d
			}
		}
		a := float64(feeds["s"].Float32s()[c]) / math.Sqrt(sq/15+1e-5)
		for n := 0; n < 3; n++ {
			for k := 0; k < 5; k++ {
				i := (n*2+c)*5 + k
				want := math.Max((float64(x[i])-m)*a+float64(feeds["b"].Float32s()[c]), 0)
				if got := float64(fused["y"].Float32s()[i]); math.Abs(got-want) > 1e-6*(math.Abs(want)+1) {
					t.Fatalf("training: y[%d] = %v, want %v", i, got, want)
				}
			}
		}
	}

	// Float64 data: the two ops.
	s = bnReluModel(15, nil)
	f64 := map[string]*Tensor{}
	for k, v := range feeds {
		f64[k] = castTensor(v, Float64)
	}
	fused, plain = runFusedAndPlain(t, s, f64, "y", "bn")
	g, w := fused["y"].Float64s(), plain["y"].Float64s()
	for i := range g {
		if g[i] != w[i] || g[i] < 0 {
			t.Fatalf("float64: y[%d] = %v fused, %v unfused", i, g[i], w[i])
		}
	}

	// Feeding the normalised value cuts the graph there: the Relu runs on it.
	bn := make([]float32, NumElements(sh))
	for i := range bn {
		bn[i] = float32(r.NormFloat64())
	}
	out, err := s.Run(map[string]*Tensor{"bn": NewFloat32(sh, bn)}, []string{"y"})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range out["y"].Float32s() {
		if want := max(bn[i], 0); v != want {
			t.Fatalf("fed bn: y[%d] = %v, want %v", i, v, want)
		}
	}

	// The normalised value read twice, or a graph output: no fusion.
	m := model(15, []string{"x", "s", "b", "m", "v"}, []string{"y", "z"}, nil,
		node("BatchNormalization", []string{"x", "s", "b", "m", "v"}, []string{"bn"}),
		node("Relu", []string{"bn"}, []string{"y"}), node("Neg", []string{"bn"}, []string{"z"}))
	if s2, err := NewSession(m, ""); err != nil || len(s2.fusedAway) != 0 {
		t.Fatalf("BatchNormalization read twice: fusedAway %v, err %v", s2.fusedAway, err)
	}
	if s2 := bnReluModel(15, nil, "bn"); len(s2.fusedAway) != 0 {
		t.Fatalf("BatchNormalization output a graph output: fusedAway %v", s2.fusedAway)
	}
}

// TestBatchNormFoldedOnce checks BatchNormalization with initializer
// parameters (folded once per session) against the same parameters fed
// (folded per run), bit for bit, over two runs, fused and alone.
func TestBatchNormFoldedOnce(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 1))
	sh := []int64{2, 6, 3, 5}
	x := make([]float32, NumElements(sh))
	for i := range x {
		x[i] = float32(r.NormFloat64() * 2)
	}
	params := map[string]*Tensor{}
	for _, name := range []string{"s", "b", "m", "v"} {
		d := make([]float32, sh[1])
		for i := range d {
			d[i] = float32(r.NormFloat64())
			if name == "v" {
				d[i] = d[i]*d[i] + 0.05
			}
		}
		params[name] = NewFloat32([]int64{sh[1]}, d)
	}
	var inits []*onnxpb.TensorProto
	for name, p := range params {
		inits = append(inits, p.Proto(name))
	}
	bn := node("BatchNormalization", []string{"x", "s", "b", "m", "v"}, []string{"bn"}, attrFloat("epsilon", 1e-3))
	for _, withRelu := range []bool{true, false} {
		nodes := []*onnxpb.NodeProto{bn, node("Relu", []string{"bn"}, []string{"y"})}
		out := "y"
		if !withRelu {
			nodes, out = nodes[:1], "bn"
		}
		si, err := NewSession(model(15, []string{"x"}, []string{out}, inits, nodes...), "")
		if err != nil {
			t.Fatal(err)
		}
		sf, err := NewSession(model(15, []string{"x", "s", "b", "m", "v"}, []string{out}, nil, nodes...), "")
		if err != nil {
			t.Fatal(err)
		}
		feeds := map[string]*Tensor{"x": NewFloat32(sh, x)}
		for k, v := range params {
			feeds[k] = v
		}
		want, err := sf.Run(feeds, nil)
		if err != nil {
			t.Fatal(err)
		}
		for run := 0; run < 2; run++ {
			got, err := si.Run(map[string]*Tensor{"x": NewFloat32(sh, x)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if i := sameBits(got[out].Float32s(), want[out].Float32s()); i >= 0 {
				t.Fatalf("relu=%v run %d: %s[%d] = %v with initializers, %v fed", withRelu, run, out, i, got[out].Float32s()[i], want[out].Float32s()[i])
			}
		}
	}
}

// concatBNModel is Concat (axis) of inputs x0..x{k-1} → BatchNormalization
// (→ Relu when relu) writing y; params are initializers when inits is set.
func concatBNModel(t *testing.T, k int, axis int64, relu bool, attrs []*onnxpb.AttributeProto, inits []*onnxpb.TensorProto) *Session {
	t.Helper()
	var xs []string
	for i := 0; i < k; i++ {
		xs = append(xs, fmt.Sprintf("x%d", i))
	}
	ins := append([]string{}, xs...)
	if inits == nil {
		ins = append(ins, "s", "b", "m", "v")
	}
	nodes := []*onnxpb.NodeProto{node("Concat", xs, []string{"cat"}, attrInt("axis", axis))}
	if relu {
		nodes = append(nodes, node("BatchNormalization", []string{"cat", "s", "b", "m", "v"}, []string{"bn"}, attrs...),
			node("Relu", []string{"bn"}, []string{"y"}))
	} else {
		nodes = append(nodes, node("BatchNormalization", []string{"cat", "s", "b", "m", "v"}, []string{"y"}, attrs...))
	}
	s, err := NewSession(model(15, ins, []string{"y"}, inits, nodes...), "")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestConcatBatchNormFused checks the fused Concat → BatchNormalization
// (→ Relu) bit for bit against the nodes run unfused (a run that also asks
// for the concatenation) and against the float64 definition: channel
// counts 1 to 5 per input, spatial ranks 0 to 3, planes shorter and longer
// than a vector, NaN, ±Inf and −0 inputs, parameters fed and initializers.
func TestConcatBatchNormFused(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for _, spatial := range [][]int64{{}, {7}, {2, 2}, {4, 4}, {5, 4}, {2, 3, 3}, {9, 9}, {8, 8}} {
		for _, relu := range []bool{true, false} {
			for _, asInits := range []bool{false, true} {
				chans := []int64{3, 1, 5, 2}
				n := int64(2)
				var total int64
				feeds := map[string]*Tensor{}
				var xs [][]float32
				for i, c := range chans {
					sh := append([]int64{n, c}, spatial...)
					d := make([]float32, NumElements(sh))
					for j := range d {
						d[j] = float32(r.NormFloat64() * 2)
					}
					d[0] = float32(math.NaN())
					d[len(d)-1] = float32(math.Copysign(0, -1))
					if len(d) > 2 {
						d[1] = float32(math.Inf(-1))
					}
					feeds[fmt.Sprintf("x%d", i)] = NewFloat32(sh, d)
					xs = append(xs, d)
					total += c
				}
				params := map[string][]float32{}
				var inits []*onnxpb.TensorProto
				for _, name := range []string{"s", "b", "m", "v"} {
					d := make([]float32, total)
					for j := range d {
						d[j] = float32(r.NormFloat64())
						if name == "v" {
							d[j] = d[j]*d[j] + 0.05
						}
					}
					params[name] = d
					if asInits {
						inits = append(inits, NewFloat32([]int64{total}, d).Proto(name))
					} else {
						feeds[name] = NewFloat32([]int64{total}, d)
					}
				}
				if !asInits {
					inits = nil
				}
				s := concatBNModel(t, len(chans), 1, relu, []*onnxpb.AttributeProto{attrFloat("epsilon", 1e-4)}, inits)
				if !s.fusedAway["cat"] {
					t.Fatalf("Concat not fused (fusedAway %v)", s.fusedAway)
				}
				fused, plain := runFusedAndPlain(t, s, feeds, "y", "cat")
				got := fused["y"].Float32s()
				name := fmt.Sprintf("spatial %v relu %v inits %v", spatial, relu, asInits)
				if i := sameBits(got, plain["y"].Float32s()); i >= 0 {
					t.Fatalf("%s: y[%d] = %v fused, %v unfused", name, i, got[i], plain["y"].Float32s()[i])
				}
				inner := int(NumElements(spatial))
				q := 0
				for b := 0; b < int(n); b++ {
					off := 0
					for i, c := range chans {
						for cl := 0; cl < int(c); cl++ {
							ch := off + cl
							a := float64(params["s"][ch]) / math.Sqrt(float64(params["v"][ch])+float64(float32(1e-4)))
							for e := 0; e < inner; e++ {
								xv := float64(xs[i][(b*int(c)+cl)*inner+e])
								want := (xv-float64(params["m"][ch]))*a + float64(params["b"][ch])
								if relu && want < 0 {
									want = 0
								}
								v := got[q]
								q++
								// As TestBatchNormReluFused: a few float32 roundings.
								tol := 4 * 6e-8 * (math.Abs(xv*a) + math.Abs(float64(params["b"][ch])-float64(params["m"][ch])*a) + 1e-30)
								switch {
								case math.IsNaN(want):
									if v == v {
										t.Fatalf("%s: y[%d] = %v, want NaN", name, q-1, v)
									}
								case math.IsInf(want, 0):
									if float64(v) != want {
										t.Fatalf("%s: y[%d] = %v, want %v", name, q-1, v, want)
									}
								case math.Abs(float64(v)-want) > tol:
									t.Fatalf("%s: y[%d] = %v, want %v (±%g)", name, q-1, v, want, tol)
								}
							}
						}
						off += int(c)
					}
				}
			}
		}
	}
}

// TestConcatBatchNormFusedFallbacks checks what the one-pass path leaves to
// the ops in turn (a Concat along another axis, float64, training mode),
// their errors, and runs feeding or asking for the hidden values.
func TestConcatBatchNormFusedFallbacks(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	mk := func(sh ...int64) *Tensor {
		d := make([]float32, NumElements(sh))
		for i := range d {
			d[i] = float32(r.NormFloat64())
		}
		return NewFloat32(sh, d)
	}
	p := func(v ...float32) *Tensor { return NewFloat32([]int64{int64(len(v))}, v) }
	params := map[string]*Tensor{"s": p(1.5, -0.7, 0.3), "b": p(0.2, 0.1, -1), "m": p(0.3, -0.4, 0), "v": p(0.9, 2.5, 1)}
	with := func(m map[string]*Tensor) map[string]*Tensor {
		for k, v := range params {
			m[k] = v
		}
		return m
	}
	check := func(name string, s *Session, feeds map[string]*Tensor) {
		t.Helper()
		fused, err := s.Run(feeds, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		plain, err := s.Run(feeds, []string{"y", "cat"})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		a, b := fused["y"], plain["y"]
		if fmt.Sprint(a.shape) != fmt.Sprint(b.shape) || fmt.Sprint(a.AsFloat64()) != fmt.Sprint(b.AsFloat64()) {
			t.Fatalf("%s: fused %v, unfused %v", name, a.AsFloat64(), b.AsFloat64())
		}
	}
	// Along axis 2: three channels throughout.
	check("axis 2", concatBNModel(t, 2, 2, true, nil, nil), with(map[string]*Tensor{"x0": mk(2, 3, 2), "x1": mk(2, 3, 3)}))
	check("axis 2 no relu", concatBNModel(t, 2, -1, false, nil, nil), with(map[string]*Tensor{"x0": mk(2, 3, 2), "x1": mk(2, 3, 3)}))
	check("training", concatBNModel(t, 2, 1, true, []*onnxpb.AttributeProto{attrInt("training_mode", 1)}, nil),
		with(map[string]*Tensor{"x0": mk(2, 1, 4), "x1": mk(2, 2, 4)}))
	f64 := with(map[string]*Tensor{"x0": mk(2, 2, 3), "x1": mk(2, 1, 3)})
	for k, v := range f64 {
		f64[k] = castTensor(v, Float64)
	}
	check("float64", concatBNModel(t, 2, 1, true, nil, nil), f64)

	// Errors come from the op that has them.
	s := concatBNModel(t, 2, 1, true, nil, nil)
	if _, err := s.Run(with(map[string]*Tensor{"x0": mk(2, 1, 4), "x1": mk(2, 2, 5)}), nil); err == nil || !strings.Contains(err.Error(), "Concat") {
		t.Fatalf("mismatched Concat inputs: err %v", err)
	}
	if _, err := s.Run(with(map[string]*Tensor{"x0": mk(2, 1, 4), "x1": mk(2, 1, 4)}), nil); err == nil || !strings.Contains(err.Error(), "want [2]") {
		t.Fatalf("parameters for 3 channels on 2: err %v", err)
	}

	// Feeding the concatenation or the normalised value cuts the graph there.
	cat := mk(2, 3, 4)
	out, err := s.Run(with(map[string]*Tensor{"cat": cat}), []string{"y"})
	if err != nil {
		t.Fatal(err)
	}
	want, err := concatBNModel(t, 1, 1, true, nil, nil).Run(with(map[string]*Tensor{"x0": cat}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if i := sameBits(out["y"].Float32s(), want["y"].Float32s()); i >= 0 {
		t.Fatalf("fed cat: y[%d] = %v, want %v", i, out["y"].Float32s()[i], want["y"].Float32s()[i])
	}
	bn := mk(2, 3, 4)
	out, err = s.Run(map[string]*Tensor{"bn": bn}, []string{"y"})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range out["y"].Float32s() {
		if v != max(bn.Float32s()[i], 0) {
			t.Fatalf("fed bn: y[%d] = %v", i, v)
		}
	}
	feeds := with(map[string]*Tensor{"x0": mk(2, 2, 4), "x1": mk(2, 1, 4)})
	all, err := s.Run(feeds, []string{"y", "bn"})
	if err != nil {
		t.Fatal(err)
	}
	fused, err := s.Run(feeds, nil)
	if err != nil {
		t.Fatal(err)
	}
	if i := sameBits(all["y"].Float32s(), fused["y"].Float32s()); i >= 0 || all["bn"] == nil {
		t.Fatalf("asking for bn: y[%d] differs", i)
	}
}

// TestConcatBatchNormFusedMissingParameter checks a fused Concat →
// BatchNormalization whose mean is an empty (missing) input: an error naming
// the missing input, as unfused, not a panic.
func TestConcatBatchNormFusedMissingParameter(t *testing.T) {
	m := model(15, []string{"x0", "x1", "s", "b", "v"}, []string{"y"}, nil,
		node("Concat", []string{"x0", "x1"}, []string{"cat"}, attrInt("axis", 1)),
		node("BatchNormalization", []string{"cat", "s", "b", "", "v"}, []string{"y"}))
	s, err := NewSession(m, "")
	if err != nil {
		t.Fatal(err)
	}
	p := NewFloat32([]int64{2}, []float32{1, 2})
	x := NewFloat32([]int64{1, 1, 3}, []float32{1, 2, 3})
	_, err = s.Run(map[string]*Tensor{"x0": x, "x1": x, "s": p, "b": p, "v": p}, nil)
	if err == nil || !strings.Contains(err.Error(), "missing") || strings.Contains(err.Error(), "internal error") {
		t.Fatalf("err = %v, want the missing input named", err)
	}
}
