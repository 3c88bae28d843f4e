package verify

import (
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/inject"
	"github.com/onnxloss/onnxloss/lossops"
	"github.com/onnxloss/onnxloss/onnxpb"
	"github.com/onnxloss/onnxloss/verify/eval"
)

// RunOptions controls a verification from real inputs.
type RunOptions struct {
	// Tolerance applies to every comparison when Explicit is set (the user
	// gave --rtol/--atol). Otherwise outputs compared with expected tensors
	// use RuntimeTolerance and the loss's closed-form check uses Tolerance
	// (DefaultTolerance when zero).
	Tolerance Tolerance
	Explicit  bool
	// Progress, when it is a terminal, receives a progress line for runs
	// longer than a second.
	Progress io.Writer
}

// FromInputs runs the whole model in the evaluator on inputs (tensors named
// after the graph inputs). With expect (tensors named after graph outputs,
// e.g. what ONNX Runtime produced) it compares every expected output. With
// onnxloss metadata it also compares the loss with the float64 closed form
// evaluated on the logits the evaluator computed.
func FromInputs(m *graphedit.Model, path string, inputs, expect []*onnxpb.TensorProto, opt RunOptions) (*Report, error) {
	md, hasMeta, err := inject.ReadMetadata(m)
	if err != nil {
		return nil, err
	}
	if !hasMeta && len(expect) == 0 {
		return nil, fmt.Errorf("%s has no onnxloss metadata, so there is nothing to compare the outputs with: pass --expect FILE", path)
	}
	if bad := eval.UnsupportedOps(m.Proto); len(bad) > 0 {
		return nil, &eval.UnsupportedError{Ops: bad}
	}
	sess, err := eval.NewSession(m.Proto, m.Dir)
	if err != nil {
		return nil, fmt.Errorf("preparing the evaluator: %w", err)
	}
	if opt.Tolerance == (Tolerance{}) {
		opt.Tolerance = DefaultTolerance
	}
	// A graph exported in training mode keeps its Dropout; like ONNX
	// Runtime's inference sessions, evaluate it as the identity.
	sess.UseInferenceMode()
	if isTerminal(opt.Progress) {
		sess.ReportProgress(opt.Progress)
	}
	feeds, err := feedsFor(sess, inputs)
	if err != nil {
		return nil, err
	}
	outputs := sess.Outputs()
	graphOutputs := map[string]bool{}
	for _, o := range outputs {
		graphOutputs[o] = true
	}
	for _, e := range expect {
		if !graphOutputs[e.GetName()] {
			return nil, fmt.Errorf("expected tensor %q is not a graph output (outputs: %s): name the tensors after the outputs", e.GetName(), strings.Join(outputs, ", "))
		}
	}
	var heads []inject.Head
	if hasMeta {
		heads = md.Heads
		if len(heads) == 0 {
			heads = []inject.Head{{Logits: md.Logits, LogitsRank: md.LogitsRank, ClassAxis: md.Axis(), Labels: md.Labels, LossOutput: md.LossOutput, Weight: 1}}
		}
	}
	withLoss := hasMeta
	for _, h := range heads {
		withLoss = withLoss && feeds[h.Labels] != nil
	}
	if withLoss && md.Targets != "multi-hot" {
		// A label outside [0, C) makes the graph's loss NaN: name it before
		// evaluating anything.
		for _, h := range heads {
			lt := feeds[h.Labels]
			labels := make([]int64, 0, eval.NumElements(lt.Shape()))
			for _, v := range lt.AsFloat64() {
				labels = append(labels, int64(v))
			}
			shape := make([]int, lt.Rank())
			for i, d := range lt.Shape() {
				shape[i] = int(d)
			}
			if err := lossops.CheckLabels(md.HeadSpec(h), md.NumClasses, labels, shape); err != nil {
				rep := &Report{Model: path, Mode: "inputs", Tolerance: opt.Tolerance}
				rep.add(Check{Name: "labels", Output: h.Labels, Problem: fmt.Sprintf("input %q: %v", h.Labels, err)})
				return rep, nil
			}
		}
	}
	if withLoss {
		for _, h := range heads {
			if !graphOutputs[h.Logits] && !slices.Contains(outputs, h.Logits) {
				outputs = append(outputs, h.Logits)
			}
		}
	}
	got, err := sess.Run(feeds, outputs)
	if err != nil {
		return nil, fmt.Errorf("evaluating %s: %w", path, err)
	}
	rep := &Report{Model: path, Mode: "inputs", Tolerance: opt.Tolerance, Pass: true, ScaledDefault: !opt.Explicit && len(expect) > 0}
	if rep.ScaledDefault {
		rep.Scale = ScaledTolerance(m.Proto, 0x1p-24)
	}
	if len(expect) > 0 {
		rep.Mode = "expect"
	}
	for _, e := range expect {
		want, err := eval.FromProto(e, "")
		if err != nil {
			return nil, fmt.Errorf("expected tensor %q: %w", e.GetName(), err)
		}
		g := got[e.GetName()]
		wv := want.AsFloat64()
		tol := opt.Tolerance
		if !opt.Explicit {
			tol = RuntimeTolerance(m.Proto, want.DType(), wv)
		}
		c := compareValues("vs expected", e.GetName(), g.AsFloat64(), wv, tol)
		if !slices.Equal(g.Shape(), want.Shape()) {
			c.Pass, c.Problem = false, fmt.Sprintf("shape %v, expected %v", g.Shape(), want.Shape())
		}
		rep.add(c)
	}
	if withLoss {
		var total []float64
		for i, h := range heads {
			logits := got[h.Logits]
			shape := make([]int, logits.Rank())
			for i, d := range logits.Shape() {
				shape[i] = int(d)
			}
			var labels []int64
			var targets []float64
			if md.Targets == "multi-hot" {
				targets = feeds[h.Labels].AsFloat64()
			} else {
				for _, v := range feeds[h.Labels].AsFloat64() {
					labels = append(labels, int64(v))
				}
			}
			want, _, err := lossops.Reference(md.HeadSpec(h), logits.AsFloat64(), shape, labels, targets)
			if err != nil {
				return nil, fmt.Errorf("closed form of the loss: %w", err)
			}
			if len(md.Heads) > 0 {
				rep.add(compareValues("vs closed form", h.LossOutput, got[h.LossOutput].AsFloat64(), want, opt.Tolerance))
			}
			if total == nil {
				total = make([]float64, len(want))
			}
			for k := range want {
				total[k] += h.Weight * want[k]
			}
			if i == len(heads)-1 {
				rep.add(compareValues("vs closed form", md.LossOutput, got[md.LossOutput].AsFloat64(), total, opt.Tolerance))
			}
		}
	}
	return rep, nil
}

// feedsFor converts input tensors and checks they are exactly the graph's
// inputs.
func feedsFor(sess *eval.Session, inputs []*onnxpb.TensorProto) (map[string]*eval.Tensor, error) {
	want := sess.Inputs()
	isInput := map[string]bool{}
	for _, n := range want {
		isInput[n] = true
	}
	feeds := map[string]*eval.Tensor{}
	for _, tp := range inputs {
		if !isInput[tp.GetName()] {
			return nil, fmt.Errorf("input tensor %q is not a graph input (inputs: %s)", tp.GetName(), strings.Join(want, ", "))
		}
		t, err := eval.FromProto(tp, "")
		if err != nil {
			return nil, fmt.Errorf("input %q: %w", tp.GetName(), err)
		}
		feeds[tp.GetName()] = t
	}
	var missing []string
	for _, n := range want {
		if feeds[n] == nil {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("the inputs file lacks graph input(s) %s: give a tensor for every input", strings.Join(missing, ", "))
	}
	return feeds, nil
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || f == nil {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
