package optim

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/onnxpb"
)

// Settings are the hyperparameters of an optimizer. An optimizer reads the
// fields it uses and ignores the rest; Defaults gives its torch defaults.
type Settings struct {
	// LR is the learning rate the init model starts `lr` at.
	LR float64
	// Momentum is SGD's momentum factor (0: plain SGD, no momentum state).
	Momentum float64
	// WeightDecay is SGD's L2 penalty added to the gradient, or AdamW's
	// decoupled decay (p ← p·(1 − lr·wd)).
	WeightDecay float64
	// Beta1 and Beta2 are AdamW's moment coefficients.
	Beta1, Beta2 float64
	// Eps is AdamW's denominator term.
	Eps float64
}

// Param is one trainable parameter as an optimizer's Update sees it: every
// name is a value of the graph being built.
type Param struct {
	// Name is the parameter's input (its current value).
	Name string
	// Grad is the value holding dloss/dp, of p's shape and type.
	Grad string
	// States are the parameter's state inputs, in the order of States().
	States []string
	// Elem is the parameter's element type (FLOAT or DOUBLE).
	Elem onnxpb.TensorProto_DataType
}

// Scalars are the per-step values every update may use, computed once.
type Scalars struct {
	// LR is the learning rate as a double scalar.
	LR string
	// Step is the number of the step being taken (the `step` input + 1) as a
	// double scalar: torch increments its step count before using it.
	Step string
}

// Optimizer builds one parameter's update in ONNX ops.
type Optimizer interface {
	// Name is the --optimizer value.
	Name() string
	// Defaults returns torch's default hyperparameters (LR 0 = torch has
	// no default: the user must give one).
	Defaults() Settings
	// Check rejects hyperparameters the optimizer cannot use, naming the flag.
	Check(s Settings) error
	// States lists the suffixes of a parameter's state inputs (the input of
	// parameter p for suffix "momentum" is "p_momentum"). All start at zero.
	States(s Settings) []string
	// StateSuffixes lists every suffix States may return, whatever the
	// settings (for tools that tell parameters from optimizer state).
	StateSuffixes() []string
	// Update appends the nodes of one step for p and returns the values
	// holding p's next value and its states' next values (in States order).
	Update(b *graphedit.Builder, s Settings, sc Scalars, p Param) (next string, states []string)
	// Summary is a short description of the settings for stderr.
	Summary(s Settings) string
	// Hyperparameters are the settings the optimizer uses, keyed and shaped
	// like torch.optim's param_group entries (betas is a pair), for reports.
	Hyperparameters(s Settings) map[string]any
}

var registry = map[string]Optimizer{}

// Register makes o available under o.Name(); each optimizer's file calls it
// from init. A second registration of a name panics (a programming error).
func Register(o Optimizer) {
	if _, dup := registry[o.Name()]; dup {
		panic("optim: optimizer " + o.Name() + " registered twice")
	}
	registry[o.Name()] = o
}

// Lookup returns the optimizer named name.
func Lookup(name string) (Optimizer, error) {
	o, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("unknown optimizer %q: use one of %s (or none)", name, strings.Join(Names(), ", "))
	}
	return o, nil
}

