package autodiff

import (
	"math"
	"math/rand"
	"path/filepath"
	"testing"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/internal/goldens"
	"github.com/onnxloss/onnxloss/internal/refs"
	"github.com/onnxloss/onnxloss/onnxpb"
)

// TestDropoutTrainingInORT runs training-mode Dropout (ratio 0.3, a random
// mask the evaluator cannot reproduce) in ONNX Runtime: the gradient must
// be grad * mask / (1 - ratio) with the mask ONNX Runtime drew for the
// forward pass, i.e. the same mask as y = x * mask / (1 - ratio).
func TestDropoutTrainingInORT(t *testing.T) {
	refs.ORTHarness(t)
	rng := rand.New(rand.NewSource(3))
	const n = 64
	x, w := make([]float32, n), make([]float32, n)
	for i := range x {
		x[i], w[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
	}
	s := func(v string) *string { return &v }
	mp := &onnxpb.ModelProto{
		IrVersion:   ptr(goldens.IRVersion(13)),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: s(""), Version: ptr(int64(13))}},
		Graph: &onnxpb.GraphProto{
			Name: s("dropout"),
			Initializer: []*onnxpb.TensorProto{
				graphedit.Float32Tensor("x", []int64{n}, x), graphedit.Float32Tensor("w", []int64{n}, w),
				graphedit.Float32Tensor("ratio", []int64{}, []float32{0.3}),
				{Name: s("training"), DataType: ptr(int32(onnxpb.TensorProto_BOOL)), Int32Data: []int32{1}},
			},
			Node: []*onnxpb.NodeProto{
				{Name: s("drop"), OpType: s("Dropout"), Input: []string{"x", "ratio", "training"}, Output: []string{"y"}},
				{Name: s("mul"), OpType: s("Mul"), Input: []string{"y", "w"}, Output: []string{"yw"}},
				{Name: s("sum"), OpType: s("ReduceSum"), Input: []string{"yw"}, Output: []string{"loss"}, Attribute: []*onnxpb.AttributeProto{graphedit.AttrInt("keepdims", 0)}},
			},
		},
	}
	grads, err := Gradients(mp, "loss", []string{"x"})
	if err != nil {
		t.Fatal(err)
	}
	mask := mp.Graph.Node[0].Output[1] // the engine asked Dropout for its mask
	vt := func(e onnxpb.TensorProto_DataType) graphedit.ValueType {
		return graphedit.ValueType{Elem: e, Shape: []graphedit.Dim{{Value: n}}}
	}
	mp.Graph.Output = []*onnxpb.ValueInfoProto{
		graphedit.TensorValueInfo("loss", graphedit.ValueType{Elem: onnxpb.TensorProto_FLOAT, Shape: []graphedit.Dim{}}),
		graphedit.TensorValueInfo(grads[0], vt(onnxpb.TensorProto_FLOAT)),
		graphedit.TensorValueInfo("y", vt(onnxpb.TensorProto_FLOAT)),
		graphedit.TensorValueInfo(mask, vt(onnxpb.TensorProto_BOOL)),
	}
	path := filepath.Join(t.TempDir(), "dropout.onnx")
	if err := (&graphedit.Model{Proto: mp}).Save(path); err != nil {
		t.Fatal(err)
	}
	res := refs.RunORT(t, []refs.Job{{Model: path}})[0]
	if res.Error != "" {
		t.Fatal(res.Error)
	}
	g, _ := res.Outputs[grads[0]].Floats()
	y, _ := res.Outputs["y"].Floats()
	m, _ := res.Outputs[mask].Floats()
	kept := 0
	for i := range x {
		scale := m[i] / 0.7
		kept += int(m[i])
		// float32: y and the gradient are one multiply and one divide away
		if math.Abs(y[i]-float64(x[i])*scale) > 1e-6 || math.Abs(g[i]-float64(w[i])*scale) > 1e-6 {
			t.Fatalf("element %d: mask %v, y %v (x %v), gradient %v (w %v)", i, m[i], y[i], x[i], g[i], w[i])
		}
	}
	if kept == 0 || kept == n {
		t.Fatalf("mask kept %d of %d: not a random mask", kept, n)
	}
}
