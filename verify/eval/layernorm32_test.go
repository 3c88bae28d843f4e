package eval

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/onnxloss/onnxloss/onnxpb"
)

// layerNormRef is LayerNormalization in float64 straight from the ONNX
// definition: per row of the dims from axis on, mean and mean squared
// deviation, then (x-mean)/sqrt(var+eps)*scale+bias with scale and bias
// broadcast to x's shape. It returns y, the normalized values before the
// affine step (for the error bound), and each row's mean and 1/sqrt(var+eps).
func layerNormRef(x, scale, bias *Tensor, axis int, eps float64) (y, t, means, invs []float64) {
	xs := x.AsFloat64()
	n := int(NumElements(x.shape[axis:]))
	sc := make([]float64, len(xs))
	bcIndexer(x.shape, scale.shape)(func(o, i int) { sc[o] = scale.f64At(i) })
	bs := make([]float64, len(xs))
	if bias != nil {
		bcIndexer(x.shape, bias.shape)(func(o, i int) { bs[o] = bias.f64At(i) })
	}
	y, t = make([]float64, len(xs)), make([]float64, len(xs))
	for r := 0; r < len(xs)/n; r++ {
		row := xs[r*n : (r+1)*n]
		var s float64
		for _, v := range row {
			s += v
		}
		m := s / float64(n)
		var q float64
		for _, v := range row {
			q += (v - m) * (v - m)
		}
		inv := 1 / math.Sqrt(q/float64(n)+eps)
		means, invs = append(means, m), append(invs, inv)
		for k, v := range row {
			i := r*n + k
			t[i] = (v - m) * inv
			y[i] = t[i]*sc[i] + bs[i]
		}
	}
	return y, t, means, invs
}

