package eval

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/onnxloss/onnxloss/onnxpb"
	"google.golang.org/protobuf/proto"
)

// The guarantees of Session.Run's bookkeeping (value slots, Constants
// decoded once, buffers recycled between nodes and runs), checked against
// float64 values computed here.

func constantNode(out string, t *Tensor) *onnxpb.NodeProto {
	return node("Constant", nil, []string{out}, &onnxpb.AttributeProto{Name: proto.String("value"),
		Type: onnxpb.AttributeProto_TENSOR.Enum(), T: t.Proto("")})
}

// TestConstantsAreNeverOverwritten runs, three times in one session, a graph
// where a large Constant (beyond the pool's minimum) dies at ops that may
// write their output into a dead input, and is also a graph output the
// caller then scribbles on.
func TestConstantsAreNeverOverwritten(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	c := normalF32(r, 40000)
	x := normalF32(r, 40000)
	m := model(17, []string{"x"}, []string{"c", "neg", "sum"}, nil,
		constantNode("c", c), constantNode("d", c),
		node("Neg", []string{"d"}, []string{"neg"}),
		node("Add", []string{"c", "x"}, []string{"sum"}))
	s, err := NewSession(m, "")
	if err != nil {
		t.Fatal(err)
	}
	for run := 0; run < 3; run++ {
		out, err := s.Run(map[string]*Tensor{"x": x}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range c.Float32s() {
			if got := out["c"].Float32s()[i]; got != v {
				t.Fatalf("run %d: c[%d] = %v, want %v", run, i, got, v)
			}
			if got := out["neg"].Float32s()[i]; got != -v {
				t.Fatalf("run %d: neg[%d] = %v, want %v", run, i, got, -v)
			}
			if got, want := float64(out["sum"].Float32s()[i]), float64(v)+float64(x.Float32s()[i]); math.Abs(got-want) > 1e-6*math.Abs(want)+1e-7 {
				t.Fatalf("run %d: sum[%d] = %v, want %v", run, i, got, want)
			}
		}
		out["c"].Float32s()[0] = 1e30 // the caller's copy, not the session's
	}
}

// TestRecycledBuffersKeepOutputs chains large elementwise ops (whose dead
// inputs are reused and whose buffers the session keeps for the next run)
// and checks that outputs of one run survive the next and that an
// intermediate output stays live while later nodes run.
func TestRecycledBuffersKeepOutputs(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	x := normalF32(r, 3, 20000)
	m := model(17, []string{"x"}, []string{"a", "z"}, nil,
		node("Neg", []string{"x"}, []string{"a"}),
		node("Exp", []string{"a"}, []string{"b"}),
		node("Mul", []string{"b", "b"}, []string{"c"}), // one value read twice, dying here
		node("Transpose", []string{"c"}, []string{"d"}, attrInts("perm", 1, 0)),
		node("Neg", []string{"d"}, []string{"e"}),
		node("Transpose", []string{"e"}, []string{"f"}, attrInts("perm", 1, 0)),
		node("Sub", []string{"f", "a"}, []string{"z"}))
	want := func(i int) (a, z float64) {
		v := float64(x.Float32s()[i])
		return -v, -math.Exp(-2*v) + v
	}
	s, err := NewSession(m, "")
	if err != nil {
		t.Fatal(err)
	}
	var first map[string]*Tensor
	for run := 0; run < 3; run++ {
		out, err := s.Run(map[string]*Tensor{"x": x}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if run == 0 {
			first = out
		}
		for _, o := range []map[string]*Tensor{out, first} {
			for i := 0; i < x.Len(); i++ {
				wa, wz := want(i)
				if ga := float64(o["a"].Float32s()[i]); ga != wa {
					t.Fatalf("run %d: a[%d] = %v, want %v", run, i, ga, wa)
				}
				// float32 exp and products: a few roundings relative to e^-2v.
				if gz := float64(o["z"].Float32s()[i]); math.Abs(gz-wz) > 1e-6*(math.Exp(-2*float64(x.Float32s()[i]))+math.Abs(wz)) {
					t.Fatalf("run %d: z[%d] = %v, want %v", run, i, gz, wz)
				}
			}
		}
	}
	if x.Float32s()[0] != normalF32(rand.New(rand.NewSource(5)), 3, 20000).Float32s()[0] {
		t.Error("feed changed")
	}
}

// TestRunFeedsAndErrors covers requested outputs the graph does not name
// (a feed passed through) and the bookkeeping's error messages.
func TestRunFeedsAndErrors(t *testing.T) {
	m := model(17, []string{"x"}, []string{"y"}, nil, node("Neg", []string{"x"}, []string{"y"}))
	s, err := NewSession(m, "")
	if err != nil {
		t.Fatal(err)
	}
	x := NewFloat32([]int64{2}, []float32{1, 2})
	extra := NewFloat32([]int64{1}, []float32{7})
	out, err := s.Run(map[string]*Tensor{"x": x, "extra": extra}, []string{"extra", "y"})
	if err != nil || out["extra"] != extra || out["y"].Float32s()[1] != -2 {
		t.Errorf("pass-through: %v, %v", out, err)
	}
	cases := []struct {
		feeds   map[string]*Tensor
		outputs []string
		want    string
	}{
		{map[string]*Tensor{"x": nil}, nil, `feed "x" is nil`},
		{nil, nil, `missing feed for graph input "x"`},
		{map[string]*Tensor{"x": x}, []string{"nope", "y"}, `value "nope" is not a graph input, initializer or node output`},
	}
	for _, c := range cases {
		if _, err := s.Run(c.feeds, c.outputs); err == nil || err.Error() != c.want {
			t.Errorf("Run(%v, %v) error = %v, want %q", c.feeds, c.outputs, err, c.want)
		}
	}
}

// TestConcurrentRuns runs one session from several goroutines (under -race
// this checks that the prepared Constants and slots are only read).
func TestConcurrentRuns(t *testing.T) {
	r := rand.New(rand.NewSource(9))
	c := normalF32(r, 20000)
	x := normalF32(r, 20000)
	m := model(17, []string{"x"}, []string{"y"}, nil,
		constantNode("c", c),
		node("Mul", []string{"x", "c"}, []string{"p"}),
		node("Neg", []string{"p"}, []string{"y"}))
	s, err := NewSession(m, "")
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		go func() {
			for k := 0; k < 5; k++ {
				out, err := s.Run(map[string]*Tensor{"x": x}, nil)
				if err != nil {
					errs <- err
					return
				}
				for i, v := range out["y"].Float32s() {
					if want := -(x.Float32s()[i] * c.Float32s()[i]); v != want {
						errs <- fmt.Errorf("y[%d] = %v, want %v", i, v, want)
						return
					}
				}
			}
			errs <- nil
		}()
	}
	for g := 0; g < 4; g++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
