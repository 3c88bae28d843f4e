package graphedit_test

import (
	"fmt"
	"log"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/onnxpb"
)

// Load a model and find its logits.
func ExampleModel_Summarize() {
	m, err := graphedit.Load("../testdata/models/softmax_o13.onnx")
	if err != nil {
		log.Fatal(err)
	}
	s := m.Summarize()
	fmt.Println("opset", m.DefaultDomainOpset(), "inputs", s.Inputs[0].Name, s.Inputs[0].Shape)
	fmt.Println("output", s.Outputs[0].Name, "from", s.Logits.Activation)
	fmt.Println("logits", s.Logits.Name, "C =", s.Logits.C)
	// Output:
	// opset 13 inputs x [N 8]
	// output probs from Softmax
	// logits /mlp/fc2/Gemm_output_0 C = 3
}

// newModel returns an empty model importing the given default opset.
func newModel(opset int64) *graphedit.Model {
	v := opset
	ir := int64(8)
	return &graphedit.Model{Proto: &onnxpb.ModelProto{
		IrVersion:   &ir,
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Version: &v}},
		Graph:       &onnxpb.GraphProto{},
	}}
}

// ReduceSum emits its axes as an attribute before opset 13 and as an int64
// initializer input from 13.
func ExampleBuilder_ReduceSum() {
	for _, opset := range []int64{11, 13} {
		m := newModel(opset)
		b := graphedit.NewBuilder(m, "onnxloss")
		out := b.ReduceSum("total", "x", []int64{1}, false)
		n := m.Producer(out)
		fmt.Printf("opset %d: %s inputs %q, %d attributes, output %s\n", opset, n.GetOpType(), n.GetInput(), len(n.GetAttribute()), out)
	}
	// Output:
	// opset 11: ReduceSum inputs ["x"], 2 attributes, output onnxloss/total
	// opset 13: ReduceSum inputs ["x" "onnxloss/total_axes"], 1 attributes, output onnxloss/total
}

// UniqueName appends _1, _2, … skipping every name the graph already uses.
func ExampleModel_UniqueName() {
	m, err := graphedit.Load("../testdata/models/mlp_o13.onnx")
	if err != nil {
		log.Fatal(err)
	}
	m.AddInput(graphedit.TensorValueInfo("labels_1", graphedit.ValueType{Elem: onnxpb.TensorProto_INT64}), -1)
	fmt.Println(m.UniqueName("logits"))
	fmt.Println(m.UniqueName("labels"))
	fmt.Println(m.UniqueName("labels"))
	fmt.Println(m.UniqueName("labels"))
	// Output:
	// logits_1
	// labels
	// labels_2
	// labels_3
}