func TestLayerNormFloat32(t *testing.T) {
	type tc struct {
		shape       []int64
		axis        int
		scaleShape  []int64
		biasShape   []int64 // nil: no bias
		offset      float64 // added to x: a mean large against the spread
		spread      float64
		nonFinite   bool // put NaN and Inf in the first row
		inPlace     bool // X is an intermediate that dies at the node
		stats       bool // ask for Mean and InvStdDev
		description string
	}
	var cases []tc
	for _, n := range []int64{1, 3, 7, 8, 15, 16, 17, 33, 96, 100, 384, 771} {
		cases = append(cases, tc{shape: []int64{5, n}, axis: -1, scaleShape: []int64{n}, biasShape: []int64{n}, spread: 1, description: "last axis"})
	}
	cases = append(cases,
		tc{shape: []int64{2, 3, 4, 5}, axis: 2, scaleShape: []int64{4, 5}, biasShape: []int64{4, 5}, spread: 2, description: "two normalized dims"},
		tc{shape: []int64{2, 3, 4, 5}, axis: 2, scaleShape: []int64{5}, biasShape: []int64{4, 1}, spread: 2, description: "scale and bias broadcast inside the row"},
		tc{shape: []int64{2, 3, 4, 5}, axis: 1, scaleShape: []int64{1, 3, 4, 5}, biasShape: []int64{3, 1, 1}, spread: 1, description: "leading 1 dims"},
		tc{shape: []int64{3, 4, 6}, axis: 0, scaleShape: []int64{3, 4, 6}, spread: 1, description: "axis 0, no bias"},
		tc{shape: []int64{64, 96}, axis: -1, scaleShape: []int64{96}, biasShape: []int64{96}, offset: 1000, spread: 1e-3, description: "mean 1e6 times the spread"},
		tc{shape: []int64{4, 37}, axis: -1, scaleShape: []int64{37}, biasShape: []int64{37}, spread: 1, nonFinite: true, description: "NaN and Inf in row 0"},
		tc{shape: []int64{3136, 96}, axis: -1, scaleShape: []int64{96}, biasShape: []int64{96}, spread: 1, inPlace: true, stats: true, description: "convnext rows, in place, parallel"},
		tc{shape: []int64{197, 385}, axis: -1, scaleShape: []int64{385}, spread: 3, stats: true, description: "stats, no bias"},
	)
	defer func(k bool) { layerNormKernels = k }(layerNormKernels)
	kernels := []bool{false}
	if haveAVX2 {
		kernels = append(kernels, true)
	}
	for _, useAVX := range kernels {
		for i, c := range cases {
			t.Run(fmt.Sprintf("avx2=%v/%d_%s", useAVX, i, c.description), func(t *testing.T) {
				layerNormKernels = useAVX
				r := rand.New(rand.NewSource(int64(i) + 7))
				x := normalF32(r, c.shape...)
				for k, v := range x.Float32s() {
					x.Float32s()[k] = float32(c.offset + float64(v)*c.spread)
				}
				if c.nonFinite {
					x.Float32s()[1] = float32(math.NaN())
					x.Float32s()[2] = float32(math.Inf(1))
				}
				scale := normalF32(r, c.scaleShape...)
				inits := []*onnxpb.TensorProto{scale.Proto("s")}
				ins := []string{"x", "s"}
				var bias *Tensor
				if c.biasShape != nil {
					bias = normalF32(r, c.biasShape...)
					inits = append(inits, bias.Proto("b"))
					ins = append(ins, "b")
				}
				outs := []string{"y"}
				if c.stats {
					outs = []string{"y", "mean", "inv"}
				}
				var nodes []*onnxpb.NodeProto
				xin := x
				if c.inPlace {
					// x2 = Neg(Neg(x)) is x exactly, and dies at the LayerNormalization.
					nodes = append(nodes, node("Neg", []string{"x"}, []string{"nx"}), node("Neg", []string{"nx"}, []string{"x2"}))
					ins[0] = "x2"
				}
				nodes = append(nodes, node("LayerNormalization", ins, outs, attrInt("axis", int64(c.axis)), attrFloat("epsilon", 1e-5)))
				m := model(17, []string{"x"}, outs, inits, nodes...)
				keep := append([]float32{}, x.Float32s()...)
				got := runOne(t, m, map[string]*Tensor{"x": xin})
				for k, v := range x.Float32s() {
					if math.Float32bits(v) != math.Float32bits(keep[k]) {
						t.Fatalf("feed changed at %d", k)
					}
				}
				axis := c.axis
				if axis < 0 {
					axis += len(c.shape)
				}
				want, norm, means, invs := layerNormRef(x, scale, bias, axis, float64(float32(1e-5)))
				y := got["y"].Float32s()
				n := int(NumElements(c.shape[axis:]))
				sc := make([]float64, len(y))
				bcIndexer(x.shape, scale.shape)(func(o, i int) { sc[o] = scale.f64At(i) })
				for k, w := range want {
					if c.nonFinite && k < n {
						if !math.IsNaN(float64(y[k])) {
							t.Fatalf("y[%d] = %v, want NaN (row 0 holds NaN)", k, y[k])
						}
						continue
					}
					// float32 evaluation of ((x-mean)·inv)·scale + bias: a few
					// roundings of float32 (2^-24 each) relative to the terms;
					// 2e-6 is about 30 of them, and far below a wrong element.
					b := 0.0
					if bias != nil {
						b = w - norm[k]*sc[k]
					}
					tol := 2e-6 * (math.Abs(norm[k]*sc[k]) + math.Abs(b) + 1e-30)
					if d := math.Abs(float64(y[k]) - w); !(d <= tol) {
						t.Fatalf("y[%d] = %v, want %v (|diff| %.3g > %.3g)", k, y[k], w, d, tol)
					}
				}
				if c.stats {
					gm, gi := got["mean"], got["inv"]
					wantShape := append([]int64{}, c.shape...)
					for d := axis; d < len(wantShape); d++ {
						wantShape[d] = 1
					}
					if !shapeEq(gm.shape, wantShape) || !shapeEq(gi.shape, wantShape) || gm.dtype != Float32 {
						t.Fatalf("stats shapes %v %v (%v), want %v float32", gm.shape, gi.shape, gm.dtype, wantShape)
					}
					for r := range means {
						// float32 results of float64 values: one rounding.
						if d := math.Abs(gm.f64At(r) - means[r]); d > 1e-7*math.Abs(means[r])+1e-12 {
							t.Fatalf("mean[%d] = %v, want %v", r, gm.f64At(r), means[r])
						}
						if d := math.Abs(gi.f64At(r) - invs[r]); d > 1e-7*invs[r] {
							t.Fatalf("invstd[%d] = %v, want %v", r, gi.f64At(r), invs[r])
						}
					}
				}
			})
		}
	}
}

