package eval

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/onnxloss/onnxloss/onnxpb"
)

// The float32 window kernels (depthwise32.go, pool32.go, BatchNorm's
// scaleShift) against the evaluator's float64 loops, which the ONNX node
// tests cover for every geometry, on random seeded geometries: widths
// that are not multiples of 8, strides 2 and 3 on odd sizes, dilations,
// asymmetric pads as large as (or larger than) the kernel, ceil_mode,
// count_include_pad and auto_pad. Each runs once per kernel
// implementation (the AVX2 assembly and the portable Go loop).

func intAttr(name string, v int) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: ptrTo(name), I: ptrTo(int64(v)), Type: onnxpb.AttributeProto_INT.Enum()}
}

func strAttr(name, v string) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: ptrTo(name), S: []byte(v), Type: onnxpb.AttributeProto_STRING.Enum()}
}

// windowCase is one random 2-D window geometry.
type windowCase struct {
	n, c, h, w     int
	kh, kw         int
	sh, sw, dh, dw int
	pads           [4]int
	ceil, incl     bool
	autoPad        string
}

func randWindowCase(rng *rand.Rand, maxK int) windowCase {
	tc := windowCase{n: 1 + rng.Intn(2), c: 1 + rng.Intn(5), h: 1 + rng.Intn(20), w: 1 + rng.Intn(40)}
	tc.kh, tc.kw = 1+rng.Intn(maxK), 1+rng.Intn(maxK)
	tc.sh, tc.sw = 1+rng.Intn(3), 1+rng.Intn(3)
	if rng.Intn(3) == 0 {
		tc.dh, tc.dw = 1+rng.Intn(2), 1+rng.Intn(3)
	} else {
		tc.dh, tc.dw = 1, 1
	}
	for i := range tc.pads {
		k := tc.kh
		if i%2 == 1 {
			k = tc.kw
		}
		tc.pads[i] = rng.Intn(k + 1) // up to the kernel size: a window may lie in the padding only
	}
	tc.ceil, tc.incl = rng.Intn(2) == 0, rng.Intn(2) == 0
	if rng.Intn(6) == 0 {
		tc.autoPad = []string{"SAME_UPPER", "SAME_LOWER", "VALID"}[rng.Intn(3)]
	}
	// Windows must fit the padded input.
	if (tc.kh-1)*tc.dh+1 > tc.h+tc.pads[0]+tc.pads[2] || (tc.kw-1)*tc.dw+1 > tc.w+tc.pads[1]+tc.pads[3] {
		tc.h += (tc.kh - 1) * tc.dh
		tc.w += (tc.kw - 1) * tc.dw
	}
	return tc
}

func (tc windowCase) attrs(pool bool) map[string]*onnxpb.AttributeProto {
	a := map[string]*onnxpb.AttributeProto{
		"strides":   intsAttr("strides", tc.sh, tc.sw),
		"dilations": intsAttr("dilations", tc.dh, tc.dw),
	}
	if tc.autoPad != "" {
		a["auto_pad"] = strAttr("auto_pad", tc.autoPad)
	} else {
		a["pads"] = intsAttr("pads", tc.pads[0], tc.pads[1], tc.pads[2], tc.pads[3])
	}
	if pool {
		a["kernel_shape"] = intsAttr("kernel_shape", tc.kh, tc.kw)
		if tc.ceil {
			a["ceil_mode"] = intAttr("ceil_mode", 1)
		}
		if tc.incl {
			a["count_include_pad"] = intAttr("count_include_pad", 1)
		}
	} else {
		a["group"] = intAttr("group", tc.c)
	}
	return a
}

