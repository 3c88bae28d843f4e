package eval

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/onnxloss/onnxloss/onnxpb"
)

// TestConvFloat32PathsAgreeWithDirectLoop checks the im2col + GEMM and
// depthwise float32 paths against the float64 direct convolution loop
// (the one the ONNX node tests cover for every geometry) on random
// geometries: kernels larger than the input, big pads, strides,
// dilations, groups, 1×1 fast path.
func TestConvFloat32PathsAgreeWithDirectLoop(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	type cs struct{ n, c, h, w, m, k, s, p, d, g int }
	cases := []cs{
		{1, 3, 8, 8, 4, 3, 1, 1, 1, 1}, {2, 8, 5, 7, 16, 1, 1, 0, 1, 1}, {1, 8, 9, 9, 8, 3, 2, 1, 1, 8},
		{1, 6, 2, 2, 6, 7, 1, 3, 1, 6}, {2, 4, 6, 5, 4, 5, 2, 2, 2, 4}, {1, 6, 7, 7, 9, 3, 1, 2, 2, 3},
		{1, 16, 4, 4, 32, 1, 2, 0, 1, 1}, {1, 5, 3, 11, 7, 3, 3, 4, 1, 1},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc), func(t *testing.T) {
			x := make([]float32, tc.n*tc.c*tc.h*tc.w)
			w := make([]float32, tc.m*(tc.c/tc.g)*tc.k*tc.k)
			b := make([]float32, tc.m)
			for _, s := range [][]float32{x, w, b} {
				for i := range s {
					s[i] = float32(rng.NormFloat64())
				}
			}
			xt := NewFloat32([]int64{int64(tc.n), int64(tc.c), int64(tc.h), int64(tc.w)}, x)
			wt := NewFloat32([]int64{int64(tc.m), int64(tc.c / tc.g), int64(tc.k), int64(tc.k)}, w)
			bt := NewFloat32([]int64{int64(tc.m)}, b)
			attrs := map[string]*onnxpb.AttributeProto{
				"strides":   intsAttr("strides", tc.s, tc.s),
				"pads":      intsAttr("pads", tc.p, tc.p, tc.p, tc.p),
				"dilations": intsAttr("dilations", tc.d, tc.d),
				"group":     {Name: ptrTo("group"), I: ptrTo(int64(tc.g)), Type: onnxpb.AttributeProto_INT.Enum()},
			}
			c := &opCtx{attrs: attrs, opset: 17}
			fast, err := opConv(c, []*Tensor{xt, wt, bt})
			if err != nil {
				t.Fatal(err)
			}
			// The direct loop, through float64 operands.
			slow, err := opConv(c, []*Tensor{castTensor(xt, Float64), castTensor(wt, Float64), castTensor(bt, Float64)})
			if err != nil {
				t.Fatal(err)
			}
			if !shapeEq(fast[0].shape, slow[0].shape) {
				t.Fatalf("shape %v, want %v", fast[0].shape, slow[0].shape)
			}
			fv, sv := fast[0].AsFloat64(), slow[0].AsFloat64()
			k := float64(tc.c / tc.g * tc.k * tc.k)
			for i := range fv {
				// float32 sums of k unit-normal products.
				if math.Abs(fv[i]-sv[i]) > 8*0x1p-24*k*math.Sqrt(k)+1e-6 {
					t.Fatalf("y[%d] = %g, want %g", i, fv[i], sv[i])
				}
			}
		})
	}
}

func ptrTo[T any](v T) *T { return &v }

func intsAttr(name string, v ...int) *onnxpb.AttributeProto {
	a := &onnxpb.AttributeProto{Name: ptrTo(name), Type: onnxpb.AttributeProto_INTS.Enum()}
	for _, x := range v {
		a.Ints = append(a.Ints, int64(x))
	}
	return a
}
