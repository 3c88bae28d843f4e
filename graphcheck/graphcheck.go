// Package graphcheck validates the graph of an untrusted ONNX model before
// onnxloss edits or evaluates it, with one clear error for the first problem.
//
// It enforces what the ONNX checker (onnx.checker.check_model) enforces on
// structure, so that inject never writes a model the checker refuses and
// verify never evaluates a graph that is not one: an opset_import with each
// domain once and the default domain within a supported range; graph
// inputs, initializers and node outputs each named once (single static
// assignment); nodes in topological order, every input of a node defined by
// a graph input, an initializer or an earlier node (in subgraphs, also by
// the enclosing graphs up to the node that holds them); graph outputs
// defined, and the main graph's inputs and outputs typed.
package graphcheck

import (
	"errors"
	"fmt"

	"github.com/onnxloss/onnxloss/onnxpb"
)

// The default-domain opsets inject supports (see DESIGN.md, "What inject
// emits"): each op it emits has a known form at every one of them.
const (
	MinInjectOpset = 11
	MaxInjectOpset = 23
)

// Options are the opset bounds a caller accepts.
type Options struct {
	// MinOpset and MaxOpset bound the default-domain (ai.onnx) opset; 0
	// leaves that side unbounded.
	MinOpset, MaxOpset int64
}

// Inject is the Options inject runs with.
var Inject = Options{MinOpset: MinInjectOpset, MaxOpset: MaxInjectOpset}

// Check returns nil when mp's graph is well formed (see the package comment)
// and otherwise an error naming the first problem and what would be right.
func Check(mp *onnxpb.ModelProto, opt Options) error {
	if mp == nil || mp.GetGraph() == nil {
		return errors.New("the model has no graph")
	}
	if err := checkOpsets(mp, opt); err != nil {
		return err
	}
	c := &checker{}
	return c.graph(mp.GetGraph(), nil, true)
}

// DefaultOpset returns the version of the default (ai.onnx) domain that mp
// imports, 0 when it imports none.
func DefaultOpset(mp *onnxpb.ModelProto) int64 {
	for _, o := range mp.GetOpsetImport() {
		if isDefault(o.GetDomain()) {
			return o.GetVersion()
		}
	}
	return 0
}

func isDefault(domain string) bool { return domain == "" || domain == "ai.onnx" }

func checkOpsets(mp *onnxpb.ModelProto, opt Options) error {
	seen := map[string]bool{}
	for _, o := range mp.GetOpsetImport() {
		d := o.GetDomain()
		if isDefault(d) {
			d = ""
		}
		if seen[d] {
			return fmt.Errorf("the model imports domain %s twice in opset_import: each domain must appear once (re-export the model)", domainName(d))
		}
		seen[d] = true
		if o.GetVersion() < 1 {
			return fmt.Errorf("the model imports domain %s at version %d: opset versions start at 1 (re-export the model)", domainName(d), o.GetVersion())
		}
	}
	v := DefaultOpset(mp)
	switch {
	case v == 0 && opt.MinOpset > 0:
		return fmt.Errorf("the model imports no default-domain (ai.onnx) opset: onnxloss needs opset %d or newer (re-export with an opset_version)", opt.MinOpset)
	case v == 0:
		return nil // only other domains (e.g. ai.onnx.preview.training)
	case opt.MinOpset > 0 && v < opt.MinOpset:
		return fmt.Errorf("the model imports default-domain opset %d: onnxloss needs opset %d or newer (re-export with opset_version >= %d)", v, opt.MinOpset, opt.MinOpset)
	case opt.MaxOpset > 0 && v > opt.MaxOpset:
		return fmt.Errorf("the model imports default-domain opset %d: onnxloss supports opsets up to %d (no ONNX release defines opset %d; re-export with opset_version <= %d)", v, opt.MaxOpset, v, opt.MaxOpset)
	}
	return nil
}

func domainName(d string) string {
	if d == "" {
		return "ai.onnx (the default domain)"
	}
	return fmt.Sprintf("%q", d)
}

// scope is the set of names visible in a graph: its own and, for a
// subgraph, those of the enclosing graphs up to the node that holds it.
type scope struct {
	names  map[string]string // name → what defines it, for messages
	parent *scope
}

