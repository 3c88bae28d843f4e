package autodiff

import (
	"math/rand"
	"testing"

	"github.com/onnxloss/onnxloss/verify/eval"
)

// constIn is a random float constant input (not differentiated).
func constIn(seed int64, shape ...int64) in {
	rng := rand.New(rand.NewSource(seed))
	v := make([]float64, numel(shape))
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return in{Shape: shape, Floats: v}
}

// needEval skips a case whose gradient graph needs an op the evaluator does
// not implement yet.
func needEval(t *testing.T, ops ...string) {
	t.Helper()
	for _, op := range ops {
		if !eval.Supported("", op) {
			t.Skipf("the evaluator lacks %s, which this case's forward or gradient graph runs", op)
		}
	}
}

func TestConvRules(t *testing.T) {
	type cc struct {
		rc  ruleCase
		ops []string
	}
	conv := func(name string, x, w in, b *in, a ...any) []cc {
		var at = attrsFrom(a)
		ins := []in{x, w}
		if b != nil {
			ins = append(ins, *b)
		}
		// once with the input differentiated (ConvTranspose), once with a
		// constant input (weight and bias only)
		xc := constIn(int64(len(name)), x.Shape...)
		insW := append([]in{xc}, ins[1:]...)
		return []cc{
			{ruleCase{name: name, op: "Conv", attrs: at, ins: ins}, []string{"ConvTranspose"}},
			{ruleCase{name: name + "_weights", op: "Conv", attrs: at, ins: insW}, nil},
		}
	}
	bias := func(n int64) *in { b := p(n); return &b }
	var cases []cc
	cases = append(cases, conv("conv2d", p(2, 3, 5, 5), p(4, 3, 3, 3), bias(4))...)
	cases = append(cases, conv("conv2d_pads_strides", p(1, 2, 7, 6), p(3, 2, 3, 2), bias(3), ais("pads", []int64{1, 0, 2, 1}), ais("strides", []int64{2, 3}))...)
	cases = append(cases, conv("conv2d_dilations", p(1, 2, 7, 7), p(2, 2, 2, 3), nil, ais("dilations", []int64{2, 2}))...)
	cases = append(cases, conv("conv2d_groups", p(2, 4, 5, 5), p(6, 2, 3, 3), bias(6), ai("group", 2), ais("pads", []int64{1, 1, 1, 1}))...)
	cases = append(cases, conv("conv2d_depthwise", p(1, 3, 6, 6), p(3, 1, 3, 3), bias(3), ai("group", 3), ais("strides", []int64{2, 2}), ais("pads", []int64{1, 1, 1, 1}))...)
	cases = append(cases, conv("conv2d_same_upper", p(1, 2, 5, 6), p(2, 2, 3, 3), nil, graphedit_s("auto_pad", "SAME_UPPER"), ais("strides", []int64{2, 2}))...)
	cases = append(cases, conv("conv2d_same_lower", p(1, 2, 5, 5), p(2, 2, 2, 2), nil, graphedit_s("auto_pad", "SAME_LOWER"))...)
	cases = append(cases, conv("conv2d_valid", p(1, 2, 5, 5), p(2, 2, 3, 3), nil, graphedit_s("auto_pad", "VALID"), ais("strides", []int64{2, 2}))...)
	cases = append(cases, conv("conv1d", p(2, 3, 8), p(2, 3, 3), bias(2), ais("strides", []int64{2}), ais("pads", []int64{1, 1}))...)
	cases = append(cases, conv("conv3d", p(1, 2, 4, 4, 3), p(2, 2, 2, 2, 2), bias(2))...)
	cases = append(cases,
		cc{ruleCase{name: "convtranspose", op: "ConvTranspose", ins: []in{p(1, 3, 4, 4), p(3, 2, 3, 3), p(2)}}, []string{"ConvTranspose"}},
		cc{ruleCase{name: "convtranspose_strided", op: "ConvTranspose", attrs: attrs(ais("strides", []int64{2, 2}), ais("pads", []int64{1, 0, 1, 0}), ais("output_padding", []int64{1, 1})), ins: []in{p(1, 2, 3, 4), p(2, 3, 3, 3)}}, []string{"ConvTranspose"}},
		cc{ruleCase{name: "convtranspose_dilated", op: "ConvTranspose", attrs: attrs(ais("dilations", []int64{2, 1})), ins: []in{p(2, 2, 3, 3), p(2, 2, 2, 2)}}, []string{"ConvTranspose"}},
		cc{ruleCase{name: "convtranspose_groups_input", op: "ConvTranspose", attrs: attrs(ai("group", 2)), ins: []in{p(1, 4, 3, 3), constIn(5, 4, 1, 2, 2)}}, []string{"ConvTranspose"}},
	)
	for _, c := range cases {
		t.Run(c.rc.name, func(t *testing.T) {
			needEval(t, c.ops...)
			checkRule(t, c.rc)
		})
	}
}

