package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/internal/refs"
	"github.com/onnxloss/onnxloss/onnxpb"
	"github.com/onnxloss/onnxloss/tensorfile"
	"github.com/onnxloss/onnxloss/trainloop"
	"github.com/onnxloss/onnxloss/verify/eval"
)

// trajCase is one training run of the trajectory test.
type trajCase struct {
	name      string
	module    string   // the model in testdata/models (and gen_models.py's module)
	float64   bool     // convert the model to float64 first
	x, y      string   // data input and labels input names
	xShape    []int64  // one batch of x
	yShape    []int64  // one batch of labels
	classes   int      // C
	loss      string   // inject --loss
	optimizer string   // step --optimizer
	flags     []string // step's optimizer flags
	settings  map[string]float64
	writeback bool // an inference model: check the written-back model's logits
}

// toFloat64 rewrites a float32 model as float64: initializers, inputs and
// outputs (the ops of the test models take either type).
func toFloat64(t *testing.T, in, out string) {
	t.Helper()
	m, err := graphedit.Load(in)
	if err != nil {
		t.Fatal(err)
	}
	g := m.Graph()
	for _, init := range g.GetInitializer() {
		if init.GetDataType() != int32(onnxpb.TensorProto_FLOAT) {
			continue
		}
		v, err := tensorfile.Float64s(init)
		if err != nil {
			t.Fatal(err)
		}
		d := graphedit.Float64Tensor(init.GetName(), init.GetDims(), v)
		init.DataType, init.RawData, init.FloatData = d.DataType, d.RawData, nil
	}
	for _, vi := range append(append([]*onnxpb.ValueInfoProto{}, g.GetInput()...), g.GetOutput()...) {
		if tt := vi.GetType().GetTensorType(); tt != nil && tt.GetElemType() == int32(onnxpb.TensorProto_FLOAT) {
			e := int32(onnxpb.TensorProto_DOUBLE)
			tt.ElemType = &e
		}
	}
	if err := m.Save(out); err != nil {
		t.Fatal(err)
	}
}

