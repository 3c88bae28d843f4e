package autodiff

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/onnxloss/onnxloss/verify/eval"
)

// required lists every op issue 13 asks a gradient rule for: what inject
// emits (DESIGN.md "What inject emits", label side included) and the layers
// of the models users train.
var required = []string{
	// inject
	"Add", "Sub", "Mul", "Div", "Neg", "Abs", "Exp", "Log", "Pow", "Relu", "Sigmoid", "Softmax",
	"LogSoftmax", "Max", "Min", "Clip", "Where", "Gather", "GatherElements", "ReduceSum", "ReduceMean",
	"Reshape", "Unsqueeze", "Squeeze", "Transpose", "Expand", "Identity", "Cast", "Concat", "Slice",
	"Flatten", "OneHot", "Equal", "Not", "Less", "Greater", "Constant",
	// layers
	"MatMul", "Gemm", "Conv", "ConvTranspose", "BatchNormalization", "LeakyRelu", "PRelu", "Elu", "Selu",
	"HardSigmoid", "HardSwish", "Tanh", "Softplus", "Erf", "Gelu", "Sqrt", "Reciprocal", "ReduceMax",
	"ReduceMin", "ReduceL2", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "Split",
	"Tile", "Pad", "Resize", "LayerNormalization", "Dropout", "CumSum",
}

func TestEveryRequiredOpHasARule(t *testing.T) {
	for _, op := range required {
		if !HasRule(op) {
			t.Errorf("no gradient rule for %s", op)
		}
	}
}

// checked records the ops whose finite-difference cases ran and passed.
var checked = map[string]bool{}

// TestMain runs the tests, then, when all of them ran (no -run filter) and
// passed, fails if a rule that carries gradient had no passing
// finite-difference case (skipped cases do not count); rules of ops the
// evaluator cannot run yet are listed on stderr instead.
func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if code == 0 && flag.Lookup("test.run").Value.String() == "" {
		var missing, waiting []string
		for _, op := range Ops() {
			if len(rules[op].Inputs) == 0 || checked[op] {
				continue
			}
			if !eval.Supported("", op) {
				// Its cases skip until the evaluator runs the op.
				waiting = append(waiting, op)
				continue
			}
			missing = append(missing, op)
		}
		if len(waiting) > 0 {
			fmt.Fprintf(os.Stderr, "rules not yet checked: the evaluator lacks %v\n", waiting)
		}
		if len(missing) > 0 {
			fmt.Fprintf(os.Stderr, "FAIL: rules without a passing finite-difference case: %v\n", missing)
			code = 1
		}
	}
	os.Exit(code)
}
