package streaming_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/inject"
	"github.com/onnxloss/onnxloss/internal/goldens"
	"github.com/onnxloss/onnxloss/internal/refs"
	"github.com/onnxloss/onnxloss/lossops"
	"github.com/onnxloss/onnxloss/streaming"
)

// modelPaths returns every testdata/models/*.onnx.
func modelPaths(t testing.TB) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "testdata", "models", "*.onnx"))
	if err != nil || len(paths) < 9 {
		t.Fatalf("testdata models: %v (%d found, want >= 9)", err, len(paths))
	}
	return paths
}

func counts(c int) *lossops.Counts {
	v := make([]float64, c)
	for i := range v {
		v[i] = float64(10 + 37*i%101)
	}
	return &lossops.Counts{Values: v}
}

// classes is C of each testdata model.
var classes = map[string]int{
	"mlp_o13.onnx": 5, "cnn_o17.onnx": 10, "segnet_o13.onnx": 4, "softmax_o13.onnx": 3, "mlp_o11.onnx": 4,
	"multilabel_o13.onnx": 6, "train_mlp_ce_o13.onnx": 5, "train_cnn_ce_o17.onnx": 10, "train_mlp_dropout_o13.onnx": 5,
}

// trainScores is the scores value of each training graph.
var trainScores = map[string]string{
	"train_mlp_ce_o13.onnx": "/mlp/fc2/Gemm_output_0", "train_cnn_ce_o17.onnx": "/cnn/fc/Gemm_output_0",
	"train_mlp_dropout_o13.onnx": "/fc2/Gemm_output_0",
}

// optionSets returns the option sets every model is injected with.
func optionSets(model string) map[string]inject.Options {
	ii := int64(-100)
	c := counts(classes[model])
	sets := map[string]inject.Options{
		"cb_focal":      {Loss: lossops.CBFocal, Counts: c, Beta: 0.999, Gamma: 2, Reduction: lossops.Mean, Normalize: true},
		"weighted_ce":   {Loss: lossops.WeightedCE, Counts: c, LabelSmoothing: 0.1, IgnoreIndex: &ii, Reduction: lossops.Mean, Normalize: true},
		"focal_sum":     {Loss: lossops.Focal, Counts: c, Gamma: 1.5, Reduction: lossops.Sum, Normalize: true},
		"sigmoid_focal": {Loss: lossops.SigmoidFocal, Counts: c, Gamma: 2, Alpha: 0.25, Reduction: lossops.None, Normalize: true},
	}
	switch {
	case model == "softmax_o13.onnx":
		sets["logits_flag"] = inject.Options{Loss: lossops.CBSoftmax, Counts: c, Beta: 0.99, Reduction: lossops.Mean, Normalize: true, Logits: "/mlp/fc2/Gemm_output_0"}
	case model == "multilabel_o13.onnx":
		sets["multi_hot"] = inject.Options{Loss: lossops.CBFocal, Counts: c, Beta: 0.99, Gamma: 1, Reduction: lossops.Mean, MultiHot: true, Normalize: true}
	case trainScores[model] != "":
		withLogits := map[string]inject.Options{}
		for name, o := range sets {
			o.Logits, o.LossName = trainScores[model], "imbalance_loss"
			withLogits[name+"_logits"] = o
		}
		for name, o := range withLogits {
			sets[name] = o
		}
	}
	return sets
}

type outcome struct {
	res *inject.Result
	err error
}

// TestStreamingMatchesInMemory injects every testdata model with every
// option set both ways: the outcomes agree and the models are proto.Equal.
// The files differ in field order (the streamed one writes the fields
// inject added after the ones it copies), not in what they decode to.
func TestStreamingMatchesInMemory(t *testing.T) {
	dir := t.TempDir()
	for _, path := range modelPaths(t) {
		model := filepath.Base(path)
		for name, opt := range optionSets(model) {
			t.Run(model+"/"+name, func(t *testing.T) {
				memOut := filepath.Join(dir, model+"."+name+".mem.onnx")
				strOut := filepath.Join(dir, model+"."+name+".str.onnx")
				mem, str := run(streaming.InMemory, path, memOut, opt), run(streaming.Inject, path, strOut, opt)
				compareOutcomes(t, mem, str, memOut, strOut, "", "")
				if mem.err != nil {
					return
				}
				// A second injection with Replace, streamed from the streamed output.
				opt2 := opt
				opt2.Replace, opt2.Loss, opt2.Gamma, opt2.LabelSmoothing = true, lossops.Focal, 3, 0
				mem2, str2 := run(streaming.InMemory, memOut, memOut+".2", opt2), run(streaming.Inject, strOut, strOut+".2", opt2)
				compareOutcomes(t, mem2, str2, memOut+".2", strOut+".2", memOut, strOut)
			})
		}
	}
}

func run(f func(string, string, inject.Options) (*inject.Result, error), in, out string, opt inject.Options) outcome {
	res, err := f(in, out, opt)
	return outcome{res, err}
}

