package autodiff

import (
	"fmt"
	"sort"

	"github.com/onnxloss/onnxloss/onnxpb"
)

// Rule is the gradient of one op: which inputs carry gradient and how to
// compute their gradients from the gradients of the outputs.
type Rule struct {
	// Op is the default-domain op type the rule is for.
	Op string
	// Inputs lists the input positions gradients flow to. An op with none
	// (Shape, Equal, ArgMax, …) is a registered zero-gradient op: values it
	// produces are constants for differentiation.
	Inputs []int
	// Differentiable, when set, narrows Inputs for one node (e.g. a Cast to
	// an integer type carries no gradient). nil keeps Inputs.
	Differentiable func(n *onnxpb.NodeProto) []int
	// Grad appends the nodes computing the input gradients of c's node.
	// It is called only when some output has a gradient and some input in
	// Inputs needs one (c.Need).
	Grad func(c *Ctx) error
	// Infer returns the element types and static shapes of the node's
	// outputs from those of its inputs (nil: the op's outputs are unknown).
	Infer func(c *InferCtx) []Shape
}

var rules = map[string]*Rule{}

// Register adds rules to the registry; each op may be registered once.
// Called from the init functions of the rule files.
func Register(rs ...*Rule) {
	for _, r := range rs {
		if _, dup := rules[r.Op]; dup {
			panic("autodiff: duplicate rule for " + r.Op)
		}
		rules[r.Op] = r
	}
}

// Ops lists the op types that have a rule (zero-gradient ops included),
// sorted.
func Ops() []string {
	out := make([]string, 0, len(rules))
	for op := range rules {
		out = append(out, op)
	}
	sort.Strings(out)
	return out
}

// HasRule reports whether op has a gradient rule.
func HasRule(op string) bool { return rules[op] != nil }

// diffInputs returns the input positions that carry gradient for n.
func (r *Rule) diffInputs(n *onnxpb.NodeProto) []int {
	ins := r.Inputs
	if r.Differentiable != nil {
		ins = r.Differentiable(n)
	}
	var out []int
	for _, i := range ins {
		if i < len(n.GetInput()) && n.GetInput()[i] != "" {
			out = append(out, i)
		}
	}
	return out
}

// NoRuleError reports an op on the path from the parameters to the value
// being differentiated that has no gradient rule.
type NoRuleError struct {
	// Op is the node's op type, Node its name, Input the differentiated
	// value it consumes.
	Op, Domain, Node, Input string
}

func (e *NoRuleError) Error() string {
	op := e.Op
	if e.Domain != "" && e.Domain != "ai.onnx" {
		op = e.Domain + "." + op
	}
	return fmt.Sprintf("no gradient rule for %s node %q (it consumes %q, which depends on trainable parameters)", op, e.Node, e.Input)
}

// errNonConstAxes is returned for a node whose axes are computed at run time.
var errNonConstAxes = fmt.Errorf("the axes are not constant")
