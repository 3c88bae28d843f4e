package verify_test

import (
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/inject"
	"github.com/onnxloss/onnxloss/internal/refs"
	"github.com/onnxloss/onnxloss/lossops"
	"github.com/onnxloss/onnxloss/onnxpb"
	"github.com/onnxloss/onnxloss/tensorfile"
	"github.com/onnxloss/onnxloss/verify"
)

// archNames are the exports of testdata/archs/export.py, each at opsets 13
// and 17. archCI is the subset the test command checks (a few minutes);
// ONNXLOSS_ARCHS=all (scripts/verify-archs.sh) checks every one.
var (
	archNames = []string{"resnet18", "mobilenet_v3_small", "efficientnet_b0", "densenet121", "convnext_tiny",
		"vit_small", "swin_t", "lraspp_mobilenet_v3_large", "deeplabv3_mobilenet_v3_large", "text_classifier"}
	archCI = []string{"resnet18_opset17", "mobilenet_v3_small_opset13", "vit_small_opset17",
		"text_classifier_opset13", "text_classifier_opset17", "lraspp_mobilenet_v3_large_opset13"}
)

// archCache is where export.py wrote the models (ONNXLOSS_ARCHS_CACHE, or
// testdata/archs/cache).
func archCache(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("ONNXLOSS_ARCHS_CACHE")
	if dir == "" {
		dir = filepath.Join("testdata", "archs", "cache")
	}
	if !filepath.IsAbs(dir) { // relative to the repository, as the scripts give it
		root, err := refs.RepoRoot()
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(root, dir)
	}
	return dir
}

func archList() []string {
	if os.Getenv("ONNXLOSS_ARCHS") != "all" {
		return archCI
	}
	var all []string
	for _, n := range archNames {
		all = append(all, n+"_opset13", n+"_opset17")
	}
	return all
}

// TestArchitecturesAgainstONNXRuntime injects a weighted cross-entropy into
// each exported architecture, runs the result in ONNX Runtime 1.30 on the
// seeded input and labels, and checks that `verify --inputs --expect`
// (verify.FromInputs at the default tolerance) accepts ONNX Runtime's logits
// and loss, and rejects them when one logit (the largest in magnitude) is
// off by a relative 1e-3.
func TestArchitecturesAgainstONNXRuntime(t *testing.T) {
	cache := archCache(t)
	if _, err := os.Stat(filepath.Join(cache, archCI[0]+".onnx")); err != nil {
		refs.Unavailable(t, "the exported architectures", "run /usr/bin/python3 testdata/archs/export.py "+cache)
	}
	refs.ORTHarness(t)
	for _, name := range archList() {
		t.Run(name, func(t *testing.T) {
			arch := name[:strings.LastIndex(name, "_opset")]
			checkArch(t, filepath.Join(cache, name+".onnx"), filepath.Join(cache, arch+"_input.npy"))
		})
	}
}

