package optim

import (
	"fmt"

	"github.com/onnxloss/onnxloss/graphedit"
)

// sgd is torch.optim.SGD with dampening 0 and nesterov off, as
// torch/optim/sgd.py's _single_tensor_sgd computes it (torch 1.13):
//
//	d = g + wd·p                  (if wd ≠ 0)
//	buf = momentum·buf + d; d = buf   (if momentum ≠ 0; buf starts at 0, so
//	                                   step 1 gives buf = d as torch's clone)
//	p = p − lr·d
//
// Hyperparameters enter as constants of p's type, as torch rounds a Python
// float scalar to the tensor's type.
type sgd struct{}

func init() { Register(sgd{}) }

func (sgd) Name() string { return "sgd" }

func (sgd) Defaults() Settings { return Settings{} }

func (sgd) Check(s Settings) error {
	if s.LR == 0 {
		return fmt.Errorf("sgd needs --lr (torch.optim.SGD has no default learning rate)")
	}
	if err := checkLR(s.LR); err != nil {
		return err
	}
	if err := checkNonNegative("--momentum", s.Momentum); err != nil {
		return err
	}
	return checkNonNegative("--weight-decay", s.WeightDecay)
}

func (sgd) States(s Settings) []string {
	if s.Momentum == 0 {
		return nil
	}
	return []string{"momentum"}
}

func (sgd) StateSuffixes() []string { return []string{"momentum"} }

func (sgd) Update(b *graphedit.Builder, s Settings, sc Scalars, p Param) (string, []string) {
	d := p.Grad
	if s.WeightDecay != 0 {
		wd := b.Scalar(p.Name+"/weight_decay", p.Elem, s.WeightDecay)
		d = b.Op("Add", p.Name+"/decayed_grad", []string{d, b.Op("Mul", p.Name+"/wd_p", []string{p.Name, wd})})
	}
	var states []string
	if s.Momentum != 0 {
		mom := b.Scalar(p.Name+"/momentum", p.Elem, s.Momentum)
		buf := b.Op("Mul", p.Name+"/buf_scaled", []string{p.States[0], mom})
		d = b.Op("Add", p.Name+"/buf", []string{buf, d})
		states = append(states, d)
	}
	lr := toElem(b, p.Name+"/lr", sc.LR, p.Elem)
	next := b.Op("Sub", p.Name+"/next", []string{p.Name, b.Op("Mul", p.Name+"/lr_d", []string{lr, d})})
	return next, states
}

func (sgd) Hyperparameters(s Settings) map[string]any {
	return map[string]any{"lr": s.LR, "momentum": s.Momentum, "weight_decay": s.WeightDecay, "dampening": 0.0, "nesterov": false}
}

func (sgd) Summary(s Settings) string {
	return fmt.Sprintf("sgd (lr %g, momentum %g, weight_decay %g, dampening 0, nesterov off)", s.LR, s.Momentum, s.WeightDecay)
}
