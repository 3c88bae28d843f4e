package optim_test

import (
	"fmt"

	"github.com/onnxloss/onnxloss/optim"
)

// Optimizers are found by name; Defaults are torch's, Check rejects what
// torch would, and States names each parameter's optimizer state.
func ExampleLookup() {
	o, err := optim.Lookup("adamw")
	if err != nil {
		panic(err)
	}
	s := o.Defaults()
	s.LR = 0.01
	fmt.Println(o.Summary(s))
	fmt.Println("state of fc1.weight:", optim.StateName("fc1.weight", o.States(s)[0]), optim.StateName("fc1.weight", o.States(s)[1]))
	fmt.Println("outputs:", optim.NextName("fc1.weight"), optim.NextName(optim.StepInput))
	_, err = optim.Lookup("rmsprop")
	fmt.Println(err)
	// Output:
	// adamw (lr 0.01, betas 0.9,0.999, eps 1e-08, weight_decay 0.01)
	// state of fc1.weight: fc1.weight_exp_avg fc1.weight_exp_avg_sq
	// outputs: fc1.weight_next step_next
	// unknown optimizer "rmsprop": use one of adamw, sgd (or none)
}
