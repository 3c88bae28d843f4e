// Package stepmodel turns a model whose first output is a scalar loss into a
// training-step model: it selects the trainable parameters and appends their
// gradients (autodiff), and writes the `--optimizer none` outputs.
//
// An optimizer plugs in on a prepared Step: it reads Params and Grads and
// appends its update nodes, inputs and outputs to Model.
package stepmodel

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/onnxloss/onnxloss/autodiff"
	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/onnxpb"
)

// Selection filters the trainable parameters by initializer name. A name is
// kept when it matches some Train glob (or Train is empty) and no Freeze
// glob. In a glob, * matches any run of characters (slashes and dots
// included), ? one character, and [...] a class.
type Selection struct {
	Train, Freeze []string
}

// Step is a model prepared for a training step: the loss, the trainable
// parameters in initializer order and the values holding their gradients.
type Step struct {
	// Model is the model being built; its graph already computes Grads.
	Model *graphedit.Model
	// Loss is the name of the loss value (the model's first output).
	Loss string
	// Params are the trainable initializers, in initializer order.
	Params []string
	// Frozen are the parameters on the loss's path that --train/--freeze
	// left out, in initializer order.
	Frozen []string
	// Grads[i] is the value holding d Loss / d Params[i].
	Grads []string
}

// ErrNotScalarLoss reports a model whose first output is not a scalar float.
var ErrNotScalarLoss = errors.New("the first output is not a scalar float loss")

// LossOf returns the model's first output after checking it is a scalar
// float.
func LossOf(m *graphedit.Model) (string, error) {
	outs := m.Graph().GetOutput()
	if len(outs) == 0 {
		return "", fmt.Errorf("the model has no outputs: %w", ErrNotScalarLoss)
	}
	name := outs[0].GetName()
	vt, ok := m.ValueType(name)
	if !ok || !graphedit.IsFloat(vt.Elem) {
		return "", fmt.Errorf("first output %q is of type %s: %w (inject a loss first: onnxloss inject)", name, graphedit.ElemName(vt.Elem), ErrNotScalarLoss)
	}
	if vt.Shape != nil {
		for _, d := range vt.Shape {
			if d.Value != 1 {
				return "", fmt.Errorf("first output %q has shape %v: %w (use reduction mean or sum)", name, dimsString(vt.Shape), ErrNotScalarLoss)
			}
		}
	}
	return name, nil
}