func (s *scope) lookup(name string) (string, bool) {
	for ; s != nil; s = s.parent {
		if what, ok := s.names[name]; ok {
			return what, true
		}
	}
	return "", false
}

type checker struct {
	depth int
}

// maxDepth bounds subgraph nesting (If inside Loop inside …), so a hostile
// model cannot exhaust the stack.
const maxDepth = 64

func nodeLabel(n *onnxpb.NodeProto, i int) string {
	if n.GetName() != "" {
		return fmt.Sprintf("node %q (%s)", n.GetName(), n.GetOpType())
	}
	return fmt.Sprintf("node #%d (%s)", i, n.GetOpType())
}

func (c *checker) graph(g *onnxpb.GraphProto, parent *scope, main bool) error {
	c.depth++
	defer func() { c.depth-- }()
	if c.depth > maxDepth {
		return fmt.Errorf("subgraphs are nested more than %d deep", maxDepth)
	}
	where := ""
	if !main {
		where = fmt.Sprintf(" of subgraph %q", g.GetName())
	}
	s := &scope{names: map[string]string{}, parent: parent}
	for _, vi := range g.GetInput() {
		name := vi.GetName()
		if name == "" {
			return fmt.Errorf("a graph input%s has no name: every input needs one", where)
		}
		if _, dup := s.names[name]; dup {
			return fmt.Errorf("graph input %q%s is declared twice: input names must be unique", name, where)
		}
		if main {
			if err := typed(vi, "graph input"); err != nil {
				return err
			}
		}
		s.names[name] = "a graph input"
	}
	inits := map[string]bool{}
	addInit := func(name string) error {
		if name == "" {
			return fmt.Errorf("an initializer%s has no name: every initializer needs one", where)
		}
		if inits[name] {
			return fmt.Errorf("initializer %q%s is given twice: initializer names must be unique", name, where)
		}
		inits[name] = true
		if _, isInput := s.names[name]; !isInput {
			s.names[name] = "an initializer"
		}
		return nil
	}
	for _, t := range g.GetInitializer() {
		if err := addInit(t.GetName()); err != nil {
			return err
		}
	}
	for _, st := range g.GetSparseInitializer() {
		if err := addInit(st.GetValues().GetName()); err != nil {
			return err
		}
	}
	nodes := g.GetNode()
	// Who produces what, over the whole graph, to tell "later" from
	// "nowhere" and to find duplicates with both producers named.
	producer := map[string]int{}
	for i, n := range nodes {
		for _, o := range n.GetOutput() {
			if o == "" {
				continue
			}
			if j, dup := producer[o]; dup && j != i {
				return fmt.Errorf("value %q%s is produced by two nodes, %s and %s: every value must have a single producer", o, where, nodeLabel(nodes[j], j), nodeLabel(n, i))
			}
			if j, dup := producer[o]; dup && j == i {
				return fmt.Errorf("%s%s lists output %q twice: every value must have a single producer", nodeLabel(n, i), where, o)
			}
			producer[o] = i
		}
	}
	for i, n := range nodes {
		if n.GetOpType() == "" {
			return fmt.Errorf("%s%s has no op_type", nodeLabel(n, i), where)
		}
		for _, in := range n.GetInput() {
			if in == "" {
				continue // an optional input left out
			}
			if _, ok := s.lookup(in); ok {
				continue
			}
			if j, later := producer[in]; later {
				if cyc := cycle(nodes, producer); cyc != "" {
					return fmt.Errorf("the graph%s has a cycle (%s): an ONNX graph must be acyclic", where, cyc)
				}
				return fmt.Errorf("%s%s reads %q before %s produces it: nodes must be in topological order (re-export the model, or sort it with onnx tools)", nodeLabel(n, i), where, in, nodeLabel(nodes[j], j))
			}
			return fmt.Errorf("%s%s reads %q, which no graph input, initializer or node defines", nodeLabel(n, i), where, in)
		}
		for _, a := range n.GetAttribute() {
			subs := a.GetGraphs()
			if a.GetG() != nil {
				subs = append([]*onnxpb.GraphProto{a.GetG()}, subs...)
			}
			for _, sg := range subs {
				if err := c.graph(sg, s, false); err != nil {
					return fmt.Errorf("in attribute %q of %s%s: %w", a.GetName(), nodeLabel(n, i), where, err)
				}
			}
		}
		for _, o := range n.GetOutput() {
			if o == "" {
				continue
			}
			if what, ok := s.lookup(o); ok {
				return fmt.Errorf("%s%s outputs %q, which is already %s: every value must have a single producer", nodeLabel(n, i), where, o, what)
			}
			s.names[o] = "a node output"
		}
	}
	if main && len(g.GetOutput()) == 0 {
		return errors.New("the graph has no outputs")
	}
	outs := map[string]bool{}
	for _, vi := range g.GetOutput() {
		name := vi.GetName()
		if name == "" {
			return fmt.Errorf("a graph output%s has no name: every output needs one", where)
		}
		if outs[name] {
			return fmt.Errorf("graph output %q%s is declared twice: output names must be unique", name, where)
		}
		outs[name] = true
		if _, ok := s.lookup(name); !ok {
			return fmt.Errorf("graph output %q%s is not a graph input, an initializer or the output of any node", name, where)
		}
		if main {
			if err := typed(vi, "graph output"); err != nil {
				return err
			}
		}
	}
	return nil
}

