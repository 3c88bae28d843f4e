package graphcheck

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxloss/onnxloss/internal/refs"
	"github.com/onnxloss/onnxloss/onnxpb"
)

func s(v string) *string { return &v }
func i64(v int64) *int64 { return &v }

func tensorVI(name string) *onnxpb.ValueInfoProto {
	e := int32(onnxpb.TensorProto_FLOAT)
	return &onnxpb.ValueInfoProto{Name: s(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: &e, Shape: &onnxpb.TensorShapeProto{
			Dim: []*onnxpb.TensorShapeProto_Dimension{{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: 1}}}}}}}}
}

func node(name, op string, in []string, out ...string) *onnxpb.NodeProto {
	return &onnxpb.NodeProto{Name: s(name), OpType: s(op), Input: in, Output: out}
}

// model is x → a → y with an initializer w, opset 13.
func model() *onnxpb.ModelProto {
	return &onnxpb.ModelProto{
		IrVersion:   i64(7),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: s(""), Version: i64(13)}},
		Graph: &onnxpb.GraphProto{
			Name:        s("g"),
			Input:       []*onnxpb.ValueInfoProto{tensorVI("x")},
			Initializer: []*onnxpb.TensorProto{{Name: s("w"), Dims: []int64{1}, DataType: proto.Int32(1), FloatData: []float32{2}}},
			Node: []*onnxpb.NodeProto{
				node("n1", "Mul", []string{"x", "w"}, "a"),
				node("n2", "Relu", []string{"a"}, "y"),
			},
			Output: []*onnxpb.ValueInfoProto{tensorVI("y")},
		},
	}
}

// checkCase is one edit of model() and the error it must give.
type checkCase struct {
	name string
	edit func(m *onnxpb.ModelProto)
	want string // "" = valid
}

