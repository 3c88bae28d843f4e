package graphedit_test

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/onnxpb"
)

// wantLogits is what testdata/models/README.md says about each model.
type wantLogits struct {
	name, output string
	c            int64
	activation   string
	loss         string
}

var modelLogits = map[string]struct {
	opset, ir int64
	inputs    string // name:dtype[shape] …
	outputs   string
	logits    wantLogits
}{
	"mlp_o13.onnx":               {13, 7, "x:float32[N,16]", "logits:float32[N,5]", wantLogits{"logits", "logits", 5, "", ""}},
	"cnn_o17.onnx":               {17, 8, "image:float32[N,1,12,12]", "logits:float32[N,10]", wantLogits{"logits", "logits", 10, "", ""}},
	"segnet_o13.onnx":            {13, 7, "image:float32[N,3,H,W]", "logits:float32[N,4,H,W]", wantLogits{"logits", "logits", 4, "", ""}},
	"softmax_o13.onnx":           {13, 7, "x:float32[N,8]", "probs:float32[N,3]", wantLogits{"/mlp/fc2/Gemm_output_0", "probs", 3, "Softmax", ""}},
	"mlp_o11.onnx":               {11, 6, "x:float32[N,6]", "logits:float32[N,4]", wantLogits{"logits", "logits", 4, "", ""}},
	"multilabel_o13.onnx":        {13, 7, "x:float32[N,12]", "logits:float32[N,6]", wantLogits{"logits", "logits", 6, "", ""}},
	"train_mlp_ce_o13.onnx":      {13, 7, "x:float32[N,16] target:int64[N]", "loss:float32[]", wantLogits{"/mlp/fc2/Gemm_output_0", "loss", 5, "", "SoftmaxCrossEntropyLoss"}},
	"train_cnn_ce_o17.onnx":      {17, 8, "image:float32[N,1,12,12] target:int64[N]", "loss:float32[]", wantLogits{"/cnn/fc/Gemm_output_0", "loss", 10, "", "SoftmaxCrossEntropyLoss"}},
	"train_mlp_dropout_o13.onnx": {13, 7, "x:float32[N,16] target:int64[N]", "loss:float32[]", wantLogits{"/fc2/Gemm_output_0", "loss", 5, "", "SoftmaxCrossEntropyLoss"}},
	// The class-axis models (gen_axis_models.py): C here is dim 1, 0 when not
	// static; inject chooses the class axis from the counts.
	"token_cls_o17.onnx":         {17, 8, "ids:int64[N,T]", "logits:float32[N,T,7]", wantLogits{"logits", "logits", 0, "", ""}},
	"det_head_o13.onnx":          {13, 7, "p3:float32[N,8,H3,W3] p4:float32[N,8,H4,W4]", "cls_logits:float32[N,A,Concatcls_logits_dim_2]", wantLogits{"cls_logits", "cls_logits", 0, "", ""}},
	"seq_conv1d_o13.onnx":        {13, 7, "x:float32[N,4,L]", "logits:float32[N,6,L]", wantLogits{"logits", "logits", 6, "", ""}},
	"seq_conv1d_static_o13.onnx": {13, 7, "x:float32[N,4,6]", "logits:float32[N,6,6]", wantLogits{"logits", "logits", 6, "", ""}},
	"segnet_nhwc_o13.onnx":       {13, 7, "image:float32[N,3,H,W]", "logits:float32[N,H,W,4]", wantLogits{"logits", "logits", 0, "", ""}},
	"vit_tiny_o17.onnx":          {17, 8, "image:float32[N,3,32,32]", "logits:float32[N,10]", wantLogits{"logits", "logits", 10, "", ""}},
}

func valuesString(vs []graphedit.ValueSummary) string {
	var parts []string
	for _, v := range vs {
		parts = append(parts, v.Name+":"+v.DType+"["+strings.Join(v.Shape, ",")+"]")
	}
	return strings.Join(parts, " ")
}

func checkLogits(t *testing.T, got *graphedit.LogitsSummary, want wantLogits) {
	t.Helper()
	if got == nil {
		t.Fatalf("no logits, want %s", want.name)
	}
	if got.Name != want.name || got.C != want.c || got.Output != want.output || got.Activation != want.activation || got.Loss != want.loss {
		t.Errorf("logits %+v, want name %q C %d output %q activation %q loss %q", *got, want.name, want.c, want.output, want.activation, want.loss)
	}
}

