package stepmodel_test

import (
	"fmt"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/inject"
	"github.com/onnxloss/onnxloss/lossops"
	"github.com/onnxloss/onnxloss/stepmodel"
)

// Inject a focal loss into the MLP, then build the --optimizer none step
// model for the second layer only.
func ExamplePrepare() {
	m, err := graphedit.Load("../testdata/models/mlp_o13.onnx")
	if err != nil {
		panic(err)
	}
	if _, err := inject.Inject(m, inject.Options{Loss: lossops.Focal, Counts: &lossops.Counts{Values: []float64{10, 20, 30, 40, 50}}, Gamma: 2}); err != nil {
		panic(err)
	}
	st, err := stepmodel.Prepare(m, stepmodel.Selection{Train: []string{"fc2.*"}})
	if err != nil {
		panic(err)
	}
	if err := st.OutputGradients(); err != nil {
		panic(err)
	}
	for _, o := range m.Graph().GetOutput() {
		fmt.Println(o.GetName())
	}
	// Output:
	// loss
	// fc2.weight_grad
	// fc2.bias_grad
}
