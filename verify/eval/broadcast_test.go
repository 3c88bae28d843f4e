package eval

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestBinaryBroadcastShortRows checks float32 Add, Sub, Mul and Div over
// broadcasts whose rows are short (the per-channel operand of a
// squeeze-excitation scale, a bias per row, outer products) and long,
// against a float64 reference computed index by index from the numpy
// broadcasting rule. One float64 operation rounded to float32 is the
// correctly rounded float32 operation (float64 has more than 2·24+2 bits),
// so the values must match bit for bit; the inputs hold NaN, ±Inf, ±0 and
// zero divisors.
func TestBinaryBroadcastShortRows(t *testing.T) {
	cases := [][2][]int64{
		{{2, 1152, 2, 2}, {2, 1152, 1, 1}},
		{{3, 5, 7}, {3, 5, 1}},
		{{3, 5, 7}, {5, 1}},
		{{3, 5, 1}, {3, 5, 7}},
		{{4, 1}, {1, 5}},
		{{2, 1, 3}, {1, 4, 3}},
		{{2, 3, 1, 31}, {1, 3, 5, 31}},
		{{2, 3, 4, 33}, {3, 1, 1}},
		{{6, 31}, {31}},
		{{5, 9}, {1}},
		{{1}, {4, 3, 2}},
		{{2, 3, 2, 1, 3}, {3, 1, 4, 1}},
	}
	ref := map[string]func(a, b float64) float64{
		"Add": func(a, b float64) float64 { return a + b },
		"Sub": func(a, b float64) float64 { return a - b },
		"Mul": func(a, b float64) float64 { return a * b },
		"Div": func(a, b float64) float64 { return a / b },
	}
	r := rand.New(rand.NewPCG(4, 2))
	fill := func(sh []int64) []float32 {
		d := make([]float32, NumElements(sh))
		for i := range d {
			d[i] = float32(r.NormFloat64() * 3)
			switch r.IntN(40) {
			case 0:
				d[i] = float32(math.NaN())
			case 1:
				d[i] = float32(math.Inf(1))
			case 2:
				d[i] = float32(math.Inf(-1))
			case 3:
				d[i] = 0
			case 4:
				d[i] = float32(math.Copysign(0, -1))
			}
		}
		return d
	}
	for _, tc := range cases {
		as, bs := tc[0], tc[1]
		a, b := fill(as), fill(bs)
		out, err := broadcastShapes(as, bs)
		if err != nil {
			t.Fatal(err)
		}
		for op, f := range ref {
			s, err := NewSession(model(17, []string{"a", "b"}, []string{"y"}, nil, node(op, []string{"a", "b"}, []string{"y"})), "")
			if err != nil {
				t.Fatal(err)
			}
			res, err := s.Run(map[string]*Tensor{"a": NewFloat32(as, a), "b": NewFloat32(bs, b)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := res["y"].Float32s()
			if len(got) != int(NumElements(out)) || fmt.Sprint(res["y"].shape) != fmt.Sprint(out) {
				t.Fatalf("%s %v %v: shape %v, want %v", op, as, bs, res["y"].shape, out)
			}
			idx := make([]int64, len(out))
			for i := range got {
				rem := int64(i)
				for d := len(out) - 1; d >= 0; d-- {
					idx[d] = rem % out[d]
					rem /= out[d]
				}
				want := float32(f(float64(a[flatAt(idx, as)]), float64(b[flatAt(idx, bs)])))
				if math.Float32bits(got[i]) != math.Float32bits(want) && !(got[i] != got[i] && want != want) {
					t.Fatalf("%s %v %v: y%v = %v, want %v", op, as, bs, idx, got[i], want)
				}
			}
		}
	}
}

// flatAt is the flat index in an operand of shape sh of output index idx
// (numpy broadcasting: sh aligned right, size-1 dims repeated).
func flatAt(idx, sh []int64) int {
	off := len(idx) - len(sh)
	p := int64(0)
	for d, n := range sh {
		k := idx[off+d]
		if n == 1 {
			k = 0
		}
		p = p*n + k
	}
	return int(p)
}
