package inject_test

import (
	"math/rand"
	"path/filepath"
	"testing"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/inject"
	"github.com/onnxloss/onnxloss/internal/goldens"
	"github.com/onnxloss/onnxloss/internal/refs"
	"github.com/onnxloss/onnxloss/lossops"
	"github.com/onnxloss/onnxloss/verify"
	"github.com/onnxloss/onnxloss/verify/eval"
)

func loadTorchRecords(t *testing.T, root string) map[string]goldens.ModelRecord {
	t.Helper()
	recs, err := goldens.LoadModelRecords(root)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// TestInjectRealModels injects losses into the PyTorch-exported models and
// checks, in ONNX Runtime 1.30, that the original outputs still equal
// PyTorch's and that the loss equals the float64 closed form evaluated on
// PyTorch's logits (rtol 1e-5: ORT works in float32).
func TestInjectRealModels(t *testing.T) {
	refs.ORTHarness(t)
	root, err := refs.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	records := loadTorchRecords(t, root)
	ii := int64(-1)
	tests := []struct {
		model     string
		logitsKey string // where expected.json keeps the logits
		opt       inject.Options
	}{
		{"mlp_o13.onnx", "logits", inject.Options{Loss: lossops.CBFocal, Beta: 0.999, Gamma: 2, Reduction: lossops.Mean, Normalize: true}},
		{"mlp_o13.onnx", "logits", inject.Options{Loss: lossops.WeightedCE, LabelSmoothing: 0.1, Reduction: lossops.Mean, Normalize: true}},
		{"cnn_o17.onnx", "logits", inject.Options{Loss: lossops.Focal, Gamma: 2, Reduction: lossops.Sum, Normalize: true}},
		{"segnet_o13.onnx", "logits", inject.Options{Loss: lossops.CBSoftmax, Beta: 0.99, Reduction: lossops.Mean, IgnoreIndex: &ii, Normalize: true}},
		{"segnet_o13.onnx", "logits", inject.Options{Loss: lossops.SigmoidFocal, Gamma: 2, Alpha: 0.25, Reduction: lossops.None, Normalize: true}},
		{"softmax_o13.onnx", "softmax_input_logits", inject.Options{Loss: lossops.WeightedCE, Reduction: lossops.Mean, Normalize: true}},
		{"mlp_o11.onnx", "logits", inject.Options{Loss: lossops.CBSigmoid, Beta: 0.9999, Reduction: lossops.Mean, Normalize: true}},
		{"multilabel_o13.onnx", "logits", inject.Options{Loss: lossops.CBFocal, Beta: 0.99, Gamma: 1, Reduction: lossops.Mean, MultiHot: true, Normalize: true}},
	}
	rng := rand.New(rand.NewSource(7))
	dir := t.TempDir()
	type prepared struct {
		spec   lossops.Spec
		logits []float64
		want   []float64
		torch  goldens.ModelRecord
		out    string
		origin string
	}
	var jobs []refs.Job
	var preps []prepared
	for i, tc := range tests {
		rec := records[tc.model]
		logits, ok := rec.Outputs[tc.logitsKey]
		if !ok {
			logits = rec.Extra[tc.logitsKey]
		}
		C := logits.Shape[1]
		counts := make([]float64, C)
		for c := range counts {
			counts[c] = float64(1 + rng.Intn(5000))
		}
		tc.opt.Counts = &lossops.Counts{Values: counts}
		m, err := graphedit.Load(filepath.Join(root, "testdata", "models", tc.model))
		if err != nil {
			t.Fatal(err)
		}
		res, err := inject.Inject(m, tc.opt)
		if err != nil {
			t.Fatalf("%s: %v", tc.model, err)
		}
		out := filepath.Join(dir, "m"+string(rune('a'+i))+".onnx")
		if err := m.Save(out); err != nil {
			t.Fatal(err)
		}
		feeds := map[string]refs.Tensor{}
		for name, in := range rec.Inputs {
			feeds[name] = refs.FloatTensor(in.DType, in.Shape, in.Data)
		}
		labelShape := append([]int{logits.Shape[0]}, logits.Shape[2:]...)
		var labels []int64
		var targets []float64
		if tc.opt.MultiHot {
			targets = make([]float64, len(logits.Data))
			for j := range targets {
				targets[j] = float64(rng.Intn(2))
			}
			feeds["labels"] = refs.FloatTensor("float32", logits.Shape, targets)
		} else {
			labels = make([]int64, len(logits.Data)/C)
			for j := range labels {
				labels[j] = int64(rng.Intn(C))
				if tc.opt.IgnoreIndex != nil && j%3 == 0 {
					labels[j] = *tc.opt.IgnoreIndex
				}
			}
			feeds["labels"] = refs.IntTensor("int64", labelShape, labels)
		}
		want, _, err := lossops.Reference(res.Metadata.Spec(), logits.Data, logits.Shape, labels, targets)
		if err != nil {
			t.Fatalf("%s: reference: %v", tc.model, err)
		}
		jobs = append(jobs, refs.Job{Model: out, Inputs: feeds})
		preps = append(preps, prepared{spec: res.Metadata.Spec(), logits: logits.Data, want: want, torch: rec, out: tc.model + "/" + string(tc.opt.Loss), origin: tc.model})
	}
	results := refs.RunORT(t, jobs)
	for i, p := range preps {
		t.Run(p.out, func(t *testing.T) {
			r := results[i]
			if r.Error != "" {
				t.Fatalf("ONNX Runtime: %s", r.Error)
			}
			got, err := r.Outputs["loss"].Floats()
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(p.want) {
				t.Fatalf("loss has %d values, want %d", len(got), len(p.want))
			}
			for j := range got {
				if !closeTo(got[j], p.want[j], 1e-5, 1e-6) {
					t.Errorf("loss[%d] = %.9g, closed form on PyTorch logits %.9g", j, got[j], p.want[j])
				}
			}
			// The Go evaluator on the whole model: within 1e-5 relative of
			// ONNX Runtime, and within 1e-6 relative (plus the rounding of
			// the scores' magnitude) of the closed form.
			ev := evalLoss(t, jobs[i])
			tol := verify.RoundingTolerance(verify.Tolerance{RTol: 1e-6, ATol: 1e-7}, p.spec, "float32", p.logits)
			for j := range got {
				if !closeTo(ev[j], got[j], 1e-5, 1e-6) {
					t.Errorf("evaluator loss[%d] = %.9g, ONNX Runtime %.9g", j, ev[j], got[j])
				}
				if !closeTo(ev[j], p.want[j], tol.RTol, tol.ATol) {
					t.Errorf("evaluator loss[%d] = %.9g, closed form %.9g", j, ev[j], p.want[j])
				}
			}
			for name, want := range p.torch.Outputs {
				gotOut, err := r.Outputs[name].Floats()
				if err != nil {
					t.Fatalf("output %s: %v", name, err)
				}
				for j := range want.Data {
					if !closeTo(gotOut[j], want.Data[j], 1e-5, 1e-6) {
						t.Fatalf("original output %s[%d] = %g, PyTorch %g", name, j, gotOut[j], want.Data[j])
					}
				}
			}
		})
	}
}

// evalLoss runs a job's model in the Go evaluator and returns its loss.
func evalLoss(t *testing.T, job refs.Job) []float64 {
	t.Helper()
	m, err := graphedit.Load(job.Model)
	if err != nil {
		t.Fatal(err)
	}
	feeds := map[string]*eval.Tensor{}
	for name, in := range job.Inputs {
		dims := make([]int64, len(in.Dims))
		for i, d := range in.Dims {
			dims[i] = int64(d)
		}
		vals, err := in.Floats()
		if err != nil {
			t.Fatal(err)
		}
		switch in.DType {
		case "int64":
			v := make([]int64, len(vals))
			for i, x := range vals {
				v[i] = int64(x)
			}
			feeds[name] = eval.NewInt64(dims, v)
		case "float32":
			v := make([]float32, len(vals))
			for i, x := range vals {
				v[i] = float32(x)
			}
			feeds[name] = eval.NewFloat32(dims, v)
		default:
			t.Fatalf("input %s: dtype %s", name, in.DType)
		}
	}
	sess, err := eval.NewSession(m.Proto, m.Dir)
	if err != nil {
		t.Fatal(err)
	}
	sess.UseInferenceMode() // training-mode Dropout as identity, as ORT's inference session
	out, err := sess.Run(feeds, []string{"loss"})
	if err != nil {
		t.Fatalf("evaluator: %v", err)
	}
	return out["loss"].AsFloat64()
}
