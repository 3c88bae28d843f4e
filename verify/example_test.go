package verify_test

import (
	"fmt"
	"path/filepath"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/inject"
	"github.com/onnxloss/onnxloss/lossops"
	"github.com/onnxloss/onnxloss/verify"
)

// Check an injected loss: random logits and labels through the evaluator,
// compared with the float64 closed form.
func ExampleSynthetic() {
	m, err := graphedit.Load(filepath.Join("..", "testdata", "models", "segnet_o13.onnx"))
	if err != nil {
		panic(err)
	}
	ignore := int64(255)
	if _, err := inject.Inject(m, inject.Options{
		Loss: lossops.Focal, Counts: &lossops.Counts{Values: []float64{9000, 520, 130, 4}},
		Gamma: 2, Normalize: true, IgnoreIndex: &ignore,
	}); err != nil {
		panic(err)
	}
	rep, err := verify.Synthetic(m, "segnet+focal", verify.SyntheticOptions{Tolerance: verify.DefaultTolerance, Seed: 1})
	if err != nil {
		panic(err)
	}
	fmt.Println(len(rep.Checks), "checks, pass:", rep.Pass)
	// Output: 4 checks, pass: true
}
