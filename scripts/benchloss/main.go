// Command benchloss builds the loss-subgraph benchmark model and times the
// pure-Go evaluator (verify/eval) on it; ortharness/bench.js times ONNX
// Runtime on the same model and data. scripts/bench-eval.sh runs both.
//
// Usage:
//
//	benchloss build -loss cb_focal -c 1000 -o model.onnx
//	benchloss run -model model.onnx -n 65536 -c 1000 -k 5
//
// The model is the loss subgraph alone: inputs "logits" float32 [N, C] and
// "labels" int64 [N], output "loss" (mean). It is built the way the tests
// build it: a host model scores → Identity → logits, inject.Inject with
// long-tailed class counts, then the Identity is dropped so that both
// runtimes are fed the logits directly.
//
// Data are generated from a xorshift32 stream seeded with 1, the same in
// Go and in JavaScript, so both runtimes see identical inputs: logits are
// 3·(u1+u2+u3+u4−2) (Irwin–Hall, roughly normal with σ≈1.7, exact in
// float32), labels are the next values modulo C.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"
	"sort"
	"time"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/inject"
	"github.com/onnxloss/onnxloss/lossops"
	"github.com/onnxloss/onnxloss/onnxpb"
	"github.com/onnxloss/onnxloss/verify/eval"
	"google.golang.org/protobuf/proto"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchloss build|run [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "build":
		err = build(os.Args[2:])
	case "run":
		err = run(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchloss:", err)
		os.Exit(1)
	}
}

// counts returns long-tailed class counts: 5000·0.993^k, at least 1.
func counts(c int) []float64 {
	v := make([]float64, c)
	for k := range v {
		v[k] = math.Max(1, math.Round(5000*math.Pow(0.993, float64(k))))
	}
	return v
}

func build(args []string) error {
	fs := flag.NewFlagSet("build", flag.ExitOnError)
	loss := fs.String("loss", "cb_focal", "loss to inject")
	c := fs.Int("c", 1000, "number of classes")
	out := fs.String("o", "bench.onnx", "output model")
	opset := fs.Int64("opset", 17, "opset of the host model")
	fs.Parse(args)

	l, err := lossops.ParseLoss(*loss)
	if err != nil {
		return err
	}
	vt := graphedit.ValueType{Elem: onnxpb.TensorProto_FLOAT,
		Shape: []graphedit.Dim{{Value: -1, Param: "N"}, {Value: int64(*c)}}}
	mp := &onnxpb.ModelProto{
		IrVersion:    proto.Int64(8),
		ProducerName: proto.String("onnxloss-bench"),
		OpsetImport:  []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: opset}},
		Graph: &onnxpb.GraphProto{
			Name:   proto.String("host"),
			Input:  []*onnxpb.ValueInfoProto{graphedit.TensorValueInfo("scores", vt)},
			Output: []*onnxpb.ValueInfoProto{graphedit.TensorValueInfo("logits", vt)},
			Node: []*onnxpb.NodeProto{{Name: proto.String("head"), OpType: proto.String("Identity"),
				Input: []string{"scores"}, Output: []string{"logits"}}},
		},
	}
	m := &graphedit.Model{Proto: mp}
	opt := inject.Options{
		Loss: l, Counts: &lossops.Counts{Values: counts(*c)}, Beta: lossops.DefaultBeta,
		Normalize: true, Gamma: 2, Alpha: 0.25, Reduction: lossops.Mean,
		LabelsElem: onnxpb.TensorProto_INT64,
		Tau:        lossops.DefaultTau, MaxMargin: lossops.DefaultMaxMargin, Scale: lossops.DefaultScale,
	}
	if _, err := inject.Inject(m, opt); err != nil {
		return err
	}
	// Keep the loss subgraph only: feed "logits" directly, output "loss".
	g := m.Graph()
	nodes := g.Node[:0]
	for _, n := range g.Node {
		if n.GetName() != "head" {
			nodes = append(nodes, n)
		}
	}
	g.Node = nodes
	for _, in := range g.Input {
		if in.GetName() == "scores" {
			in.Name = proto.String("logits")
		}
	}
	var outs []*onnxpb.ValueInfoProto
	for _, o := range g.Output {
		if o.GetName() == "loss" {
			outs = append(outs, o)
		}
	}
	if len(outs) != 1 {
		return fmt.Errorf("injected model has no output \"loss\"")
	}
	g.Output = outs
	return m.Save(*out)
}

// Data returns the benchmark inputs: n·c logits and n labels (see the
// package comment; ortharness/bench.js generates the same values).
func Data(n, c int) ([]float32, []int64) {
	x := uint32(1)
	next := func() float64 {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		return float64(x>>8) * (1.0 / (1 << 24))
	}
	logits := make([]float32, n*c)
	for i := range logits {
		logits[i] = float32(3 * (next() + next() + next() + next() - 2))
	}
	labels := make([]int64, n)
	for i := range labels {
		next()
		labels[i] = int64(x>>8) % int64(c)
	}
	return logits, labels
}

func run(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	path := fs.String("model", "bench.onnx", "model built by benchloss build")
	n := fs.Int("n", 65536, "batch size")
	c := fs.Int("c", 1000, "number of classes")
	k := fs.Int("k", 5, "timed runs (after one warm-up)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the timed runs")
	fs.Parse(args)

	m, err := graphedit.Load(*path)
	if err != nil {
		return err
	}
	s, err := eval.NewSession(m.Proto, "")
	if err != nil {
		return err
	}
	lg, lb := Data(*n, *c)
	feeds := map[string]*eval.Tensor{
		"logits": eval.NewFloat32([]int64{int64(*n), int64(*c)}, lg),
		"labels": eval.NewInt64([]int64{int64(*n)}, lb),
	}
	res, err := s.Run(feeds, []string{"loss"}) // warm-up
	if err != nil {
		return err
	}
	loss := res["loss"].AsFloat64()[0]
	// The float64 closed form of the same loss on the same data, for the
	// table: float32 runtimes drift from it by different amounts.
	md, ok, err := inject.ReadMetadata(m)
	if err != nil || !ok {
		return fmt.Errorf("reading the loss metadata: %v", err)
	}
	lg64 := make([]float64, len(lg))
	for i, v := range lg {
		lg64[i] = float64(v)
	}
	ref, _, err := lossops.Reference(md.Spec(), lg64, []int{*n, *c}, lb, nil)
	if err != nil {
		return fmt.Errorf("float64 reference: %w", err)
	}
	if *cpuprofile != "" {
		stop, err := startProfile(*cpuprofile)
		if err != nil {
			return err
		}
		defer stop()
	}
	ms := make([]float64, *k)
	cpu := make([]float64, *k)
	for i := range ms {
		res = nil
		runtime.GC()
		c0 := cpuMillis()
		t0 := time.Now()
		if res, err = s.Run(feeds, []string{"loss"}); err != nil {
			return err
		}
		ms[i] = float64(time.Since(t0).Microseconds()) / 1000
		cpu[i] = cpuMillis() - c0
	}
	sorted := append([]float64(nil), ms...)
	sort.Float64s(sorted)
	sortedCPU := append([]float64(nil), cpu...)
	sort.Float64s(sortedCPU)
	out := map[string]any{
		"runtime": "go-eval", "threads": runtime.GOMAXPROCS(0), "n": *n, "c": *c, "k": *k,
		"min_ms": sorted[0], "median_ms": sorted[len(sorted)/2], "runs_ms": ms, "loss": loss,
		"min_cpu_ms": sortedCPU[0], "ref_loss": ref[0],
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}