func checkCases() []checkCase {
	return []checkCase{
		{"valid", func(*onnxpb.ModelProto) {}, ""},
		{"optional input left out", func(m *onnxpb.ModelProto) {
			m.Graph.Node[1].OpType, m.Graph.Node[1].Input = s("Clip"), []string{"a", "", "w"}
		}, ""},
		{"out of order", func(m *onnxpb.ModelProto) { g := m.Graph; g.Node[0], g.Node[1] = g.Node[1], g.Node[0] },
			`node "n2" (Relu) reads "a" before node "n1" (Mul) produces it: nodes must be in topological order`},
		{"cycle", func(m *onnxpb.ModelProto) { m.Graph.Node[0].Input[0] = "y" },
			`has a cycle (node "n1" (Mul) → node "n2" (Relu) → node "n1" (Mul))`},
		{"self loop", func(m *onnxpb.ModelProto) { m.Graph.Node[1].Input[0] = "y" }, `has a cycle (node "n2" (Relu) → node "n2" (Relu))`},
		{"undefined input", func(m *onnxpb.ModelProto) { m.Graph.Node[1].Input[0] = "ghost" }, `reads "ghost", which no graph input, initializer or node defines`},
		{"two producers", func(m *onnxpb.ModelProto) {
			m.Graph.Node = append(m.Graph.Node, node("n3", "Relu", []string{"x"}, "y"))
		},
			`value "y" is produced by two nodes, node "n2" (Relu) and node "n3" (Relu)`},
		{"output twice in a node", func(m *onnxpb.ModelProto) { m.Graph.Node[1].Output = []string{"y", "y"} }, `lists output "y" twice`},
		{"overwrites an input", func(m *onnxpb.ModelProto) { m.Graph.Node[1].Output[0] = "x" }, `outputs "x", which is already a graph input`},
		{"overwrites an initializer", func(m *onnxpb.ModelProto) { m.Graph.Node[1].Output[0] = "w" }, `outputs "w", which is already an initializer`},
		{"output without type", func(m *onnxpb.ModelProto) { m.Graph.Output[0].Type = nil }, `graph output "y" has no type`},
		{"output without elem type", func(m *onnxpb.ModelProto) {
			m.Graph.Output[0].Type.GetTensorType().ElemType = proto.Int32(0)
		}, `graph output "y" is a tensor without an element type`},
		{"input without type", func(m *onnxpb.ModelProto) { m.Graph.Input[0].Type = nil }, `graph input "x" has no type`},
		{"undefined output", func(m *onnxpb.ModelProto) { m.Graph.Output[0].Name = s("nowhere") }, `graph output "nowhere" is not`},
		{"no outputs", func(m *onnxpb.ModelProto) { m.Graph.Output = nil }, "no outputs"},
		{"duplicate input", func(m *onnxpb.ModelProto) { m.Graph.Input = append(m.Graph.Input, tensorVI("x")) }, `graph input "x" is declared twice`},
		{"duplicate output", func(m *onnxpb.ModelProto) { m.Graph.Output = append(m.Graph.Output, tensorVI("y")) }, `graph output "y" is declared twice`},
		{"duplicate initializer", func(m *onnxpb.ModelProto) {
			m.Graph.Initializer = append(m.Graph.Initializer, m.Graph.Initializer[0])
		}, `initializer "w" is given twice`},
		{"initializer also an input", func(m *onnxpb.ModelProto) { m.Graph.Input = append(m.Graph.Input, tensorVI("w")) }, ""},
		{"unnamed input", func(m *onnxpb.ModelProto) { m.Graph.Input[0].Name = s("") }, "has no name"},
		{"no op_type", func(m *onnxpb.ModelProto) { m.Graph.Node[1].OpType = s("") }, "has no op_type"},
		{"opset 1000", func(m *onnxpb.ModelProto) { m.OpsetImport[0].Version = i64(1000) }, "supports opsets up to 23"},
		{"opset 24", func(m *onnxpb.ModelProto) { m.OpsetImport[0].Version = i64(24) }, "supports opsets up to 23"},
		{"opset 10", func(m *onnxpb.ModelProto) { m.OpsetImport[0].Version = i64(10) }, "needs opset 11 or newer"},
		{"opset 0", func(m *onnxpb.ModelProto) { m.OpsetImport[0].Version = i64(0) }, "versions start at 1"},
		{"no default opset", func(m *onnxpb.ModelProto) { m.OpsetImport[0].Domain = s("com.example") }, "no default-domain"},
		{"default domain twice", func(m *onnxpb.ModelProto) {
			m.OpsetImport = append(m.OpsetImport, &onnxpb.OperatorSetIdProto{Domain: s("ai.onnx"), Version: i64(13)})
		}, "twice in opset_import"},
		{"escaped names", func(m *onnxpb.ModelProto) { m.Graph.Node[1].Input[0] = "\x1b[2J\n" }, `reads "\x1b[2J\n", which`},
		{"subgraph reads outer value", func(m *onnxpb.ModelProto) { addIf(m, "a", "t") }, ""},
		{"subgraph reads a later outer value", func(m *onnxpb.ModelProto) { addIf(m, "y", "t") }, `reads "y", which no graph input`},
		{"subgraph overwrites outer value", func(m *onnxpb.ModelProto) { addIf(m, "a", "x") }, `outputs "x", which is already a graph input`},
	}
}

func TestCheck(t *testing.T) {
	for _, tc := range checkCases() {
		t.Run(tc.name, func(t *testing.T) {
			m := model()
			tc.edit(m)
			err := Check(m, Inject)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("valid graph refused: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("accepted, want an error mentioning %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q does not mention %q", err, tc.want)
			case err != nil && strings.ContainsAny(err.Error(), "\n\x1b"):
				t.Fatalf("error is not one safe line: %q", err)
			}
		})
	}
}

