package eval

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/onnxloss/onnxloss/onnxpb"
)

// OpInfo describes an operator the evaluator implements.
type OpInfo struct {
	// OpType is the ONNX operator name, e.g. "ReduceSum".
	OpType string
	// Domain is the operator set domain ("" is the default ONNX domain).
	Domain string
	// Family is the source file / op family, e.g. "reduce".
	Family string
}

// opFunc computes a node's outputs from its inputs. Optional inputs that are
// absent are nil. It returns one tensor per requested output (nil allowed for
// outputs nobody asked for).
type opFunc func(c *opCtx, in []*Tensor) ([]*Tensor, error)

type opDef struct {
	info OpInfo
	fn   opFunc
	// half makes float16/bfloat16 inputs run through float32 and converts float32 results back.
	half bool
}

var registry = map[string]*opDef{}

// register adds ops of one family. Called from init functions of op files.
func register(family string, half bool, fns map[string]opFunc) {
	for name, fn := range fns {
		registry[name] = &opDef{info: OpInfo{OpType: name, Family: family}, fn: fn, half: half}
	}
}

// Ops lists every operator the evaluator implements, sorted by name.
func Ops() []OpInfo {
	out := make([]OpInfo, 0, len(registry))
	for _, d := range registry {
		out = append(out, d.info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].OpType < out[j].OpType })
	return out
}

// Supported reports whether an op type in a domain ("" or "ai.onnx") is implemented.
func Supported(domain, opType string) bool {
	if domain != "" && domain != "ai.onnx" {
		return false
	}
	_, ok := registry[opType]
	return ok
}

// opCtx is what an op implementation sees of its node.
type opCtx struct {
	node  *onnxpb.NodeProto
	opset int64
	attrs map[string]*onnxpb.AttributeProto
	// nOut is the number of outputs the node declares (including empty names).
	nOut int
	// want[i] is true if output i is needed.
	want []bool
	// dead[i] is true if input i's buffer may be overwritten (in-place reuse).
	dead []bool
	run  *runState
	// inference is the session's UseInferenceMode setting.
	inference bool
	// prep is the prepared node (its subgraphs and implicit inputs).
	prep *prepNode
	// sess is the session running the node.
	sess *Session
}

func (c *opCtx) errorf(format string, args ...any) error {
	return fmt.Errorf(format, args...)
}

func (c *opCtx) attr(name string) *onnxpb.AttributeProto { return c.attrs[name] }

func (c *opCtx) hasAttr(name string) bool { return c.attrs[name] != nil }

func (c *opCtx) attrInt(name string, def int64) int64 {
	if a := c.attrs[name]; a != nil {
		return a.GetI()
	}
	return def
}

func (c *opCtx) attrFloat(name string, def float32) float32 {
	if a := c.attrs[name]; a != nil {
		return a.GetF()
	}
	return def
}

func (c *opCtx) attrString(name, def string) string {
	if a := c.attrs[name]; a != nil {
		return string(a.GetS())
	}
	return def
}

func (c *opCtx) attrInts(name string) ([]int64, bool) {
	if a := c.attrs[name]; a != nil {
		return a.GetInts(), true
	}
	return nil, false
}

func (c *opCtx) attrFloats(name string) ([]float32, bool) {
	if a := c.attrs[name]; a != nil {
		return a.GetFloats(), true
	}
	return nil, false
}

// output returns a tensor for output of type dt and shape, reusing input i's
// buffer when it is dead after this node and has the same type and size.
func (c *opCtx) output(reuse int, dt DType, shape []int64, in []*Tensor) *Tensor {
	if reuse >= 0 && reuse < len(in) && reuse < len(c.dead) && c.dead[reuse] && in[reuse] != nil {
		t := in[reuse]
		if t.dtype == dt && NumElements(t.shape) == NumElements(shape) && t.Len() > 0 {
			// Another input may alias the same buffer only for elementwise ops,
			// which is safe; mark it used so it is not handed out twice.
			c.dead[reuse] = false
			return t.reshaped(shape)
		}
	}
	return c.alloc(dt, shape)
}

// needInputs checks the number of inputs (present or not) is in [min, max].
func needInputs(in []*Tensor, min, max int) error {
	if len(in) < min || len(in) > max {
		if min == max {
			return fmt.Errorf("expects %d inputs, got %d", min, len(in))
		}
		return fmt.Errorf("expects %d to %d inputs, got %d", min, max, len(in))
	}
	for i := 0; i < min; i++ {
		if in[i] == nil {
			return fmt.Errorf("required input %d is missing", i)
		}
	}
	return nil
}

// normAxis maps a possibly negative axis into [0, rank).
func normAxis(axis int64, rank int) (int, error) {
	a := axis
	if a < 0 {
		a += int64(rank)
	}
	if a < 0 || a >= int64(rank) {
		return 0, fmt.Errorf("axis %d out of range for rank %d", axis, rank)
	}
	return int(a), nil
}

// scalarInt reads a one-element integer tensor.
func scalarInt(t *Tensor, what string) (int64, error) {
	if t.Len() != 1 {
		return 0, fmt.Errorf("%s must have one element, has shape %v", what, t.shape)
	}
	if t.dtype.isFloat() {
		f := t.f64At(0)
		if math.IsNaN(f) {
			return 0, fmt.Errorf("%s is NaN", what)
		}
		return int64(f), nil
	}
	return t.i64At(0), nil
}

func shapeEq(a, b []int64) bool { return slices.Equal(a, b) }

func stridesOf(shape []int64) []int64 {
	s := make([]int64, len(shape))
	acc := int64(1)
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= shape[i]
	}
	return s
}