func TestPoolRules(t *testing.T) {
	cases := []ruleCase{
		{name: "maxpool", op: "MaxPool", attrs: attrs(ais("kernel_shape", []int64{2, 2}), ais("strides", []int64{2, 2})), ins: []in{p(2, 3, 6, 6)}},
		{name: "maxpool_o13", op: "MaxPool", opset: 13, attrs: attrs(ais("kernel_shape", []int64{3, 3}), ais("strides", []int64{2, 1}), ais("pads", []int64{1, 1, 1, 0})), ins: []in{p(2, 2, 5, 5)}},
		{name: "maxpool_overlap_pads", op: "MaxPool", attrs: attrs(ais("kernel_shape", []int64{3, 3}), ais("strides", []int64{2, 1}), ais("pads", []int64{1, 1, 1, 0})), ins: []in{p(1, 2, 5, 5)}},
		{name: "maxpool_indices_output", op: "MaxPool", nOut: 2, skipOut: []int{1}, attrs: attrs(ais("kernel_shape", []int64{2})), ins: []in{p(2, 2, 7)}},
		// opsets 11-15: the disjoint-window-class scatter (see maxPoolGradDisjoint)
		{name: "maxpool_o13_ceil_dilation", op: "MaxPool", opset: 13, attrs: attrs(ais("kernel_shape", []int64{2, 2}), ais("strides", []int64{2, 2}), ai("ceil_mode", 1), ais("dilations", []int64{1, 2})), ins: []in{p(1, 2, 5, 7)}},
		{name: "maxpool_o13_stride1", op: "MaxPool", opset: 13, attrs: attrs(ais("kernel_shape", []int64{3, 2}), ais("pads", []int64{1, 0, 1, 1})), ins: []in{p(2, 2, 4, 5)}},
		{name: "maxpool_o13_same_upper_1d", op: "MaxPool", opset: 13, nOut: 2, skipOut: []int{1}, attrs: attrs(ais("kernel_shape", []int64{3}), ais("strides", []int64{2}), graphedit_s("auto_pad", "SAME_UPPER")), ins: []in{p(2, 3, 8)}},
		{name: "maxpool_o11_3d", op: "MaxPool", opset: 11, attrs: attrs(ais("kernel_shape", []int64{2, 3, 2}), ais("strides", []int64{1, 2, 2})), ins: []in{p(1, 2, 3, 5, 4)}},
		{name: "maxpool_ceil_dilation", op: "MaxPool", attrs: attrs(ais("kernel_shape", []int64{2, 2}), ais("strides", []int64{2, 2}), ai("ceil_mode", 1), ais("dilations", []int64{1, 2})), ins: []in{p(1, 2, 5, 7)}},
		{name: "avgpool_exclude_pad", op: "AveragePool", attrs: attrs(ais("kernel_shape", []int64{3, 3}), ais("strides", []int64{2, 2}), ais("pads", []int64{1, 1, 1, 1})), ins: []in{p(2, 2, 5, 6)}},
		{name: "avgpool_include_pad", op: "AveragePool", attrs: attrs(ais("kernel_shape", []int64{3, 2}), ais("strides", []int64{1, 2}), ais("pads", []int64{1, 0, 1, 1}), ai("count_include_pad", 1)), ins: []in{p(1, 3, 4, 5)}},
		{name: "avgpool_plain", op: "AveragePool", attrs: attrs(ais("kernel_shape", []int64{2, 2}), ais("strides", []int64{2, 2})), ins: []in{p(1, 2, 4, 4)}},
		{name: "avgpool_ceil", op: "AveragePool", attrs: attrs(ais("kernel_shape", []int64{2, 2}), ais("strides", []int64{2, 2}), ai("ceil_mode", 1)), ins: []in{p(1, 2, 5, 5)}},
		{name: "avgpool_same_upper", op: "AveragePool", attrs: attrs(ais("kernel_shape", []int64{3, 3}), ais("strides", []int64{2, 2}), graphedit_s("auto_pad", "SAME_UPPER")), ins: []in{p(1, 1, 5, 6)}},
		{name: "avgpool1d", op: "AveragePool", attrs: attrs(ais("kernel_shape", []int64{3}), ais("pads", []int64{1, 1})), ins: []in{p(2, 2, 6)}},
	}
	for _, rc := range cases {
		t.Run(rc.name, func(t *testing.T) { checkRule(t, rc) })
	}
}

