package graphedit_test

import (
	"encoding/binary"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/onnxpb"
)

func dims(ds ...any) []graphedit.Dim {
	out := []graphedit.Dim{}
	for _, d := range ds {
		switch v := d.(type) {
		case int:
			out = append(out, graphedit.Dim{Value: int64(v)})
		case string:
			if v == "?" {
				out = append(out, graphedit.Dim{Value: -1})
			} else {
				out = append(out, graphedit.Dim{Value: -1, Param: v})
			}
		}
	}
	return out
}

func f32(ds ...any) graphedit.ValueType {
	return graphedit.ValueType{Elem: onnxpb.TensorProto_FLOAT, Shape: dims(ds...)}
}

// lookupModel: x [N,3] → MatMul(W) → h [N,2] (value_info) → Relu → r → Add(h, r)
// → y [N,2]; h has two consumers; also an If node whose branches use the
// names "then_out" and "x_5".
func lookupModel(t *testing.T) *graphedit.Model {
	t.Helper()
	m := &graphedit.Model{Proto: &onnxpb.ModelProto{
		IrVersion:   ptr(int64(8)),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: ptr("ai.onnx.ml"), Version: ptr(int64(3))}, {Domain: ptr(""), Version: ptr(int64(13))}},
		Graph:       &onnxpb.GraphProto{Name: ptr("g")},
	}}
	m.AddInput(graphedit.TensorValueInfo("x", f32("N", 3)), -1)
	m.AddInput(graphedit.TensorValueInfo("flag", graphedit.ValueType{Elem: onnxpb.TensorProto_BOOL, Shape: []graphedit.Dim{}}), -1)
	m.AddOutput(graphedit.TensorValueInfo("y", f32("N", 2)), -1)
	m.AddOutput(graphedit.TensorValueInfo("z", graphedit.ValueType{Elem: onnxpb.TensorProto_FLOAT}), -1)
	m.Graph().ValueInfo = append(m.Graph().ValueInfo, graphedit.TensorValueInfo("h", f32("N", "?")))
	if err := m.AddInitializer(graphedit.Float32Tensor("W", []int64{3, 2}, []float32{1, 2, 3, 4, 5, 6})); err != nil {
		t.Fatal(err)
	}
	m.AddNode(&onnxpb.NodeProto{Name: ptr("mm"), OpType: ptr("MatMul"), Input: []string{"x", "W"}, Output: []string{"h"}})
	m.AddNode(&onnxpb.NodeProto{Name: ptr("relu"), OpType: ptr("Relu"), Input: []string{"h"}, Output: []string{"r"}})
	m.AddNode(&onnxpb.NodeProto{Name: ptr("add"), OpType: ptr("Add"), Input: []string{"h", "r", "h"}, Output: []string{"y"}})
	branch := func(out string) *onnxpb.GraphProto {
		return &onnxpb.GraphProto{
			Name:   ptr(out + "_g"),
			Node:   []*onnxpb.NodeProto{{OpType: ptr("Identity"), Input: []string{"y"}, Output: []string{out}}},
			Output: []*onnxpb.ValueInfoProto{graphedit.TensorValueInfo(out, graphedit.ValueType{Elem: onnxpb.TensorProto_FLOAT})},
		}
	}
	m.AddNode(&onnxpb.NodeProto{Name: ptr("if"), OpType: ptr("If"), Input: []string{"flag"}, Output: []string{"z"},
		Attribute: []*onnxpb.AttributeProto{
			{Name: ptr("then_branch"), Type: onnxpb.AttributeProto_GRAPH.Enum(), G: branch("then_out")},
			{Name: ptr("else_branch"), Type: onnxpb.AttributeProto_GRAPH.Enum(), G: branch("x_5")},
		}})
	return m
}

func nodeNames(ns []*onnxpb.NodeProto) []string {
	out := []string{}
	for _, n := range ns {
		out = append(out, n.GetName())
	}
	return out
}