func TestDepthwiseFloat32AgreesWithFloat64Loop(t *testing.T) {
	rng := rand.New(rand.NewSource(19))
	cases := []windowCase{
		{n: 2, c: 3, h: 17, w: 33, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, pads: [4]int{1, 1, 1, 1}},
		{n: 1, c: 4, h: 15, w: 15, kh: 3, kw: 3, sh: 2, sw: 2, dh: 1, dw: 1, pads: [4]int{1, 1, 1, 1}},
		{n: 1, c: 2, h: 9, w: 70, kh: 5, kw: 5, sh: 2, sw: 2, dh: 1, dw: 1, pads: [4]int{2, 2, 2, 2}},
		{n: 1, c: 2, h: 7, w: 7, kh: 7, kw: 7, sh: 1, sw: 1, dh: 1, dw: 1, pads: [4]int{3, 3, 3, 3}},
		{n: 1, c: 2, h: 4, w: 4, kh: 3, kw: 3, sh: 1, sw: 1, dh: 2, dw: 2, pads: [4]int{5, 4, 3, 6}}, // pads beyond the kernel
		{n: 1, c: 2, h: 1, w: 1, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, pads: [4]int{1, 1, 1, 1}},
	}
	for i := 0; i < 40; i++ {
		cases = append(cases, randWindowCase(rng, 7))
	}
	forEachWindowKernel(t, func(t *testing.T) {
		for _, tc := range cases {
			t.Run(fmt.Sprint(tc), func(t *testing.T) {
				x := randF32(rng, int64(tc.n), int64(tc.c), int64(tc.h), int64(tc.w))
				w := randF32(rng, int64(tc.c), 1, int64(tc.kh), int64(tc.kw))
				b := randF32(rng, int64(tc.c))
				c := &opCtx{attrs: tc.attrs(false), opset: 17}
				fast, err := opConv(c, []*Tensor{x, w, b})
				if err != nil {
					t.Fatal(err)
				}
				slow, err := opConv(c, []*Tensor{castTensor(x, Float64), castTensor(w, Float64), castTensor(b, Float64)})
				if err != nil {
					t.Fatal(err)
				}
				if !shapeEq(fast[0].shape, slow[0].shape) {
					t.Fatalf("shape %v, want %v", fast[0].shape, slow[0].shape)
				}
				fv, sv := fast[0].AsFloat64(), slow[0].AsFloat64()
				k := float64(tc.kh * tc.kw)
				for i := range fv {
					// A float32 sum of k+1 terms (unit-normal products and
					// the bias): a few ulps per term of a value of size √k.
					if math.Abs(fv[i]-sv[i]) > 4*0x1p-24*k*(math.Sqrt(k)+1) {
						t.Fatalf("y[%d] = %g, want %g", i, fv[i], sv[i])
					}
				}
			})
		}
	})
}

func TestPoolFloat32AgreesWithFloat64Loop(t *testing.T) {
	rng := rand.New(rand.NewSource(23))
	cases := []windowCase{
		{n: 2, c: 3, h: 32, w: 32, kh: 3, kw: 3, sh: 2, sw: 2, dh: 1, dw: 1, pads: [4]int{1, 1, 1, 1}},
		{n: 1, c: 3, h: 17, w: 33, kh: 2, kw: 2, sh: 2, sw: 2, dh: 1, dw: 1, ceil: true},
		{n: 1, c: 2, h: 5, w: 5, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, pads: [4]int{4, 4, 4, 4}}, // windows wholly in the padding
		{n: 1, c: 2, h: 6, w: 11, kh: 3, kw: 2, sh: 3, sw: 3, dh: 2, dw: 1, pads: [4]int{2, 1, 0, 1}, ceil: true, incl: true},
		// Small planes of many channels (the channel-minor kernel's).
		{n: 2, c: 50, h: 4, w: 4, kh: 2, kw: 2, sh: 2, sw: 2, dh: 1, dw: 1},
		{n: 1, c: 77, h: 5, w: 5, kh: 2, kw: 2, sh: 2, sw: 2, dh: 1, dw: 1, ceil: true},
		{n: 2, c: 40, h: 7, w: 6, kh: 3, kw: 3, sh: 1, sw: 2, dh: 1, dw: 1, pads: [4]int{1, 0, 2, 1}, incl: true},
		{n: 1, c: 70, h: 3, w: 3, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, pads: [4]int{1, 1, 1, 1}},
	}
	for i := 0; i < 60; i++ {
		cases = append(cases, randWindowCase(rng, 4))
	}
	forEachWindowKernel(t, func(t *testing.T) {
		for _, isMax := range []bool{true, false} {
			for _, tc := range cases {
				t.Run(fmt.Sprint(isMax, tc), func(t *testing.T) {
					x := randF32(rng, int64(tc.n), int64(tc.c), int64(tc.h), int64(tc.w))
					if isMax {
						// MaxPool's NaN and -Inf rule: a NaN first tap wins, a later one is skipped.
						xd := x.Float32s()
						for i := 0; i < len(xd)/7+1; i++ {
							xd[rng.Intn(len(xd))] = float32(math.NaN())
							xd[rng.Intn(len(xd))] = float32(math.Inf(-1))
						}
					}
					c := &opCtx{attrs: tc.attrs(true), opset: 19, nOut: 1, want: []bool{true}}
					f := poolOp(isMax)
					fast, err := f(c, []*Tensor{x})
					if err != nil {
						t.Fatal(err)
					}
					slow, err := f(c, []*Tensor{castTensor(x, Float64)})
					if err != nil {
						t.Fatal(err)
					}
					if fast[0].dtype != Float32 || !shapeEq(fast[0].shape, slow[0].shape) {
						t.Fatalf("%v %v, want float32 %v", fast[0].dtype, fast[0].shape, slow[0].shape)
					}
					fv, sv := fast[0].AsFloat64(), slow[0].AsFloat64()
					k := float64(tc.kh * tc.kw)
					for i := range fv {
						if isMax {
							// A selection: exactly the float64 loop's element.
							if fv[i] != sv[i] && !(math.IsNaN(fv[i]) && math.IsNaN(sv[i])) {
								t.Fatalf("y[%d] = %g, want %g", i, fv[i], sv[i])
							}
							continue
						}
						// A float32 sum of ≤ k unit-normal values, then a division.
						if math.Abs(fv[i]-sv[i]) > 2*0x1p-24*(k+1)*math.Sqrt(k) {
							t.Fatalf("y[%d] = %g, want %g", i, fv[i], sv[i])
						}
					}
				})
			}
		}
	})
}

