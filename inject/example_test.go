package inject_test

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/inject"
	"github.com/onnxloss/onnxloss/lossops"
	"github.com/onnxloss/onnxloss/onnxpb"
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

// ChooseClassAxis finds the classes of a token classifier's (N, T, 7)
// logits on axis 2, and refuses to guess for (N, 6, 6) with six classes.
func ExampleChooseClassAxis() {
	tok := graphedit.ValueType{Elem: onnxpb.TensorProto_FLOAT, Shape: []graphedit.Dim{{Value: -1, Param: "N"}, {Value: -1, Param: "T"}, {Value: 7}}}
	a, _ := inject.ChooseClassAxis("logits", tok, 7, nil)
	fmt.Println(a.Axis, "-", a.Reason)
	square := graphedit.ValueType{Elem: onnxpb.TensorProto_FLOAT, Shape: []graphedit.Dim{{Value: -1, Param: "N"}, {Value: 6}, {Value: 6}}}
	_, err := inject.ChooseClassAxis("logits", square, 6, nil)
	fmt.Println(err != nil && strings.Contains(err.Error(), "pass --class-axis"))
	// Output:
	// 2 - the only axis of static size C = 7 in [N,T,7]
	// true
}

// NeedsCounts says when inject can do without --counts.
func ExampleNeedsCounts() {
	fmt.Println(inject.NeedsCounts(lossops.SigmoidFocal, ""))
	fmt.Println(inject.NeedsCounts(lossops.WeightedCE, lossops.WeightNone))
	fmt.Println(inject.NeedsCounts(lossops.CBFocal, ""))
	fmt.Println(inject.NeedsCounts(lossops.LDAM, lossops.WeightNone))
	// Output:
	// false
	// false
	// true
	// true
}