func TestProducerConsumers(t *testing.T) {
	m := lookupModel(t)
	cases := []struct {
		value     string
		producer  string // "" for none
		consumers []string
	}{
		{"x", "", []string{"mm"}},
		{"W", "", []string{"mm"}},
		{"h", "mm", []string{"relu", "add"}}, // add takes h twice, listed once
		{"r", "relu", []string{"add"}},
		{"y", "add", []string{}},
		{"z", "if", []string{}},
		{"flag", "", []string{"if"}},
		{"then_out", "", []string{}}, // subgraph values are not main-graph values
		{"nope", "", []string{}},
	}
	for _, c := range cases {
		t.Run(c.value, func(t *testing.T) {
			p := m.Producer(c.value)
			if got := p.GetName(); got != c.producer {
				t.Errorf("Producer(%q) = %q, want %q", c.value, got, c.producer)
			}
			if got := nodeNames(m.Consumers(c.value)); !reflect.DeepEqual(got, c.consumers) {
				t.Errorf("Consumers(%q) = %v, want %v", c.value, got, c.consumers)
			}
		})
	}
	if !m.IsGraphOutput("y") || m.IsGraphOutput("h") {
		t.Error("IsGraphOutput wrong")
	}
}

func TestValueType(t *testing.T) {
	m := lookupModel(t)
	cases := []struct {
		value string
		want  graphedit.ValueType
		ok    bool
		shape string
	}{
		{"x", f32("N", 3), true, "N,3"},                      // graph input, symbolic dim kept
		{"y", f32("N", 2), true, "N,2"},                      // graph output
		{"h", f32("N", "?"), true, "N,?"},                    // value_info, unknown dim
		{"W", f32(3, 2), true, "3,2"},                        // initializer
		{"z", graphedit.ValueType{Elem: 1}, true, "unknown"}, // no shape: rank unknown
		{"flag", graphedit.ValueType{Elem: onnxpb.TensorProto_BOOL, Shape: []graphedit.Dim{}}, true, ""},
		{"r", graphedit.ValueType{}, false, ""}, // nothing declared
	}
	for _, c := range cases {
		t.Run(c.value, func(t *testing.T) {
			got, ok := m.ValueType(c.value)
			if ok != c.ok || !reflect.DeepEqual(got, c.want) {
				t.Fatalf("ValueType(%q) = %+v, %v; want %+v, %v", c.value, got, ok, c.want, c.ok)
			}
			if !ok {
				return
			}
			var parts []string
			for _, d := range got.Shape {
				parts = append(parts, d.String())
			}
			s := strings.Join(parts, ",")
			if got.Shape == nil {
				s = "unknown"
				if got.Rank() != -1 {
					t.Errorf("rank %d, want -1", got.Rank())
				}
			} else if got.Rank() != len(got.Shape) {
				t.Errorf("rank %d, want %d", got.Rank(), len(got.Shape))
			}
			if s != c.shape {
				t.Errorf("shape %q, want %q", s, c.shape)
			}
		})
	}
	// TensorValueInfo is ValueType's inverse.
	for _, vt := range []graphedit.ValueType{f32("N", 3, "?"), {Elem: onnxpb.TensorProto_INT64, Shape: []graphedit.Dim{}}, {Elem: onnxpb.TensorProto_DOUBLE}} {
		m.Graph().ValueInfo = append(m.Graph().ValueInfo, graphedit.TensorValueInfo("rt", vt))
		got, ok := m.ValueType("rt")
		if !ok || !reflect.DeepEqual(got, vt) {
			t.Errorf("TensorValueInfo/ValueType round trip: %+v → %+v", vt, got)
		}
		m.Graph().ValueInfo = m.Graph().ValueInfo[:len(m.Graph().ValueInfo)-1]
	}
	if m.DefaultDomainOpset() != 13 {
		t.Errorf("DefaultDomainOpset = %d, want 13", m.DefaultDomainOpset())
	}
}

func TestUniqueName(t *testing.T) {
	m := lookupModel(t)
	m.AddNode(&onnxpb.NodeProto{Name: ptr("x_1"), OpType: ptr("Identity"), Input: []string{"x"}, Output: []string{"x_2"}})
	m.Graph().ValueInfo = append(m.Graph().ValueInfo, graphedit.TensorValueInfo("x_3", f32(1)))
	m.ResetNames() // value_info was edited directly
	steps := []struct{ prefix, want string }{
		{"fresh", "fresh"},
		{"fresh", "fresh_1"},
		{"fresh", "fresh_2"},
		{"x", "x_4"},               // x, x_1 (node), x_2 (value), x_3 (value_info) taken
		{"x", "x_6"},               // x_5 is used inside the If's else branch
		{"then_out", "then_out_1"}, // subgraph value
		{"mm", "mm_1"},             // node name
		{"W", "W_1"},               // initializer
		{"x_1", "x_1_1"},
		{"", "_1"}, // never the empty name
		{"", "_2"},
	}
	for _, s := range steps {
		if got := m.UniqueName(s.prefix); got != s.want {
			t.Errorf("UniqueName(%q) = %q, want %q", s.prefix, got, s.want)
		}
	}
	if !m.HasName("fresh_2") || !m.HasName("x_2") || m.HasName("then_out") {
		t.Error("HasName wrong")
	}
	// Many names from one prefix never collide with each other or the graph.
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		n := m.UniqueName("x")
		if seen[n] || n == "x" || n == "x_5" {
			t.Fatalf("UniqueName returned %q twice or a used name", n)
		}
		seen[n] = true
	}
}