func runOK(t *testing.T, bin string, args ...string) {
	t.Helper()
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("onnxloss %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// TestTrajectoriesMatchTorch trains the test models through onnxloss step
// models — 20 steps of SGD with momentum and weight decay, and 20 of AdamW
// with weight decay — in ONNX Runtime (ortharness/train.js) and in the Go
// evaluator (trainloop), and compares every step's loss, the final
// parameters and the trained model's logits (written back with load-params
// into the original inference model, run in ONNX Runtime) with PyTorch
// training the same module from the same weights on the same batches.
//
// Tolerance: rtol 1e-4 in float32, as the issue asks: the step model's
// gradients and updates round differently from torch's kernels (summation
// order in Gemm/Conv, FMA), about 1e-6 relative per step, and 20 steps of
// training amplify that by the conditioning of the problem; 1e-9 in float64.
// An absolute floor of rtol·(max |reference| of the compared tensor) covers
// elements that pass near zero.
func TestTrajectoriesMatchTorch(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 12 models in three runtimes")
	}
	if err := exec.Command(refs.Python, "-c", "import torch, onnx").Run(); err != nil {
		refs.Unavailable(t, "PyTorch", "install Debian's python3-torch and python3-onnx")
	}
	refs.ORTHarness(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	models := filepath.Join("..", "..", "testdata", "models")
	sgd := []string{"--lr", "0.05", "--momentum", "0.9", "--weight-decay", "0.001"}
	sgdS := map[string]float64{"lr": 0.05, "momentum": 0.9, "weight_decay": 0.001}
	adamw := []string{"--lr", "0.01", "--betas", "0.9,0.99", "--eps", "1e-8", "--weight-decay", "0.05"}
	adamwS := map[string]float64{"lr": 0.01, "beta1": 0.9, "beta2": 0.99, "eps": 1e-8, "weight_decay": 0.05}
	var cases []trajCase
	for _, o := range []struct {
		name  string
		flags []string
		s     map[string]float64
	}{{"sgd", sgd, sgdS}, {"adamw", adamw, adamwS}} {
		cases = append(cases,
			trajCase{name: "mlp_" + o.name, module: "mlp_o13", x: "x", y: "labels", xShape: []int64{8, 16}, yShape: []int64{8}, classes: 5, loss: "weighted_ce", optimizer: o.name, flags: o.flags, settings: o.s, writeback: true},
			trajCase{name: "mlp_f64_" + o.name, module: "mlp_o13", float64: true, x: "x", y: "labels", xShape: []int64{8, 16}, yShape: []int64{8}, classes: 5, loss: "weighted_ce", optimizer: o.name, flags: o.flags, settings: o.s, writeback: true},
			trajCase{name: "cnn_" + o.name, module: "cnn_o17", x: "image", y: "labels", xShape: []int64{6, 1, 12, 12}, yShape: []int64{6}, classes: 10, loss: "weighted_ce", optimizer: o.name, flags: o.flags, settings: o.s, writeback: true},
			trajCase{name: "segnet_" + o.name, module: "segnet_o13", x: "image", y: "labels", xShape: []int64{2, 3, 5, 6}, yShape: []int64{2, 5, 6}, classes: 4, loss: "weighted_ce", optimizer: o.name, flags: o.flags, settings: o.s, writeback: true},
			// Training graphs exported with their own cross-entropy, swapped to cb_focal.
			trajCase{name: "train_mlp_ce_cb_focal_" + o.name, module: "train_mlp_ce_o13", x: "x", y: "target", xShape: []int64{8, 16}, yShape: []int64{8}, classes: 5, loss: "cb_focal", optimizer: o.name, flags: o.flags, settings: o.s},
			trajCase{name: "train_cnn_ce_cb_focal_" + o.name, module: "train_cnn_ce_o17", x: "image", y: "target", xShape: []int64{6, 1, 12, 12}, yShape: []int64{6}, classes: 10, loss: "cb_focal", optimizer: o.name, flags: o.flags, settings: o.s},
		)
	}
	const steps, nBatches = 20, 7 // batches cycle, so some repeat
	type prepared struct {
		c                       trajCase
		orig, step, init, batch string
		eval                    string
		weights                 []float64
	}
	var preps []prepared
	var torchIn []map[string]any
	for ci, c := range cases {
		d := filepath.Join(dir, c.name)
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		orig := filepath.Join(models, c.module+".onnx")
		if c.float64 {
			f64 := filepath.Join(d, c.module+"_f64.onnx")
			toFloat64(t, orig, f64)
			orig = f64
		}
		rng := rand.New(rand.NewSource(int64(1000 + ci)))
		counts := make([]float64, c.classes)
		for k := range counts {
			counts[k] = math.Round(500 * math.Pow(0.6, float64(k))) // long-tailed
		}
		countsPath := filepath.Join(d, "counts.json")
		cj, _ := json.Marshal(counts)
		if err := os.WriteFile(countsPath, cj, 0o644); err != nil {
			t.Fatal(err)
		}
		train := filepath.Join(d, "train.onnx")
		runOK(t, bin, "inject", "--loss", c.loss, "--counts", countsPath, "-o", train, orig)
		tm, err := graphedit.Load(train)
		if err != nil {
			t.Fatal(err)
		}
		md, _ := tm.Metadata("onnxloss")
		var meta struct {
			Weights []float64 `json:"weights"`
			Gamma   float64   `json:"gamma"`
		}
		if err := json.Unmarshal([]byte(md), &meta); err != nil {
			t.Fatal(err)
		}
		step := filepath.Join(d, "step.onnx")
		runOK(t, bin, append([]string{"step", "--optimizer", c.optimizer, "-o", step, train}, c.flags...)...)

		elem := onnxpb.TensorProto_FLOAT
		if c.float64 {
			elem = onnxpb.TensorProto_DOUBLE
		}
		xs := randNormal(rng, nBatches*int(eval.NumElements(c.xShape)))
		ys := make([]int64, nBatches*int(eval.NumElements(c.yShape)))
		for i := range ys {
			ys[i] = rng.Int63n(int64(c.classes))
		}
		batch := filepath.Join(d, "batches.npz")
		writeTensors(t, batch, []*onnxpb.TensorProto{
			floatProto(t, c.x, elem, append([]int64{nBatches}, c.xShape...), xs),
			intProto(t, c.y, append([]int64{nBatches}, c.yShape...), ys),
		})
		evalPath := filepath.Join(d, "eval.npz")
		writeTensors(t, evalPath, []*onnxpb.TensorProto{floatProto(t, c.x, elem, c.xShape, randNormal(rng, int(eval.NumElements(c.xShape))))})
		preps = append(preps, prepared{c: c, orig: orig, step: step, init: filepath.Join(d, "step.init.onnx"), batch: batch, eval: evalPath, weights: meta.Weights})
		dtype := "float32"
		if c.float64 {
			dtype = "float64"
		}
		torchIn = append(torchIn, map[string]any{
			"module": c.module, "onnx": orig, "dtype": dtype, "loss": c.loss, "weights": meta.Weights, "gamma": meta.Gamma,
			"optimizer": c.optimizer, "settings": c.settings, "steps": steps, "batches": batch, "eval": evalPath, "x": c.x, "y": c.y,
		})
	}

	var want []struct {
		Losses []float64            `json:"losses"`
		Params map[string][]float64 `json:"params"`
		Logits []float64            `json:"logits"`
	}
	in, _ := json.Marshal(torchIn)
	cmd := exec.Command(refs.Python, "testdata/torch_train.py")
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("torch_train.py: %v: %s", err, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), &want); err != nil {
		t.Fatal(err)
	}

	for i, p := range preps {
		c, w := p.c, want[i]
		t.Run(c.name, func(t *testing.T) {
			rtol := 1e-4
			if c.float64 {
				rtol = 1e-9
			}
			worst := map[string]float64{}
			cmp := func(what string, got, ref []float64) {
				t.Helper()
				if len(got) != len(ref) {
					t.Fatalf("%s: %d values, torch %d", what, len(got), len(ref))
				}
				scale := 0.0
				for _, v := range ref {
					scale = math.Max(scale, math.Abs(v))
				}
				kind := strings.SplitN(what, ":", 2)[0]
				for j := range got {
					e := math.Abs(got[j]-ref[j]) / (math.Abs(ref[j]) + scale)
					worst[kind] = math.Max(worst[kind], e)
					if math.Abs(got[j]-ref[j]) > rtol*(math.Abs(ref[j])+scale) || math.IsNaN(got[j]) {
						t.Errorf("%s[%d] = %.9g, torch %.9g", what, j, got[j], ref[j])
						return
					}
				}
			}

			// ONNX Runtime: the node loop, parameters out as .npz, then
			// written back into the inference model and run in ONNX Runtime.
			params := filepath.Join(filepath.Dir(p.step), "params.npz")
			t.Run("ort", func(t *testing.T) {
				ortLosses := refs.TrainORT(t, p.step, p.init, p.batch, steps, params)
				cmp("ORT loss", ortLosses, w.Losses)
				trained, err := tensorfile.ReadFile(params)
				if err != nil {
					t.Fatal(err)
				}
				if len(trained) != len(w.Params) {
					t.Fatalf("train.js wrote %d parameters, torch has %d", len(trained), len(w.Params))
				}
				for _, tp := range trained {
					v, _ := tensorfile.Float64s(tp)
					cmp("ORT param: "+tp.GetName(), v, w.Params[tp.GetName()])
				}
				if !c.writeback {
					return
				}
				out := filepath.Join(filepath.Dir(p.step), "trained.onnx")
				runOK(t, bin, "load-params", p.orig, params, "-o", out)
				ev, err := tensorfile.ReadFile(p.eval)
				if err != nil {
					t.Fatal(err)
				}
				res := refs.RunORT(t, []refs.Job{{Model: out, Inputs: map[string]refs.Tensor{c.x: harnessTensor(t, ev[0])}}})
				if res[0].Error != "" {
					t.Fatal(res[0].Error)
				}
				var logits []float64
				for _, v := range res[0].Outputs {
					logits, _ = v.Floats()
				}
				cmp("written-back logits", logits, w.Logits)
			})

			// The Go evaluator.
			t.Run("go", func(t *testing.T) {
				goLosses, goParams := trainGo(t, p.step, p.init, p.batch, steps)
				cmp("Go loss", goLosses, w.Losses)
				for name, v := range goParams {
					cmp("Go param: "+name, v, w.Params[name])
				}
			})
			t.Logf("largest error relative to |torch| + max|torch|: %v", worst)
		})
	}
}

// trainGo runs the step model's loop in the Go evaluator and returns the
// losses and the final parameters.
func trainGo(t *testing.T, step, init, batches string, steps int) ([]float64, map[string][]float64) {
	t.Helper()
	sm, err := graphedit.Load(step)
	if err != nil {
		t.Fatal(err)
	}
	im, err := graphedit.Load(init)
	if err != nil {
		t.Fatal(err)
	}
	loop, err := trainloop.New(sm.Proto, im.Proto, filepath.Dir(step))
	if err != nil {
		t.Fatal(err)
	}
	bs, err := tensorfile.ReadFile(batches)
	if err != nil {
		t.Fatal(err)
	}
	var all []*eval.Tensor
	for _, b := range bs {
		et, err := eval.FromProto(b, "")
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, et)
	}
	var losses []float64
	for s := 0; s < steps; s++ {
		feeds := map[string]*eval.Tensor{}
		for i, b := range bs {
			feeds[b.GetName()] = sliceFirst(all[i], s%int(all[i].Shape()[0]))
		}
		l, err := loop.Step(feeds)
		if err != nil {
			t.Fatal(err)
		}
		losses = append(losses, l)
	}
	params := map[string][]float64{}
	for _, p := range trainloop.ParamNames(loop.StateNames) {
		params[p] = loop.State[p].AsFloat64()
	}
	return losses, params
}

