package eval

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/onnxloss/onnxloss/onnxpb"
)

// sigmoidFocalModel is a binary-cross-entropy chain like a sigmoid loss's:
//
//	sp = Relu(x) + Log(1 + Exp(−Abs(x)));  bce = sp − x·t;  out = Exp(g·bce) · w
//
// with t and w whole, row or scalar inputs, and bce also a graph output
// (written out while the rest stays in the group).
func sigmoidFocalModel() *onnxpb.ModelProto {
	return model(17, []string{"x", "t", "w", "one", "g"}, []string{"out", "bce"}, nil,
		node("Abs", []string{"x"}, []string{"a"}),
		node("Neg", []string{"a"}, []string{"na"}),
		node("Exp", []string{"na"}, []string{"e"}),
		node("Add", []string{"one", "e"}, []string{"ope"}),
		node("Log", []string{"ope"}, []string{"l"}),
		node("Relu", []string{"x"}, []string{"r"}),
		node("Add", []string{"r", "l"}, []string{"sp"}),
		node("Mul", []string{"x", "t"}, []string{"xt"}),
		node("Sub", []string{"sp", "xt"}, []string{"bce"}),
		node("Mul", []string{"g", "bce"}, []string{"gb"}),
		node("Exp", []string{"gb"}, []string{"m"}),
		node("Mul", []string{"m", "w"}, []string{"out"}))
}

func sigmoidFocal64(x, t, w, g float64) (out, bce float64) {
	sp := math.Max(x, 0) + math.Log(1+math.Exp(-math.Abs(x)))
	bce = sp - x*t
	return math.Exp(g*bce) * w, bce
}