func TestAddInputOutputAtPositions(t *testing.T) {
	names := func(vis []*onnxpb.ValueInfoProto) string {
		var s []string
		for _, vi := range vis {
			s = append(s, vi.GetName())
		}
		return strings.Join(s, ",")
	}
	cases := []struct {
		pos  int
		want string
	}{
		{0, "new,x,flag"},
		{1, "x,new,flag"},
		{2, "x,flag,new"},
		{-1, "x,flag,new"},
		{99, "x,flag,new"},
	}
	for _, c := range cases {
		m := lookupModel(t)
		m.AddInput(graphedit.TensorValueInfo("new", f32("N")), c.pos)
		if got := names(m.Graph().GetInput()); got != c.want {
			t.Errorf("AddInput at %d: %s, want %s", c.pos, got, c.want)
		}
		m.AddOutput(graphedit.TensorValueInfo("out", f32()), c.pos)
		want := strings.NewReplacer("new", "out", "x", "y", "flag", "z").Replace(c.want)
		if got := names(m.Graph().GetOutput()); got != want {
			t.Errorf("AddOutput at %d: %s, want %s", c.pos, got, want)
		}
		if !m.HasName("new") || !m.HasName("out") || m.UniqueName("out") != "out_1" {
			t.Error("added names are not reserved")
		}
	}
}

