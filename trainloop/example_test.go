package trainloop_test

import (
	"fmt"

	"github.com/onnxloss/onnxloss/trainloop"
)

// The init model's outputs are the state inputs; ParamNames keeps the
// parameters (what load-params writes back), not the optimizer state.
func ExampleParamNames() {
	state := []string{"fc.weight", "fc.weight_exp_avg", "fc.weight_exp_avg_sq", "fc.bias", "fc.bias_exp_avg", "fc.bias_exp_avg_sq", "lr", "step"}
	fmt.Println(trainloop.ParamNames(state))
	// Output: [fc.weight fc.bias]
}
