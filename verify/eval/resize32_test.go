package eval

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/onnxloss/onnxloss/onnxpb"
	"google.golang.org/protobuf/proto"
)

func attrStr(name, v string) *onnxpb.AttributeProto {
	t := onnxpb.AttributeProto_STRING
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: &t, S: []byte(v)}
}

// TestResize2D32MatchesGeneral checks the float32 last-two-axes Resize path
// bit for bit against the general float64 path (which the ONNX node tests
// check against the reference implementation) over the modes and
// coordinate transformations PyTorch exports and the others, upsampling
// and downsampling, one axis or both, scales and sizes, odd sizes and
// outputs of length 1, with NaN, ±Inf and −0 in the input.
func TestResize2D32MatchesGeneral(t *testing.T) {
	defer func() { resizeFast = true }()
	type form struct {
		mode, coord, nearest string
		antialias            bool
	}
	forms := []form{
		{"linear", "half_pixel", "", false},
		{"linear", "align_corners", "", false},
		{"linear", "pytorch_half_pixel", "", false},
		{"linear", "asymmetric", "", false},
		{"linear", "half_pixel", "", true},
		{"nearest", "asymmetric", "floor", false},
		{"nearest", "half_pixel", "round_prefer_floor", false},
		{"nearest", "pytorch_half_pixel", "round_prefer_ceil", false},
		{"nearest", "tf_half_pixel_for_nn", "ceil", false},
		{"cubic", "half_pixel", "", false},
		{"cubic", "align_corners", "", true},
	}
	type size struct {
		in     []int64
		scales []float32 // or sizes
		sizes  []int64
	}
	sizes := []size{
		{in: []int64{1, 5, 8, 8}, sizes: []int64{1, 5, 64, 64}},
		{in: []int64{1, 3, 4, 4}, scales: []float32{1, 1, 2, 2}},
		{in: []int64{2, 3, 7, 5}, sizes: []int64{2, 3, 13, 11}},
		{in: []int64{2, 2, 9, 10}, sizes: []int64{2, 2, 4, 3}},
		{in: []int64{1, 2, 5, 6}, sizes: []int64{1, 2, 1, 1}},
		{in: []int64{1, 2, 5, 6}, sizes: []int64{1, 2, 5, 17}},
		{in: []int64{1, 2, 5, 6}, sizes: []int64{1, 2, 9, 6}},
		{in: []int64{3, 7, 6}, scales: []float32{1, 1.5, 2.5}},
		{in: []int64{4, 9}, sizes: []int64{7, 4}},
	}
	r := rand.New(rand.NewPCG(2, 8))
	for _, f := range forms {
		for _, sz := range sizes {
			x := make([]float32, NumElements(sz.in))
			for i := range x {
				x[i] = float32(r.NormFloat64() * 2)
			}
			x[r.IntN(len(x))] = float32(math.NaN())
			x[r.IntN(len(x))] = float32(math.Inf(1))
			x[r.IntN(len(x))] = float32(math.Copysign(0, -1))
			attrs := []*onnxpb.AttributeProto{attrStr("mode", f.mode), attrStr("coordinate_transformation_mode", f.coord)}
			if f.nearest != "" {
				attrs = append(attrs, attrStr("nearest_mode", f.nearest))
			}
			if f.antialias {
				attrs = append(attrs, attrInt("antialias", 1))
			}
			inits := []*onnxpb.TensorProto{NewFloat32([]int64{0}, nil).Proto("roi")}
			ins := []string{"x", "roi"}
			if sz.scales != nil {
				inits = append(inits, NewFloat32([]int64{int64(len(sz.scales))}, sz.scales).Proto("scales"))
				ins = append(ins, "scales")
			} else {
				inits = append(inits, NewInt64([]int64{int64(len(sz.sizes))}, sz.sizes).Proto("sizes"))
				ins = append(ins, "", "sizes")
			}
			s, err := NewSession(model(18, []string{"x"}, []string{"y"}, inits, node("Resize", ins, []string{"y"}, attrs...)), "")
			if err != nil {
				t.Fatal(err)
			}
			run := func(fast bool) *Tensor {
				resizeFast = fast
				out, err := s.Run(map[string]*Tensor{"x": NewFloat32(sz.in, x)}, nil)
				if err != nil {
					t.Fatalf("%+v %v: %v", f, sz.in, err)
				}
				return out["y"]
			}
			got, want := run(true), run(false)
			name := fmt.Sprintf("%+v %v→%v%v", f, sz.in, sz.sizes, sz.scales)
			if fmt.Sprint(got.shape) != fmt.Sprint(want.shape) {
				t.Fatalf("%s: shape %v, want %v", name, got.shape, want.shape)
			}
			if i := sameBits(got.Float32s(), want.Float32s()); i >= 0 {
				t.Fatalf("%s: y[%d] = %v, general path %v", name, i, got.Float32s()[i], want.Float32s()[i])
			}
		}
	}
}

// BenchmarkResize2D32 times LR-ASPP MobileNetV3's two Resize nodes at its
// 1×3×64×64 benchmark input (scripts/bench-archs.sh), fast and general.
func BenchmarkResize2D32(b *testing.B) {
	defer func() { resizeFast = true }()
	for _, tc := range []struct{ in, out []int64 }{
		{[]int64{1, 5, 8, 8}, []int64{1, 5, 64, 64}},
		{[]int64{1, 128, 4, 4}, []int64{1, 128, 8, 8}},
	} {
		for _, fast := range []bool{true, false} {
			b.Run(fmt.Sprint(tc.in, "fast=", fast), func(b *testing.B) {
				resizeFast = fast
				r := rand.New(rand.NewPCG(1, 1))
				x := make([]float32, NumElements(tc.in))
				for i := range x {
					x[i] = float32(r.NormFloat64())
				}
				inits := []*onnxpb.TensorProto{NewFloat32([]int64{0}, nil).Proto("roi"), NewInt64([]int64{4}, tc.out).Proto("sizes")}
				benchRunCPU(b, model(17, []string{"x"}, []string{"y"}, inits, node("Resize", []string{"x", "roi", "", "sizes"}, []string{"y"},
					attrStr("mode", "linear"), attrStr("coordinate_transformation_mode", "half_pixel"))),
					map[string]*Tensor{"x": NewFloat32(tc.in, x)})
			})
		}
	}
}
