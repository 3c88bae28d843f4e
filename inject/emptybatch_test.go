package inject_test

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/inject"
	"github.com/onnxloss/onnxloss/internal/refs"
	"github.com/onnxloss/onnxloss/lossops"
	"github.com/onnxloss/onnxloss/verify/eval"
)

// TestEmptyBatch injects every loss, with every reduction (foreground with
// index labels), with and without
// ignore_index (and multi-hot targets for the sigmoid losses), into the
// PyTorch-exported MLP (batch dim N symbolic) and runs it on a batch of
// N = 0 in ONNX Runtime 1.30 and in the Go evaluator: mean and sum are
// exactly 0, as the README documents (a mean over no positions is 0, not
// NaN; PyTorch's mean of an empty tensor is NaN, which is what this guards
// against), and none gives an empty tensor of the right shape. The closed
// form agrees.
func TestEmptyBatch(t *testing.T) {
	root, err := refs.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(root, "testdata", "models", "mlp_o13.onnx")
	dir := t.TempDir()
	counts := &lossops.Counts{Values: []float64{500, 120, 7, 40, 3}}
	ii := int64(-100)
	type run struct {
		name, path string
		opt        inject.Options
	}
	var runs []run
	for _, loss := range lossops.Losses {
		for _, red := range []lossops.Reduction{lossops.Mean, lossops.Sum, lossops.None, lossops.Foreground} {
			if red == lossops.Foreground && wholeBatch(loss) {
				continue // one value per class or sample: no foreground reduction
			}
			for _, variant := range []string{"index", "ignore", "multi-hot"} {
				if variant == "multi-hot" && (!loss.AcceptsMultiHot() || red == lossops.Foreground) {
					continue // the foreground reduction counts index labels
				}
				opt := inject.Options{Loss: loss, Counts: counts, Beta: 0.999, Normalize: true, Gamma: 2, Alpha: 0.25,
					Reduction: red, Tau: lossops.DefaultTau, MaxMargin: lossops.DefaultMaxMargin, Scale: lossops.DefaultScale,
					MultiHot: variant == "multi-hot"}
				if variant == "ignore" {
					opt.IgnoreIndex = &ii
				}
				name := fmt.Sprintf("%s_%s_%s", loss, red, variant)
				m, err := graphedit.Load(src)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := inject.Inject(m, opt); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				p := filepath.Join(dir, name+".onnx")
				if err := m.Save(p); err != nil {
					t.Fatal(err)
				}
				runs = append(runs, run{name, p, opt})
			}
		}
	}
	x := refs.FloatTensor("float32", []int{0, 16}, nil)
	feeds := func(r run) map[string]refs.Tensor {
		if r.opt.MultiHot {
			return map[string]refs.Tensor{"x": x, "labels": refs.FloatTensor("float32", []int{0, 5}, nil)}
		}
		return map[string]refs.Tensor{"x": x, "labels": refs.IntTensor("int64", []int{0}, nil)}
	}
	check := func(t *testing.T, who string, r run, shape []int, vals []float64) {
		t.Helper()
		if r.opt.Reduction == lossops.None && perClass(r.opt.Loss) {
			// One value per class: a class absent from the target is 0.
			if len(shape) != 1 || shape[0] != 5 || len(vals) != 5 {
				t.Errorf("%s: %s: none gave shape %v with %d values, want the 5 classes", who, r.name, shape, len(vals))
			}
			for i, v := range vals {
				if v != 0 {
					t.Errorf("%s: %s: class %d's loss %v, want 0", who, r.name, i, v)
				}
			}
			return
		}
		if r.opt.Reduction == lossops.None {
			if len(vals) != 0 || len(shape) == 0 || shape[0] != 0 {
				t.Errorf("%s: %s: none gave shape %v with %d values, want an empty batch", who, r.name, shape, len(vals))
			}
			return
		}
		if len(vals) != 1 || vals[0] != 0 || math.Signbit(vals[0]) {
			t.Errorf("%s: %s: loss %v, want exactly 0", who, r.name, vals)
		}
	}
	for _, r := range runs {
		m, err := graphedit.Load(r.path)
		if err != nil {
			t.Fatal(err)
		}
		sess, err := eval.NewSession(m.Proto, m.Dir)
		if err != nil {
			t.Fatal(err)
		}
		in := map[string]*eval.Tensor{"x": eval.NewFloat32([]int64{0, 16}, nil), "labels": eval.NewInt64([]int64{0}, nil)}
		if r.opt.MultiHot {
			in["labels"] = eval.NewFloat32([]int64{0, 5}, nil)
		}
		out, err := sess.Run(in, []string{"loss"})
		if err != nil {
			t.Fatalf("evaluator: %s: %v", r.name, err)
		}
		shape := make([]int, len(out["loss"].Shape()))
		for i, d := range out["loss"].Shape() {
			shape[i] = int(d)
		}
		check(t, "evaluator", r, shape, out["loss"].AsFloat64())
		md, _, err := inject.ReadMetadata(m)
		if err != nil {
			t.Fatal(err)
		}
		spec := md.Spec()
		var targets []float64
		if r.opt.MultiHot {
			targets = []float64{}
		}
		want, wantShape, err := lossops.Reference(spec, []float64{}, []int{0, 5}, []int64{}, targets)
		if err != nil {
			t.Fatalf("closed form: %s: %v", r.name, err)
		}
		check(t, "closed form", r, wantShape, want)
	}
	refs.ORTHarness(t)
	jobs := make([]refs.Job, len(runs))
	for i, r := range runs {
		jobs[i] = refs.Job{Model: r.path, Inputs: feeds(r), Outputs: []string{"loss"}}
	}
	for i, res := range refs.RunORT(t, jobs) {
		if res.Error != "" {
			t.Errorf("ONNX Runtime: %s: %s", runs[i].name, res.Error)
			continue
		}
		vals, err := res.Outputs["loss"].Floats()
		if err != nil {
			t.Fatal(err)
		}
		check(t, "ONNX Runtime", runs[i], res.Outputs["loss"].Dims, vals)
	}
	t.Logf("%d models, N = 0, in the evaluator, the closed form and ONNX Runtime", len(runs))
}

// perClass reports whether the loss's none reduction gives one value per
// class (dice, tversky, lovasz_softmax).
func perClass(l lossops.Loss) bool {
	return l == lossops.Dice || l == lossops.Tversky || l == lossops.LovaszSoftmax
}

// wholeBatch reports whether the loss is not a sum over positions, so it
// has no foreground reduction (dice, tversky, lovasz_softmax, generalized_dice).
func wholeBatch(l lossops.Loss) bool { return perClass(l) || l == lossops.GeneralizedDice }
