// Package trainloop runs onnxloss step models in the pure-Go evaluator: the
// X_next training loop of DESIGN.md, for tests and for checking other runtimes.
package trainloop

import (
	"fmt"
	"slices"

	"github.com/onnxloss/onnxloss/onnxpb"
	"github.com/onnxloss/onnxloss/optim"
	"github.com/onnxloss/onnxloss/verify/eval"
)

// Loop holds a step model's session and the current training state.
type Loop struct {
	step *eval.Session
	// State maps every state input (parameters, optimizer state, lr, step)
	// to its current value.
	State map[string]*eval.Tensor
	// StateNames lists the state inputs in the init model's output order.
	StateNames []string
}

// New runs the init model once for the starting state and prepares the step
// model. dir is where external data of either model resolves.
func New(step, init *onnxpb.ModelProto, dir string) (*Loop, error) {
	is, err := eval.NewSession(init, dir)
	if err != nil {
		return nil, fmt.Errorf("init model: %w", err)
	}
	state, err := is.Run(nil, nil)
	if err != nil {
		return nil, fmt.Errorf("running the init model: %w", err)
	}
	ss, err := eval.NewSession(step, dir)
	if err != nil {
		return nil, fmt.Errorf("step model: %w", err)
	}
	l := &Loop{step: ss, State: state, StateNames: is.Outputs()}
	outs := ss.Outputs()
	for _, x := range l.StateNames {
		if x != "lr" && !slices.Contains(outs, x+"_next") {
			return nil, fmt.Errorf("the step model has no output %q for its state input %q", x+"_next", x)
		}
	}
	return l, nil
}

// Step runs one step on batch (the step model's data inputs) and moves every
// X_next output into X. It returns the loss computed before the update.
func (l *Loop) Step(batch map[string]*eval.Tensor) (float64, error) {
	feeds := make(map[string]*eval.Tensor, len(batch)+len(l.State))
	for k, v := range batch {
		feeds[k] = v
	}
	for k, v := range l.State {
		feeds[k] = v
	}
	out, err := l.step.Run(feeds, nil)
	if err != nil {
		return 0, err
	}
	loss := out[l.step.Outputs()[0]].AsFloat64()
	if len(loss) != 1 {
		return 0, fmt.Errorf("the step model's first output has %d elements, want a scalar loss", len(loss))
	}
	for _, x := range l.StateNames {
		if x != "lr" {
			l.State[x] = out[x+"_next"]
		}
	}
	return loss[0], nil
}

// ParamNames returns the state inputs that are parameters: not lr or step
// and not P_<suffix> of an earlier parameter P.
func ParamNames(stateNames []string) []string {
	var params []string
	for _, x := range stateNames {
		if x == "lr" || x == "step" {
			continue
		}
		isState := false
		for _, p := range params {
			for _, s := range optim.StateSuffixes() {
				if x == p+"_"+s {
					isState = true
				}
			}
		}
		if !isState {
			params = append(params, x)
		}
	}
	return params
}
