package paramload_test

import (
	"fmt"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/onnxpb"
	"github.com/onnxloss/onnxloss/paramload"
	"github.com/onnxloss/onnxloss/tensorfile"
)

// Trained values from a step model's outputs (names with _next) go back into
// the inference model; the optimizer's lr is recognised and skipped.
func ExampleApply() {
	m, err := graphedit.Load("../testdata/models/mlp_o13.onnx")
	if err != nil {
		panic(err)
	}
	bias, _ := tensorfile.New("fc2.bias_next", []int64{5}, []float32{0.1, -0.2, 0.3, 0, 0.5})
	lr, _ := tensorfile.New("lr", nil, []float32{0.01})
	rep, err := paramload.Apply(m, []*onnxpb.TensorProto{bias, lr})
	if err != nil {
		panic(err)
	}
	fmt.Println("updated", rep.Updated, "skipped", rep.Skipped)
	// Output: updated [fc2.bias] skipped [lr]
}
