package eval

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/onnxloss/onnxloss/onnxpb"
)

// TestGatherElementsLastAxis checks GatherElements along the last axis (the
// flat fast path) against the definition out[i…, j] = x[i…, idx[i…, j]],
// written out here per element, on seeded random data: ranks 1–3, row
// lengths that are not multiples of 8, negative indices, int32 and int64
// indices, 4- and 8-byte elements, and an index out of range.
func TestGatherElementsLastAxis(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 7))
	for _, tc := range []struct {
		x   []int64
		k   int64
		i32 bool
		f64 bool
	}{
		{[]int64{13}, 5, false, false},
		{[]int64{1000, 37}, 1, false, false},
		{[]int64{70000, 9}, 1, true, false},
		{[]int64{300, 17}, 3, false, true},
		{[]int64{4, 5, 11}, 2, true, false},
		{[]int64{2, 3, 7}, 9, false, true},
	} {
		r := len(tc.x)
		dim := tc.x[r-1]
		is := append(append([]int64{}, tc.x[:r-1]...), tc.k)
		n := int(NumElements(is))
		iv := make([]int64, n)
		for j := range iv {
			iv[j] = rng.Int64N(2*dim) - dim // [-dim, dim)
		}
		var idx *Tensor
		if tc.i32 {
			v := make([]int32, n)
			for j, p := range iv {
				v[j] = int32(p)
			}
			idx = NewInt32(is, v)
		} else {
			idx = NewInt64(is, iv)
		}
		nx := int(NumElements(tc.x))
		var x *Tensor
		xv := make([]float64, nx)
		for j := range xv {
			xv[j] = float64(rng.IntN(1 << 20))
		}
		if tc.f64 {
			x = NewFloat64(tc.x, xv)
		} else {
			f := make([]float32, nx)
			for j, v := range xv {
				f[j] = float32(v)
			}
			x = NewFloat32(tc.x, f)
		}
		out, err := opGatherElements(ctxWithAxis(int64(r-1)), []*Tensor{x, idx})
		if err != nil {
			t.Fatalf("%v: %v", tc.x, err)
		}
		got := out[0].AsFloat64()
		for j := 0; j < n; j++ {
			row := j / int(tc.k)
			p := iv[j]
			if p < 0 {
				p += dim
			}
			if want := xv[int64(row)*dim+p]; got[j] != want {
				t.Fatalf("%v, k=%d: element %d = %v, want %v", tc.x, tc.k, j, got[j], want)
			}
		}
		// The first bad index (in order) is named.
		bad := append([]int64(nil), iv...)
		bad[n/2], bad[n-1] = dim, -dim-1
		if tc.i32 {
			continue
		}
		_, err = opGatherElements(ctxWithAxis(int64(r-1)), []*Tensor{x, NewInt64(is, bad)})
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("index %d out of range", dim)) {
			t.Fatalf("%v: out-of-range index: err = %v", tc.x, err)
		}
	}
}

// ctxWithAxis is an op context holding only the attribute axis.
func ctxWithAxis(axis int64) *opCtx {
	return &opCtx{attrs: map[string]*onnxpb.AttributeProto{"axis": attrInt("axis", axis)}}
}
