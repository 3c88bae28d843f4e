package autodiff

import (
	"errors"
	"fmt"
	"strings"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/onnxpb"
)

// Prefix starts the name of every node, value and initializer the engine
// adds.
const Prefix = "onnxloss/grad"

// IsStopGradient reports whether n is a stop-gradient marker: an Identity
// whose output name contains "stop_gradient" (torch's .detach()). Its
// output is a constant for differentiation.
func IsStopGradient(n *onnxpb.NodeProto) bool {
	return n.GetOpType() == "Identity" && len(n.GetOutput()) == 1 && strings.Contains(n.GetOutput()[0], "stop_gradient")
}

// Gradients appends to m's main graph the nodes computing d loss / d p for
// each initializer p in params and returns the gradient values' names in
// params order. loss must be a scalar float value of the graph. Only the
// part of the graph between the params and the loss is differentiated;
// nodes are emitted in the forms m's default-domain opset wants, and
// opset_import is left as it is. An op on that part without a rule is a
// *NoRuleError. A param the loss does not depend on gets zeros.
func Gradients(m *onnxpb.ModelProto, loss string, params []string) ([]string, error) {
	gm := &graphedit.Model{Proto: m}
	opset := gm.DefaultDomainOpset()
	if opset < 11 {
		return nil, fmt.Errorf("default-domain opset %d: gradients need opset 11 or newer", opset)
	}
	g := newGraph(gm)
	ls := g.shape(loss)
	if !g.isValue(loss) {
		return nil, fmt.Errorf("value %q is not in the graph", loss)
	}
	if ls.Known && numel(ls.Dims) != 1 {
		return nil, fmt.Errorf("value %q has shape %v: the differentiated value must be a scalar", loss, ls.Dims)
	}
	if !graphedit.IsFloat(ls.Elem) {
		return nil, fmt.Errorf("value %q is of type %s: the differentiated value must be float", loss, graphedit.ElemName(ls.Elem))
	}
	for _, p := range params {
		t := g.inits[p]
		if t == nil {
			return nil, fmt.Errorf("parameter %q is not an initializer of the graph", p)
		}
		if !graphedit.IsFloat(onnxpb.TensorProto_DataType(t.GetDataType())) {
			return nil, fmt.Errorf("parameter %q is of type %s: only float initializers have gradients", p, graphedit.ElemName(onnxpb.TensorProto_DataType(t.GetDataType())))
		}
	}
	g.defaultElem = ls.Elem
	active := g.forward(params)
	needed, err := g.backwardNeeded(loss, active)
	if err != nil {
		return nil, err
	}
	if err := g.reverse(loss, active, needed); err != nil {
		return nil, err
	}
	out := make([]string, len(params))
	for i, p := range params {
		gv := g.gradOf(p)
		if gv == "" {
			gv = g.zerosLike(p, "zero_grad")
		}
		out[i] = gv
	}
	return out, nil
}

// Reachable returns the float initializers the value loss depends on
// through differentiable inputs, in initializer order: the candidates for
// training. Values past a stop-gradient, integer paths and label-side
// inputs do not count. An op without a rule on such a path is an error, as
// in Gradients.
func Reachable(m *onnxpb.ModelProto, loss string) ([]string, error) {
	g := newGraph(&graphedit.Model{Proto: m})
	if !g.isValue(loss) {
		return nil, fmt.Errorf("value %q is not in the graph", loss)
	}
	var floats []string
	for _, t := range m.GetGraph().GetInitializer() {
		if graphedit.IsFloat(onnxpb.TensorProto_DataType(t.GetDataType())) {
			floats = append(floats, t.GetName())
		}
	}
	active := g.forward(floats)
	needed, err := g.backwardNeeded(loss, active)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range floats {
		if needed[p] {
			out = append(out, p)
		}
	}
	return out, nil
}

// graph is the engine's view of a model while gradients are appended.
type graph struct {
	m           *graphedit.Model
	b           *graphedit.Builder
	opset       int64
	nodes       []*onnxpb.NodeProto // the forward nodes, in graph order
	producer    map[string]*onnxpb.NodeProto
	inits       map[string]*onnxpb.TensorProto
	declared    map[string]Shape
	shapes      map[string]Shape
	inferring   map[string]bool
	contrib     map[string][]string
	summed      map[string]string
	shapeVals   map[string]string
	defaultElem onnxpb.TensorProto_DataType
	noRule      map[*onnxpb.NodeProto]bool
}

