package eval

import (
	"fmt"
	"sort"
	"strings"

	"github.com/onnxloss/onnxloss/onnxpb"
)

// UnsupportedOp is an operator a model uses that the evaluator does not
// implement.
type UnsupportedOp struct {
	// Domain is the operator set domain ("" for the default ONNX domain).
	Domain string
	// OpType is the operator name.
	OpType string
	// Nodes is how many nodes (subgraphs included) use it.
	Nodes int
	// First is the name of the first such node.
	First string
}

// String names the op with its domain and node count.
func (u UnsupportedOp) String() string {
	s := u.OpType
	if u.Domain != "" && u.Domain != "ai.onnx" {
		s = u.Domain + ":" + s
	}
	if u.Nodes > 1 {
		return fmt.Sprintf("%s (%d nodes)", s, u.Nodes)
	}
	return fmt.Sprintf("%s (node %q)", s, u.First)
}

// UnsupportedOps lists every operator of model (main graph and subgraphs)
// the evaluator does not implement, sorted by domain and name.
func UnsupportedOps(model *onnxpb.ModelProto) []UnsupportedOp {
	found := map[string]*UnsupportedOp{}
	var walk func(g *onnxpb.GraphProto)
	walk = func(g *onnxpb.GraphProto) {
		for _, n := range g.GetNode() {
			if !Supported(n.GetDomain(), n.GetOpType()) {
				k := n.GetDomain() + "\x00" + n.GetOpType()
				u := found[k]
				if u == nil {
					u = &UnsupportedOp{Domain: n.GetDomain(), OpType: n.GetOpType(), First: n.GetName()}
					found[k] = u
				}
				u.Nodes++
			}
			for _, a := range n.GetAttribute() {
				if a.GetG() != nil {
					walk(a.GetG())
				}
				for _, sg := range a.GetGraphs() {
					walk(sg)
				}
			}
		}
	}
	walk(model.GetGraph())
	out := make([]UnsupportedOp, 0, len(found))
	for _, u := range found {
		out = append(out, *u)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Domain != out[j].Domain {
			return out[i].Domain < out[j].Domain
		}
		return out[i].OpType < out[j].OpType
	})
	return out
}

// UnsupportedError is the error for a model with unsupported operators:
// it names all of them at once.
type UnsupportedError struct{ Ops []UnsupportedOp }

func (e *UnsupportedError) Error() string {
	names := make([]string, len(e.Ops))
	for i, u := range e.Ops {
		names[i] = u.String()
	}
	return fmt.Sprintf("the evaluator does not implement %d operator(s) this model uses: %s (docs/OPS.md lists the supported ones)", len(e.Ops), strings.Join(names, ", "))
}