// typed refuses a value_info of the main graph without a type, or a tensor
// type without an element type: ONNX requires both, and inject needs them.
func typed(vi *onnxpb.ValueInfoProto, what string) error {
	t := vi.GetType()
	if t == nil || t.GetValue() == nil {
		return fmt.Errorf("%s %q has no type: the main graph's inputs and outputs must declare one (re-export the model)", what, vi.GetName())
	}
	if tt, ok := t.GetValue().(*onnxpb.TypeProto_TensorType); ok {
		e := tt.TensorType.GetElemType()
		if e == int32(onnxpb.TensorProto_UNDEFINED) {
			return fmt.Errorf("%s %q is a tensor without an element type: declare float, int64, … (re-export the model)", what, vi.GetName())
		}
	}
	return nil
}

// cycle returns the names of the nodes on one cycle of the graph, or "" if
// the nodes can be ordered (they are then merely out of order).
func cycle(nodes []*onnxpb.NodeProto, producer map[string]int) string {
	indeg := make([]int, len(nodes))
	users := make([][]int, len(nodes))
	for i, n := range nodes {
		seen := map[int]bool{}
		for _, in := range n.GetInput() {
			if j, ok := producer[in]; ok && in != "" && !seen[j] {
				seen[j] = true
				indeg[i]++
				users[j] = append(users[j], i)
			}
		}
	}
	var ready []int
	for i := range nodes {
		if indeg[i] == 0 {
			ready = append(ready, i)
		}
	}
	done := 0
	for len(ready) > 0 {
		i := ready[len(ready)-1]
		ready = ready[:len(ready)-1]
		done++
		for _, u := range users[i] {
			if indeg[u]--; indeg[u] == 0 {
				ready = append(ready, u)
			}
		}
	}
	if done == len(nodes) {
		return ""
	}
	// Walk back from a node left over: each has an unsorted predecessor, so
	// the walk must revisit a node, closing a cycle.
	start := -1
	for i := range nodes {
		if indeg[i] > 0 {
			start = i
			break
		}
	}
	pos := map[int]int{}
	var path []int
	for i := start; ; {
		if p, ok := pos[i]; ok {
			path = path[p:]
			break
		}
		pos[i] = len(path)
		path = append(path, i)
		next := -1
		for _, in := range nodes[i].GetInput() {
			if j, ok := producer[in]; ok && in != "" && indeg[j] > 0 {
				next = j
				break
			}
		}
		if next < 0 {
			return nodeLabel(nodes[start], start)
		}
		i = next
	}
	// Report the cycle in data-flow order, starting at its first node in
	// the file, so the message does not depend on where the walk began.
	for l, r := 0, len(path)-1; l < r; l, r = l+1, r-1 {
		path[l], path[r] = path[r], path[l]
	}
	first := 0
	for k, i := range path {
		if i < path[first] {
			first = k
		}
	}
	labels := make([]string, 0, len(path)+1)
	for k := range path {
		i := path[(first+k)%len(path)]
		labels = append(labels, nodeLabel(nodes[i], i))
	}
	labels = append(labels, labels[0])
	return joinArrow(labels)
}

func joinArrow(l []string) string {
	s := ""
	for i, x := range l {
		if i > 0 {
			s += " → "
		}
		s += x
	}
	return s
}
