package graphcheck_test

import (
	"fmt"

	"github.com/onnxloss/onnxloss/graphcheck"
	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/onnxpb"
)

func Example() {
	s := func(v string) *string { return &v }
	v := int64(13)
	vt := graphedit.ValueType{Elem: onnxpb.TensorProto_FLOAT, Shape: []graphedit.Dim{{Value: 2}}}
	m := &onnxpb.ModelProto{
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: s(""), Version: &v}},
		Graph: &onnxpb.GraphProto{
			Name:   s("g"),
			Input:  []*onnxpb.ValueInfoProto{graphedit.TensorValueInfo("x", vt)},
			Output: []*onnxpb.ValueInfoProto{graphedit.TensorValueInfo("y", vt)},
			Node: []*onnxpb.NodeProto{
				{Name: s("b"), OpType: s("Relu"), Input: []string{"t"}, Output: []string{"y"}},
				{Name: s("a"), OpType: s("Neg"), Input: []string{"x"}, Output: []string{"t"}},
			},
		},
	}
	fmt.Println(graphcheck.Check(m, graphcheck.Inject))
	m.Graph.Node[0], m.Graph.Node[1] = m.Graph.Node[1], m.Graph.Node[0]
	fmt.Println(graphcheck.Check(m, graphcheck.Inject))
	// Output:
	// node "b" (Relu) reads "t" before node "a" (Neg) produces it: nodes must be in topological order (re-export the model, or sort it with onnx tools)
	// <nil>
}
