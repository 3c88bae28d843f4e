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
// strides and pads, and tails that fill no whole 6×16 or 14×32 tile. The
// Go kernel runs with the unfold's Go moves (no assembly gather).
func TestConvGEMMEveryKernel(t *testing.T) {
	type cs struct{ n, c, h, w, m, k, s, p, g, d int }
	cases := []cs{
		{2, 32, 2, 2, 64, 3, 1, 1, 1, 1},   // folded, transposed (8 columns, 64 filters)
		{3, 20, 1, 1, 70, 1, 1, 0, 1, 1},   // 1×1 on 1×1 maps, folded and transposed
		{3, 16, 3, 3, 40, 1, 1, 0, 1, 1},   // 1×1 folded
		{2, 8, 4, 4, 48, 3, 1, 1, 2, 1},    // groups, folded
		{2, 3, 34, 33, 5, 3, 1, 1, 1, 1},   // large maps: one image at a time
		{1, 9, 11, 13, 17, 3, 2, 2, 1, 1},  // one image, strides and pads
		{2, 5, 9, 9, 300, 3, 2, 1, 1, 1},   // many filters, 25 pixels per image
		{2, 600, 2, 2, 29, 1, 1, 0, 1, 1},  // reduction beyond one K block
		{2, 16, 6, 6, 33, 5, 1, 0, 1, 1},   // 2×2 outputs from a 5×5 kernel
		{1, 70, 1, 1, 130, 1, 1, 0, 1, 1},  // one pixel, one image
		{2, 12, 16, 16, 64, 1, 1, 0, 1, 1}, // 1×1 folded, 512 columns
		{3, 256, 30, 30, 8, 3, 1, 1, 1, 1}, // folded two images, then one (foldFloats)
		{2, 40, 4, 4, 24, 3, 1, 12, 1, 12}, // ASPP: dilation 12 on 4×4, only the centre tap reads the image
		{2, 20, 5, 3, 70, 3, 1, 4, 1, 4},   // dilation 4 on 5×3: rows and columns pruned differently, transposed
		{1, 30, 9, 7, 19, 3, 2, 6, 1, 6},   // dilation 6, stride 2
		{2, 8, 6, 6, 16, 3, 1, 9, 2, 9},    // dilation 9 with groups
		{2, 33, 7, 7, 5, 3, 1, 2, 1, 2},    // dilation 2 on 7×7: every tap reads the image
		{2, 17, 3, 3, 9, 5, 1, 4, 1, 1},    // 5×5 on 3×3 with pad 4: outer taps read padding only at some pixels
		{2, 6, 37, 18, 7, 3, 1, 1, 1, 1},   // 37×18 maps: output rows cross 32- and 14-wide strips
		{1, 5, 20, 40, 9, 3, 2, 1, 1, 1},   // stride 2 on 20-wide rows
		{2, 40, 2, 2, 300, 3, 1, 1, 1, 1},  // unfolded and transposed (8 columns, 300 filters)
		{2, 24, 2, 2, 300, 3, 1, 6, 1, 6},  // pruned to the centre tap, transposed
		// The unfold inside the product: K of several 256 blocks with a
		// tail, columns no multiple of the strips, each layout.
		{2, 70, 5, 7, 9, 3, 1, 1, 1, 1},    // K 630, 70 folded columns split over the workers
		{2, 60, 2, 2, 400, 3, 1, 1, 1, 1},  // K 540, transposed, the unfolded A packed whole in parallel
		{2, 5, 2, 2, 300, 3, 1, 1, 1, 1},   // K 45, transposed and serial: A unfolded per row block
		{2, 40, 13, 11, 12, 3, 2, 1, 1, 1}, // K 360, stride 2 (strided reads of the padded planes)
		{2, 33, 9, 9, 20, 3, 1, 2, 1, 2},   // K 297, dilation 2
		{2, 300, 3, 3, 10, 3, 1, 5, 1, 5},  // pruned to the centre tap, K 300, unpadded planes
		{2, 96, 6, 6, 64, 3, 1, 1, 2, 1},   // groups of K 432
		{1, 64, 40, 40, 16, 3, 1, 1, 1, 1}, // one 40×40 image, K 576, 1600 columns
		{2, 128, 2, 2, 32, 3, 1, 1, 1, 1},  // densenet's growth 3×3 on 2×2 maps
		{2, 7, 5, 5, 6, 3, 1, 1, 1, 1},     // tiny: one strip, one K block
		{2, 16, 3, 3, 600, 3, 1, 0, 1, 1},  // 1×1 outputs, transposed with every kernel, A packed whole
		{2, 3, 3, 3, 600, 3, 1, 0, 1, 1},   // the same serial: A unfolded per row block
	}
	saved, savedGather := kern, gatherAVX2
	defer func() { kern, gatherAVX2 = saved, savedGather }()
	for _, kr := range gemmKernels() {
		// The Go kernel stands for a CPU without AVX2: the unfold's
		// assembly gather is off with it.
		kern, gatherAVX2 = kr, savedGather && kr != kernelGo6x16
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
					intsAttr("dilations", tc.d, tc.d),
				}
				m := model(17, []string{"x"}, []string{"y"}, []*onnxpb.TensorProto{wt.Proto("w"), bt.Proto("b")},
					node("Conv", []string{"x", "w", "b"}, []string{"y"}, attrs...))
				s, err := NewSession(m, "")
				if err != nil {
					t.Fatal(err)
				}
				c := &opCtx{attrs: map[string]*onnxpb.AttributeProto{"strides": attrs[0], "pads": attrs[1], "group": attrs[2], "dilations": attrs[3]}, opset: 17}
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

// paddedConv64 is a float64 2-D convolution (one group, square stride,
// pad and dilation) over the input explicitly padded with zeros, so that
// a weight of Inf or NaN on a tap that reads padding gives NaN (0·Inf),
// as in ONNX Runtime's im2col.
func paddedConv64(x, w, b []float32, n, c, h, wd, m, k, s, p, d int) ([]float64, int, int) {
	ph, pw := h+2*p, wd+2*p
	xp := make([]float64, n*c*ph*pw)
	for i := 0; i < n*c; i++ {
		for y := 0; y < h; y++ {
			for xx := 0; xx < wd; xx++ {
				xp[(i*ph+y+p)*pw+xx+p] = float64(x[(i*h+y)*wd+xx])
			}
		}
	}
	oh, ow := (ph-d*(k-1)-1)/s+1, (pw-d*(k-1)-1)/s+1
	y := make([]float64, n*m*oh*ow)
	for ni := 0; ni < n; ni++ {
		for mi := 0; mi < m; mi++ {
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					v := float64(b[mi])
					for ci := 0; ci < c; ci++ {
						for ky := 0; ky < k; ky++ {
							for kx := 0; kx < k; kx++ {
								v += xp[((ni*c+ci)*ph+oy*s+ky*d)*pw+ox*s+kx*d] * float64(w[((mi*c+ci)*k+ky)*k+kx])
							}
						}
					}
					y[((ni*m+mi)*oh+oy)*ow+ox] = v
				}
			}
		}
	}
	return y, oh, ow
}

