package optim

import (
	"fmt"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/onnxpb"
)

// adamw is torch.optim.AdamW (amsgrad off) as torch/optim/adamw.py's
// _single_tensor_adamw computes it (torch 1.13), operation for operation:
//
//	t = step + 1
//	p = p·(1 − lr·wd)                         (scalar in double, then p's type)
//	m = β1·m + (1−β1)·g
//	v = β2·v + ((1−β2)·g)·g
//	bc1 = 1 − β1^t; bc2 = 1 − β2^t           (double, as Python floats)
//	step_size = lr / bc1
//	denom = sqrt(v) / sqrt(bc2) + eps
//	p = p + ((−step_size)·m) / denom          (addcdiv: value·t1 / t2)
//
// Scalars torch computes in Python (double) are computed here in double
// and cast to p's type where torch uses them with a tensor.
type adamw struct{}

func init() { Register(adamw{}) }

func (adamw) Name() string { return "adamw" }

func (adamw) Defaults() Settings {
	return Settings{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 1e-2}
}

func (adamw) Check(s Settings) error {
	if err := checkLR(s.LR); err != nil {
		return err
	}
	for _, b := range []float64{s.Beta1, s.Beta2} {
		if !(b >= 0 && b < 1) {
			return fmt.Errorf("--betas must be two numbers in [0, 1), got %v,%v", s.Beta1, s.Beta2)
		}
	}
	if err := checkNonNegative("--eps", s.Eps); err != nil {
		return err
	}
	return checkNonNegative("--weight-decay", s.WeightDecay)
}

func (adamw) States(Settings) []string { return []string{"exp_avg", "exp_avg_sq"} }

func (adamw) StateSuffixes() []string { return []string{"exp_avg", "exp_avg_sq"} }

func (adamw) Update(b *graphedit.Builder, s Settings, sc Scalars, p Param) (string, []string) {
	dbl := onnxpb.TensorProto_DOUBLE
	name := func(what string) string { return p.Name + "/" + what }
	one := b.Scalar(name("one"), dbl, 1)

	// Stepweight decay: p·(1 − lr·wd).
	wd := b.Scalar(name("weight_decay"), dbl, s.WeightDecay)
	decay := b.Op("Sub", name("decay"), []string{one, b.Op("Mul", name("lr_wd"), []string{sc.LR, wd})})
	pDecayed := b.Op("Mul", name("decayed"), []string{p.Name, toElem(b, name("decay_t"), decay, p.Elem)})

	// Moments.
	m := b.Op("Add", name("exp_avg"), []string{
		b.Op("Mul", name("exp_avg_scaled"), []string{p.States[0], b.Scalar(name("beta1"), p.Elem, s.Beta1)}),
		b.Op("Mul", name("g_scaled"), []string{p.Grad, b.Scalar(name("one_minus_beta1"), p.Elem, 1-s.Beta1)}),
	})
	v := b.Op("Add", name("exp_avg_sq"), []string{
		b.Op("Mul", name("exp_avg_sq_scaled"), []string{p.States[1], b.Scalar(name("beta2"), p.Elem, s.Beta2)}),
		b.Op("Mul", name("g2_scaled"), []string{
			b.Op("Mul", name("g_scaled2"), []string{p.Grad, b.Scalar(name("one_minus_beta2"), p.Elem, 1-s.Beta2)}),
			p.Grad,
		}),
	})

	// Bias corrections in double.
	bc1 := b.Op("Sub", name("bias_correction1"), []string{one, b.Op("Pow", name("beta1_t"), []string{b.Scalar(name("beta1_d"), dbl, s.Beta1), sc.Step})})
	bc2 := b.Op("Sub", name("bias_correction2"), []string{one, b.Op("Pow", name("beta2_t"), []string{b.Scalar(name("beta2_d"), dbl, s.Beta2), sc.Step})})
	stepSize := b.Op("Div", name("step_size"), []string{sc.LR, bc1})
	bc2Sqrt := b.Op("Sqrt", name("bias_correction2_sqrt"), []string{bc2})

	denom := b.Op("Add", name("denom"), []string{
		b.Op("Div", name("sqrt_v_corrected"), []string{
			b.Op("Sqrt", name("sqrt_v"), []string{v}),
			toElem(b, name("bias_correction2_sqrt_t"), bc2Sqrt, p.Elem),
		}),
		b.Scalar(name("eps"), p.Elem, s.Eps),
	})
	negStep := toElem(b, name("neg_step_size_t"), b.Op("Neg", name("neg_step_size"), []string{stepSize}), p.Elem)
	update := b.Op("Div", name("update"), []string{b.Op("Mul", name("scaled_m"), []string{negStep, m}), denom})
	next := b.Op("Add", name("next"), []string{pDecayed, update})
	return next, []string{m, v}
}

func (adamw) Hyperparameters(s Settings) map[string]any {
	return map[string]any{"lr": s.LR, "betas": []float64{s.Beta1, s.Beta2}, "eps": s.Eps, "weight_decay": s.WeightDecay}
}

func (adamw) Summary(s Settings) string {
	return fmt.Sprintf("adamw (lr %g, betas %g,%g, eps %g, weight_decay %g)", s.LR, s.Beta1, s.Beta2, s.Eps, s.WeightDecay)
}
