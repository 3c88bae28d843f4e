package graphedit

import (
	"fmt"
	"strings"

	"github.com/onnxloss/onnxloss/internal/termtext"
	"github.com/onnxloss/onnxloss/onnxpb"
)

// Loss is a loss a training graph was exported with: one
// SoftmaxCrossEntropyLoss node, or NegativeLogLikelihoodLoss (after a
// LogSoftmax in the two-node form).
type Loss struct {
	// Kind is "SoftmaxCrossEntropyLoss", "NegativeLogLikelihoodLoss" or
	// "LogSoftmax+NegativeLogLikelihoodLoss".
	Kind string `json:"kind"`
	// Nodes are the names of the loss's nodes (the LogSoftmax first, when it
	// belongs to the loss alone).
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

	// NodeProtos are the loss's nodes, as in Nodes.
	NodeProtos []*onnxpb.NodeProto `json:"-"`
	// LogSoftmax is the LogSoftmax of the two-node form (also when other
	// nodes read its output and it is not in NodeProtos); nil otherwise.
	LogSoftmax *onnxpb.NodeProto `json:"-"`
}

// Losses returns the loss nodes of the main graph, in graph order.
func (m *Model) Losses() []Loss {
	var out []Loss
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
				l.LogSoftmax = p
				// The LogSoftmax goes with the loss only when nothing else
				// reads its output.
				if len(m.Consumers(l.Scores)) == 1 && !m.IsGraphOutput(l.Scores) {
					l.Nodes = append([]string{p.GetName()}, l.Nodes...)
					l.NodeProtos = append([]*onnxpb.NodeProto{p}, l.NodeProtos...)
				}
				l.Scores = p.GetInput()[0]
			}
			out = append(out, l)
		}
	}
	return out
}

func lossFromNode(n *onnxpb.NodeProto) Loss {
	l := Loss{Nodes: []string{n.GetName()}, NodeProtos: []*onnxpb.NodeProto{n}, Reduction: "mean"}
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

// String describes the loss in one line: kind, nodes, inputs, attributes.
func (l Loss) String() string {
	name := termtext.Name // names from the model, printed safely
	nodes := make([]string, len(l.Nodes))
	for i, n := range l.Nodes {
		nodes[i] = name(n)
	}
	s := fmt.Sprintf("%s (node %s): scores %s, labels %s, reduction %s", l.Kind, strings.Join(nodes, " → "), name(l.Scores), name(l.Labels), name(l.Reduction))
	if l.Weight != "" {
		s += ", weight " + name(l.Weight)
	}
	if l.IgnoreIndex != nil {
		s += fmt.Sprintf(", ignore_index %d", *l.IgnoreIndex)
	}
	return s + ", output " + name(l.Output)
}