func TestBatchNormFloat32AgreesWithFloat64(t *testing.T) {
	rng := rand.New(rand.NewSource(29))
	forEachWindowKernel(t, func(t *testing.T) {
		for _, shape := range [][]int64{{2, 5, 7, 9}, {1, 3, 16}, {3, 4}, {1, 2, 33, 1}, {2, 3, 8, 8}} {
			ch := shape[1]
			x := randF32(rng, shape...)
			sc, bs, mean, vr := randF32(rng, ch), randF32(rng, ch), randF32(rng, ch), randF32(rng, ch)
			for i, v := range vr.Float32s() {
				vr.Float32s()[i] = v*v + 0.05
			}
			c := &opCtx{opset: 15, nOut: 1, want: []bool{true}}
			got, err := opBatchNorm(c, []*Tensor{x, sc, bs, mean, vr})
			if err != nil {
				t.Fatal(err)
			}
			inner := int(NumElements(shape[2:]))
			xd, gv := x.Float32s(), got[0].Float32s()
			for i := range xd {
				cc := i / inner % int(ch)
				a := float64(sc.Float32s()[cc]) / math.Sqrt(float64(vr.Float32s()[cc])+1e-5)
				want := (float64(xd[i])-float64(mean.Float32s()[cc]))*a + float64(bs.Float32s()[cc])
				// Folded a and b rounded to float32, then one FMA: a few
				// ulps of the terms' size.
				tol := 4 * 0x1p-24 * (math.Abs(float64(xd[i])*a) + math.Abs(float64(mean.Float32s()[cc])*a) + math.Abs(float64(bs.Float32s()[cc])))
				if math.Abs(float64(gv[i])-want) > tol {
					t.Fatalf("%v: y[%d] = %g, want %g", shape, i, gv[i], want)
				}
			}
		}
	})
}