// sliceFirst returns x[k] along the first axis.
func sliceFirst(x *eval.Tensor, k int) *eval.Tensor {
	shape := x.Shape()[1:]
	n := int(eval.NumElements(shape))
	switch d := x.Data().(type) {
	case []float32:
		return eval.NewFloat32(shape, d[k*n:(k+1)*n])
	case []float64:
		return eval.NewFloat64(shape, d[k*n:(k+1)*n])
	case []int64:
		return eval.NewInt64(shape, d[k*n:(k+1)*n])
	}
	panic(fmt.Sprintf("sliceFirst: %T", x.Data()))
}

func randNormal(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

func floatProto(t *testing.T, name string, elem onnxpb.TensorProto_DataType, dims []int64, v []float64) *onnxpb.TensorProto {
	t.Helper()
	var data any = v
	if elem == onnxpb.TensorProto_FLOAT {
		f := make([]float32, len(v))
		for i, x := range v {
			f[i] = float32(x)
		}
		data = f
	}
	tp, err := tensorfile.New(name, dims, data)
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

func intProto(t *testing.T, name string, dims []int64, v []int64) *onnxpb.TensorProto {
	t.Helper()
	tp, err := tensorfile.New(name, dims, v)
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

func writeTensors(t *testing.T, path string, ts []*onnxpb.TensorProto) {
	t.Helper()
	if err := tensorfile.WriteFile(path, ts); err != nil {
		t.Fatal(err)
	}
}

func harnessTensor(t *testing.T, tp *onnxpb.TensorProto) refs.Tensor {
	t.Helper()
	v, err := tensorfile.Float64s(tp)
	if err != nil {
		t.Fatal(err)
	}
	dims := make([]int, len(tp.GetDims()))
	for i, d := range tp.GetDims() {
		dims[i] = int(d)
	}
	dtype := "float32"
	if tp.GetDataType() == int32(onnxpb.TensorProto_DOUBLE) {
		dtype = "float64"
	}
	return refs.FloatTensor(dtype, dims, v)
}