// Every testdata model's summary matches testdata/models/README.md.
func TestSummarizeTestdataModels(t *testing.T) {
	paths := testModels(t)
	if len(paths) != len(modelLogits) {
		t.Errorf("%d models in testdata/models, %d in this table", len(paths), len(modelLogits))
	}
	for _, path := range paths {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			want, ok := modelLogits[name]
			if !ok {
				t.Fatalf("%s is not in the table", name)
			}
			m, err := graphedit.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			s := m.Summarize()
			if s.IRVersion != want.ir || len(s.Opsets) != 1 || s.Opsets[0].Version != want.opset || s.Opsets[0].Domain != "" {
				t.Errorf("ir %d opsets %+v, want ir %d opset %d", s.IRVersion, s.Opsets, want.ir, want.opset)
			}
			if s.Producer != "pytorch" || s.ProducerVersion != "1.13.0" {
				t.Errorf("producer %q %q", s.Producer, s.ProducerVersion)
			}
			if got := valuesString(s.Inputs); got != want.inputs {
				t.Errorf("inputs %s, want %s", got, want.inputs)
			}
			if got := valuesString(s.Outputs); got != want.outputs {
				t.Errorf("outputs %s, want %s", got, want.outputs)
			}
			checkLogits(t, s.Logits, want.logits)
			if len(s.LogitsCandidates) != 1 {
				t.Errorf("%d candidates, want 1", len(s.LogitsCandidates))
			}
			if s.Initializers == 0 || s.InitializerBytes == 0 || s.Nodes == 0 || s.ExternalTensors != 0 {
				t.Errorf("counts: %d nodes, %d initializers, %d bytes, %d external", s.Nodes, s.Initializers, s.InitializerBytes, s.ExternalTensors)
			}
		})
	}
}

// synth builds a model at opset 13 with input x [N,C,H,W] and the given
// outputs, computed by nodes.
func synth(t *testing.T, opset int64, outputs []*onnxpb.ValueInfoProto, nodes ...*onnxpb.NodeProto) *graphedit.Model {
	t.Helper()
	m := &graphedit.Model{Proto: &onnxpb.ModelProto{
		IrVersion:   ptr(int64(8)),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: ptr(""), Version: ptr(opset)}},
		Graph:       &onnxpb.GraphProto{Name: ptr("s")},
	}}
	m.AddInput(graphedit.TensorValueInfo("x", f32("N", 7, "H", "W")), -1)
	for _, o := range outputs {
		m.AddOutput(o, -1)
	}
	for _, n := range nodes {
		m.AddNode(n)
	}
	return m
}

func node(op, name string, in, out []string, attrs ...*onnxpb.AttributeProto) *onnxpb.NodeProto {
	return &onnxpb.NodeProto{OpType: ptr(op), Name: ptr(name), Input: in, Output: out, Attribute: attrs}
}