func newGraph(m *graphedit.Model) *graph {
	gp := m.Graph()
	g := &graph{
		m: m, b: graphedit.NewBuilder(m, Prefix), opset: m.DefaultDomainOpset(),
		nodes:    append([]*onnxpb.NodeProto{}, gp.GetNode()...),
		producer: map[string]*onnxpb.NodeProto{}, inits: map[string]*onnxpb.TensorProto{},
		declared: map[string]Shape{}, shapes: map[string]Shape{}, inferring: map[string]bool{},
		contrib: map[string][]string{}, summed: map[string]string{}, shapeVals: map[string]string{},
		noRule: map[*onnxpb.NodeProto]bool{},
	}
	for _, n := range g.nodes {
		for _, o := range n.GetOutput() {
			if o != "" {
				g.producer[o] = n
			}
		}
	}
	for _, t := range gp.GetInitializer() {
		g.inits[t.GetName()] = t
		g.declared[t.GetName()] = dimsShape(onnxpb.TensorProto_DataType(t.GetDataType()), t.GetDims()...)
	}
	for _, list := range [][]*onnxpb.ValueInfoProto{gp.GetValueInfo(), gp.GetOutput(), gp.GetInput()} {
		for _, vi := range list {
			if _, isInit := g.inits[vi.GetName()]; isInit {
				continue
			}
			vt, ok := m.ValueType(vi.GetName())
			if !ok {
				continue
			}
			s := Shape{Elem: vt.Elem}
			if vt.Shape != nil {
				s.Known = true
				for _, d := range vt.Shape {
					s.Dims = append(s.Dims, d.Value)
				}
			}
			g.declared[vi.GetName()] = s
		}
	}
	return g
}

func (g *graph) isValue(v string) bool {
	if g.producer[v] != nil || g.inits[v] != nil {
		return true
	}
	for _, in := range g.m.Graph().GetInput() {
		if in.GetName() == v {
			return true
		}
	}
	return false
}

// shape returns what is statically known of value v.
func (g *graph) shape(v string) Shape {
	if s, ok := g.shapes[v]; ok {
		return s
	}
	s := g.inferShape(v)
	if d, ok := g.declared[v]; ok {
		// A declaration wins, but may lack what inference found.
		if !d.Known && s.Known {
			d.Dims, d.Known = s.Dims, true
		}
		if d.Elem == onnxpb.TensorProto_UNDEFINED {
			d.Elem = s.Elem
		}
		s = d
	}
	g.shapes[v] = s
	return s
}

func (g *graph) inferShape(v string) Shape {
	n := g.producer[v]
	if n == nil || g.inferring[v] {
		return Shape{}
	}
	r := rules[n.GetOpType()]
	if r == nil || r.Infer == nil || !defaultDomain(n) {
		return Shape{}
	}
	for _, o := range n.GetOutput() {
		g.inferring[o] = true
	}
	outs := r.Infer(&InferCtx{Node: n, Opset: g.opset, g: g})
	for _, o := range n.GetOutput() {
		delete(g.inferring, o)
	}
	for i, o := range n.GetOutput() {
		if o == v && i < len(outs) {
			return outs[i]
		}
	}
	return Shape{}
}

// constInts returns the values of an integer constant: an initializer or
// the output of a Constant node.
func (g *graph) constInts(v string) ([]int64, bool) {
	if t := g.inits[v]; t != nil {
		return tensorInts(t)
	}
	if n := g.producer[v]; n != nil && n.GetOpType() == "Constant" {
		for _, a := range n.GetAttribute() {
			switch a.GetName() {
			case "value":
				return tensorInts(a.GetT())
			case "value_ints":
				return a.GetInts(), true
			case "value_int":
				return []int64{a.GetI()}, true
			}
		}
	}
	return nil, false
}

func defaultDomain(n *onnxpb.NodeProto) bool {
	return n.GetDomain() == "" || n.GetDomain() == "ai.onnx"
}

// ruleFor returns n's rule, or nil for an op without one (or in another
// domain).
func ruleFor(n *onnxpb.NodeProto) *Rule {
	if !defaultDomain(n) {
		return nil
	}
	return rules[n.GetOpType()]
}

// forward marks the values that depend on params through differentiable
// inputs.
func (g *graph) forward(params []string) map[string]bool {
	active := map[string]bool{}
	for _, p := range params {
		active[p] = true
	}
	for _, n := range g.nodes {
		if IsStopGradient(n) {
			continue
		}
		r := ruleFor(n)
		hit := false
		if r == nil {
			for _, in := range n.GetInput() {
				if active[in] {
					hit = true
					g.noRule[n] = true
				}
			}
		} else {
			for _, i := range r.diffInputs(n) {
				if active[n.GetInput()[i]] {
					hit = true
				}
			}
		}
		if !hit {
			continue
		}
		for _, o := range n.GetOutput() {
			if o == "" {
				continue
			}
			if e := g.shape(o).Elem; e == onnxpb.TensorProto_UNDEFINED || graphedit.IsFloat(e) {
				active[o] = true
			}
		}
	}
	return active
}

