package autodiff

import "testing"

func TestShapeRules(t *testing.T) {
	cases := []ruleCase{
		{name: "reshape", op: "Reshape", ins: []in{p(2, 3, 4), ints([]int64{2}, 4, -1)}},
		{name: "reshape_zero", op: "Reshape", ins: []in{p(2, 3, 4), ints([]int64{4}, 0, 0, 2, 2)}},
		{name: "flatten", op: "Flatten", ins: []in{p(2, 3, 4)}},
		{name: "flatten_axis2", op: "Flatten", attrs: attrs(ai("axis", 2)), ins: []in{p(2, 3, 4)}},
		{name: "squeeze13", op: "Squeeze", opset: 13, ins: []in{p(2, 1, 3), ints([]int64{1}, 1)}},
		{name: "squeeze11", op: "Squeeze", opset: 11, attrs: attrs(ais("axes", []int64{-2})), ins: []in{p(2, 1, 3)}},
		{name: "squeeze_all", op: "Squeeze", opset: 13, ins: []in{p(1, 3, 1)}},
		{name: "unsqueeze13", op: "Unsqueeze", opset: 13, ins: []in{p(2, 3), ints([]int64{2}, 0, -1)}},
		{name: "unsqueeze11", op: "Unsqueeze", opset: 11, attrs: attrs(ais("axes", []int64{1})), ins: []in{p(2, 3)}},
		{name: "transpose", op: "Transpose", attrs: attrs(ais("perm", []int64{2, 0, 1})), ins: []in{p(2, 3, 4)}},
		{name: "transpose_default", op: "Transpose", ins: []in{p(2, 3, 4)}},
		{name: "concat", op: "Concat", attrs: attrs(ai("axis", 1)), ins: []in{p(2, 3), p(2, 1), p(2, 2)}},
		{name: "concat_neg", op: "Concat", attrs: attrs(ai("axis", -3)), ins: []in{p(1, 2, 3), p(2, 2, 3)}},
		{name: "split13", op: "Split", opset: 13, attrs: attrs(ai("axis", 1)), nOut: 2, ins: []in{p(2, 5), ints([]int64{2}, 2, 3)}},
		{name: "split_unused", op: "Split", opset: 11, attrs: attrs(ai("axis", 0), ais("split", []int64{1, 2})), nOut: 2, skipOut: []int{0}, ins: []in{p(3, 2)}},
		{name: "split18_equal", op: "Split", opset: 18, attrs: attrs(ai("axis", 1), ai("num_outputs", 3)), nOut: 3, ins: []in{p(2, 6)}},
		{name: "slice_basic", op: "Slice", ins: []in{p(4, 5), ints([]int64{2}, 1, 0), ints([]int64{2}, 3, 4)}},
		{name: "slice_axes_steps", op: "Slice", ins: []in{p(4, 6), ints([]int64{1}, 5), ints([]int64{1}, 0), ints([]int64{1}, 1), ints([]int64{1}, -2)}},
		{name: "slice_neg_clamped", op: "Slice", ins: []in{p(3, 5), ints([]int64{1}, -4), ints([]int64{1}, 1000), ints([]int64{1}, -1)}},
		{name: "slice_step2", op: "Slice", ins: []in{p(7, 2), ints([]int64{1}, 0), ints([]int64{1}, 7), ints([]int64{1}, 0), ints([]int64{1}, 2)}},
		{name: "expand", op: "Expand", ins: []in{p(3, 1), ints([]int64{3}, 2, 3, 4)}},
		{name: "expand_same", op: "Expand", ins: []in{p(2, 3), ints([]int64{2}, 1, 3)}},
		{name: "tile", op: "Tile", ins: []in{p(2, 3), ints([]int64{2}, 2, 3)}},
		{name: "gather0", op: "Gather", ins: []in{p(5, 3), ints([]int64{2, 2}, 0, 4, 4, -1)}},
		{name: "gather1", op: "Gather", attrs: attrs(ai("axis", 1)), ins: []in{p(2, 4, 3), ints([]int64{3}, 3, 0, 3)}},
		{name: "gather_scalar", op: "Gather", attrs: attrs(ai("axis", 1)), ins: []in{p(2, 4, 3), ints([]int64{}, 2)}},
		{name: "gather0_o13", op: "Gather", opset: 13, ins: []in{p(5, 3), ints([]int64{2, 2}, 0, 4, 4, -1)}},
		{name: "gather1_o13", op: "Gather", opset: 13, attrs: attrs(ai("axis", 1)), ins: []in{p(2, 4, 3), ints([]int64{3}, 3, 0, 3)}},
		{name: "gather_last_2d_idx", op: "Gather", attrs: attrs(ai("axis", -1)), ins: []in{p(2, 3, 4), ints([]int64{2, 3}, 3, 0, -4, 1, 1, 2)}},
		{name: "gatherelements_o13", op: "GatherElements", opset: 13, attrs: attrs(ai("axis", 1)), ins: []in{p(3, 4), ints([]int64{3, 1}, 0, 3, -1)}},
		{name: "gatherelements", op: "GatherElements", attrs: attrs(ai("axis", 1)), ins: []in{p(3, 4), ints([]int64{3, 1}, 0, 3, -1)}},
		{name: "gatherelements_rep", op: "GatherElements", attrs: attrs(ai("axis", 0)), ins: []in{p(3, 2), ints([]int64{4, 2}, 0, 1, 2, 2, 1, 0, 0, 0)}},
	}
	for _, rc := range cases {
		t.Run(rc.name, func(t *testing.T) { checkRule(t, rc) })
	}
}