func TestNormRules(t *testing.T) {
	bnInf := func(name string, x in, opset int64) ruleCase {
		c := x.Shape[1]
		return ruleCase{name: name, op: "BatchNormalization", opset: opset, attrs: attrs(af("epsilon", 1e-3)),
			ins: []in{x, p(c), p(c), constIn(3, c), {Shape: []int64{c}, Floats: posFloats(c)}}}
	}
	cases := []ruleCase{
		bnInf("bn_inference_4d", p(2, 3, 2, 2), 15),
		bnInf("bn_inference_2d", p(4, 3), 13),
		{name: "bn_training_opset13", op: "BatchNormalization", opset: 13, nOut: 3, skipOut: []int{1, 2},
			ins: []in{p(4, 3, 2), p(3), p(3), constIn(3, 3), {Shape: []int64{3}, Floats: posFloats(3)}}},
		{name: "bn_training_opset15", op: "BatchNormalization", opset: 15, nOut: 3, skipOut: []int{1, 2}, attrs: attrs(ai("training_mode", 1)),
			ins: []in{p(3, 2, 2, 2), p(2), p(2), constIn(3, 2), {Shape: []int64{2}, Floats: posFloats(2)}}},
		{name: "dropout_inference", op: "Dropout", opset: 13, ins: []in{p(3, 4)}},
		{name: "dropout_opset11", op: "Dropout", opset: 11, attrs: attrs(af("ratio", 0.3)), ins: []in{p(3, 4)}},
		{name: "dropout_training_ratio0", op: "Dropout", opset: 13, ins: []in{p(3, 4), {Shape: []int64{}, Floats: []float64{0}}, {Shape: []int64{}, Bool: true, Ints: []int64{1}}}},
	}
	for _, rc := range cases {
		t.Run(rc.name, func(t *testing.T) { checkRule(t, rc) })
	}
	for _, rc := range []ruleCase{
		{name: "layernorm_last", op: "LayerNormalization", ins: []in{p(2, 3, 4), p(4), p(4)}},
		{name: "layernorm_axis1", op: "LayerNormalization", attrs: attrs(ai("axis", 1), af("epsilon", 1e-3)), ins: []in{p(2, 3, 4), p(3, 4), p(3, 4)}},
		{name: "layernorm_nobias", op: "LayerNormalization", ins: []in{p(3, 5), p(5)}},
	} {
		t.Run(rc.name, func(t *testing.T) {
			needEval(t, "LayerNormalization")
			checkRule(t, rc)
		})
	}
}