// backwardNeeded marks the active values the loss depends on, and fails on
// an op without a rule among them.
func (g *graph) backwardNeeded(loss string, active map[string]bool) (map[string]bool, error) {
	needed := map[string]bool{}
	if active[loss] {
		needed[loss] = true
	}
	for i := len(g.nodes) - 1; i >= 0; i-- {
		n := g.nodes[i]
		out := false
		for _, o := range n.GetOutput() {
			if needed[o] {
				out = true
			}
		}
		if !out {
			continue
		}
		if g.noRule[n] {
			for _, in := range n.GetInput() {
				if active[in] {
					return nil, &NoRuleError{Op: n.GetOpType(), Domain: n.GetDomain(), Node: n.GetName(), Input: in}
				}
			}
		}
		r := ruleFor(n)
		if r == nil {
			continue
		}
		for _, k := range r.diffInputs(n) {
			if in := n.GetInput()[k]; active[in] {
				needed[in] = true
			}
		}
	}
	return needed, nil
}

// reverse runs the rules from the loss back to the parameters.
func (g *graph) reverse(loss string, active, needed map[string]bool) error {
	one := g.b.Scalar("d_"+trimName(loss), g.shape(loss).Elem, 1)
	if ls := g.shape(loss); !ls.Known || len(ls.Dims) != 0 {
		one = g.b.Op("Reshape", "d_"+trimName(loss)+"_shaped", []string{one, g.shapeOf(loss)})
	}
	g.contrib[loss] = []string{one}
	for i := len(g.nodes) - 1; i >= 0; i-- {
		n := g.nodes[i]
		r := ruleFor(n)
		if r == nil || IsStopGradient(n) {
			continue
		}
		c := &Ctx{g: g, Node: n, Opset: g.opset, base: nodeBase(n)}
		c.gradOut = make([]string, len(n.GetOutput()))
		any := false
		for k, o := range n.GetOutput() {
			if o != "" && needed[o] {
				c.gradOut[k] = g.gradOf(o)
				any = any || c.gradOut[k] != ""
			}
		}
		if !any {
			continue
		}
		c.need = make([]bool, len(n.GetInput()))
		anyNeed := false
		for _, k := range r.diffInputs(n) {
			if in := n.GetInput()[k]; active[in] && needed[in] {
				c.need[k] = true
				anyNeed = true
			}
		}
		if !anyNeed {
			continue
		}
		c.gradIn = make([]string, len(n.GetInput()))
		if err := r.Grad(c); err != nil {
			return fmt.Errorf("gradient of %s node %q: %w", n.GetOpType(), n.GetName(), err)
		}
		for k, gv := range c.gradIn {
			if gv != "" && c.need[k] {
				in := n.GetInput()[k]
				g.contrib[in] = append(g.contrib[in], gv)
			}
		}
	}
	return nil
}

// gradOf returns the accumulated gradient of v ("" when none flowed).
func (g *graph) gradOf(v string) string {
	if s, ok := g.summed[v]; ok {
		return s
	}
	cs := g.contrib[v]
	var s string
	switch len(cs) {
	case 0:
	case 1:
		s = cs[0]
	default:
		s = g.b.Op("Sum", "d_"+trimName(v)+"_sum", cs)
	}
	g.summed[v] = s
	return s
}

// shapeOf returns a value holding Shape(v), one per v.
func (g *graph) shapeOf(v string) string {
	if s, ok := g.shapeVals[v]; ok {
		return s
	}
	s := g.b.Op("Shape", trimName(v)+"_shape", []string{v})
	g.shapeVals[v] = s
	return s
}

// zerosLike returns zeros of v's shape and type.
func (g *graph) zerosLike(v, what string) string {
	elem := g.shape(v).Elem
	if elem == onnxpb.TensorProto_UNDEFINED {
		elem = g.defaultElem
	}
	zero := scalarTensor("", elem, 0)
	zero.Dims = []int64{1}
	return g.b.Op("ConstantOfShape", trimName(v)+"_"+what, []string{g.shapeOf(v)}, graphedit.AttrTensor("value", zero))
}

func scalarTensor(name string, elem onnxpb.TensorProto_DataType, v float64) *onnxpb.TensorProto {
	if elem == onnxpb.TensorProto_DOUBLE {
		return graphedit.Float64Tensor(name, []int64{}, []float64{v})
	}
	return graphedit.Float32Tensor(name, []int64{}, []float32{float32(v)})
}

func trimName(s string) string { return strings.TrimLeft(s, "/") }

func nodeBase(n *onnxpb.NodeProto) string {
	if n.GetName() != "" {
		return trimName(n.GetName())
	}
	if len(n.GetOutput()) > 0 {
		return trimName(n.GetOutput()[0])
	}
	return n.GetOpType()
}

func numel(d []int64) int64 {
	n := int64(1)
	for _, v := range d {
		if v < 0 {
			return -1
		}
		n *= v
	}
	return n
}

// errNoShape is returned by rules that need a static rank they cannot find.
var errNoShape = errors.New("the rank is not known statically")