func TestInitializersFromSlices(t *testing.T) {
	m := lookupModel(t)
	f := graphedit.Float32Tensor("f", []int64{2, 2}, []float32{1, -2.5, float32(math.Inf(1)), 3e-38})
	d := graphedit.Float64Tensor("d", []int64{3}, []float64{math.Pi, -0, 1e300})
	i := graphedit.Int64Tensor("i", []int64{}, []int64{-9007199254740993})
	e := graphedit.Int64Tensor("e", []int64{0}, nil)
	for _, tp := range []*onnxpb.TensorProto{f, d, i, e} {
		if err := m.AddInitializer(tp); err != nil {
			t.Fatal(err)
		}
	}
	check := func(tp *onnxpb.TensorProto, dt onnxpb.TensorProto_DataType, dims []int64, raw []byte) {
		t.Helper()
		got := m.Initializer(tp.GetName())
		if got != tp {
			t.Fatalf("Initializer(%q) not found", tp.GetName())
		}
		if onnxpb.TensorProto_DataType(got.GetDataType()) != dt || !reflect.DeepEqual(got.GetDims(), dims) || string(got.GetRawData()) != string(raw) {
			t.Errorf("%s: type %v dims %v raw %x; want %v %v %x", tp.GetName(), got.GetDataType(), got.GetDims(), got.GetRawData(), dt, dims, raw)
		}
		vt, ok := m.ValueType(tp.GetName())
		if !ok || vt.Elem != dt || vt.Rank() != len(dims) {
			t.Errorf("%s: ValueType %+v", tp.GetName(), vt)
		}
	}
	le32 := func(vs ...float32) []byte {
		b := []byte{}
		for _, v := range vs {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
		return b
	}
	le64 := func(vs ...uint64) []byte {
		b := []byte{}
		for _, v := range vs {
			b = binary.LittleEndian.AppendUint64(b, v)
		}
		return b
	}
	check(f, onnxpb.TensorProto_FLOAT, []int64{2, 2}, le32(1, -2.5, float32(math.Inf(1)), 3e-38))
	check(d, onnxpb.TensorProto_DOUBLE, []int64{3}, le64(math.Float64bits(math.Pi), math.Float64bits(0), math.Float64bits(1e300)))
	check(i, onnxpb.TensorProto_INT64, []int64{}, le64(uint64(0xFFE0000000000000-1)))
	check(e, onnxpb.TensorProto_INT64, []int64{0}, nil)
	if graphedit.TensorBytes(f) != 16 || graphedit.TensorBytes(d) != 24 || graphedit.TensorBytes(i) != 8 {
		t.Error("TensorBytes wrong")
	}

	// Bad names are errors.
	for _, tp := range []*onnxpb.TensorProto{
		graphedit.Float32Tensor("", nil, nil),  // no name
		graphedit.Float32Tensor("f", nil, nil), // an initializer already
		graphedit.Float32Tensor("h", nil, nil), // a node's output
	} {
		if err := m.AddInitializer(tp); err == nil {
			t.Errorf("AddInitializer(%q) succeeded", tp.GetName())
		}
	}
	// A graph input's name may get an initializer (its default value).
	if err := m.AddInitializer(graphedit.Float32Tensor("x", []int64{1, 3}, []float32{1, 2, 3})); err != nil {
		t.Errorf("initializer for graph input x: %v", err)
	}

	// The Builder's helpers add uniquely named initializers.
	b := graphedit.NewBuilder(m, "p")
	n1 := b.Float32("w", []int64{2}, []float32{1, 2})
	n2 := b.Float64("w", []int64{1}, []float64{3})
	n3 := b.Int64("w", []int64{1}, []int64{4})
	s1 := b.Scalar("s", onnxpb.TensorProto_DOUBLE, 0.5)
	s2 := b.Scalar("s", onnxpb.TensorProto_FLOAT, 0.5)
	if got := []string{n1, n2, n3, s1, s2}; !reflect.DeepEqual(got, []string{"p/w", "p/w_1", "p/w_2", "p/s", "p/s_1"}) {
		t.Errorf("builder initializer names %v", got)
	}
	if m.Initializer(s1).GetDataType() != int32(onnxpb.TensorProto_DOUBLE) || len(m.Initializer(s2).GetDims()) != 0 {
		t.Error("Scalar: wrong type or not 0-d")
	}
}

func TestMetadata(t *testing.T) {
	m := lookupModel(t)
	if _, ok := m.Metadata("a"); ok {
		t.Fatal("metadata on a fresh model")
	}
	m.SetMetadata("a", "1")
	m.SetMetadata("b", "2")
	m.SetMetadata("a", "3") // replaces in place
	if v, ok := m.Metadata("a"); !ok || v != "3" {
		t.Errorf("a = %q, %v", v, ok)
	}
	if v, ok := m.Metadata("b"); !ok || v != "2" {
		t.Errorf("b = %q, %v", v, ok)
	}
	var keys []string
	for _, kv := range m.Proto.GetMetadataProps() {
		keys = append(keys, kv.GetKey()+"="+kv.GetValue())
	}
	if got := strings.Join(keys, " "); got != "a=3 b=2" {
		t.Errorf("metadata_props %s, want a=3 b=2", got)
	}
	m.SetMetadata("", "")
	if v, ok := m.Metadata(""); !ok || v != "" {
		t.Error("empty key not stored")
	}
	// Survives a round trip.
	data, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	m2, err := graphedit.LoadBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := m2.Metadata("a"); v != "3" {
		t.Errorf("after round trip a = %q", v)
	}
}

func TestAttrs(t *testing.T) {
	tp := graphedit.Int64Tensor("t", []int64{1}, []int64{1})
	for _, c := range []struct {
		a    *onnxpb.AttributeProto
		typ  onnxpb.AttributeProto_AttributeType
		name string
	}{
		{graphedit.AttrInt("i", 3), onnxpb.AttributeProto_INT, "i"},
		{graphedit.AttrInts("is", []int64{1, 2}), onnxpb.AttributeProto_INTS, "is"},
		{graphedit.AttrFloat("f", 0.5), onnxpb.AttributeProto_FLOAT, "f"},
		{graphedit.AttrTensor("t", tp), onnxpb.AttributeProto_TENSOR, "t"},
	} {
		if c.a.GetType() != c.typ || c.a.GetName() != c.name {
			t.Errorf("%s: type %v", c.name, c.a.GetType())
		}
	}
	if graphedit.AttrInt("i", 3).GetI() != 3 || graphedit.AttrFloat("f", 0.5).GetF() != 0.5 || graphedit.AttrTensor("t", tp).GetT() != tp {
		t.Error("attribute values wrong")
	}
}
