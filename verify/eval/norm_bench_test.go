package eval

import (
	"fmt"
	"math/rand"
	"syscall"
	"testing"
	"time"

	"github.com/onnxloss/onnxloss/onnxpb"
)

// BenchmarkBatchNormRelu times DenseNet-121's pre-activation
// BatchNormalization → Relu at its 2×3×64×64 benchmark input
// (scripts/bench-archs.sh): concatenations of 16×16 down to 2×2 maps.
func BenchmarkBatchNormRelu(b *testing.B) {
	for _, sh := range [][]int64{{2, 256, 16, 16}, {2, 512, 8, 8}, {2, 1024, 4, 4}, {2, 1024, 2, 2}} {
		b.Run(fmt.Sprint(sh), func(b *testing.B) {
			r := rand.New(rand.NewSource(1))
			c := sh[1]
			v := normalF32(r, c)
			for i, x := range v.Float32s() {
				v.Float32s()[i] = x*x + 0.1
			}
			m := model(17, []string{"x"}, []string{"y"},
				[]*onnxpb.TensorProto{normalF32(r, c).Proto("s"), normalF32(r, c).Proto("b"), normalF32(r, c).Proto("m"), v.Proto("v")},
				node("BatchNormalization", []string{"x", "s", "b", "m", "v"}, []string{"bn"}),
				node("Relu", []string{"bn"}, []string{"y"}))
			benchRunCPU(b, m, map[string]*Tensor{"x": normalF32(r, sh...)})
		})
	}
}

// benchRunCPU is benchRun reporting also the process's CPU time per run
// (cpu-ns/op, all threads): on a machine shared with other jobs, wall time
// measures the scheduler as much as the kernels.
func benchRunCPU(b *testing.B, m *onnxpb.ModelProto, feeds map[string]*Tensor) {
	b.Helper()
	s, err := NewSession(m, "")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.Run(feeds, nil); err != nil {
		b.Fatal(err)
	}
	cpu := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			b.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	b.ResetTimer()
	t0 := cpu()
	for i := 0; i < b.N; i++ {
		if _, err := s.Run(feeds, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpu()-t0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkConcatBatchNormRelu times a DenseNet-121 layer's Concat →
// BatchNormalization → Relu at its 2×3×64×64 benchmark input: the stage's
// first feature map and k earlier layers' 32 channels each, 16×16 down to
// 2×2 maps.
func BenchmarkConcatBatchNormRelu(b *testing.B) {
	for _, tc := range []struct{ c0, k, hw int64 }{{64, 4, 16}, {128, 8, 8}, {256, 16, 4}, {512, 12, 2}} {
		b.Run(fmt.Sprintf("%d+%dx32_%dx%d", tc.c0, tc.k, tc.hw, tc.hw), func(b *testing.B) {
			r := rand.New(rand.NewSource(1))
			c := tc.c0 + 32*tc.k
			v := normalF32(r, c)
			for i, x := range v.Float32s() {
				v.Float32s()[i] = x*x + 0.1
			}
			feeds := map[string]*Tensor{"x0": normalF32(r, 2, tc.c0, tc.hw, tc.hw)}
			xs := []string{"x0"}
			for i := int64(1); i <= tc.k; i++ {
				name := fmt.Sprint("x", i)
				feeds[name] = normalF32(r, 2, 32, tc.hw, tc.hw)
				xs = append(xs, name)
			}
			m := model(17, xs, []string{"y"},
				[]*onnxpb.TensorProto{normalF32(r, c).Proto("s"), normalF32(r, c).Proto("b"), normalF32(r, c).Proto("m"), v.Proto("v")},
				node("Concat", xs, []string{"cat"}, attrInt("axis", 1)),
				node("BatchNormalization", []string{"cat", "s", "b", "m", "v"}, []string{"bn"}),
				node("Relu", []string{"bn"}, []string{"y"}))
			benchRunCPU(b, m, feeds)
		})
	}
}
