package optim_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/internal/refs"
	"github.com/onnxloss/onnxloss/onnxpb"
	"github.com/onnxloss/onnxloss/optim"
	"github.com/onnxloss/onnxloss/paramload"
	"github.com/onnxloss/onnxloss/tensorfile"
	"github.com/onnxloss/onnxloss/trainloop"
	"github.com/onnxloss/onnxloss/verify/eval"
)

// linearModel builds a model whose loss is Σ_p Σ(p ⊙ G_p) with every G_p a
// graph input: dloss/dp = G_p exactly, so the optimizer update is tested
// against torch.optim on the same gradients without any differentiation.
func linearModel(t *testing.T, elem onnxpb.TensorProto_DataType, shapes map[string][]int64, order []string, rng *rand.Rand) (*graphedit.Model, []string, map[string][]float64) {
	t.Helper()
	m := &graphedit.Model{Proto: &onnxpb.ModelProto{
		IrVersion:   ptr(int64(7)),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: ptr(""), Version: ptr(int64(13))}},
		Graph:       &onnxpb.GraphProto{Name: ptr("linear")},
	}}
	b := graphedit.NewBuilder(m, "test")
	init := map[string][]float64{}
	var grads []string
	var terms []string
	for _, p := range order {
		dims := shapes[p]
		n := int(eval.NumElements(dims))
		vals := make([]float64, n)
		for i := range vals {
			vals[i] = rng.NormFloat64()
		}
		var tp *onnxpb.TensorProto
		if elem == onnxpb.TensorProto_DOUBLE {
			tp = graphedit.Float64Tensor(p, dims, vals)
		} else {
			f := make([]float32, n)
			for i, v := range vals {
				f[i] = float32(v)
				vals[i] = float64(f[i])
			}
			tp = graphedit.Float32Tensor(p, dims, f)
		}
		init[p] = vals
		if err := m.AddInitializer(tp); err != nil {
			t.Fatal(err)
		}
		g := "G_" + p
		vt := graphedit.ValueType{Elem: elem, Shape: []graphedit.Dim{}}
		for _, d := range dims {
			vt.Shape = append(vt.Shape, graphedit.Dim{Value: d})
		}
		m.AddInput(graphedit.TensorValueInfo(g, vt), -1)
		grads = append(grads, g)
		terms = append(terms, b.ReduceSum(p+"_sum", b.Op("Mul", p+"_g", []string{p, g}), nil, false))
	}
	loss := terms[0]
	for _, x := range terms[1:] {
		loss = b.Op("Add", "loss_acc", []string{loss, x})
	}
	m.Proto.Graph.Node = append(m.Proto.Graph.Node, &onnxpb.NodeProto{OpType: ptr("Identity"), Input: []string{loss}, Output: []string{"loss"}, Name: ptr("loss")})
	m.AddOutput(graphedit.TensorValueInfo("loss", graphedit.ValueType{Elem: elem, Shape: []graphedit.Dim{}}), 0)
	m.ResetNames()
	return m, grads, init
}

func ptr[T any](v T) *T { return &v }

type torchSpec struct {
	Optimizer string                   `json:"optimizer"`
	Settings  map[string]float64       `json:"settings"`
	Params    map[string]refs.Tensor   `json:"params"`
	Order     []string                 `json:"order"`
	Grads     []map[string]refs.Tensor `json:"grads"`
}

type torchResult struct {
	Losses []float64            `json:"losses"`
	Params map[string][]float64 `json:"params"`
}

func runTorch(t *testing.T, specs []torchSpec) []torchResult {
	t.Helper()
	if err := exec.Command(refs.Python, "-c", "import torch").Run(); err != nil {
		refs.Unavailable(t, "PyTorch", "install Debian's python3-torch (apt-get install -y python3-torch)")
	}
	in, err := json.Marshal(specs)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(refs.Python, "testdata/torch_optim.py")
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("torch_optim.py: %v: %s", err, stderr.String())
	}
	var res []torchResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	return res
}

