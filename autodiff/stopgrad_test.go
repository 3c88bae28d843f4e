package autodiff

import (
	"math"
	"testing"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/onnxpb"
	"github.com/onnxloss/onnxloss/verify/eval"
)

// TestStopGradient: loss = sum(p * detach(p * p) + q_only_behind_stop):
// d/dp is detach(p*p) = p^2 (torch's .detach()), not 3 p^2, and a
// parameter reached only through the stop is not trainable.
func TestStopGradient(t *testing.T) {
	s := func(v string) *string { return &v }
	pv := []float64{0.5, -1.5, 2}
	mp := &onnxpb.ModelProto{
		IrVersion:   ptr(int64(8)),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: s(""), Version: ptr(int64(17))}},
		Graph: &onnxpb.GraphProto{
			Name: s("stop"),
			Initializer: []*onnxpb.TensorProto{
				{Name: s("p"), Dims: []int64{3}, DataType: ptr(int32(onnxpb.TensorProto_DOUBLE)), DoubleData: pv},
				{Name: s("q"), Dims: []int64{3}, DataType: ptr(int32(onnxpb.TensorProto_DOUBLE)), DoubleData: []float64{1, 2, 3}},
			},
			Node: []*onnxpb.NodeProto{
				{Name: s("sq"), OpType: s("Mul"), Input: []string{"p", "p"}, Output: []string{"p2"}},
				{Name: s("stop"), OpType: s("Identity"), Input: []string{"p2"}, Output: []string{"loss/stop_gradient/p2"}},
				{Name: s("stopq"), OpType: s("Identity"), Input: []string{"q"}, Output: []string{"q/stop_gradient"}},
				{Name: s("mul"), OpType: s("Mul"), Input: []string{"p", "loss/stop_gradient/p2"}, Output: []string{"p3"}},
				{Name: s("add"), OpType: s("Add"), Input: []string{"p3", "q/stop_gradient"}, Output: []string{"t"}},
				{Name: s("sum"), OpType: s("ReduceSum"), Input: []string{"t"}, Output: []string{"loss"}, Attribute: []*onnxpb.AttributeProto{graphedit.AttrInt("keepdims", 0)}},
			},
			Output: []*onnxpb.ValueInfoProto{graphedit.TensorValueInfo("loss", graphedit.ValueType{Elem: onnxpb.TensorProto_DOUBLE, Shape: []graphedit.Dim{}})},
		},
	}
	trainable, err := Reachable(mp, "loss")
	if err != nil {
		t.Fatal(err)
	}
	if len(trainable) != 1 || trainable[0] != "p" {
		t.Fatalf("trainable %v, want [p] (q is only behind a stop_gradient)", trainable)
	}
	grads, err := Gradients(mp, "loss", []string{"p", "q"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := eval.Run(mp, "", nil, grads)
	if err != nil {
		t.Fatal(err)
	}
	gp, gq := res[grads[0]].AsFloat64(), res[grads[1]].AsFloat64()
	for i, v := range pv {
		if math.Abs(gp[i]-v*v) > 1e-15 || gq[i] != 0 {
			t.Fatalf("d/dp[%d] = %v (want p^2 = %v), d/dq = %v (want 0)", i, gp[i], v*v, gq[i])
		}
	}
}