// TestElementwiseGroup runs the chain grouped against the float64 formula
// and bit for bit against the nodes run one by one (a run asking for an
// internal value), for whole, row-broadcast and scalar operands, on sizes
// the group takes (over groupMinElements: many chunks, a partial last one)
// and sizes it leaves to the nodes.
func TestElementwiseGroup(t *testing.T) {
	s, err := NewSession(sigmoidFocalModel(), "")
	if err != nil {
		t.Fatal(err)
	}
	var groups int
	for _, pn := range s.nodes {
		if pn.group != nil {
			groups++
			if len(pn.group.members) != 12 || strings.Join(pn.group.outputs, ",") != "bce,out" {
				t.Fatalf("group members %d, outputs %v", len(pn.group.members), pn.group.outputs)
			}
		}
	}
	if groups != 1 || !s.fusedAway["sp"] || s.fusedAway["bce"] {
		t.Fatalf("groups %d, fused away %v", groups, s.fusedAway)
	}
	r := rand.New(rand.NewPCG(3, 5))
	for _, tc := range []struct {
		name       string
		rows, cols int64
		tShape     []int64 // shape of t; w is the same kind
	}{
		{"whole", 263, 1003, nil},
		{"row", 270, 997, []int64{997}},
		{"row-1C", 300, 1000, []int64{1, 1000}},
		{"scalar", 263, 1001, []int64{1}},
		{"small", 3, 50, nil},
		{"column (nodes one by one)", 40, 1000, []int64{40, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := tc.rows * tc.cols
			ts := tc.tShape
			if ts == nil {
				ts = []int64{tc.rows, tc.cols}
			}
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(r.NormFloat64() * 5)
			}
			x[7] = float32(math.Inf(1))
			x[11] = float32(math.NaN())
			tv := make([]float32, NumElements(ts))
			wv := make([]float32, NumElements(ts))
			for i := range tv {
				tv[i] = float32(r.IntN(2))
				wv[i] = float32(r.Float64() + 0.5)
			}
			feeds := map[string]*Tensor{
				"x": NewFloat32([]int64{tc.rows, tc.cols}, x), "t": NewFloat32(ts, tv), "w": NewFloat32(ts, wv),
				"one": NewFloat32(nil, []float32{1}), "g": NewFloat32(nil, []float32{-0.5}),
			}
			grouped, err := s.Run(feeds, nil)
			if err != nil {
				t.Fatal(err)
			}
			plain, err := s.Run(feeds, []string{"out", "bce", "sp"})
			if err != nil {
				t.Fatal(err)
			}
			at := func(v []float32, shape []int64, i int64) float64 {
				row, col := i/tc.cols, i%tc.cols
				switch {
				case len(v) == 1:
					return float64(v[0])
				case shape[len(shape)-1] == 1:
					return float64(v[row])
				case len(v) == int(tc.cols):
					return float64(v[col])
				}
				return float64(v[i])
			}
			for _, name := range []string{"out", "bce"} {
				g, p := grouped[name].Float32s(), plain[name].Float32s()
				for i := range g {
					if math.Float32bits(g[i]) != math.Float32bits(p[i]) {
						t.Fatalf("%s[%d] = %v grouped, %v node by node", name, i, g[i], p[i])
					}
					o64, b64 := sigmoidFocal64(float64(x[i]), at(tv, ts, int64(i)), at(wv, ts, int64(i)), -0.5)
					want := o64
					if name == "bce" {
						want = b64
					}
					// A dozen float32 roundings of terms up to |x| ≈ 25.
					if math.IsNaN(want) != math.IsNaN(float64(g[i])) ||
						!math.IsNaN(want) && math.Abs(float64(g[i])-want) > 2e-6*(math.Abs(want)+math.Abs(float64(x[i]))+1) {
						t.Fatalf("%s[%d] = %v, want %v (x = %v)", name, i, g[i], want, x[i])
					}
				}
			}
		})
	}
	// Feeding a value the group computes cuts the graph there, as without
	// the group: out = Exp(g·bce)·w from the fed bce.
	bce := []float32{0.5, 1, 2, 4}
	cut, err := s.Run(map[string]*Tensor{
		"x": NewFloat32([]int64{4}, make([]float32, 4)), "t": NewFloat32([]int64{1}, []float32{1}), "w": NewFloat32([]int64{1}, []float32{3}),
		"one": NewFloat32(nil, []float32{1}), "g": NewFloat32(nil, []float32{-0.5}), "bce": NewFloat32([]int64{4}, bce),
	}, []string{"out"})
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range bce {
		if want := math.Exp(-0.5*float64(b)) * 3; math.Abs(float64(cut["out"].Float32s()[i])-want) > 1e-6*want {
			t.Errorf("out[%d] from fed bce = %v, want %v", i, cut["out"].Float32s()[i], want)
		}
	}
	// A shape error names the member node.
	_, err = s.Run(map[string]*Tensor{
		"x": NewFloat32([]int64{2, 3}, make([]float32, 6)), "t": NewFloat32([]int64{4}, make([]float32, 4)), "w": NewFloat32([]int64{1}, []float32{1}),
		"one": NewFloat32(nil, []float32{1}), "g": NewFloat32(nil, []float32{1}),
	}, nil)
	if err == nil || !strings.Contains(err.Error(), `node "Mul_xt" (Mul)`) || !strings.Contains(err.Error(), "broadcastable") {
		t.Errorf("shape error = %v", err)
	}
}

// TestElementwiseGroupBoundaries checks that a group ends where another
// node reads one of its values, and that such values are written out.
func TestElementwiseGroupBoundaries(t *testing.T) {
	m := model(17, []string{"x"}, []string{"z"}, nil,
		node("Exp", []string{"x"}, []string{"a"}),
		node("Neg", []string{"a"}, []string{"b"}),
		node("ReduceSum", []string{"b"}, []string{"s"}, attrInt("keepdims", 1)),
		node("Mul", []string{"a", "s"}, []string{"c"}),
		node("Abs", []string{"c"}, []string{"z"}))
	s, err := NewSession(m, "")
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, pn := range s.nodes {
		if pn.group != nil {
			kinds = append(kinds, "group("+strings.Join(pn.group.outputs, ",")+")")
		} else {
			kinds = append(kinds, pn.proto.GetOpType())
		}
	}
	if got := strings.Join(kinds, " "); got != "Exp Neg ReduceSum group(z)" { // Exp, Neg keep nothing in cache
		t.Fatalf("nodes: %s", got)
	}
	x := make([]float32, 3*20000)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	out, err := s.Run(map[string]*Tensor{"x": NewFloat32([]int64{3, 20000}, x)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, v := range x {
		sum -= math.Exp(float64(v))
	}
	z := out["z"].Float32s()
	for i, v := range x {
		want := math.Abs(math.Exp(float64(v)) * sum)
		if math.Abs(float64(z[i])-want) > 1e-5*want {
			t.Fatalf("z[%d] = %v, want %v", i, z[i], want)
		}
	}
}
