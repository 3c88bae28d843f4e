package inject_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/onnxpb"
)

// gradientOps are the ops with a gradient in ONNX Runtime training that the
// DESIGN allows on the path from the logits to the loss.
var gradientOps = setOf("Add Sub Mul Div Neg Abs Exp Log Pow Relu Sigmoid Softmax LogSoftmax Max Min Clip Where Gather GatherElements ReduceSum ReduceMean Reshape Unsqueeze Squeeze Transpose Expand Identity Cast Concat Slice Flatten")

// pathOpsByLoss allows, for one loss each, ops on the logits→loss path
// beyond gradientOps. lovasz_softmax sorts the errors with TopK and counts
// the sorted labels with CumSum, k from Shape: the gradient reaches the logits only
// through GatherElements of the errors (TopK's indices and the label
// CumSums carry none), and onnxloss's step model differentiates it
// (autodiff, checked against torch autograd); ONNX Runtime's own training
// package is not claimed for it (README, "Lovász-Softmax").
var pathOpsByLoss = map[string]map[string]bool{
	"lovasz_softmax": setOf("TopK CumSum Shape"),
}

// labelOps may appear only off that path (on the labels side).
var labelOps = setOf("OneHot Equal Not Less Greater Constant")

func setOf(s string) map[string]bool {
	m := map[string]bool{}
	for _, f := range strings.Fields(s) {
		m[f] = true
	}
	return m
}

// TestEmittedOpsHaveGradients walks every injected golden model: each node
// inject added is in the default domain; each node on a path from the
// logits to the loss is in the gradient list; the rest are label-side ops.
func TestEmittedOpsHaveGradients(t *testing.T) {
	seen := map[string]bool{}
	for _, ic := range injectGoldens(t, t.TempDir()) {
		m, err := graphedit.Load(ic.Path)
		if err != nil {
			t.Fatal(err)
		}
		for op := range checkGradientOps(t, ic.Case.Name, m, ic.Meta.Logits, ic.Meta.LossOutput) {
			seen[op] = true
		}
	}
	t.Logf("ops emitted: %v", keys(seen))
}

// checkGradientOps checks the nodes inject added to m: default domain, on
// the logits→loss path only ops with an ONNX Runtime gradient, elsewhere
// label-side ops. It returns the op types seen.
func checkGradientOps(t *testing.T, name string, m *graphedit.Model, logits, loss string) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	onPath := logitsToLoss(m, logits, loss)
	extra := pathOpsByLoss[strings.SplitN(name, "/", 2)[0]]
	if len(onPath) == 0 {
		t.Fatalf("%s: no path from %s to %s", name, logits, loss)
	}
	for _, n := range m.Graph().GetNode() {
		if !strings.HasPrefix(n.GetName(), "onnxloss/") {
			continue
		}
		if d := n.GetDomain(); d != "" && d != "ai.onnx" {
			t.Errorf("%s: node %s in domain %q", name, n.GetName(), d)
		}
		op := n.GetOpType()
		seen[op] = true
		if onPath[n] && !gradientOps[op] && !extra[op] {
			t.Errorf("%s: %s (%s) is on the logits→loss path but has no ONNX Runtime gradient", name, n.GetName(), op)
		}
		if !onPath[n] && !gradientOps[op] && !labelOps[op] && !extra[op] {
			t.Errorf("%s: %s (%s) is not an allowed op", name, n.GetName(), op)
		}
	}
	return seen
}

// logitsToLoss returns the nodes that lie on some path from value from to
// value to: reachable forward from from and backward from to.
func logitsToLoss(m *graphedit.Model, from, to string) map[*onnxpb.NodeProto]bool {
	nodes := m.Graph().GetNode()
	fwd := map[string]bool{from: true}
	for changed := true; changed; {
		changed = false
		for _, n := range nodes {
			if anyIn(n.GetInput(), fwd) {
				for _, o := range n.GetOutput() {
					if !fwd[o] {
						fwd[o], changed = true, true
					}
				}
			}
		}
	}
	back := map[string]bool{to: true}
	onPath := map[*onnxpb.NodeProto]bool{}
	for changed := true; changed; {
		changed = false
		for _, n := range nodes {
			if onPath[n] || !anyIn(n.GetOutput(), back) || !anyIn(n.GetOutput(), fwd) {
				continue
			}
			onPath[n], changed = true, true
			for _, in := range n.GetInput() {
				back[in] = true
			}
		}
	}
	return onPath
}

func anyIn(names []string, set map[string]bool) bool {
	for _, n := range names {
		if set[n] {
			return true
		}
	}
	return false
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
