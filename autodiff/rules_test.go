package autodiff

import (
	"testing"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/onnxpb"
)

var (
	ai  = graphedit.AttrInt
	ais = graphedit.AttrInts
	af  = graphedit.AttrFloat
)

func p(shape ...int64) in               { return in{Shape: shape} }
func pos(shape ...int64) in             { return in{Shape: shape, Positive: true} }
func ints(shape []int64, v ...int64) in { return in{Shape: shape, Ints: v} }
func wide(shape ...int64) in            { return in{Shape: shape, Scale: 4} }

func attrs(a ...*onnxpb.AttributeProto) []*onnxpb.AttributeProto { return a }

func TestElementwiseRules(t *testing.T) {
	cases := []ruleCase{
		{name: "add_same", op: "Add", ins: []in{p(2, 3), p(2, 3)}},
		{name: "add_bcast_row", op: "Add", ins: []in{p(2, 3), p(3)}},
		{name: "add_bcast_col", op: "Add", ins: []in{p(2, 1), p(1, 3)}},
		{name: "add_bcast_scalar", op: "Add", ins: []in{p(), p(2, 2, 3)}},
		{name: "mul_dyn_bcast", op: "Mul", dynamic: []int{1}, ins: []in{p(2, 3, 4, 5), p(2, 3, 1, 1)}},
		{name: "add_dyn_both", op: "Add", dynamic: []int{0, 1}, ins: []in{p(2, 1, 4), p(3, 1)}},
		{name: "div_dyn_same", op: "Div", dynamic: []int{0, 1}, ins: []in{p(2, 3), pos(2, 3)}},
		{name: "sub_bcast", op: "Sub", ins: []in{p(4, 1, 3), p(2, 1)}},
		{name: "mul_bcast", op: "Mul", ins: []in{p(2, 3, 4), p(3, 1)}},
		{name: "div_bcast", op: "Div", ins: []in{p(2, 3), pos(1, 3)}},
		{name: "pow_both", op: "Pow", ins: []in{pos(2, 3), p(2, 3)}},
		{name: "pow_bcast_exp", op: "Pow", ins: []in{pos(2, 3), p()}},
		{name: "sum3", op: "Sum", ins: []in{p(2, 3), p(3), p(2, 1)}},
		{name: "mean2", op: "Mean", ins: []in{p(2, 3), p(3)}},
		{name: "max2", op: "Max", ins: []in{p(3, 4), p(4)}},
		{name: "min3", op: "Min", ins: []in{p(3, 4), p(3, 4), p(1, 4)}},
		{name: "where", op: "Where", ins: []in{{Shape: []int64{2, 3}, Bool: true, Ints: []int64{1, 0, 1, 1, 0, 0}}, p(2, 3), p(3)}},
		{name: "clip_both", op: "Clip", opset: 13, ins: []in{p(3, 4), {Shape: []int64{}, Floats: []float64{-0.5}}, {Shape: []int64{}, Floats: []float64{0.7}}}},
		{name: "clip_min_only", op: "Clip", opset: 13, ins: []in{p(3, 4), {Shape: []int64{}, Floats: []float64{-0.3}}}},
		{name: "clip_max_only", op: "Clip", opset: 13, ins: []in{p(3, 4), {Empty: true}, {Shape: []int64{}, Floats: []float64{0.2}}}},
		{name: "clip_none", op: "Clip", opset: 13, ins: []in{p(3, 4)}},
	}
	for _, rc := range cases {
		t.Run(rc.name, func(t *testing.T) { checkRule(t, rc) })
	}
}

func TestUnaryRules(t *testing.T) {
	cases := []ruleCase{
		{name: "identity", op: "Identity", ins: []in{p(2, 3)}},
		{name: "neg", op: "Neg", ins: []in{p(2, 3)}},
		{name: "abs", op: "Abs", ins: []in{p(2, 3)}},
		{name: "exp", op: "Exp", ins: []in{p(2, 3)}},
		{name: "log", op: "Log", ins: []in{pos(2, 3)}},
		{name: "sqrt", op: "Sqrt", ins: []in{pos(2, 3)}},
		{name: "reciprocal", op: "Reciprocal", ins: []in{pos(2, 3)}},
		{name: "relu", op: "Relu", ins: []in{p(3, 4)}},
		{name: "sigmoid", op: "Sigmoid", ins: []in{p(3, 4)}},
		{name: "tanh", op: "Tanh", ins: []in{p(3, 4)}},
		{name: "softplus", op: "Softplus", ins: []in{p(3, 4)}},
		{name: "erf", op: "Erf", ins: []in{p(3, 4)}},
		{name: "leakyrelu_default", op: "LeakyRelu", ins: []in{p(3, 4)}},
		{name: "leakyrelu_alpha", op: "LeakyRelu", attrs: attrs(af("alpha", 0.3)), ins: []in{p(3, 4)}},
		{name: "elu_default", op: "Elu", ins: []in{p(3, 4)}},
		{name: "elu_alpha", op: "Elu", attrs: attrs(af("alpha", 0.5)), ins: []in{p(3, 4)}},
		{name: "selu_default", op: "Selu", ins: []in{p(3, 4)}},
		{name: "selu_attrs", op: "Selu", attrs: attrs(af("alpha", 1.2), af("gamma", 0.9)), ins: []in{p(3, 4)}},
		{name: "hardsigmoid_default", op: "HardSigmoid", ins: []in{wide(3, 5)}},
		{name: "hardsigmoid_attrs", op: "HardSigmoid", attrs: attrs(af("alpha", 0.4), af("beta", 0.4)), ins: []in{wide(3, 4)}},
		{name: "hardswish", op: "HardSwish", opset: 14, ins: []in{wide(4, 5)}},
		{name: "gelu_none", op: "Gelu", opset: 20, ins: []in{p(3, 4)}},
		{name: "gelu_tanh", op: "Gelu", opset: 20, attrs: attrs(graphedit.AttrString("approximate", "tanh")), ins: []in{p(3, 4)}},
		{name: "prelu_channel", op: "PRelu", ins: []in{p(2, 3, 4), p(3, 1)}},
		{name: "prelu_scalar", op: "PRelu", ins: []in{p(2, 3), p(1)}},
		{name: "sin", op: "Sin", ins: []in{p(3, 4)}},
		{name: "cos", op: "Cos", ins: []in{p(3, 4)}},
		{name: "cast_f64", op: "Cast", attrs: attrs(ai("to", 11)), ins: []in{p(2, 3)}},
	}
	for _, rc := range cases {
		t.Run(rc.name, func(t *testing.T) { checkRule(t, rc) })
	}
}

func graphedit_s(name, v string) *onnxpb.AttributeProto { return graphedit.AttrString(name, v) }

func attrsFrom(a []any) []*onnxpb.AttributeProto {
	var out []*onnxpb.AttributeProto
	for _, x := range a {
		out = append(out, x.(*onnxpb.AttributeProto))
	}
	return out
}
