package inject

import (
	"fmt"
	"strings"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/onnxpb"
)

// ExistingLoss is a loss a training graph was exported with: one
// SoftmaxCrossEntropyLoss node, or LogSoftmax → NegativeLogLikelihoodLoss.
type ExistingLoss struct {
	// Kind is "SoftmaxCrossEntropyLoss" or "LogSoftmax+NegativeLogLikelihoodLoss".
	Kind string `json:"kind"`
	// Nodes are the loss's nodes (the LogSoftmax first, when there is one).
	Nodes []string `json:"nodes"`
	// Scores is the logits input (before the LogSoftmax, if any).
	Scores string `json:"scores"`
	// Labels is the target input.
	Labels string `json:"labels"`
	// Weight is the class-weight input, "" if none.
	Weight string `json:"weight,omitempty"`
	// Reduction is the node's reduction attribute (mean when absent).
	Reduction string `json:"reduction"`
	// IgnoreIndex is the node's ignore_index attribute, nil when absent.
	IgnoreIndex *int64 `json:"ignore_index"`
	// Output is the loss value the node produces.
	Output string `json:"output"`
	// LogProb is SoftmaxCrossEntropyLoss's optional log_prob output.
	LogProb string `json:"log_prob,omitempty"`

	nodes      []*onnxpb.NodeProto
	logSoftmax *onnxpb.NodeProto // the LogSoftmax of the two-node form

}

// FindLosses returns the losses in the model's main graph, in graph order.
func FindLosses(m *graphedit.Model) []ExistingLoss {
	var out []ExistingLoss
	for _, n := range m.Graph().GetNode() {
		if d := n.GetDomain(); d != "" && d != "ai.onnx" {
			continue
		}
		switch n.GetOpType() {
		case "SoftmaxCrossEntropyLoss":
			l := lossFromNode(n)
			l.Kind = "SoftmaxCrossEntropyLoss"
			if len(n.GetOutput()) > 1 {
				l.LogProb = n.GetOutput()[1]
			}
			out = append(out, l)
		case "NegativeLogLikelihoodLoss":
			l := lossFromNode(n)
			l.Kind = "NegativeLogLikelihoodLoss"
			if p := m.Producer(l.Scores); p != nil && p.GetOpType() == "LogSoftmax" && len(p.GetInput()) == 1 {
				l.Kind = "LogSoftmax+NegativeLogLikelihoodLoss"
				l.logSoftmax = p
				// The LogSoftmax goes with the loss only when nothing else
				// reads its output.
				if len(m.Consumers(l.Scores)) == 1 && !m.IsGraphOutput(l.Scores) {
					l.Nodes = append([]string{p.GetName()}, l.Nodes...)
					l.nodes = append([]*onnxpb.NodeProto{p}, l.nodes...)
				}
				l.Scores = p.GetInput()[0]
			}
			out = append(out, l)
		}
	}
	return out
}

func lossFromNode(n *onnxpb.NodeProto) ExistingLoss {
	l := ExistingLoss{Nodes: []string{n.GetName()}, nodes: []*onnxpb.NodeProto{n}, Reduction: "mean"}
	in := n.GetInput()
	if len(in) > 0 {
		l.Scores = in[0]
	}
	if len(in) > 1 {
		l.Labels = in[1]
	}
	if len(in) > 2 {
		l.Weight = in[2]
	}
	if len(n.GetOutput()) > 0 {
		l.Output = n.GetOutput()[0]
	}
	for _, a := range n.GetAttribute() {
		switch a.GetName() {
		case "reduction":
			l.Reduction = string(a.GetS())
		case "ignore_index":
			v := a.GetI()
			l.IgnoreIndex = &v
		}
	}
	return l
}

// String describes the loss in one line.
func (l ExistingLoss) String() string {
	s := fmt.Sprintf("%s (node %s): scores %s, labels %s, reduction %s", l.Kind, strings.Join(l.Nodes, " → "), l.Scores, l.Labels, l.Reduction)
	if l.Weight != "" {
		s += ", weight " + l.Weight
	}
	if l.IgnoreIndex != nil {
		s += fmt.Sprintf(", ignore_index %d", *l.IgnoreIndex)
	}
	return s + ", output " + l.Output
}

// removeLoss deletes the loss's nodes and the initializers nothing else uses.
func removeLoss(m *graphedit.Model, l ExistingLoss) {
	g := m.Graph()
	drop := map[*onnxpb.NodeProto]bool{}
	for _, n := range l.nodes {
		drop[n] = true
	}
	var inputs []string
	kept := g.Node[:0]
	for _, n := range g.Node {
		if drop[n] {
			inputs = append(inputs, n.GetInput()...)
			continue
		}
		kept = append(kept, n)
	}
	g.Node = kept
	for _, in := range inputs {
		if in == "" || len(m.Consumers(in)) > 0 || m.IsGraphOutput(in) || m.Initializer(in) == nil {
			continue
		}
		inits := g.Initializer[:0]
		for _, t := range g.Initializer {
			if t.GetName() != in {
				inits = append(inits, t)
			}
		}
		g.Initializer = inits
		// IR < 4 lists initializers among the graph inputs as well.
		gin := g.Input[:0]
		for _, vi := range g.Input {
			if vi.GetName() != in {
				gin = append(gin, vi)
			}
		}
		g.Input = gin
	}
	m.ResetNames()
}