// directDepthwise64 is a float64 direct depthwise convolution (ONNX Conv
// with group = channels, zero padding), written from the definition: the
// reference for the float32 kernels on small planes. It also returns,
// per output, Σ|w·x| + |b|, the scale of its rounding error.
func directDepthwise64(x, w, b []float32, n, c, h, wd int, tc windowCase) (y, mag []float64, oh, ow int) {
	kh, kw := tc.kh, tc.kw
	oh = (h+tc.pads[0]+tc.pads[2]-(kh-1)*tc.dh-1)/tc.sh + 1
	ow = (wd+tc.pads[1]+tc.pads[3]-(kw-1)*tc.dw-1)/tc.sw + 1
	y, mag = make([]float64, n*c*oh*ow), make([]float64, n*c*oh*ow)
	for i := 0; i < n*c; i++ {
		ch := i % c
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				s, m := 0.0, 0.0
				if b != nil {
					s, m = float64(b[ch]), math.Abs(float64(b[ch]))
				}
				for ky := 0; ky < kh; ky++ {
					for kx := 0; kx < kw; kx++ {
						iy, ix := oy*tc.sh-tc.pads[0]+ky*tc.dh, ox*tc.sw-tc.pads[1]+kx*tc.dw
						v := 0.0 // zero padding
						if iy >= 0 && iy < h && ix >= 0 && ix < wd {
							v = float64(x[(i*h+iy)*wd+ix])
						}
						p := float64(w[(ch*kh+ky)*kw+kx]) * v
						s += p
						m += math.Abs(p)
					}
				}
				y[(i*oh+oy)*ow+ox], mag[(i*oh+oy)*ow+ox] = s, m
			}
		}
	}
	return y, mag, oh, ow
}

// TestDepthwiseSmallPlanesAgreeWithDirectFloat64 covers the channel-minor
// kernel's geometries (depthwise_nhwc.go) and the switch to the plane
// kernels around dwChannelsMaxOut: planes 1×1 to 10×10 and 16×16 (and
// 17×17 beyond the switch), channel counts around and between multiples
// of 16 and of the 64- and 32-channel groups,
// strides 1 and 2, symmetric and asymmetric pads 0 to 2, dilation 2,
// kernels 1, 3, 5 and 7, with and without bias, and NaN and ±Inf in the
// inputs and weights, which must come out where float64 puts them (a
// padded tap times an Inf weight is NaN, as ONNX Runtime computes it).
func TestDepthwiseSmallPlanesAgreeWithDirectFloat64(t *testing.T) {
	rng := rand.New(rand.NewSource(31))
	type dwCase struct {
		tc     windowCase
		noBias bool
		nonfin bool
	}
	var cases []dwCase
	for _, hw := range []int{1, 2, 3, 4, 5, 7, 8, 9, 10, 16, 17} {
		for _, k := range []int{3, 5} {
			for _, s := range []int{1, 2} {
				tc := windowCase{n: 1 + rng.Intn(2), c: []int{1, 7, 16, 17, 40, 67, 100, 150}[rng.Intn(8)], h: hw, w: hw,
					kh: k, kw: k, sh: s, sw: s, dh: 1, dw: 1, pads: [4]int{k / 2, k / 2, k / 2, k / 2}}
				cases = append(cases, dwCase{tc: tc, noBias: rng.Intn(3) == 0})
			}
		}
	}
	for i := 0; i < 60; i++ {
		tc := windowCase{n: 1 + rng.Intn(2), c: 1 + rng.Intn(70), h: 1 + rng.Intn(9), w: 1 + rng.Intn(9),
			sh: 1 + rng.Intn(2), sw: 1 + rng.Intn(2), dh: 1 + rng.Intn(2), dw: 1 + rng.Intn(2)}
		tc.kh, tc.kw = []int{1, 3, 5, 7}[rng.Intn(4)], []int{1, 3, 5}[rng.Intn(3)]
		for j := range tc.pads {
			tc.pads[j] = rng.Intn(3) // asymmetric, 0 to 2
		}
		if (tc.kh-1)*tc.dh+1 > tc.h+tc.pads[0]+tc.pads[2] || (tc.kw-1)*tc.dw+1 > tc.w+tc.pads[1]+tc.pads[3] {
			continue // the window does not fit the padded input
		}
		cases = append(cases, dwCase{tc: tc, noBias: rng.Intn(3) == 0, nonfin: rng.Intn(3) == 0})
	}
	byChannels := 0
	forEachWindowKernel(t, func(t *testing.T) {
		for _, dc := range cases {
			tc := dc.tc
			t.Run(fmt.Sprint(dc), func(t *testing.T) {
				x := randF32(rng, int64(tc.n), int64(tc.c), int64(tc.h), int64(tc.w))
				w := randF32(rng, int64(tc.c), 1, int64(tc.kh), int64(tc.kw))
				b := randF32(rng, int64(tc.c))
				if dc.nonfin {
					for _, d := range [][]float32{x.Float32s(), w.Float32s()} {
						for j := 0; j < len(d)/20+1; j++ {
							d[rng.Intn(len(d))] = []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}[rng.Intn(3)]
						}
					}
				}
				in := []*Tensor{x, w, b}
				var bd []float32
				if dc.noBias {
					in = in[:2]
				} else {
					bd = b.Float32s()
				}
				g := &conv2DGeom{c: 1, h: tc.h, w: tc.w, kh: tc.kh, kw: tc.kw, sh: tc.sh, sw: tc.sw, dh: tc.dh, dw: tc.dw, m: tc.c, mg: 1}
				if haveAVX512 && depthwiseByChannels(g) {
					byChannels++
				}
				got, err := opConv(&opCtx{attrs: tc.attrs(false), opset: 17}, in)
				if err != nil {
					t.Fatal(err)
				}
				want, mag, oh, ow := directDepthwise64(x.Float32s(), w.Float32s(), bd, tc.n, tc.c, tc.h, tc.w, tc)
				if !shapeEq(got[0].shape, []int64{int64(tc.n), int64(tc.c), int64(oh), int64(ow)}) {
					t.Fatalf("shape %v, want %d×%d×%d×%d", got[0].shape, tc.n, tc.c, oh, ow)
				}
				k := float64(tc.kh*tc.kw + 1)
				for i, v := range got[0].Float32s() {
					gv, wv := float64(v), want[i]
					switch {
					case math.IsNaN(wv) || math.IsInf(wv, 0) || math.IsInf(mag[i], 0):
						// Non-finite: NaN where float64 has NaN, the same
						// Inf otherwise (a finite float64 sum of Inf
						// magnitudes cannot occur with these values).
						if !(math.IsNaN(wv) && math.IsNaN(gv)) && gv != wv {
							t.Fatalf("y[%d] = %g, want %g", i, gv, wv)
						}
					// A float32 sum of k products and the bias, each step
					// an FMA rounding once: at most k·2⁻²⁴ of the sum of
					// the terms' magnitudes, doubled for slack.
					case math.Abs(gv-wv) > 2*k*0x1p-24*mag[i]:
						t.Fatalf("y[%d] = %g, want %g (±%g)", i, gv, wv, 2*k*0x1p-24*mag[i])
					}
				}
			})
		}
	})
	if haveAVX512 && byChannels < len(cases)/2 {
		t.Errorf("only %d of %d cases ran channel-minor", byChannels, len(cases))
	}
}

