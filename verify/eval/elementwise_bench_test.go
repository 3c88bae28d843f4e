package eval

import (
	"fmt"
	"math/rand"
	"testing"
)

// BenchmarkSqueezeExcite times EfficientNet-B0's elementwise tails at its
// 2×3×64×64 benchmark input (scripts/bench-archs.sh): SiLU (x·sigmoid(x)),
// the squeeze-excitation scale x·sigmoid(s) with s one value per channel,
// and the bare per-channel Mul.
func BenchmarkSqueezeExcite(b *testing.B) {
	for _, sh := range [][]int64{{2, 1152, 2, 2}, {2, 480, 4, 4}, {2, 144, 16, 16}} {
		r := rand.New(rand.NewSource(1))
		x, s := normalF32(r, sh...), normalF32(r, sh[0], sh[1], 1, 1)
		b.Run(fmt.Sprint("silu", sh), func(b *testing.B) {
			benchRunCPU(b, model(17, []string{"x"}, []string{"y"}, nil,
				node("Sigmoid", []string{"x"}, []string{"g"}), node("Mul", []string{"x", "g"}, []string{"y"})),
				map[string]*Tensor{"x": x})
		})
		b.Run(fmt.Sprint("scale", sh), func(b *testing.B) {
			benchRunCPU(b, model(17, []string{"x", "s"}, []string{"y"}, nil,
				node("Sigmoid", []string{"s"}, []string{"g"}), node("Mul", []string{"x", "g"}, []string{"y"})),
				map[string]*Tensor{"x": x, "s": s})
		})
		b.Run(fmt.Sprint("mul", sh), func(b *testing.B) {
			benchRunCPU(b, model(17, []string{"x", "s"}, []string{"y"}, nil,
				node("Mul", []string{"x", "s"}, []string{"y"})),
				map[string]*Tensor{"x": x, "s": s})
		})
	}
}
