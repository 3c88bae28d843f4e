package eval

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
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

// TestLogSoftmaxGatherFused checks the fused label pick against the float64
// definition, and bit for bit against the two nodes run unfused (a run that
// asks for the log-probabilities too), on the AVX-512, AVX2 and portable
// paths: random rows, rows with +Inf, −Inf and NaN, negative indices, int32
// indices, several picks per row.
func TestLogSoftmaxGatherFused(t *testing.T) {
	saved512, saved2 := haveAVX512, haveAVX2
	defer func() { haveAVX512, haveAVX2 = saved512, saved2 }()
	paths := []struct {
		name      string
		avx512, a bool
	}{{"avx512", saved512, saved2}, {"avx2", false, saved2}, {"portable", false, false}}
	for _, p := range paths {
		haveAVX512, haveAVX2 = p.avx512, p.a
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
			fused, err := s.Run(feeds, nil)
			if err != nil {
				t.Fatal(err)
			}
			plain, err := s.Run(feeds, []string{"picked", "logp"})
			if err != nil {
				t.Fatal(err)
			}
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
					t.Fatalf("%s %+v: picked[%d] = %v fused, %v unfused", p.name, tc, i, got[i], want[i])
				}
				// float32 logits, float64 sum: a few float32 roundings of the
				// largest term |x − m| plus log Σ.
				tol := 8 * 6e-8 * (math.Abs(r64) + 1)
				if math.IsNaN(r64) || math.IsInf(r64, 0) {
					if !(math.IsNaN(r64) && got[i] != got[i]) && float64(got[i]) != r64 {
						t.Fatalf("%s %+v: picked[%d] = %v, want %v", p.name, tc, i, got[i], r64)
					}
					continue
				}
				if math.Abs(float64(got[i])-r64) > tol {
					t.Fatalf("%s %+v: picked[%d] = %v, want %v (±%g)", p.name, tc, i, got[i], r64, tol)
				}
			}
		}
	}
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
