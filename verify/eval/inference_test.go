package eval

import (
	"strings"
	"testing"

	"github.com/onnxloss/onnxloss/onnxpb"
)

// TestUseInferenceModeDropout: a training-mode Dropout is an error by
// default (its mask is random) and the identity in inference mode.
func TestUseInferenceModeDropout(t *testing.T) {
	s := func(v string) *string { return &v }
	i64 := func(v int64) *int64 { return &v }
	ratio := &onnxpb.TensorProto{Name: s("ratio"), DataType: func() *int32 { v := int32(onnxpb.TensorProto_FLOAT); return &v }(), FloatData: []float32{0.5}}
	mode := &onnxpb.TensorProto{Name: s("mode"), DataType: func() *int32 { v := int32(onnxpb.TensorProto_BOOL); return &v }(), Int32Data: []int32{1}}
	model := &onnxpb.ModelProto{
		IrVersion:   i64(8),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: s(""), Version: i64(13)}},
		Graph: &onnxpb.GraphProto{
			Name:        s("g"),
			Initializer: []*onnxpb.TensorProto{ratio, mode},
			Node:        []*onnxpb.NodeProto{{Name: s("drop"), OpType: s("Dropout"), Input: []string{"x", "ratio", "mode"}, Output: []string{"y"}}},
			Input:       []*onnxpb.ValueInfoProto{{Name: s("x")}},
			Output:      []*onnxpb.ValueInfoProto{{Name: s("y")}},
		},
	}
	x := NewFloat32([]int64{2, 3}, []float32{1, -2, 3, 0.5, 7, -1})
	sess, err := NewSession(model, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sess.Run(map[string]*Tensor{"x": x}, nil); err == nil || !strings.Contains(err.Error(), "inference mode") {
		t.Fatalf("training-mode Dropout: err %v, want an error suggesting inference mode", err)
	}
	sess.UseInferenceMode()
	out, err := sess.Run(map[string]*Tensor{"x": x}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range out["y"].Float32s() {
		if v != x.Float32s()[i] {
			t.Fatalf("y[%d] = %v, want %v (identity)", i, v, x.Float32s()[i])
		}
	}
}