// compareOutcomes checks that both paths failed alike or wrote equal models
// (memIn and strIn, when set, are the inputs' names, which errors contain).
func compareOutcomes(t *testing.T, mem, str outcome, memOut, strOut, memIn, strIn string) {
	t.Helper()
	if (mem.err == nil) != (str.err == nil) || (mem.err != nil && mem.err.Error() != strings.ReplaceAll(str.err.Error(), strIn, memIn)) {
		t.Fatalf("in-memory error %v, streaming error %v", mem.err, str.err)
	}
	if mem.err != nil {
		if _, err := os.Stat(strOut); err == nil {
			t.Fatalf("streaming left %s after an error", strOut)
		}
		return
	}
	if !streamed(str.res) {
		t.Errorf("streaming fell back: %q", str.res.Notes)
	}
	a, err := graphedit.Load(memOut)
	if err != nil {
		t.Fatal(err)
	}
	b, err := graphedit.Load(strOut)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(a.Proto, b.Proto) {
		t.Fatalf("streamed model differs from the in-memory one")
	}
}

func streamed(res *inject.Result) bool {
	for _, n := range res.Notes {
		if strings.HasPrefix(n, "streamed:") {
			return true
		}
	}
	return false
}

// feeds returns ONNX Runtime inputs for an injected model: the recorded
// inputs, plus labels of the logits' batch shape.
func feeds(t *testing.T, rec goldens.ModelRecord, md *inject.Metadata) map[string]refs.Tensor {
	t.Helper()
	in := map[string]refs.Tensor{}
	for name, v := range rec.Inputs {
		in[name] = refs.FloatTensor(v.DType, v.Shape, v.Data)
	}
	logits, ok := rec.Outputs["logits"]
	if !ok {
		logits, ok = rec.Extra["softmax_input_logits"]
	}
	if !ok {
		logits = rec.Extra["logits"]
	}
	if _, ok := in[md.Labels]; ok {
		return in
	}
	if md.Targets == "multi-hot" {
		v := make([]float64, len(logits.Data))
		for i := range v {
			v[i] = float64(i % 2)
		}
		in[md.Labels] = refs.FloatTensor("float32", logits.Shape, v)
		return in
	}
	shape := append([]int{logits.Shape[0]}, logits.Shape[2:]...)
	v := make([]int64, len(logits.Data)/md.NumClasses)
	for i := range v {
		v[i] = int64(i*7) % int64(md.NumClasses)
	}
	in[md.Labels] = refs.IntTensor(md.LabelsDType, shape, v)
	return in
}

func records(t *testing.T) map[string]goldens.ModelRecord {
	t.Helper()
	recs, err := goldens.LoadModelRecords("..")
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// TestStreamedModelsRunInORT runs the streamed and the in-memory model of
// every model and option set in ONNX Runtime 1.30: the same loss.
func TestStreamedModelsRunInORT(t *testing.T) {
	refs.ORTHarness(t)
	recs := records(t)
	dir := t.TempDir()
	type pair struct{ name string }
	var jobs []refs.Job
	var names []string
	for _, path := range modelPaths(t) {
		model := filepath.Base(path)
		for name, opt := range optionSets(model) {
			memOut := filepath.Join(dir, model+"."+name+".mem.onnx")
			strOut := filepath.Join(dir, model+"."+name+".str.onnx")
			mem, err := streaming.InMemory(path, memOut, opt)
			if err != nil {
				continue // the option set does not fit the model; TestStreamingMatchesInMemory checks both agree
			}
			if _, err := streaming.Inject(path, strOut, opt); err != nil {
				t.Fatalf("%s/%s: %v", model, name, err)
			}
			in := feeds(t, recs[model], mem.Metadata)
			loss := mem.Metadata.LossOutput
			for _, m := range []string{strOut, memOut, memOut} {
				jobs = append(jobs, refs.Job{Model: m, Inputs: in, Outputs: []string{loss}})
			}
			names = append(names, model+"/"+name+"|"+loss)
		}
	}
	if len(names) < 30 {
		t.Fatalf("only %d injected models", len(names))
	}
	results := refs.RunORT(t, jobs)
	for i, n := range names {
		name, loss, _ := strings.Cut(n, "|")
		t.Run(name, func(t *testing.T) {
			s, m1, m2 := results[3*i], results[3*i+1], results[3*i+2]
			for _, r := range []refs.Result{s, m1} {
				if r.Error != "" {
					t.Fatalf("ONNX Runtime: %s", r.Error)
				}
			}
			got, _ := s.Outputs[loss].Floats()
			want, _ := m1.Outputs[loss].Floats()
			again, _ := m2.Outputs[loss].Floats()
			if fmt.Sprint(want) != fmt.Sprint(again) {
				t.Logf("the model is not deterministic in ORT (training-mode Dropout): only checked that it runs")
				return
			}
			if len(got) != len(want) || len(got) == 0 {
				t.Fatalf("loss has %d values, in-memory model %d", len(got), len(want))
			}
			for j := range got {
				if got[j] != want[j] && !(math.IsNaN(got[j]) && math.IsNaN(want[j])) {
					t.Errorf("loss[%d] = %g, in-memory model %g", j, got[j], want[j])
				}
			}
		})
	}
}