// TestConvPrunedTaps checks the dropping of taps that read only padding
// (ASPP-style dilated 3×3 convolutions on maps smaller than the dilation)
// against a float64 convolution over the explicitly zero-padded input:
// with finite weights the pruned product matches, and an Inf or NaN
// weight on a pruned tap turns its output channel into NaN, as 0·Inf does
// in the padded reference (and in ONNX Runtime), so no tap is pruned then.
func TestConvPrunedTaps(t *testing.T) {
	const n, c, h, w, m, k, s, p, d = 2, 24, 4, 5, 40, 3, 1, 12, 12
	saved, savedGather := kern, gatherAVX2
	defer func() { kern, gatherAVX2 = saved, savedGather }()
	for _, kr := range gemmKernels() {
		kern, gatherAVX2 = kr, savedGather && kr != kernelGo6x16
		testConvPrunedTaps(t, kr.name)
	}
}

func testConvPrunedTaps(t *testing.T, kname string) {
	const n, c, h, w, m, k, s, p, d = 2, 24, 4, 5, 40, 3, 1, 12, 12
	for _, tc := range []struct {
		name string
		bad  float32 // planted at a tap that reads only padding, output channel 3
	}{{"finite", 0}, {"inf", float32(math.Inf(-1))}, {"nan", float32(math.NaN())}} {
		t.Run(kname+"/"+tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewSource(5))
			x := make([]float32, n*c*h*w)
			wt := make([]float32, m*c*k*k)
			b := make([]float32, m)
			for _, s := range [][]float32{x, wt, b} {
				for i := range s {
					s[i] = float32(rng.NormFloat64())
				}
			}
			if tc.bad != 0 {
				wt[((3*c+7)*k+0)*k+2] = tc.bad // tap (0, 2) of output 3, input 7
			}
			want, oh, ow := paddedConv64(x, wt, b, n, c, h, w, m, k, s, p, d)
			wT := NewFloat32([]int64{m, c, k, k}, wt)
			g := &conv2DGeom{c: c, h: h, w: w, kh: k, kw: k, sh: s, sw: s, dh: d, dw: d, pt: p, pl: p, oh: oh, ow: ow, m: m, mg: m, grps: 1}
			if got, wantTaps := len(liveTaps(nil, wT, wt, g).taps), map[bool]int{true: 1, false: 9}[tc.bad == 0]; got != wantTaps {
				t.Errorf("%d taps multiplied, want %d", got, wantTaps)
			}
			attrs := []*onnxpb.AttributeProto{intsAttr("pads", p, p, p, p), intsAttr("dilations", d, d)}
			mdl := model(17, []string{"x"}, []string{"y"}, []*onnxpb.TensorProto{wT.Proto("w"), NewFloat32([]int64{m}, b).Proto("b")},
				node("Conv", []string{"x", "w", "b"}, []string{"y"}, attrs...))
			sess, err := NewSession(mdl, "")
			if err != nil {
				t.Fatal(err)
			}
			kk := float64(c * k * k)
			for run := 0; run < 2; run++ { // the second run uses the session's cached taps
				out, err := sess.Run(map[string]*Tensor{"x": NewFloat32([]int64{n, c, h, w}, x)}, nil)
				if err != nil {
					t.Fatal(err)
				}
				y := out["y"].AsFloat64()
				if len(y) != len(want) {
					t.Fatalf("%d outputs, want %d", len(y), len(want))
				}
				for i, v := range y {
					if math.IsNaN(want[i]) != math.IsNaN(v) || math.Abs(v-want[i]) > 8*0x1p-24*kk*math.Sqrt(kk)+1e-6 {
						t.Fatalf("run %d: y[%d] = %g, want %g", run, i, v, want[i])
					}
				}
			}
		})
	}
}

