package eval

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// addPickModel is Add(x, b) → LogSoftmax → GatherElements (both on the last
// axis), the label pick of a logit-adjusted loss; swap puts the offsets first; extra
// lists more graph outputs.
func addPickModel(t *testing.T, swap bool, extra ...string) *Session {
	t.Helper()
	in := []string{"x", "b"}
	if swap {
		in = []string{"b", "x"}
	}
	m := model(17, []string{"x", "b", "idx"}, append([]string{"picked"}, extra...), nil,
		node("Add", in, []string{"adj"}),
		node("LogSoftmax", []string{"adj"}, []string{"logp"}, attrInt("axis", -1)),
		node("GatherElements", []string{"logp", "idx"}, []string{"picked"}, attrInt("axis", -1)))
	s, err := NewSession(m, "")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestAddLogSoftmaxGatherFused checks the fused pick of logits + per-class
// offsets bit for bit against the three nodes run unfused (a run that also
// asks for the adjusted logits and log-probabilities), and against the
// float64 definition, on the AVX-512, AVX2 and portable paths: offsets
// shaped [C] and [1, C], either operand order, rows with ±Inf and NaN,
// negative indices, row lengths off the vector widths.
func TestAddLogSoftmaxGatherFused(t *testing.T) {
	onKernelPaths(func(path string) {
		for _, tc := range []struct {
			n, c    int
			rowRank bool // offsets shaped [1, C] rather than [C]
			swap    bool
		}{{64, 1000, false, false}, {33, 37, true, false}, {5, 7, false, true}, {200, 9, true, true}} {
			r := rand.New(rand.NewPCG(uint64(tc.n), uint64(tc.c)))
			x := make([]float32, tc.n*tc.c)
			for i := range x {
				x[i] = float32(r.NormFloat64() * 4)
			}
			off := make([]float32, tc.c)
			for j := range off {
				off[j] = float32(math.Log(float64(1+r.IntN(500))) * 1.3) // log class priors, scaled
			}
			if tc.n > 3 {
				x[1*tc.c+2] = float32(math.Inf(1))
				x[2*tc.c] = float32(math.NaN())
				x[3*tc.c+1] = float32(math.Inf(-1))
			}
			idx := make([]int64, tc.n)
			for i := range idx {
				idx[i] = int64(r.IntN(2*tc.c) - tc.c)
			}
			bshape := []int64{int64(tc.c)}
			if tc.rowRank {
				bshape = []int64{1, int64(tc.c)}
			}
			s := addPickModel(t, tc.swap)
			if len(s.fusedAway) != 2 {
				t.Fatalf("chain not fused (fusedAway %v)", s.fusedAway)
			}
			feeds := map[string]*Tensor{
				"x":   NewFloat32([]int64{int64(tc.n), int64(tc.c)}, x),
				"b":   NewFloat32(bshape, off),
				"idx": NewInt64([]int64{int64(tc.n), 1}, idx),
			}
			fused, plain := runFusedAndPlain(t, s, feeds, "picked", "adj", "logp")
			got, want := fused["picked"].Float32s(), plain["picked"].Float32s()
			if i := sameBits(got, want); i >= 0 {
				t.Fatalf("%s %+v: picked[%d] = %v fused, %v unfused", path, tc, i, got[i], want[i])
			}
			for i := range got {
				row := make([]float64, tc.c)
				for j := range row {
					row[j] = float64(float32(x[i*tc.c+j] + off[j]))
				}
				v := idx[i]
				if v < 0 {
					v += int64(tc.c)
				}
				r64 := logSoftmax64(row)[v]
				if math.IsNaN(r64) || math.IsInf(r64, 0) {
					if !(math.IsNaN(r64) && got[i] != got[i]) && float64(got[i]) != r64 {
						t.Fatalf("%s %+v: picked[%d] = %v, want %v", path, tc, i, got[i], r64)
					}
					continue
				}
				// As TestLogSoftmaxGatherFused: a few float32 roundings of the
				// largest term plus log Σ.
				if tol := 8 * 6e-8 * (math.Abs(r64) + 1); math.Abs(float64(got[i])-r64) > tol {
					t.Fatalf("%s %+v: picked[%d] = %v, want %v (±%g)", path, tc, i, got[i], r64, tol)
				}
			}
		}
	})
}

// TestAddLogSoftmaxGatherFusedFallbacks checks the operands the fast path
// leaves to the Add and the pair (a per-row offset, two full operands),
// that errors are the unfused graph's, and the chains that must not fuse.
func TestAddLogSoftmaxGatherFusedFallbacks(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	n, c := 6, 11
	x := make([]float32, n*c)
	y := make([]float32, n*c)
	for i := range x {
		x[i], y[i] = float32(r.NormFloat64()*3), float32(r.NormFloat64())
	}
	idx := make([]int64, n)
	for i := range idx {
		idx[i] = int64(r.IntN(c))
	}
	for _, bt := range []*Tensor{
		NewFloat32([]int64{int64(n), 1}, y[:n]),    // one offset per row
		NewFloat32([]int64{int64(n), int64(c)}, y), // a full second operand
		NewFloat32([]int64{1, 1, int64(c)}, y[:c]), // more dims than x: broadcast to 3-D
	} {
		s := addPickModel(t, false)
		feeds := map[string]*Tensor{"x": NewFloat32([]int64{int64(n), int64(c)}, x), "b": bt, "idx": NewInt64([]int64{int64(n), 1}, idx)}
		if bt.Rank() == 3 {
			feeds["idx"] = NewInt64([]int64{1, int64(n), 1}, idx)
		}
		fused, err := s.Run(feeds, nil)
		if err != nil {
			t.Fatalf("b %v: %v", bt.shape, err)
		}
		plain, err := s.Run(feeds, []string{"picked", "adj"})
		if err != nil {
			t.Fatal(err)
		}
		if i := sameBits(fused["picked"].Float32s(), plain["picked"].Float32s()); i >= 0 {
			t.Errorf("b %v: picked[%d] fused %v, unfused %v", bt.shape, i, fused["picked"].Float32s()[i], plain["picked"].Float32s()[i])
		}
		adj := plain["adj"].Float32s()
		for i := 0; i < n; i++ {
			row := make([]float64, c)
			for j := range row {
				row[j] = float64(adj[i*c+j])
			}
			if want := logSoftmax64(row)[idx[i]]; math.Abs(float64(fused["picked"].Float32s()[i])-want) > 1e-6*(math.Abs(want)+1) {
				t.Errorf("b %v: picked[%d] = %v, want %v", bt.shape, i, fused["picked"].Float32s()[i], want)
			}
		}
	}
	// Errors: a bad index (GatherElements') and operands that do not
	// broadcast (Add's) read the same fused or not.
	for _, feeds := range []map[string]*Tensor{
		{"x": NewFloat32([]int64{2, 3}, []float32{1, 2, 3, 4, 5, 6}), "b": NewFloat32([]int64{3}, []float32{0.5, -1, 2}), "idx": NewInt64([]int64{2, 1}, []int64{0, 3})},
		{"x": NewFloat32([]int64{2, 3}, []float32{1, 2, 3, 4, 5, 6}), "b": NewFloat32([]int64{2}, []float32{0.5, -1}), "idx": NewInt64([]int64{2, 1}, []int64{0, 1})},
	} {
		_, errFused := addPickModel(t, false).Run(feeds, nil)
		_, errPlain := addPickModel(t, false).Run(feeds, []string{"picked", "adj"})
		if errFused == nil || errPlain == nil {
			t.Fatalf("no error: fused %v, unfused %v", errFused, errPlain)
		}
		if !strings.Contains(errFused.Error(), strings.SplitN(errPlain.Error(), ": ", 2)[1]) {
			t.Errorf("fused error %q, unfused %q", errFused, errPlain)
		}
	}
	// No fusion of the Add when its sum is a graph output or read twice;
	// the pair still fuses.
	if s := addPickModel(t, false, "adj"); len(s.fusedAway) != 1 || s.fusedAway["adj"] {
		t.Errorf("Add fused although its sum is a graph output (fusedAway %v)", s.fusedAway)
	}
	m := model(17, []string{"x", "b", "idx"}, []string{"picked", "e"}, nil,
		node("Add", []string{"x", "b"}, []string{"adj"}),
		node("LogSoftmax", []string{"adj"}, []string{"logp"}, attrInt("axis", -1)),
		node("GatherElements", []string{"logp", "idx"}, []string{"picked"}, attrInt("axis", 1)),
		node("Exp", []string{"adj"}, []string{"e"}))
	if s, err := NewSession(m, ""); err != nil || len(s.fusedAway) != 1 || s.fusedAway["adj"] {
		t.Errorf("Add with a second reader fused (%v, fusedAway %v)", err, s.fusedAway)
	}
}
