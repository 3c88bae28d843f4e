package eval

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/onnxloss/onnxloss/onnxpb"
)

// benchOp times a session running op (inputs X, then the initializers
// inits) followed by a ReduceSum of its output.
func benchOp(b *testing.B, x *Tensor, op *onnxpb.NodeProto, inits map[string]*Tensor) {
	var tps []*onnxpb.TensorProto
	for name, t := range inits {
		tps = append(tps, t.Proto(name))
	}
	red := node("ReduceSum", []string{op.Output[0]}, []string{"Z"}, attrInt("keepdims", 0))
	benchRun(b, model(17, []string{"X"}, []string{"Z"}, tps, op, red), map[string]*Tensor{"X": x})
}

// Benchmarks of depthwise Conv, MaxPool, AveragePool and BatchNormalization
// on float32 shapes of the exported architectures (2×3×64×64 inputs):
// efficientnet/mobilenet depthwise stages, convnext's 7×7, resnet18's
// stem MaxPool, densenet121's transition AveragePool and its BatchNorm.
// Each runs in a session, followed by a ReduceSum to a scalar (the same
// in every variant), so that the op's output buffer is recycled from run
// to run as inside a model instead of allocated fresh.

func randF32(rng *rand.Rand, shape ...int64) *Tensor {
	d := make([]float32, NumElements(shape))
	for i := range d {
		d[i] = float32(rng.NormFloat64())
	}
	return NewFloat32(shape, d)
}

func BenchmarkWindowDepthwise(b *testing.B) {
	for _, tc := range []struct{ n, c, hw, k, s int }{
		{2, 32, 32, 3, 1}, {2, 96, 32, 3, 2}, {2, 240, 8, 5, 1}, {2, 672, 8, 5, 2}, {2, 96, 16, 7, 1}, {2, 384, 4, 7, 1},
		// The late stages of efficientnet_b0 and lraspp_mobilenet_v3_large.
		{2, 1152, 2, 5, 1}, {2, 1152, 2, 3, 1}, {2, 672, 4, 5, 1}, {2, 480, 4, 3, 1}, {2, 240, 8, 3, 1}, {1, 960, 4, 5, 1}, {2, 144, 16, 3, 1},
	} {
		b.Run(fmt.Sprintf("n%d_c%d_%dx%d_k%d_s%d", tc.n, tc.c, tc.hw, tc.hw, tc.k, tc.s), func(b *testing.B) {
			rng := rand.New(rand.NewSource(1))
			x := randF32(rng, int64(tc.n), int64(tc.c), int64(tc.hw), int64(tc.hw))
			w := randF32(rng, int64(tc.c), 1, int64(tc.k), int64(tc.k))
			bias := randF32(rng, int64(tc.c))
			p := int64(tc.k / 2)
			op := node("Conv", []string{"X", "W", "B"}, []string{"Y"}, attrInts("strides", int64(tc.s), int64(tc.s)),
				attrInts("pads", p, p, p, p), attrInt("group", int64(tc.c)))
			benchWays(b, func(b *testing.B) { benchOp(b, x, op, map[string]*Tensor{"W": w, "B": bias}) })
		})
	}
}

// benchWays runs f the planes' way (depthwise32.go) and, on AVX-512, the
// channels' way (depthwise_nhwc.go), whatever dwChannelsMaxOut and
// dwPoolChannelsMaxIn pick for the shape.
func benchWays(b *testing.B, f func(b *testing.B)) {
	saved, savedPool := dwChannelsMaxOut, dwPoolChannelsMaxIn
	defer func() { dwChannelsMaxOut, dwPoolChannelsMaxIn = saved, savedPool }()
	for _, way := range []struct {
		name   string
		maxOut int
	}{{"planes", -1}, {"channels", 1 << 30}} {
		if way.name == "channels" && !haveAVX512 {
			continue
		}
		b.Run(way.name, func(b *testing.B) {
			dwChannelsMaxOut, dwPoolChannelsMaxIn = way.maxOut, way.maxOut
			f(b)
		})
	}
}

func BenchmarkWindowPool(b *testing.B) {
	for _, tc := range []struct {
		op          string
		c, hw, k, s int
		p           int
	}{
		{"MaxPool", 64, 32, 3, 2, 1}, {"MaxPool", 64, 16, 3, 1, 1}, {"AveragePool", 128, 16, 2, 2, 0}, {"AveragePool", 256, 8, 3, 1, 1},
		// densenet121's later transitions.
		{"AveragePool", 256, 8, 2, 2, 0}, {"AveragePool", 512, 4, 2, 2, 0},
	} {
		b.Run(fmt.Sprintf("%s_c%d_%dx%d_k%d_s%d_p%d", tc.op, tc.c, tc.hw, tc.hw, tc.k, tc.s, tc.p), func(b *testing.B) {
			rng := rand.New(rand.NewSource(1))
			x := randF32(rng, 2, int64(tc.c), int64(tc.hw), int64(tc.hw))
			op := node(tc.op, []string{"X"}, []string{"Y"}, attrInts("kernel_shape", int64(tc.k), int64(tc.k)),
				attrInts("strides", int64(tc.s), int64(tc.s)), attrInts("pads", int64(tc.p), int64(tc.p), int64(tc.p), int64(tc.p)))
			if tc.op == "MaxPool" {
				benchOp(b, x, op, nil)
				return
			}
			benchWays(b, func(b *testing.B) { benchOp(b, x, op, nil) })
		})
	}
}

func BenchmarkWindowBatchNorm(b *testing.B) {
	rng := rand.New(rand.NewSource(1))
	const ch = 256
	x := randF32(rng, 2, ch, 16, 16)
	sc, bs, mean := randF32(rng, ch), randF32(rng, ch), randF32(rng, ch)
	vr := randF32(rng, ch)
	for i, v := range vr.Float32s() {
		vr.Float32s()[i] = v*v + 0.1
	}
	op := node("BatchNormalization", []string{"X", "S", "B", "M", "V"}, []string{"Y"})
	benchOp(b, x, op, map[string]*Tensor{"S": sc, "B": bs, "M": mean, "V": vr})
}

// BenchmarkWindowGlobalAveragePool times GlobalAveragePool on the
// squeeze-and-excitation inputs of efficientnet_b0 (2×3×64×64 input).
func BenchmarkWindowGlobalAveragePool(b *testing.B) {
	for _, sh := range [][]int64{{2, 32, 32, 32}, {2, 144, 16, 16}, {2, 240, 8, 8}, {2, 672, 4, 4}, {2, 1152, 2, 2}} {
		b.Run(fmt.Sprint(sh), func(b *testing.B) {
			x := randF32(rand.New(rand.NewSource(1)), sh...)
			benchOp(b, x, node("GlobalAveragePool", []string{"X"}, []string{"Y"}), nil)
		})
	}
}