func dimsString(ds []graphedit.Dim) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = d.String()
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// Trainable returns the trainable parameters of m: float initializers the
// loss depends on through differentiable ops, less onnxloss's own
// (onnxloss/…), filtered by sel, in initializer order.
func Trainable(m *graphedit.Model, loss string, sel Selection) ([]string, error) {
	cands, err := onLossPath(m, loss)
	if err != nil {
		return nil, err
	}
	train, err := compileGlobs("--train", sel.Train)
	if err != nil {
		return nil, err
	}
	freeze, err := compileGlobs("--freeze", sel.Freeze)
	if err != nil {
		return nil, err
	}
	for _, gs := range [][]glob{train, freeze} {
		for _, g := range gs {
			if !g.matchesAny(cands) {
				return nil, fmt.Errorf("%s %q matches no parameter on the loss's path (%s)", g.flag, g.pattern, sample(cands))
			}
		}
	}
	var out []string
	for _, p := range cands {
		if len(train) > 0 && !anyMatch(train, p) {
			continue
		}
		if anyMatch(freeze, p) {
			continue
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		if len(cands) == 0 {
			return nil, fmt.Errorf("nothing to train: no float initializer reaches the loss %q through differentiable ops", loss)
		}
		return nil, fmt.Errorf("nothing to train: --train/--freeze leave none of the %d parameters on the loss's path", len(cands))
	}
	return out, nil
}

// onLossPath lists the float initializers the loss depends on through
// differentiable ops, less onnxloss's own (onnxloss/…), in initializer order.
func onLossPath(m *graphedit.Model, loss string) ([]string, error) {
	onPath, err := autodiff.Reachable(m.Proto, loss)
	if err != nil {
		return nil, err
	}
	var cands []string
	for _, p := range onPath {
		if !strings.HasPrefix(p, "onnxloss/") {
			cands = append(cands, p)
		}
	}
	return cands, nil
}

// sample names a few candidates for an error message.
func sample(names []string) string {
	if len(names) == 0 {
		return "there are none"
	}
	const show = 5
	q := make([]string, 0, show)
	for i, n := range names {
		if i == show {
			break
		}
		q = append(q, fmt.Sprintf("%q", n))
	}
	s := "they are " + strings.Join(q, ", ")
	if len(names) > show {
		s += fmt.Sprintf(" and %d more", len(names)-show)
	}
	return s
}

type glob struct {
	flag, pattern string
	re            *regexp.Regexp
}

func (g glob) matchesAny(names []string) bool {
	for _, n := range names {
		if g.re.MatchString(n) {
			return true
		}
	}
	return false
}

func anyMatch(gs []glob, name string) bool {
	for _, g := range gs {
		if g.re.MatchString(name) {
			return true
		}
	}
	return false
}

// compileGlobs turns shell-style globs into anchored regexps.
func compileGlobs(flag string, pats []string) ([]glob, error) {
	var out []glob
	for _, p := range pats {
		var b strings.Builder
		b.WriteString("^")
		for i := 0; i < len(p); i++ {
			switch ch := p[i]; ch {
			case '*':
				b.WriteString(".*")
			case '?':
				b.WriteString(".")
			case '[':
				j := strings.IndexByte(p[i+1:], ']')
				if j < 0 {
					return nil, fmt.Errorf("%s %q: unclosed [", flag, p)
				}
				class := p[i+1 : i+1+j]
				if strings.HasPrefix(class, "!") {
					class = "^" + class[1:]
				}
				b.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
				i += j + 1
			default:
				b.WriteString(regexp.QuoteMeta(string(ch)))
			}
		}
		b.WriteString("$")
		re, err := regexp.Compile(b.String())
		if err != nil {
			return nil, fmt.Errorf("%s %q: %v", flag, p, err)
		}
		out = append(out, glob{flag: flag, pattern: p, re: re})
	}
	return out, nil
}

// Prepare checks the loss, selects the trainable parameters and appends
// their gradients to m.
func Prepare(m *graphedit.Model, sel Selection) (*Step, error) {
	loss, err := LossOf(m)
	if err != nil {
		return nil, err
	}
	params, err := Trainable(m, loss, sel)
	if err != nil {
		return nil, err
	}
	cands, err := onLossPath(m, loss)
	if err != nil {
		return nil, err
	}
	trained := map[string]bool{}
	for _, p := range params {
		trained[p] = true
	}
	var frozen []string
	for _, p := range cands {
		if !trained[p] {
			frozen = append(frozen, p)
		}
	}
	grads, err := autodiff.Gradients(m.Proto, loss, params)
	if err != nil {
		return nil, err
	}
	m.ResetNames()
	return &Step{Model: m, Loss: loss, Params: params, Frozen: frozen, Grads: grads}, nil
}

// GradName is the output name of p's gradient in a step model.
func GradName(p string) string { return p + "_grad" }

// OutputGradients makes the model's outputs the loss, then <p>_grad for
// each parameter (p's shape and type): the `--optimizer none` step model.
func (s *Step) OutputGradients() error {
	m := s.Model
	g := m.Graph()
	lossVI := g.GetOutput()[0]
	outs := []*onnxpb.ValueInfoProto{lossVI}
	for i, p := range s.Params {
		name := GradName(p)
		if m.HasName(name) {
			return fmt.Errorf("cannot name the gradient of %q %q: the name is taken in the graph", p, name)
		}
		m.AddNode(&onnxpb.NodeProto{
			Name:   ptr(m.UniqueName(autodiff.Prefix + "/output/" + strings.TrimLeft(p, "/"))),
			OpType: ptr("Identity"),
			Input:  []string{s.Grads[i]},
			Output: []string{name},
		})
		vt, _ := m.ValueType(p)
		outs = append(outs, graphedit.TensorValueInfo(name, vt))
	}
	g.Output = outs
	return nil
}

// Metadata is what a step model records about itself under the metadata
// key "onnxloss.step", for verify.
type Metadata struct {
	Optimizer string   `json:"optimizer"`
	Loss      string   `json:"loss"`
	Params    []string `json:"params"`
	Grads     []string `json:"grads"`
}

// MetadataKey is the metadata_props key of a step model's Metadata.
const MetadataKey = "onnxloss.step"

func ptr[T any](v T) *T { return &v }