func TestReduceRules(t *testing.T) {
	var cases []ruleCase
	for _, op := range []string{"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceL2", "ReduceSumSquare", "ReduceLogSumExp"} {
		inputForm := int64(18)
		if op == "ReduceSum" {
			inputForm = 13
		}
		cases = append(cases,
			ruleCase{name: op + "_attr_keep", op: op, opset: 11, attrs: attrs(ais("axes", []int64{1})), ins: []in{p(2, 3, 4)}},
			ruleCase{name: op + "_attr_drop", op: op, opset: 11, attrs: attrs(ais("axes", []int64{0, -1}), ai("keepdims", 0)), ins: []in{p(2, 3, 4)}},
			ruleCase{name: op + "_all", op: op, opset: 11, attrs: attrs(ai("keepdims", 0)), ins: []in{p(2, 3)}},
			ruleCase{name: op + "_input_axes", op: op, opset: inputForm, attrs: attrs(ai("keepdims", 0)), ins: []in{p(2, 3, 4), ints([]int64{1}, 2)}},
			ruleCase{name: op + "_input_noop", op: op, opset: inputForm, attrs: attrs(ai("noop_with_empty_axes", 1)), ins: []in{p(2, 3)}},
		)
	}
	cases = append(cases,
		ruleCase{name: "globalavg", op: "GlobalAveragePool", ins: []in{p(2, 3, 4, 5)}},
		ruleCase{name: "globalmax", op: "GlobalMaxPool", ins: []in{p(2, 3, 4, 5)}},
		ruleCase{name: "softmax13", op: "Softmax", opset: 13, attrs: attrs(ai("axis", 1)), ins: []in{p(2, 3, 4)}},
		ruleCase{name: "softmax13_default", op: "Softmax", opset: 13, ins: []in{p(2, 3, 4)}},
		ruleCase{name: "softmax11", op: "Softmax", opset: 11, attrs: attrs(ai("axis", 1)), ins: []in{p(2, 3, 4)}},
		ruleCase{name: "softmax11_default", op: "Softmax", opset: 11, ins: []in{p(2, 3, 4)}},
		ruleCase{name: "logsoftmax13", op: "LogSoftmax", opset: 13, attrs: attrs(ai("axis", 1)), ins: []in{p(2, 3, 4)}},
		ruleCase{name: "logsoftmax11", op: "LogSoftmax", opset: 11, attrs: attrs(ai("axis", 1)), ins: []in{p(2, 3, 4)}},
		ruleCase{name: "logsoftmax11_last", op: "LogSoftmax", opset: 11, attrs: attrs(ai("axis", -1)), ins: []in{p(2, 3, 4)}},
	)
	for _, rc := range cases {
		t.Run(rc.name, func(t *testing.T) { checkRule(t, rc) })
	}
}

func TestMatMulRules(t *testing.T) {
	cases := []ruleCase{
		{name: "matmul2d", op: "MatMul", ins: []in{p(2, 3), p(3, 4)}},
		{name: "matmul_batch", op: "MatMul", ins: []in{p(2, 2, 3), p(2, 3, 4)}},
		{name: "matmul_bcast", op: "MatMul", ins: []in{p(2, 1, 2, 3), p(3, 3, 4)}},
		{name: "matmul_vec_left", op: "MatMul", ins: []in{p(3), p(2, 3, 4)}},
		{name: "matmul_vec_right", op: "MatMul", ins: []in{p(2, 2, 3), p(3)}},
		{name: "matmul_vec_vec", op: "MatMul", ins: []in{p(3), p(3)}},
		{name: "gemm", op: "Gemm", ins: []in{p(2, 3), p(3, 4), p(4)}},
		{name: "gemm_tb", op: "Gemm", attrs: attrs(ai("transB", 1)), ins: []in{p(2, 3), p(4, 3), p(1, 4)}},
		{name: "gemm_ta", op: "Gemm", attrs: attrs(ai("transA", 1)), ins: []in{p(3, 2), p(3, 4), p(2, 1)}},
		{name: "gemm_both_alpha_beta", op: "Gemm", attrs: attrs(ai("transA", 1), ai("transB", 1), af("alpha", 0.7), af("beta", -1.3)), ins: []in{p(3, 2), p(4, 3), p()}},
		{name: "gemm_noc", op: "Gemm", opset: 11, attrs: attrs(af("alpha", 2)), ins: []in{p(2, 3), p(3, 4)}},
		{name: "gemm_full_c", op: "Gemm", ins: []in{p(2, 3), p(3, 4), p(2, 4)}},
	}
	for _, rc := range cases {
		t.Run(rc.name, func(t *testing.T) { checkRule(t, rc) })
	}
}