func checkArch(t *testing.T, modelPath, inputPath string) {
	m, err := graphedit.Load(modelPath)
	if err != nil {
		t.Fatal(err)
	}
	ins, err := tensorfile.ReadFile(inputPath)
	if err != nil {
		t.Fatal(err)
	}
	input := ins[0]
	input.Name = ptr("input")
	// The logits' shape; a symbolic batch dim is the input's batch.
	vt, ok := m.ValueType("logits")
	var dims []int64
	for i, d := range vt.Shape {
		switch {
		case d.Static():
			dims = append(dims, d.Value)
		case i == 0:
			dims = append(dims, input.Dims[0])
		default:
			ok = false
		}
	}
	if !ok || len(dims) < 2 {
		t.Fatalf("logits have no static shape: %+v", vt)
	}
	classes := int(dims[1])
	counts := &lossops.Counts{}
	for c := 0; c < classes; c++ {
		counts.Values = append(counts.Values, float64(50+37*c))
	}
	if _, err := inject.Inject(m, inject.Options{Loss: lossops.WeightedCE, Counts: counts, Normalize: true}); err != nil {
		t.Fatal(err)
	}
	injected := filepath.Join(t.TempDir(), "model.train.onnx")
	if err := m.Save(injected); err != nil {
		t.Fatal(err)
	}
	// Labels: (N) for classifiers, (N, H, W) for segmenters.
	lshape := append([]int64{dims[0]}, dims[2:]...)
	rng := rand.New(rand.NewSource(7))
	n := 1
	for _, d := range lshape {
		n *= int(d)
	}
	labels := make([]int64, n)
	for i := range labels {
		labels[i] = int64(rng.Intn(classes))
	}
	labelsTP := int64Proto("labels", lshape, labels)
	res := refs.RunORT(t, []refs.Job{{Model: injected, Inputs: map[string]refs.Tensor{
		"input": jsonTensor(t, input), "labels": refs.IntTensor("int64", intDims(lshape), labels)}}})
	if res[0].Error != "" {
		t.Fatalf("ONNX Runtime: %s", res[0].Error)
	}
	var expect []*onnxpb.TensorProto
	for _, out := range []string{"logits", "loss"} {
		tj, ok := res[0].Outputs[out]
		if !ok {
			t.Fatalf("ONNX Runtime returned no %q", out)
		}
		v, err := tj.Floats()
		if err != nil {
			t.Fatal(err)
		}
		expect = append(expect, floatProto(out, tj.Dims, v))
	}
	m2, err := graphedit.Load(injected)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	rep, err := verify.FromInputs(m2, injected, []*onnxpb.TensorProto{input, labelsTP}, expect, verify.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("evaluated in %v", time.Since(start).Round(time.Millisecond))
	var b strings.Builder
	rep.WriteText(&b)
	if !rep.Pass {
		t.Fatalf("ONNX Runtime's outputs rejected at the default tolerance:\n%s", b.String())
	}
	mx := 0.0
	for _, v := range expect[0].FloatData {
		mx = math.Max(mx, math.Abs(float64(v)))
	}
	// For the tolerance's documentation: the discrepancy relative to the
	// output's scale, beside the scale s the model was allowed.
	t.Logf("logits: max|got-want| / max|want| = %.3g (s = %.3g)\n%s", rep.Checks[0].MaxAbsErr/mx, rep.Scale, b.String())
	// Plant a relative error of 1e-3 in the largest logit.
	lv := floats32(expect[0])
	k := 0
	for i, v := range lv {
		if math.Abs(float64(v)) > math.Abs(float64(lv[k])) {
			k = i
		}
	}
	lv[k] *= 1 + 1e-3
	expect[0] = floatProto("logits", intDims(expect[0].Dims), f64s(lv))
	rep, err = verify.FromInputs(m2, injected, []*onnxpb.TensorProto{input, labelsTP}, expect, verify.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Pass {
		t.Fatalf("a 1e-3 relative error in logits[%d] passed", k)
	}
}

func ptr[T any](v T) *T { return &v }

func intDims(d []int64) []int {
	out := make([]int, len(d))
	for i, v := range d {
		out[i] = int(v)
	}
	return out
}

func int64Proto(name string, dims []int64, v []int64) *onnxpb.TensorProto {
	dt := int32(onnxpb.TensorProto_INT64)
	return &onnxpb.TensorProto{Name: &name, Dims: dims, DataType: &dt, Int64Data: v}
}

func floatProto(name string, dims []int, v []float64) *onnxpb.TensorProto {
	dt := int32(onnxpb.TensorProto_FLOAT)
	d := make([]int64, len(dims))
	for i, x := range dims {
		d[i] = int64(x)
	}
	f := make([]float32, len(v))
	for i, x := range v {
		f[i] = float32(x)
	}
	return &onnxpb.TensorProto{Name: &name, Dims: d, DataType: &dt, FloatData: f}
}

func floats32(tp *onnxpb.TensorProto) []float32 { return append([]float32{}, tp.FloatData...) }

func f64s(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// jsonTensor converts an input TensorProto (float32 or int64, raw or typed
// data) to the ONNX Runtime harness's form.
func jsonTensor(t *testing.T, tp *onnxpb.TensorProto) refs.Tensor {
	t.Helper()
	dims := intDims(tp.Dims)
	v, err := tensorfile.Float64s(tp)
	if err != nil {
		t.Fatal(err)
	}
	switch onnxpb.TensorProto_DataType(tp.GetDataType()) {
	case onnxpb.TensorProto_FLOAT:
		return refs.FloatTensor("float32", dims, v)
	case onnxpb.TensorProto_INT64:
		iv := make([]int64, len(v))
		for i, x := range v {
			iv[i] = int64(x)
		}
		return refs.IntTensor("int64", dims, iv)
	}
	t.Fatalf("input of type %v", tp.GetDataType())
	return refs.Tensor{}
}