// TestDepthwiseSessionWeightsAgreeWithDirectFloat64 runs depthwise Convs
// whose weights are initializers in a session, where the channel-minor
// kernel transposes them once and keeps them: every run, with fresh
// inputs, must still match the direct float64 convolution.
func TestDepthwiseSessionWeightsAgreeWithDirectFloat64(t *testing.T) {
	rng := rand.New(rand.NewSource(37))
	for _, tc := range []windowCase{
		{n: 2, c: 150, h: 2, w: 2, kh: 5, kw: 5, sh: 1, sw: 1, dh: 1, dw: 1, pads: [4]int{2, 2, 2, 2}},
		{n: 1, c: 100, h: 4, w: 4, kh: 5, kw: 5, sh: 1, sw: 1, dh: 2, dw: 2, pads: [4]int{4, 4, 4, 4}},
		{n: 2, c: 70, h: 9, w: 9, kh: 3, kw: 3, sh: 2, sw: 2, dh: 1, dw: 1, pads: [4]int{1, 0, 1, 2}},
		{n: 2, c: 40, h: 16, w: 16, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, pads: [4]int{1, 1, 1, 1}},
	} {
		t.Run(fmt.Sprint(tc), func(t *testing.T) {
			w := randF32(rng, int64(tc.c), 1, int64(tc.kh), int64(tc.kw))
			b := randF32(rng, int64(tc.c))
			p := tc.pads
			op := node("Conv", []string{"X", "W", "B"}, []string{"Y"}, attrInts("strides", int64(tc.sh), int64(tc.sw)),
				attrInts("dilations", int64(tc.dh), int64(tc.dw)), attrInts("pads", int64(p[0]), int64(p[1]), int64(p[2]), int64(p[3])),
				attrInt("group", int64(tc.c)))
			s, err := NewSession(model(17, []string{"X"}, []string{"Y"}, []*onnxpb.TensorProto{w.Proto("W"), b.Proto("B")}, op), "")
			if err != nil {
				t.Fatal(err)
			}
			for run := 0; run < 3; run++ {
				x := randF32(rng, int64(tc.n), int64(tc.c), int64(tc.h), int64(tc.w))
				got, err := s.Run(map[string]*Tensor{"X": x}, nil)
				if err != nil {
					t.Fatal(err)
				}
				want, mag, _, _ := directDepthwise64(x.Float32s(), w.Float32s(), b.Float32s(), tc.n, tc.c, tc.h, tc.w, tc)
				k := float64(tc.kh*tc.kw + 1)
				for i, v := range got["Y"].Float32s() {
					// As in TestDepthwiseSmallPlanesAgreeWithDirectFloat64.
					if math.Abs(float64(v)-want[i]) > 2*k*0x1p-24*mag[i] {
						t.Fatalf("run %d: y[%d] = %g, want %g", run, i, v, want[i])
					}
				}
			}
		})
	}
}

