package eval

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/onnxloss/onnxloss/onnxpb"
)

// TestConvGEMMEveryKernel runs convolutions through a session (weights as
// initializers, so the packed-weight cache is used, and run twice so the
// cached packing is reused) with every GEMM micro-kernel this CPU has, and
// compares them with the float64 direct convolution loop (the one the
// ONNX node tests cover). The cases reach each GEMM layout: one image at
// a time, the batch folded into the columns, the transposed product (few
// output pixels, many filters), the 1×1 fast path folded and not, groups,
// strides and pads, and tails that fill no whole 6×16 or 14×32 tile.
func TestConvGEMMEveryKernel(t *testing.T) {
	type cs struct{ n, c, h, w, m, k, s, p, g int }
	cases := []cs{
		{2, 32, 2, 2, 64, 3, 1, 1, 1},   // folded, transposed (8 columns, 64 filters)
		{3, 20, 1, 1, 70, 1, 1, 0, 1},   // 1×1 on 1×1 maps, folded and transposed
		{3, 16, 3, 3, 40, 1, 1, 0, 1},   // 1×1 folded
		{2, 8, 4, 4, 48, 3, 1, 1, 2},    // groups, folded
		{2, 3, 34, 33, 5, 3, 1, 1, 1},   // large maps: one image at a time
		{1, 9, 11, 13, 17, 3, 2, 2, 1},  // one image, strides and pads
		{2, 5, 9, 9, 300, 3, 2, 1, 1},   // many filters, 25 pixels per image
		{2, 600, 2, 2, 29, 1, 1, 0, 1},  // reduction beyond one K block
		{2, 16, 6, 6, 33, 5, 1, 0, 1},   // 2×2 outputs from a 5×5 kernel
		{1, 70, 1, 1, 130, 1, 1, 0, 1},  // one pixel, one image
		{2, 12, 16, 16, 64, 1, 1, 0, 1}, // 1×1 folded, 512 columns
		{3, 256, 30, 30, 8, 3, 1, 1, 1}, // folded two images, then one (foldFloats)
	}
	saved := kern
	defer func() { kern = saved }()
	for _, kr := range gemmKernels() {
		kern = kr
		for ci, tc := range cases {
			t.Run(fmt.Sprint(kr.name, tc), func(t *testing.T) {
				rng := rand.New(rand.NewSource(int64(11 + ci)))
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
				attrs := []*onnxpb.AttributeProto{
					intsAttr("strides", tc.s, tc.s), intsAttr("pads", tc.p, tc.p, tc.p, tc.p),
					{Name: ptrTo("group"), I: ptrTo(int64(tc.g)), Type: onnxpb.AttributeProto_INT.Enum()},
				}
				m := model(17, []string{"x"}, []string{"y"}, []*onnxpb.TensorProto{wt.Proto("w"), bt.Proto("b")},
					node("Conv", []string{"x", "w", "b"}, []string{"y"}, attrs...))
				s, err := NewSession(m, "")
				if err != nil {
					t.Fatal(err)
				}
				c := &opCtx{attrs: map[string]*onnxpb.AttributeProto{"strides": attrs[0], "pads": attrs[1], "group": attrs[2]}, opset: 17}
				slow, err := opConv(c, []*Tensor{castTensor(xt, Float64), castTensor(wt, Float64), castTensor(bt, Float64)})
				if err != nil {
					t.Fatal(err)
				}
				sv := slow[0].AsFloat64()
				k := float64(tc.c / tc.g * tc.k * tc.k)
				for run := 0; run < 2; run++ {
					out, err := s.Run(map[string]*Tensor{"x": xt}, nil)
					if err != nil {
						t.Fatal(err)
					}
					y := out["y"]
					if !shapeEq(y.shape, slow[0].shape) {
						t.Fatalf("shape %v, want %v", y.shape, slow[0].shape)
					}
					for i, v := range y.AsFloat64() {
						// float32 sums of k unit-normal products (plus the bias).
						if math.Abs(v-sv[i]) > 8*0x1p-24*k*math.Sqrt(k)+1e-6 {
							t.Fatalf("run %d: y[%d] = %g, want %g", run, i, v, sv[i])
						}
					}
				}
			})
		}
	}
}
