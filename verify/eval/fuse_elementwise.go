package eval

import (
	"fmt"
	"slices"

	"github.com/onnxloss/onnxloss/onnxpb"
)

// Elementwise groups. A loss over N×C logits is a run of elementwise nodes
// (Abs, Exp, Log, Add, Mul, ...) on N×C tensors: run one by one, each reads
// and writes hundreds of megabytes, and the run is bound by memory, not
// arithmetic. A group runs such nodes together over chunks of a few
// thousand elements, keeping the values only the group reads in per-worker
// scratch that stays in cache, and writing full tensors only for the values
// something outside the group reads. Each node still applies its own
// float32 kernel to each element, so the results are the ones the nodes
// give run separately. When a run's shapes or types do not fit (see
// groupPlan), the group runs its nodes one after the other.

// groupChunk is the number of elements a group handles at a time (rounded
// to a whole number of rows of a row-broadcast input): 16 values of 32 KB.
// groupMinElements is the output size from which a group pays: below it
// (1 MB of float32) the values stay in cache between nodes anyway, and the
// nodes run as fast one by one.
const (
	groupChunk       = 8192
	groupMinElements = 1 << 18
)

// fusedElementwiseGroup is the op of an elementwise group.
var fusedElementwiseGroup = &opDef{
	info: OpInfo{OpType: "elementwise group", Family: "fuse"},
	fn:   opElementwiseGroup,
}

// elemGroup is a group's members, in order, and which of the values they
// produce are written out (the group node's outputs, in order).
type elemGroup struct {
	members []*prepNode
	outputs []string
}

// groupable reports whether a node may join an elementwise group: a
// float unary op with an attribute-free float32 kernel, or Add, Sub, Mul,
// Div, with one output and no subgraph.
func groupable(pn *prepNode) bool {
	n := pn.proto
	if pn.def == nil || pn.absorbed != nil || len(pn.implicit) > 0 || len(n.GetOutput()) != 1 || n.GetOutput()[0] == "" {
		return false
	}
	if d := n.GetDomain(); d != "" && d != "ai.onnx" {
		return false
	}
	switch op := n.GetOpType(); op {
	case "Add", "Sub", "Mul", "Div":
		// No attributes: before opset 7 a "broadcast"/"axis" pair could align
		// the second operand with leading dims, which the chunks do not follow.
		return len(n.GetInput()) == 2 && n.GetInput()[0] != "" && n.GetInput()[1] != "" && len(n.GetAttribute()) == 0
	default:
		d, ok := unaryDefs[op]
		return ok && d.f32 != nil && d.f32c == nil && len(n.GetInput()) == 1 && n.GetInput()[0] != "" && len(n.GetAttribute()) == 0
	}
}

// groupElementwise replaces runs of groupable nodes by group nodes (a run
// ends where a non-member reads one of its values) and returns the new
// node list with the values no longer written out. outputs are the graph
// outputs, which are always written.
func groupElementwise(nodes []*prepNode, outputs []string) ([]*prepNode, []string) {
	readers := map[string]int{}
	for _, pn := range nodes {
		for _, in := range pn.inputs() {
			readers[in]++
		}
	}
	for _, o := range outputs {
		readers[o] += 1 << 20 // always written out
	}
	var out []*prepNode
	var internal []string
	var open []*prepNode
	produced := map[string]bool{} // by the open group
	flush := func() {
		switch {
		case len(open) == 1:
			out = append(out, open[0])
		case len(open) > 1:
			pn, hidden := newGroupNode(open, readers)
			if len(hidden) == 0 {
				out = append(out, open...) // nothing kept in cache: no gain
			} else {
				out = append(out, pn)
				internal = append(internal, hidden...)
			}
		}
		open = nil
		clear(produced)
	}
	for _, pn := range nodes {
		if groupable(pn) {
			open = append(open, pn)
			produced[pn.proto.GetOutput()[0]] = true
			continue
		}
		for _, in := range pn.inputs() {
			if produced[in] {
				flush()
				break
			}
		}
		out = append(out, pn)
	}
	flush()
	return out, internal
}