// TestUpdatesMatchTorch runs 20 steps of each optimizer on seeded random
// gradients in ONNX Runtime (ortharness/train.js) and in the Go evaluator
// and compares losses and parameters with torch.optim after every run.
// Tolerances: the graphs repeat torch's operations in its order and types,
// so what differs is rounding where torch fuses a multiply-add (FMA) — about
// one unit in the last place per step — compounded over 20 steps and
// divided by AdamW's denominators: 1e-5 relative in float32 (u = 6e-8),
// 1e-12 in float64 (u = 1e-16), with an absolute floor of the same size for
// values that pass near zero.
func TestUpdatesMatchTorch(t *testing.T) {
	shapes := map[string][]int64{"w": {3, 4}, "b": {5}, "scale": {}, "k": {2, 1, 3, 3}}
	order := []string{"w", "b", "scale", "k"}
	cases := []struct {
		name     string
		opt      string
		elem     onnxpb.TensorProto_DataType
		settings optim.Settings
	}{
		{"sgd_momentum_wd_f32", "sgd", onnxpb.TensorProto_FLOAT, optim.Settings{LR: 0.05, Momentum: 0.9, WeightDecay: 0.01}},
		{"sgd_plain_f32", "sgd", onnxpb.TensorProto_FLOAT, optim.Settings{LR: 0.1}},
		{"sgd_momentum_wd_f64", "sgd", onnxpb.TensorProto_DOUBLE, optim.Settings{LR: 0.05, Momentum: 0.9, WeightDecay: 0.01}},
		{"adamw_f32", "adamw", onnxpb.TensorProto_FLOAT, optim.Settings{LR: 0.01, Beta1: 0.9, Beta2: 0.99, Eps: 1e-8, WeightDecay: 0.1}},
		{"adamw_defaults_f32", "adamw", onnxpb.TensorProto_FLOAT, optim.Settings{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 1e-2}},
		{"adamw_f64", "adamw", onnxpb.TensorProto_DOUBLE, optim.Settings{LR: 0.01, Beta1: 0.8, Beta2: 0.95, Eps: 1e-6, WeightDecay: 0.1}},
	}
	const steps = 20
	type prepared struct {
		m         *graphedit.Model
		res       *optim.Result
		dir       string
		grads     []string
		batches   map[string][]float64
		goBatches []map[string]*eval.Tensor
	}
	preps := make([]prepared, len(cases))
	specs := make([]torchSpec, len(cases))
	for ci, c := range cases {
		{
			rng := rand.New(rand.NewSource(int64(100 + ci)))
			m, grads, initVals := linearModel(t, c.elem, shapes, order, rng)
			o, err := optim.Lookup(c.opt)
			if err != nil {
				t.Fatal(err)
			}
			res, err := optim.Apply(m, "loss", order, grads, o, c.settings)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			stepPath, initPath := filepath.Join(dir, "step.onnx"), filepath.Join(dir, "step.init.onnx")
			if err := m.Save(stepPath); err != nil {
				t.Fatal(err)
			}
			if err := res.Init.Save(initPath); err != nil {
				t.Fatal(err)
			}

			dtype := "float32"
			if c.elem == onnxpb.TensorProto_DOUBLE {
				dtype = "float64"
			}
			spec := torchSpec{Optimizer: c.opt, Order: order, Params: map[string]refs.Tensor{},
				Settings: map[string]float64{"lr": c.settings.LR, "momentum": c.settings.Momentum, "weight_decay": c.settings.WeightDecay,
					"beta1": c.settings.Beta1, "beta2": c.settings.Beta2, "eps": c.settings.Eps}}
			batches := map[string][]float64{}
			for _, p := range order {
				spec.Params[p] = refs.FloatTensor(dtype, intDims(shapes[p]), initVals[p])
			}
			goBatches := make([]map[string]*eval.Tensor, steps)
			for s := 0; s < steps; s++ {
				step := map[string]refs.Tensor{}
				goBatches[s] = map[string]*eval.Tensor{}
				for i, p := range order {
					n := int(eval.NumElements(shapes[p]))
					g := make([]float64, n)
					for j := range g {
						g[j] = rng.NormFloat64() * float64(1+i) // different scales per parameter
						if c.elem == onnxpb.TensorProto_FLOAT {
							g[j] = float64(float32(g[j]))
						}
					}
					step[p] = refs.FloatTensor(dtype, intDims(shapes[p]), g)
					batches[grads[i]] = append(batches[grads[i]], g...)
					goBatches[s][grads[i]] = evalTensor(c.elem, shapes[p], g)
				}
				spec.Grads = append(spec.Grads, step)
			}
			specs[ci] = spec
			preps[ci] = prepared{m: m, res: res, dir: dir, grads: grads, batches: batches, goBatches: goBatches}
		}
	}
	wants := runTorch(t, specs)
	for ci, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := wants[ci]
			m, res, dir, grads, batches, goBatches := preps[ci].m, preps[ci].res, preps[ci].dir, preps[ci].grads, preps[ci].batches, preps[ci].goBatches
			stepPath, initPath := filepath.Join(dir, "step.onnx"), filepath.Join(dir, "step.init.onnx")

			rtol := 1e-5
			if c.elem == onnxpb.TensorProto_DOUBLE {
				rtol = 1e-12
			}
			check := func(runtime string, losses []float64, params map[string][]float64) {
				t.Helper()
				worst := 0.0
				for s := range losses {
					worst = math.Max(worst, relErr(losses[s], want.Losses[s]))
					if !close(losses[s], want.Losses[s], rtol) {
						t.Errorf("%s: step %d loss %v, torch %v", runtime, s+1, losses[s], want.Losses[s])
					}
				}
				for _, p := range order {
					for j, v := range params[p] {
						worst = math.Max(worst, relErr(v, want.Params[p][j]))
						if !close(v, want.Params[p][j], rtol) {
							t.Errorf("%s: %s[%d] = %v after %d steps, torch %v", runtime, p, j, v, steps, want.Params[p][j])
							break
						}
					}
				}
				t.Logf("%s: largest error |got-torch|/(|torch|+1) over %d losses and all parameters: %.3g", runtime, steps, worst)
			}

			// The Go evaluator.
			loop, err := trainloop.New(m.Proto, res.Init.Proto, dir)
			if err != nil {
				t.Fatal(err)
			}
			var goLosses []float64
			for s := 0; s < steps; s++ {
				l, err := loop.Step(goBatches[s])
				if err != nil {
					t.Fatal(err)
				}
				goLosses = append(goLosses, l)
			}
			goParams := map[string][]float64{}
			for _, p := range trainloop.ParamNames(loop.StateNames) {
				goParams[p] = loop.State[p].AsFloat64()
			}
			if len(goParams) != len(order) {
				t.Fatalf("ParamNames found %v, want %v", trainloop.ParamNames(loop.StateNames), order)
			}
			check("Go evaluator", goLosses, goParams)

			// ONNX Runtime through the node training loop.
			var tensors []*onnxpb.TensorProto
			for i, p := range order {
				dims := append([]int64{steps}, shapes[p]...)
				tensors = append(tensors, protoTensor(t, c.elem, grads[i], dims, batches[grads[i]]))
			}
			batchPath := filepath.Join(dir, "batches.npz")
			if err := tensorfile.WriteFile(batchPath, tensors); err != nil {
				t.Fatal(err)
			}
			// ONNX Runtime through the two training loops users copy: node
			// (onnxruntime-node 1.30, .npz out) and Python (onnxruntime from
			// PyPI, .safetensors out, read back through paramload).
			loops := []struct {
				name string
				run  func(testing.TB, string, string, string, int, string) []float64
				out  string
			}{
				{"ONNX Runtime (train.js)", refs.TrainORT, "params.npz"},
				{"ONNX Runtime (train.py)", refs.TrainPython, "params.safetensors"},
			}
			for _, l := range loops {
				outPath := filepath.Join(dir, l.out)
				losses := l.run(t, stepPath, initPath, batchPath, steps, outPath)
				got, err := paramload.ReadFile(outPath)
				if err != nil {
					t.Fatal(err)
				}
				params := map[string][]float64{}
				for _, tp := range got {
					v, err := tensorfile.Float64s(tp)
					if err != nil {
						t.Fatal(err)
					}
					params[tp.GetName()] = v
				}
				if len(params) != len(order) {
					t.Fatalf("%s wrote %d parameters, want %d", l.name, len(params), len(order))
				}
				check(l.name, losses, params)
			}
		})
	}
}

func close(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*(math.Abs(want)+1)
}

func relErr(got, want float64) float64 { return math.Abs(got-want) / (math.Abs(want) + 1) }

func intDims(d []int64) []int {
	out := make([]int, len(d))
	for i, v := range d {
		out[i] = int(v)
	}
	return out
}

func evalTensor(elem onnxpb.TensorProto_DataType, dims []int64, v []float64) *eval.Tensor {
	if elem == onnxpb.TensorProto_DOUBLE {
		return eval.NewFloat64(dims, append([]float64{}, v...))
	}
	f := make([]float32, len(v))
	for i, x := range v {
		f[i] = float32(x)
	}
	return eval.NewFloat32(dims, f)
}

func protoTensor(t *testing.T, elem onnxpb.TensorProto_DataType, name string, dims []int64, v []float64) *onnxpb.TensorProto {
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
		t.Fatal(fmt.Errorf("batch %s: %w", name, err))
	}
	return tp
}
