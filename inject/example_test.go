package inject_test

import (
	"fmt"
	"path/filepath"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/inject"
	"github.com/onnxloss/onnxloss/lossops"
)

// Attach a Class-Balanced focal loss to an exported classifier: the model
// gains a labels input and, first among its outputs, the loss.
func ExampleInject() {
	m, err := graphedit.Load(filepath.Join("..", "testdata", "models", "mlp_o13.onnx"))
	if err != nil {
		panic(err)
	}
	res, err := inject.Inject(m, inject.Options{
		Loss:      lossops.CBFocal,
		Counts:    &lossops.Counts{Values: []float64{500, 120, 7, 40, 3}},
		Beta:      0.9999,
		Gamma:     2,
		Normalize: true,
	})
	if err != nil {
		panic(err)
	}
	md := res.Metadata
	fmt.Println(md.Loss, "on", md.Logits, "C =", md.NumClasses, "weighting", md.Weighting)
	for _, o := range m.Graph().GetOutput() {
		fmt.Println("output", o.GetName())
	}
	// Output:
	// cb_focal on logits C = 5 weighting effective
	// output loss
	// output logits
}