// TestGroupAndInstanceNormFloat32 checks the float32 GroupNormalization
// (per-group parameters at opset 18, per-channel at 21) and
// InstanceNormalization against float64 values from their definitions.
func TestGroupAndInstanceNormFloat32(t *testing.T) {
	cases := []struct {
		op     string
		opset  int64
		shape  []int64
		groups int64
		offset float64
	}{
		{"GroupNormalization", 18, []int64{2, 6, 5, 7}, 3, 0},
		{"GroupNormalization", 21, []int64{2, 6, 5, 7}, 2, 0},
		{"GroupNormalization", 21, []int64{1, 64, 17}, 8, 300},
		{"InstanceNormalization", 17, []int64{2, 3, 33}, 0, 0},
		{"InstanceNormalization", 17, []int64{3, 5, 9, 11}, 0, 500},
	}
	for i, c := range cases {
		t.Run(fmt.Sprint(c.op, c.opset, c.shape), func(t *testing.T) {
			r := rand.New(rand.NewSource(int64(i) + 40))
			x := normalF32(r, c.shape...)
			for k, v := range x.Float32s() {
				x.Float32s()[k] = float32(c.offset + float64(v))
			}
			ch := c.shape[1]
			plen := ch
			if c.op == "GroupNormalization" && c.opset < 21 {
				plen = c.groups
			}
			sc, bs := normalF32(r, plen), normalF32(r, plen)
			var attrs []*onnxpb.AttributeProto
			groups := ch // instance norm: one group per channel
			if c.op == "GroupNormalization" {
				attrs = append(attrs, attrInt("num_groups", c.groups))
				groups = c.groups
			}
			m := model(c.opset, []string{"x"}, []string{"y"}, []*onnxpb.TensorProto{sc.Proto("s"), bs.Proto("b")},
				node(c.op, []string{"x", "s", "b"}, []string{"y"}, attrs...))
			y := runOne(t, m, map[string]*Tensor{"x": x})["y"].Float32s()
			inner := int(NumElements(c.shape[2:]))
			rowLen := int(ch/groups) * inner
			xs := x.AsFloat64()
			for row := 0; row < len(xs)/rowLen; row++ {
				seg := xs[row*rowLen : (row+1)*rowLen]
				var s, q float64
				for _, v := range seg {
					s += v
				}
				mean := s / float64(rowLen)
				for _, v := range seg {
					q += (v - mean) * (v - mean)
				}
				inv := 1 / math.Sqrt(q/float64(rowLen)+float64(float32(1e-5)))
				for k := range seg {
					i := row*rowLen + k
					channel := (i / inner) % int(ch)
					p := channel
					if plen != ch {
						p = channel / int(ch/groups)
					}
					norm := (seg[k] - mean) * inv
					w := norm*float64(sc.Float32s()[p]) + float64(bs.Float32s()[p])
					// As for LayerNormalization: a few float32 roundings of the terms.
					tol := 2e-6 * (math.Abs(norm*float64(sc.Float32s()[p])) + math.Abs(float64(bs.Float32s()[p])))
					if d := math.Abs(float64(y[i]) - w); !(d <= tol) {
						t.Fatalf("y[%d] = %v, want %v (|diff| %.3g > %.3g)", i, y[i], w, d, tol)
					}
				}
			}
		})
	}
}