// newGroupNode builds the node of a group, and lists the values only its
// members read.
func newGroupNode(members []*prepNode, readers map[string]int) (*prepNode, []string) {
	produced := map[string]bool{}
	inside := map[string]int{}
	var ext []string
	for _, m := range members {
		for _, in := range m.proto.GetInput() {
			if !produced[in] && !slices.Contains(ext, in) {
				ext = append(ext, in)
			}
			inside[in]++
		}
		produced[m.proto.GetOutput()[0]] = true
	}
	g := &elemGroup{members: members}
	var hidden []string
	for _, m := range members {
		v := m.proto.GetOutput()[0]
		if readers[v] > inside[v] {
			g.outputs = append(g.outputs, v)
		} else {
			hidden = append(hidden, v)
		}
	}
	first := members[0].proto.GetName()
	proto := &onnxpb.NodeProto{Name: &first, Input: ext, Output: g.outputs}
	return &prepNode{proto: proto, attrs: map[string]*onnxpb.AttributeProto{}, def: fusedElementwiseGroup, group: g}, hidden
}

// groupPlan is how one run of a group goes: every member's output has
// shape shape; each external input is whole (its own slice per chunk) or
// repeats every rep[i] elements (a scalar, rep 1, or a row broadcast along
// the leading dims); chunks are whole rows.
type groupPlan struct {
	shape []int64
	n     int
	rep   []int // per external input; 0 = whole
	chunk int
}

// plan checks a run's inputs against the fast path: float32 throughout,
// one output shape, inputs whole, scalar or repeated rows (one row length).
func (g *elemGroup) plan(ext []string, in []*Tensor) (*groupPlan, bool) {
	shapes := map[string][]int64{}
	for i, name := range ext {
		if in[i] == nil || in[i].dtype != Float32 {
			return nil, false
		}
		shapes[name] = in[i].shape
	}
	var shape []int64
	for _, m := range g.members {
		var s []int64
		if len(m.proto.GetInput()) == 1 {
			s = shapes[m.proto.GetInput()[0]]
		} else {
			var err error
			if s, err = broadcastShapes(shapes[m.proto.GetInput()[0]], shapes[m.proto.GetInput()[1]]); err != nil {
				return nil, false
			}
		}
		if shape == nil {
			shape = s
		} else if !slices.Equal(shape, s) {
			return nil, false
		}
		shapes[m.proto.GetOutput()[0]] = s
	}
	p := &groupPlan{shape: shape, n: int(NumElements(shape)), rep: make([]int, len(ext))}
	if p.n < groupMinElements {
		return nil, false
	}
	row := 1
	for i, t := range in {
		switch n := t.Len(); {
		case slices.Equal(t.shape, shape):
		case n == 1:
			p.rep[i] = 1
		default:
			// A row: the trailing dims of shape, after leading 1s.
			s := t.shape
			for len(s) > 0 && s[0] == 1 {
				s = s[1:]
			}
			if len(s) > len(shape) || !slices.Equal(s, shape[len(shape)-len(s):]) || (row > 1 && row != n) {
				return nil, false
			}
			row, p.rep[i] = n, n
		}
	}
	p.chunk = max(row, (groupChunk+row-1)/row*row)
	return p, true
}

