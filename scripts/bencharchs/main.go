// Command bencharchs times the pure-Go evaluator (verify/eval) on one
// exported architecture (testdata/archs/export.py) and one batch: the
// model's own input from NAME_input.npy. scripts/bench-archs.js times ONNX
// Runtime on the same model and input; scripts/bench-archs.sh runs both.
//
//	bencharchs -model resnet18_opset17.onnx -input resnet18_input.npy -k 5
//
// It prints one JSON line: min and median wall milliseconds of K runs after
// one warm-up, and the float32 tolerance scale the model gets by default.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"time"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/tensorfile"
	"github.com/onnxloss/onnxloss/verify"
	"github.com/onnxloss/onnxloss/verify/eval"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bencharchs:", err)
		os.Exit(1)
	}
}

func run() error {
	model := flag.String("model", "", "exported model")
	input := flag.String("input", "", "its input (.npy)")
	k := flag.Int("k", 5, "timed runs after one warm-up")
	prof := flag.String("cpuprofile", "", "write a CPU profile of the timed runs")
	flag.Parse()
	m, err := graphedit.Load(*model)
	if err != nil {
		return err
	}
	s, err := eval.NewSession(m.Proto, filepath.Dir(*model))
	if err != nil {
		return err
	}
	ts, err := tensorfile.ReadFile(*input)
	if err != nil {
		return err
	}
	x, err := eval.FromProto(ts[0], "")
	if err != nil {
		return err
	}
	feeds := map[string]*eval.Tensor{s.Inputs()[0]: x}
	if _, err := s.Run(feeds, nil); err != nil {
		return err
	}
	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	ms := make([]float64, *k)
	for i := range ms {
		runtime.GC()
		t0 := time.Now()
		if _, err := s.Run(feeds, nil); err != nil {
			return err
		}
		ms[i] = float64(time.Since(t0).Microseconds()) / 1000
	}
	sorted := append([]float64(nil), ms...)
	sort.Float64s(sorted)
	l, d := verify.ReductionDepth(m.Proto)
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"runtime": "go-eval", "threads": runtime.GOMAXPROCS(0), "k": *k,
		"min_ms": sorted[0], "median_ms": sorted[len(sorted)/2], "runs_ms": ms,
		"nodes": len(m.Proto.GetGraph().GetNode()), "reduction_length": l, "reduction_layers": d,
		"tolerance_scale": verify.ScaledTolerance(m.Proto, 0x1p-24),
	})
}