func TestMiscRules(t *testing.T) {
	cases := []struct {
		rc  ruleCase
		ops []string
	}{
		{ruleCase{name: "cumsum", op: "CumSum", ins: []in{p(3, 4), ints([]int64{}, 1)}}, []string{"CumSum"}},
		{ruleCase{name: "cumsum_rev_excl", op: "CumSum", attrs: attrs(ai("reverse", 1), ai("exclusive", 1)), ins: []in{p(3, 4), ints([]int64{}, 0)}}, []string{"CumSum"}},
		{ruleCase{name: "pad", op: "Pad", ins: []in{p(2, 3), ints([]int64{4}, 1, 0, 2, 3)}}, []string{"Pad"}},
		{ruleCase{name: "pad_value", op: "Pad", ins: []in{p(2, 3), ints([]int64{4}, 0, 2, 1, 1), {Shape: []int64{}, Floats: []float64{1.5}}}}, []string{"Pad"}},
		{ruleCase{name: "pad_axes18", op: "Pad", opset: 18, ins: []in{p(2, 3, 2), ints([]int64{2}, 1, 2), {Empty: true}, ints([]int64{1}, -2)}}, []string{"Pad"}},
		{ruleCase{name: "resize_nearest_scales", op: "Resize", opset: 13, ins: []in{p(1, 2, 3, 3), {Empty: true}, {Shape: []int64{4}, Floats: []float64{1, 1, 2, 2}}}}, []string{"Resize"}},
		{ruleCase{name: "resize_nearest_asym_floor", op: "Resize", opset: 13, attrs: attrs(graphedit_s("coordinate_transformation_mode", "asymmetric"), graphedit_s("nearest_mode", "floor")), ins: []in{p(1, 1, 3, 4), {Empty: true}, {Shape: []int64{4}, Floats: []float64{1, 1, 2, 1.5}}}}, []string{"Resize"}},
		{ruleCase{name: "resize_linear_half_pixel", op: "Resize", opset: 13, attrs: attrs(graphedit_s("mode", "linear")), ins: []in{p(1, 2, 3, 4), {Empty: true}, {Shape: []int64{4}, Floats: []float64{1, 1, 2, 2}}}}, []string{"Resize"}},
		{ruleCase{name: "resize_linear_align_corners", op: "Resize", opset: 11, attrs: attrs(graphedit_s("mode", "linear"), graphedit_s("coordinate_transformation_mode", "align_corners")), ins: []in{p(1, 1, 3, 3), {Shape: []int64{0}, Floats: []float64{}}, {Shape: []int64{4}, Floats: []float64{1, 1, 2, 2}}}}, []string{"Resize"}},
		{ruleCase{name: "resize_linear_pytorch_half_pixel_sizes", op: "Resize", opset: 13, attrs: attrs(graphedit_s("mode", "linear"), graphedit_s("coordinate_transformation_mode", "pytorch_half_pixel")), ins: []in{p(1, 1, 4, 3), {Empty: true}, {Empty: true}, ints([]int64{4}, 1, 1, 7, 5)}}, []string{"Resize"}},
	}
	for _, c := range cases {
		t.Run(c.rc.name, func(t *testing.T) {
			needEval(t, c.ops...)
			checkRule(t, c.rc)
		})
	}
}

func posFloats(n int64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = 0.5 + 0.3*float64(i)
	}
	return v
}

// TestConvDynamicSpatial differentiates a strided Conv whose input has
// symbolic spatial dims (the sliced transposed-conv form).
func TestConvDynamicSpatial(t *testing.T) {
	for _, rc := range []ruleCase{
		{name: "dyn_strided", op: "Conv", dynamic: []int{0}, attrs: attrs(ais("strides", []int64{2, 3}), ais("pads", []int64{1, 0, 0, 2})), ins: []in{p(1, 2, 7, 8), p(3, 2, 3, 3)}},
		{name: "dyn_strided_dilated_groups", op: "Conv", dynamic: []int{0}, attrs: attrs(ais("strides", []int64{2, 2}), ais("dilations", []int64{2, 1}), ai("group", 2), ais("pads", []int64{2, 1, 1, 1})), ins: []in{p(1, 4, 9, 6), p(4, 2, 2, 3)}},
	} {
		t.Run(rc.name, func(t *testing.T) { checkRule(t, rc) })
	}
}