// TestGlobalAveragePoolFloat32AgreesWithFloat64Mean checks the float32
// GlobalAveragePool (pool32.go) against each plane's mean computed here
// in float64, on planes below and above its short-row switch (16), ranks
// 3 to 5, and NaN and ±Inf, which must come out where float64 has them.
func TestGlobalAveragePoolFloat32AgreesWithFloat64Mean(t *testing.T) {
	rng := rand.New(rand.NewSource(41))
	for _, sh := range [][]int64{{2, 1152, 2, 2}, {1, 7, 3, 3}, {2, 67, 4, 4}, {2, 5, 17}, {1, 3, 1}, {2, 9, 2, 3, 5}, {1, 33, 8, 8}, {2, 4, 32, 32}, {1, 3, 0, 4}} {
		for _, nonfin := range []bool{false, true} {
			t.Run(fmt.Sprint(sh, nonfin), func(t *testing.T) {
				x := randF32(rng, sh...)
				xd := x.Float32s()
				if nonfin && len(xd) > 0 {
					for j := 0; j < len(xd)/30+1; j++ {
						xd[rng.Intn(len(xd))] = []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}[rng.Intn(3)]
					}
				}
				got, err := globalPoolOp(false)(&opCtx{opset: 17, nOut: 1, want: []bool{true}}, []*Tensor{x})
				if err != nil {
					t.Fatal(err)
				}
				want := []int64{sh[0], sh[1]}
				for range sh[2:] {
					want = append(want, 1)
				}
				if got[0].dtype != Float32 || !shapeEq(got[0].shape, want) {
					t.Fatalf("%v %v, want float32 %v", got[0].dtype, got[0].shape, want)
				}
				r := int(NumElements(sh[2:]))
				for i, v := range got[0].Float32s() {
					s, m := 0.0, 0.0
					for _, e := range xd[i*r : (i+1)*r] {
						s += float64(e)
						m += math.Abs(float64(e))
					}
					mean := s / float64(r) // 0/0 = NaN for an empty plane, as ReduceMean
					switch gv := float64(v); {
					case math.IsNaN(mean) || math.IsInf(mean, 0):
						if !(math.IsNaN(mean) && math.IsNaN(gv)) && gv != mean {
							t.Fatalf("y[%d] = %g, want %g", i, gv, mean)
						}
					// A float64 sum rounded once to float32 (plus the
					// sum's own float64 error): one float32 ulp of the
					// mean, or of the mean magnitude when terms cancel.
					case math.Abs(gv-mean) > 0x1p-23*(math.Abs(mean)+m/float64(r)*0x1p-20):
						t.Fatalf("y[%d] = %g, want %g", i, gv, mean)
					}
				}
			})
		}
	}
}
