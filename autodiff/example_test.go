package autodiff_test

import (
	"fmt"

	"github.com/onnxloss/onnxloss/autodiff"
	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/onnxpb"
	"github.com/onnxloss/onnxloss/verify/eval"
)

// loss = sum(x * w): d loss / d w = x.
func ExampleGradients() {
	s := func(v string) *string { return &v }
	i := func(v int64) *int64 { return &v }
	mp := &onnxpb.ModelProto{
		IrVersion:   i(8),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: s(""), Version: i(17)}},
		Graph: &onnxpb.GraphProto{
			Name:        s("example"),
			Input:       []*onnxpb.ValueInfoProto{graphedit.TensorValueInfo("x", graphedit.ValueType{Elem: onnxpb.TensorProto_FLOAT, Shape: []graphedit.Dim{{Value: 3}}})},
			Initializer: []*onnxpb.TensorProto{graphedit.Float32Tensor("w", []int64{3}, []float32{1, 2, 3})},
			Node: []*onnxpb.NodeProto{
				{Name: s("mul"), OpType: s("Mul"), Input: []string{"x", "w"}, Output: []string{"xw"}},
				{Name: s("sum"), OpType: s("ReduceSum"), Input: []string{"xw"}, Output: []string{"loss"}, Attribute: []*onnxpb.AttributeProto{graphedit.AttrInt("keepdims", 0)}},
			},
			Output: []*onnxpb.ValueInfoProto{graphedit.TensorValueInfo("loss", graphedit.ValueType{Elem: onnxpb.TensorProto_FLOAT, Shape: []graphedit.Dim{}})},
		},
	}
	grads, err := autodiff.Gradients(mp, "loss", []string{"w"})
	if err != nil {
		panic(err)
	}
	out, err := eval.Run(mp, "", map[string]*eval.Tensor{"x": eval.NewFloat32([]int64{3}, []float32{4, 5, 6})}, grads)
	if err != nil {
		panic(err)
	}
	fmt.Println(grads[0], out[grads[0]].Float32s())
	// Output: onnxloss/grad/mul/d_b [4 5 6]
}