// Names lists the registered optimizers, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// StateSuffixes lists every state suffix of every registered optimizer,
// sorted: a state input is named P_<suffix> for its parameter P.
func StateSuffixes() []string {
	seen := map[string]bool{}
	var out []string
	for _, o := range registry {
		for _, s := range o.StateSuffixes() {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	sort.Strings(out)
	return out
}

// checkLR rejects a learning rate that is not a finite positive number.
func checkLR(lr float64) error {
	if !(lr > 0) || math.IsInf(lr, 0) {
		return fmt.Errorf("--lr must be a finite number > 0, got %v", lr)
	}
	return nil
}

// checkNonNegative rejects a hyperparameter that is negative or not finite.
func checkNonNegative(flag string, v float64) error {
	if !(v >= 0) || math.IsInf(v, 0) {
		return fmt.Errorf("%s must be a finite number ≥ 0, got %v", flag, v)
	}
	return nil
}

// StateName is the name of parameter p's state input for suffix.
func StateName(p, suffix string) string { return p + "_" + suffix }

// NextName is the name of the step-model output holding the next value of
// state input x.
func NextName(x string) string { return x + "_next" }

// Input names of the step model's scalars.
const (
	// LRInput is the float scalar learning-rate input (the loss's type).
	LRInput = "lr"
	// StepInput is the int64 scalar count of steps done so far.
	StepInput = "step"
)

// Result describes a step model Apply built.
type Result struct {
	// Init is the init model: no inputs, one output per state input.
	Init *graphedit.Model
	// StateInputs lists the step model's state inputs in order (params
	// with their states, then lr and step).
	StateInputs []string
	// Elements is the number of trainable parameter elements.
	Elements int64
}

// Apply turns m into a step model in place. loss is m's scalar loss value
// (it becomes output 0, named "loss" if it is not already); params are
// trainable initializers of m and grads[i] the value holding loss's gradient
// w.r.t. params[i], already computed in m. It removes the parameters'
// initializers, adds the state inputs after m's inputs and the update nodes,
// and sets the outputs to loss then X_next for every state input but lr.
func Apply(m *graphedit.Model, loss string, params, grads []string, o Optimizer, s Settings) (*Result, error) {
	if len(params) != len(grads) {
		return nil, fmt.Errorf("optim: %d parameters but %d gradients", len(params), len(grads))
	}
	if len(params) == 0 {
		return nil, fmt.Errorf("no trainable parameters: nothing to optimize")
	}
	if err := o.Check(s); err != nil {
		return nil, err
	}
	lossType, ok := m.ValueType(loss)
	if !ok {
		lossType, ok = m.InferType(loss)
	}
	if !ok || (lossType.Elem != onnxpb.TensorProto_FLOAT && lossType.Elem != onnxpb.TensorProto_DOUBLE) {
		return nil, fmt.Errorf("loss %q must be a float32 or float64 scalar", loss)
	}
	g := m.Graph()
	inits := map[string]*onnxpb.TensorProto{}
	for _, t := range g.GetInitializer() {
		inits[t.GetName()] = t
	}
	suffixes := o.States(s)

	// Every name the step model adds must be free.
	var stateInputs []string
	var outputNames []string
	for _, p := range params {
		stateInputs = append(stateInputs, p)
		for _, suf := range suffixes {
			stateInputs = append(stateInputs, StateName(p, suf))
		}
	}
	stateInputs = append(stateInputs, LRInput, StepInput)
	paramSet := map[string]bool{}
	for _, p := range params {
		paramSet[p] = true
	}
	for _, x := range stateInputs {
		if x != LRInput {
			outputNames = append(outputNames, NextName(x))
		}
		if !paramSet[x] && m.HasName(x) {
			return nil, fmt.Errorf("the model already has a value named %q, which the step model needs for a state input: rename it", x)
		}
	}
	for _, y := range outputNames {
		if m.HasName(y) {
			return nil, fmt.Errorf("the model already has a value named %q, which the step model needs for an output: rename it", y)
		}
	}

	res := &Result{StateInputs: stateInputs}
	ps := make([]Param, len(params))
	for i, p := range params {
		t := inits[p]
		if t == nil {
			return nil, fmt.Errorf("trainable parameter %q is not an initializer", p)
		}
		elem := onnxpb.TensorProto_DataType(t.GetDataType())
		if elem != onnxpb.TensorProto_FLOAT && elem != onnxpb.TensorProto_DOUBLE {
			return nil, fmt.Errorf("parameter %q is %s: the optimizers update float32 and float64 parameters; --freeze it", p, elem)
		}
		if t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
			return nil, fmt.Errorf("parameter %q keeps its data in an external file: the init model needs it inline (load the model with its external data and save it without)", p)
		}
		n := int64(1)
		for _, d := range t.GetDims() {
			n *= d
		}
		res.Elements += n
		ps[i] = Param{Name: p, Grad: grads[i], Elem: elem}
		for _, suf := range suffixes {
			ps[i].States = append(ps[i].States, StateName(p, suf))
		}
	}

	init, err := initModel(m, ps, inits, lossType.Elem, s.LR)
	if err != nil {
		return nil, err
	}
	res.Init = init

	// Parameters become plain inputs: drop their initializers and any input
	// entry the model had for them (IR < 4 models list initializers as inputs).
	kept := g.Initializer[:0]
	for _, t := range g.Initializer {
		if !paramSet[t.GetName()] {
			kept = append(kept, t)
		}
	}
	g.Initializer = kept
	keptIn := g.Input[:0]
	for _, vi := range g.Input {
		if !paramSet[vi.GetName()] {
			keptIn = append(keptIn, vi)
		}
	}
	g.Input = keptIn
	m.ResetNames()

	for i, p := range ps {
		vt := tensorType(inits[p.Name])
		m.AddInput(graphedit.TensorValueInfo(p.Name, vt), -1)
		for _, st := range ps[i].States {
			m.AddInput(graphedit.TensorValueInfo(st, vt), -1)
		}
	}
	scalar := func(e onnxpb.TensorProto_DataType) graphedit.ValueType {
		return graphedit.ValueType{Elem: e, Shape: []graphedit.Dim{}}
	}
	m.AddInput(graphedit.TensorValueInfo(LRInput, scalar(lossType.Elem)), -1)
	m.AddInput(graphedit.TensorValueInfo(StepInput, scalar(onnxpb.TensorProto_INT64)), -1)

	b := graphedit.NewBuilder(m, "onnxloss/optim")
	stepNext := b.Op("Add", "step_next", []string{StepInput, b.Int64("one", []int64{}, []int64{1})})
	sc := Scalars{
		Step: b.Cast("step_count", stepNext, onnxpb.TensorProto_DOUBLE),
		LR:   LRInput,
	}
	if lossType.Elem != onnxpb.TensorProto_DOUBLE {
		sc.LR = b.Cast("lr_double", LRInput, onnxpb.TensorProto_DOUBLE)
	}

	// Outputs: loss first, then X_next in state-input order.
	g.Output = nil
	lossOut := loss
	if loss != "loss" {
		lossOut = "loss"
		if m.HasName(lossOut) {
			return nil, fmt.Errorf("the model has a value named \"loss\" that is not its loss output: rename it")
		}
		b.M.AddNode(&onnxpb.NodeProto{Name: ptr(b.Name("Identity")), OpType: ptr("Identity"), Input: []string{loss}, Output: []string{lossOut}})
	}
	m.AddOutput(graphedit.TensorValueInfo(lossOut, scalar(lossType.Elem)), -1)
	rename := func(value, out string, vt graphedit.ValueType) {
		b.M.AddNode(&onnxpb.NodeProto{Name: ptr(b.Name("Identity")), OpType: ptr("Identity"), Input: []string{value}, Output: []string{out}})
		m.AddOutput(graphedit.TensorValueInfo(out, vt), -1)
	}
	for _, p := range ps {
		vt := tensorType(inits[p.Name])
		next, states := o.Update(b, s, sc, p)
		rename(next, NextName(p.Name), vt)
		for j, st := range p.States {
			rename(states[j], NextName(st), vt)
		}
	}
	rename(stepNext, NextName(StepInput), scalar(onnxpb.TensorProto_INT64))
	return res, nil
}

// tensorType is the declared type of an initializer.
func tensorType(t *onnxpb.TensorProto) graphedit.ValueType {
	vt := graphedit.ValueType{Elem: onnxpb.TensorProto_DataType(t.GetDataType()), Shape: []graphedit.Dim{}}
	for _, d := range t.GetDims() {
		vt.Shape = append(vt.Shape, graphedit.Dim{Value: d})
	}
	return vt
}

// initModel builds the model holding the starting state: each parameter's
// current value, zeros for every optimizer state, lr and step 0.
func initModel(m *graphedit.Model, ps []Param, inits map[string]*onnxpb.TensorProto, lrElem onnxpb.TensorProto_DataType, lr float64) (*graphedit.Model, error) {
	g := &onnxpb.GraphProto{Name: ptr("onnxloss_init")}
	im := &graphedit.Model{Proto: &onnxpb.ModelProto{
		IrVersion:    m.Proto.IrVersion,
		OpsetImport:  m.Proto.OpsetImport,
		ProducerName: ptr("onnxloss"),
		Graph:        g,
	}, Dir: m.Dir}
	node := func(op, out string, inputs []string, value *onnxpb.TensorProto) {
		value.Name = nil
		g.Node = append(g.Node, &onnxpb.NodeProto{
			Name: ptr("onnxloss/init/" + out), OpType: ptr(op), Input: inputs, Output: []string{out},
			Attribute: []*onnxpb.AttributeProto{graphedit.AttrTensor("value", value)},
		})
	}
	constant := func(out string, t *onnxpb.TensorProto, vt graphedit.ValueType) {
		node("Constant", out, nil, t)
		g.Output = append(g.Output, graphedit.TensorValueInfo(out, vt))
	}
	for _, p := range ps {
		src := inits[p.Name]
		vt := tensorType(src)
		constant(p.Name, proto.Clone(src).(*onnxpb.TensorProto), vt)
		for _, st := range p.States {
			// Zeros of p's shape without storing them: ConstantOfShape of
			// a constant shape.
			shapeName := "onnxloss/init/" + st + "_shape"
			node("Constant", shapeName, nil, graphedit.Int64Tensor("", []int64{int64(len(src.GetDims()))}, src.GetDims()))
			zero := graphedit.Float32Tensor("", []int64{1}, []float32{0})
			if p.Elem == onnxpb.TensorProto_DOUBLE {
				zero = graphedit.Float64Tensor("", []int64{1}, []float64{0})
			}
			node("ConstantOfShape", st, []string{shapeName}, zero)
			g.Output = append(g.Output, graphedit.TensorValueInfo(st, vt))
		}
	}
	scalar := func(e onnxpb.TensorProto_DataType) graphedit.ValueType {
		return graphedit.ValueType{Elem: e, Shape: []graphedit.Dim{}}
	}
	var lrT *onnxpb.TensorProto
	if lrElem == onnxpb.TensorProto_DOUBLE {
		lrT = graphedit.Float64Tensor("", []int64{}, []float64{lr})
	} else {
		lrT = graphedit.Float32Tensor("", []int64{}, []float32{float32(lr)})
	}
	constant(LRInput, lrT, scalar(lrElem))
	constant(StepInput, graphedit.Int64Tensor("", []int64{}, []int64{0}), scalar(onnxpb.TensorProto_INT64))
	return im, nil
}

// toElem casts a double scalar to elem (no node when elem is DOUBLE).
func toElem(b *graphedit.Builder, what, x string, elem onnxpb.TensorProto_DataType) string {
	if elem == onnxpb.TensorProto_DOUBLE {
		return x
	}
	return b.Cast(what, x, elem)
}

func ptr[T any](v T) *T { return &v }