// addIf inserts, between n1 and n2, an If node whose then-branch runs
// Identity(read) → out; else-branch the same.
func addIf(m *onnxpb.ModelProto, read, out string) {
	body := func() *onnxpb.GraphProto {
		return &onnxpb.GraphProto{Name: s("branch"), Node: []*onnxpb.NodeProto{node("inner", "Identity", []string{read}, out)},
			Output: []*onnxpb.ValueInfoProto{tensorVI(out)}}
	}
	g := m.Graph
	cond := &onnxpb.NodeProto{Name: s("if"), OpType: s("If"), Input: []string{"c"}, Output: []string{"z"},
		Attribute: []*onnxpb.AttributeProto{
			{Name: s("then_branch"), Type: onnxpb.AttributeProto_GRAPH.Enum(), G: body()},
			{Name: s("else_branch"), Type: onnxpb.AttributeProto_GRAPH.Enum(), G: body()},
		}}
	c := tensorVI("c")
	c.Type.GetTensorType().ElemType = proto.Int32(int32(onnxpb.TensorProto_BOOL))
	g.Input = append(g.Input, c)
	g.Node = []*onnxpb.NodeProto{g.Node[0], cond, g.Node[1]}
}

// TestRealModels checks that every model in testdata/models and every ONNX
// backend node test model (which pass onnx.checker) is accepted.
func TestRealModels(t *testing.T) {
	root, err := refs.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	paths, _ := filepath.Glob(filepath.Join(root, "testdata", "models", "*.onnx"))
	if dir, _, ok := refs.FindNodeTestsDir(); ok {
		more, _ := filepath.Glob(filepath.Join(dir, "test_*", "model.onnx"))
		paths = append(paths, more...)
	}
	if len(paths) == 0 {
		t.Skip("no models found")
	}
	checked := 0
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		mp := &onnxpb.ModelProto{}
		if err := proto.Unmarshal(data, mp); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if err := Check(mp, Options{}); err != nil {
			t.Errorf("%s: %v", p, err)
		}
		checked++
	}
	t.Logf("%d models accepted", checked)
}

// program builds a graph from fuzz bytes: a few inputs and initializers,
// then nodes whose inputs and outputs are drawn from a small pool of names,
// so that out-of-order nodes, cycles, undefined inputs, double producers
// and undefined outputs are all common.
func program(data []byte) *onnxpb.ModelProto {
	pool := []string{"x", "w", "a", "b", "c", "d", "e", ""}
	name := func(b byte) string { return pool[int(b)%len(pool)] }
	m := model()
	g := m.Graph
	g.Node, g.Output = nil, nil
	for i := 0; i+3 < len(data) && len(g.Node) < 12; i += 4 {
		op, in1, in2, out := data[i], data[i+1], data[i+2], data[i+3]
		switch op % 8 {
		case 7:
			g.Output = append(g.Output, tensorVI(name(in1)))
			continue
		case 6:
			if op&0x80 != 0 {
				m.OpsetImport[0].Version = i64(int64(in1))
			}
		}
		outs := []string{name(out)}
		if op&0x40 != 0 {
			outs = append(outs, name(in2^out))
		}
		g.Node = append(g.Node, node(fmt.Sprintf("n%d", len(g.Node)), "Add", []string{name(in1), name(in2)}, outs...))
	}
	return m
}

// oracle says whether the program's graph is valid, by the definition: every
// non-empty node input defined by a graph input, the initializer or an
// earlier node; every name defined once; graph outputs defined, named once,
// at least one; the opset in 11..23.
func oracle(m *onnxpb.ModelProto) bool {
	if v := m.OpsetImport[0].GetVersion(); v < MinInjectOpset || v > MaxInjectOpset {
		return false
	}
	defined := map[string]bool{"x": true, "w": true}
	for _, n := range m.Graph.Node {
		for _, in := range n.Input {
			if in != "" && !defined[in] {
				return false
			}
		}
		for _, o := range n.Output {
			if o == "" {
				continue
			}
			if defined[o] {
				return false
			}
			defined[o] = true
		}
	}
	outs := map[string]bool{}
	for _, o := range m.Graph.Output {
		if o.GetName() == "" || outs[o.GetName()] || !defined[o.GetName()] {
			return false
		}
		outs[o.GetName()] = true
	}
	return len(outs) > 0
}