// BenchmarkConvSmallM times the convolutions that multiply few output
// channels or pixels, where unfolding costs as much as the product:
// densenet121's 3×3 growth convolutions (128 → 32 channels) at its
// 2×3×64×64 benchmark input, deeplabv3's ASPP 3×3 with dilation 12 on a
// 4×4 map (960 → 256), and efficientnet_b0's 1×1 projections.
func BenchmarkConvSmallM(b *testing.B) {
	for _, tc := range []struct {
		name                 string
		c, hw, m, k, s, p, d int
	}{
		{"densenet_128to32_3x3_16px", 128, 16, 32, 3, 1, 1, 1},
		{"densenet_128to32_3x3_8px", 128, 8, 32, 3, 1, 1, 1},
		{"densenet_128to32_3x3_4px", 128, 4, 32, 3, 1, 1, 1},
		{"densenet_128to32_3x3_2px", 128, 2, 32, 3, 1, 1, 1},
		{"densenet_512to128_1x1_8px", 512, 8, 128, 1, 1, 0, 1},
		{"aspp_960to256_3x3d12_4px", 960, 4, 256, 3, 1, 12, 12},
		{"effnet_672to112_1x1_4px", 672, 4, 112, 1, 1, 0, 1},
	} {
		b.Run(tc.name, func(b *testing.B) {
			n := node("Conv", []string{"x", "w", "b"}, []string{"y"},
				attrInts("strides", int64(tc.s), int64(tc.s)), attrInts("pads", int64(tc.p), int64(tc.p), int64(tc.p), int64(tc.p)),
				attrInts("dilations", int64(tc.d), int64(tc.d)))
			benchNode(b, n,
				map[string]*Tensor{"w": seeded(1, int64(tc.m), int64(tc.c), int64(tc.k), int64(tc.k)), "b": seeded(2, int64(tc.m))},
				map[string]*Tensor{"x": seeded(3, 2, int64(tc.c), int64(tc.hw), int64(tc.hw))})
		})
	}
}

// BenchmarkIm2colStrips times the unfold alone (no product): densenet's
// 128-channel 3×3 on 16×16 maps, batch 2, one K block of one 32-wide
// strip after another into a cache-resident panel, as the GEMM asks for it.
func BenchmarkIm2colStrips(b *testing.B) {
	g := &conv2DGeom{c: 128, h: 16, w: 16, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, pt: 1, pl: 1, oh: 16, ow: 16, m: 32, mg: 32, grps: 1}
	x := seeded(3, 2, 128, 16, 16).Float32s()
	taps := []int{0, 1, 2, 3, 4, 5, 6, 7, 8}
	var planes []float32
	u := newIm2col(x, g, taps, 0, 2, 0, &planes)
	k := 128 * 9
	dst := make([]float32, 32*gemmKC)
	b.SetBytes(int64(4 * k * u.cols))
	for i := 0; i < b.N; i++ {
		for j := 0; j < u.cols; j += 32 {
			for p0 := 0; p0 < k; p0 += gemmKC {
				kc := min(gemmKC, k-p0)
				u.packStrips(dst, 32, p0, kc, j, 32)
			}
		}
	}
}
