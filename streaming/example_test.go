package streaming_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/inject"
	"github.com/onnxloss/onnxloss/lossops"
	"github.com/onnxloss/onnxloss/streaming"
)

// Streaming a model through inject: the tensor data is copied, never
// decoded, and the loss comes first among the outputs.
func ExampleInject() {
	dir, err := os.MkdirTemp("", "onnxloss-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "mlp.train.onnx")
	opt := inject.Options{
		Loss: lossops.CBFocal, Counts: &lossops.Counts{Values: []float64{500, 120, 7, 42, 1000}},
		Beta: 0.999, Gamma: 2, Reduction: lossops.Mean, Normalize: true,
	}
	res, err := streaming.Inject(filepath.Join("..", "testdata", "models", "mlp_o13.onnx"), out, opt)
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := graphedit.Load(out)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("first output:", m.Graph().GetOutput()[0].GetName())
	fmt.Println(res.Metadata.Loss, "attached to", res.Metadata.Logits)
	fmt.Println("streamed:", strings.HasPrefix(res.Notes[len(res.Notes)-1], "streamed:"))
	// Output:
	// first output: loss
	// cb_focal attached to logits
	// streamed: true
}