// FuzzCheck compares Check with the oracle on fuzzed graphs, and checks
// that every error is one line; raw fuzz bytes also go through Check as a
// serialized model, which must never panic.
func FuzzCheck(f *testing.F) {
	f.Add([]byte{0, 0, 1, 2, 0, 2, 1, 3, 7, 3, 0, 0})    // valid: a = x+w, b = a+w, output b
	f.Add([]byte{0, 2, 1, 3, 0, 0, 1, 2, 7, 3, 0, 0})    // out of order
	f.Add([]byte{0, 3, 1, 2, 0, 2, 1, 3, 7, 3, 0, 0})    // cycle
	f.Add([]byte{0, 0, 1, 2, 0, 0, 1, 2, 7, 2, 0, 0})    // two producers
	f.Add([]byte{0, 6, 1, 2, 7, 2, 0, 0})                // undefined input
	f.Add([]byte{0x86, 200, 1, 2, 7, 2, 0, 0})           // opset 200
	f.Add([]byte{0x40, 0, 1, 2, 7, 2, 0, 0, 7, 1, 0, 0}) // two outputs
	f.Add([]byte("\x08\x07\x12\x05torch:\x02\n\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m := program(data)
		err := Check(m, Inject)
		if want := oracle(m); want != (err == nil) {
			t.Fatalf("Check = %v, oracle says valid = %v, graph %v", err, want, m.Graph)
		}
		if err != nil && strings.ContainsAny(err.Error(), "\n\r") {
			t.Fatalf("two-line error %q", err)
		}
		raw := &onnxpb.ModelProto{}
		if proto.Unmarshal(data, raw) == nil {
			if err := Check(raw, Options{}); err != nil && strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("two-line error %q", err)
			}
		}
	})
}

// TestAgreesWithONNXChecker writes the graphs of TestCheck to files and runs
// onnx.checker.check_model(full_check=True) (onnx 1.12) on them: every graph
// Check refuses, the checker refuses too, and the valid ones it accepts.
// Opset bounds are onnxloss's own (onnx 1.12 accepts any opset number), so
// those cases are left out.
//
// Check is stricter than onnx 1.12's checker on four counts, left out too:
// a graph without outputs and a graph output that nothing defines (neither
// can be computed), an output declared twice (which one would a runtime
// return?), and an output whose element type is UNDEFINED (inject needs
// the logits' type).
func TestAgreesWithONNXChecker(t *testing.T) {
	stricter := map[string]bool{"no outputs": true, "undefined output": true, "duplicate output": true, "output without elem type": true}
	dir := t.TempDir()
	cases := map[string]*onnxpb.ModelProto{}
	valid := map[string]bool{}
	for _, tc := range checkCases() {
		if strings.Contains(tc.want, "opset") || strings.Contains(tc.name, "opset") || stricter[tc.name] {
			continue
		}
		m := model()
		tc.edit(m)
		p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".onnx")
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		cases[p] = m
		valid[p] = Check(m, Inject) == nil
	}
	var paths []string
	for p := range cases {
		paths = append(paths, p)
	}
	bad := refs.CheckModels(t, paths)
	for _, p := range paths {
		msg, refused := bad[p]
		switch {
		case valid[p] && refused:
			t.Errorf("%s: Check accepts it, onnx.checker refuses: %s", filepath.Base(p), msg)
		case !valid[p] && !refused:
			t.Errorf("%s: Check refuses it (%v), onnx.checker accepts it", filepath.Base(p), Check(cases[p], Inject))
		}
	}
}