// opElementwiseGroup runs a group: over chunks on every core when the run
// fits groupPlan, else member by member.
func opElementwiseGroup(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	g := c.prep.group
	ext := c.prep.proto.GetInput()
	p, ok := g.plan(ext, in)
	if !ok {
		return g.runMembers(c, ext, in)
	}
	outs := make([]*Tensor, len(g.outputs))
	outData := map[string][]float32{}
	for i, name := range g.outputs {
		outs[i] = c.alloc(Float32, p.shape)
		outData[name] = outs[i].data.([]float32)
	}
	kerns := make([]func(o, a, b []float32), len(g.members))
	for i, m := range g.members {
		if op := m.proto.GetOpType(); len(m.proto.GetInput()) == 2 {
			kerns[i] = arithKern32(op).vv
		} else {
			f := unaryDefs[op].f32
			kerns[i] = func(o, a, _ []float32) { f(o, a) }
		}
	}
	chunks := (p.n + p.chunk - 1) / p.chunk
	parallelFor(chunks, p.chunk*len(g.members), func(lo, hi int) {
		// Per worker: the repeated inputs expanded to a chunk, and one
		// buffer per value only the group reads.
		local := map[string][]float32{}
		var scratch []*[]float32
		defer func() {
			for _, b := range scratch {
				putScratch(b)
			}
		}()
		buf := func() []float32 {
			b := getScratch(p.chunk)
			scratch = append(scratch, b)
			return *b
		}
		for i, name := range ext {
			if r := p.rep[i]; r > 0 {
				b := buf()
				copy(b, in[i].data.([]float32)[:r])
				for j := r; j < len(b); j *= 2 {
					copy(b[j:], b[:j])
				}
				local[name] = b
			}
		}
		for _, m := range g.members {
			if v := m.proto.GetOutput()[0]; outData[v] == nil {
				local[v] = buf()
			}
		}
		whole := map[string][]float32{}
		for i, name := range ext {
			if p.rep[i] == 0 {
				whole[name] = in[i].data.([]float32)
			}
		}
		for q := lo; q < hi; q++ {
			off := q * p.chunk
			n := min(p.chunk, p.n-off)
			slice := func(name string) []float32 {
				if d, ok := whole[name]; ok {
					return d[off : off+n]
				}
				if d, ok := outData[name]; ok {
					return d[off : off+n]
				}
				return local[name][:n]
			}
			for i, m := range g.members {
				ins := m.proto.GetInput()
				a := slice(ins[0])
				var b []float32
				if len(ins) == 2 {
					b = slice(ins[1])
				}
				kerns[i](slice(m.proto.GetOutput()[0]), a, b)
			}
		}
	})
	return outs, nil
}

// runMembers runs a group's nodes one after the other, as the graph
// would without the group: a value only the group reads may be overwritten
// by its last reader, and its buffer goes back to the run's pool after it.
func (g *elemGroup) runMembers(c *opCtx, ext []string, in []*Tensor) ([]*Tensor, error) {
	vals := map[string]*Tensor{}
	for i, name := range ext {
		vals[name] = in[i]
	}
	written := map[string]bool{}
	for _, name := range g.outputs {
		written[name] = true
	}
	left := map[string]int{} // reads still to come of the values only the group reads
	for _, m := range g.members {
		for _, name := range m.proto.GetInput() {
			left[name]++
		}
	}
	produced := map[string]bool{}
	for _, m := range g.members {
		produced[m.proto.GetOutput()[0]] = true
	}
	hidden := func(name string) bool { return produced[name] && !written[name] }
	for _, m := range g.members {
		ins := m.proto.GetInput()
		args := make([]*Tensor, len(ins))
		dead := make([]bool, len(args))
		for i, name := range ins {
			args[i] = vals[name]
			left[name]--
			// The last read of a value only the group holds (and the only
			// read of it by this node): the op may write its output there.
			dead[i] = hidden(name) && left[name] == 0 && (len(ins) == 1 || ins[0] != ins[1])
		}
		res, err := callOp(m.def, c.absorbedCtx(m, dead), args)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.label, err)
		}
		if len(res) == 0 || res[0] == nil {
			return nil, fmt.Errorf("%s: output 0 (%q) was not produced", m.label, m.proto.GetOutput()[0])
		}
		vals[m.proto.GetOutput()[0]] = res[0]
		for i := range ins {
			if dead[i] {
				c.recycleIntermediate(args[i], res[0])
			}
		}
	}
	outs := make([]*Tensor, len(g.outputs))
	for i, name := range g.outputs {
		outs[i] = vals[name]
	}
	return outs, nil
}
