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