func TestSummarizeLogitsCases(t *testing.T) {
	i64 := func(ds ...any) graphedit.ValueType {
		return graphedit.ValueType{Elem: onnxpb.TensorProto_INT64, Shape: dims(ds...)}
	}
	vi := graphedit.TensorValueInfo
	cases := []struct {
		name  string
		m     *graphedit.Model
		want  *wantLogits // nil: no single logits
		cands int
	}{
		{"sigmoid output", synth(t, 13, []*onnxpb.ValueInfoProto{vi("p", f32("N", 7, "H", "W"))},
			node("Sigmoid", "sig", []string{"x"}, []string{"p"})),
			&wantLogits{"x", "p", 7, "Sigmoid", ""}, 1},
		{"softmax over axis 1 at opset 13", synth(t, 13, []*onnxpb.ValueInfoProto{vi("p", f32("N", 7, "H", "W"))},
			node("Softmax", "sm", []string{"x"}, []string{"p"}, graphedit.AttrInt("axis", 1))),
			&wantLogits{"x", "p", 7, "Softmax", ""}, 1},
		{"softmax over the last axis is not over classes", synth(t, 13, []*onnxpb.ValueInfoProto{vi("p", f32("N", 7, "H", "W"))},
			node("Softmax", "sm", []string{"x"}, []string{"p"})),
			&wantLogits{"p", "p", 7, "", ""}, 1},
		{"softmax axis 1 of rank 4 at opset 11 flattens", synth(t, 11, []*onnxpb.ValueInfoProto{vi("p", f32("N", 7, "H", "W"))},
			node("Softmax", "sm", []string{"x"}, []string{"p"})),
			&wantLogits{"p", "p", 7, "", ""}, 1},
		{"dynamic C", synth(t, 13, []*onnxpb.ValueInfoProto{vi("y", f32("N", "C"))},
			node("Identity", "id", []string{"x"}, []string{"y"})),
			&wantLogits{"y", "y", 0, "", ""}, 1},
		{"two outputs", synth(t, 13, []*onnxpb.ValueInfoProto{vi("a", f32("N", 7)), vi("b", f32("N", 3))},
			node("Identity", "i1", []string{"x"}, []string{"a"}), node("Identity", "i2", []string{"x"}, []string{"b"})),
			nil, 2},
		{"none: rank 1 and int outputs", synth(t, 13, []*onnxpb.ValueInfoProto{vi("a", f32("N")), vi("b", i64("N", 3))},
			node("Identity", "i1", []string{"x"}, []string{"a"}), node("Identity", "i2", []string{"x"}, []string{"b"})),
			nil, 0},
		{"LogSoftmax + NLL training graph with a logits output", func() *graphedit.Model {
			m := synth(t, 13, []*onnxpb.ValueInfoProto{vi("loss", f32()), vi("scores", f32("N", 7, "H", "W"))},
				node("Identity", "id", []string{"x"}, []string{"scores"}),
				node("LogSoftmax", "ls", []string{"scores"}, []string{"lp"}, graphedit.AttrInt("axis", 1)),
				node("NegativeLogLikelihoodLoss", "nll", []string{"lp", "y"}, []string{"loss"}))
			m.AddInput(vi("y", i64("N", "H", "W")), -1)
			return m
		}(), &wantLogits{"scores", "loss", 7, "", "LogSoftmax+NegativeLogLikelihoodLoss"}, 2},
		{"SCE with C from its weights", func() *graphedit.Model {
			m := synth(t, 13, []*onnxpb.ValueInfoProto{vi("loss", f32())},
				node("Flatten", "fl", []string{"x"}, []string{"s"}),
				node("SoftmaxCrossEntropyLoss", "sce", []string{"s", "y", "w"}, []string{"loss"}))
			m.AddInput(vi("y", i64("N")), -1)
			if err := m.AddInitializer(graphedit.Float32Tensor("w", []int64{9}, make([]float32, 9))); err != nil {
				t.Fatal(err)
			}
			return m
		}(), &wantLogits{"s", "loss", 9, "", "SoftmaxCrossEntropyLoss"}, 1},
		{"C from a Conv's weights", func() *graphedit.Model {
			m := synth(t, 13, []*onnxpb.ValueInfoProto{vi("loss", f32())},
				node("Conv", "conv", []string{"x", "k"}, []string{"c"}),
				node("Relu", "r", []string{"c"}, []string{"s"}),
				node("SoftmaxCrossEntropyLoss", "sce", []string{"s", "y"}, []string{"loss"}))
			m.AddInput(vi("y", i64("N", "H", "W")), -1)
			if err := m.AddInitializer(graphedit.Float32Tensor("k", []int64{11, 7, 1, 1}, make([]float32, 77))); err != nil {
				t.Fatal(err)
			}
			return m
		}(), &wantLogits{"s", "loss", 11, "", "SoftmaxCrossEntropyLoss"}, 1},
		{"two losses", func() *graphedit.Model {
			m := synth(t, 13, []*onnxpb.ValueInfoProto{vi("l1", f32()), vi("l2", f32())},
				node("SoftmaxCrossEntropyLoss", "a", []string{"x", "y"}, []string{"l1"}),
				node("SoftmaxCrossEntropyLoss", "b", []string{"x", "y"}, []string{"l2"}))
			m.AddInput(vi("y", i64("N", "H", "W")), -1)
			return m
		}(), nil, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := c.m.Summarize()
			if len(s.LogitsCandidates) != c.cands {
				t.Errorf("%d candidates %+v, want %d", len(s.LogitsCandidates), s.LogitsCandidates, c.cands)
			}
			if c.want == nil {
				if s.Logits != nil {
					t.Errorf("logits %+v, want none", *s.Logits)
				}
				return
			}
			checkLogits(t, s.Logits, *c.want)
		})
	}
}

func TestElemName(t *testing.T) {
	for e, want := range map[onnxpb.TensorProto_DataType]string{
		onnxpb.TensorProto_FLOAT: "float32", onnxpb.TensorProto_DOUBLE: "float64", onnxpb.TensorProto_FLOAT16: "float16",
		onnxpb.TensorProto_BFLOAT16: "bfloat16", onnxpb.TensorProto_INT64: "int64", onnxpb.TensorProto_BOOL: "bool",
		onnxpb.TensorProto_UNDEFINED: "?", 999: "type999",
	} {
		if got := graphedit.ElemName(e); got != want {
			t.Errorf("ElemName(%d) = %q, want %q", e, got, want)
		}
	}
	if !reflect.DeepEqual(graphedit.Dim{Value: -1}.String(), "?") {
		t.Error("unknown dim")
	}
}
