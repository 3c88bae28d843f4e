package graphedit

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/onnxloss/onnxloss/onnxpb"
)

// ExternalRef is one tensor whose payload lives in a side file.
type ExternalRef struct {
	// Tensor is the tensor itself, inside the model (edits go to the model).
	Tensor *onnxpb.TensorProto
	// Location is the tensor's location entry as stored in the model.
	Location string
}

// ExternalTensors returns every tensor of the model (initializers, sparse
// initializers, Constant attributes, subgraphs, training info) whose data
// location is EXTERNAL, in a fixed order.
func (m *Model) ExternalTensors() []ExternalRef {
	var refs []ExternalRef
	visitTensors(m.Proto, func(t *onnxpb.TensorProto) {
		if t.GetDataLocation() != onnxpb.TensorProto_EXTERNAL {
			return
		}
		for _, kv := range t.ExternalData {
			if kv.GetKey() == "location" {
				refs = append(refs, ExternalRef{Tensor: t, Location: kv.GetValue()})
			}
		}
	})
	return refs
}

// RelocateExternalData rewrites relative external-data locations so that,
// read from newDir, they name the same files they named from m.Dir: what
// Save does before writing, for writers that encode the model themselves.
func (m *Model) RelocateExternalData(newDir string) error {
	_, err := m.relocateExternalData(newDir)
	return err
}

// relocateExternalData rewrites relative external-data locations so that,
// read from newDir, they name the same files they named from m.Dir. It
// returns a function that puts the old locations back (Save calls it when
// the write fails, so the model stays consistent with m.Dir).
func (m *Model) relocateExternalData(newDir string) (undo func(), err error) {
	undo = func() {}
	oldDir := m.Dir
	if oldDir == "" {
		oldDir = "."
	}
	oldAbs, err := filepath.Abs(oldDir)
	if err != nil {
		return undo, fmt.Errorf("resolving external data directory: %w", err)
	}
	newAbs, err := filepath.Abs(newDir)
	if err != nil {
		return undo, fmt.Errorf("resolving output directory: %w", err)
	}
	if oldAbs == newAbs {
		return undo, nil
	}
	type change struct {
		kv  *onnxpb.StringStringEntryProto
		old *string
	}
	var changes []change
	undo = func() {
		for _, c := range changes {
			c.kv.Value = c.old
		}
	}
	for _, ref := range m.ExternalTensors() {
		loc := filepath.FromSlash(ref.Location)
		if filepath.IsAbs(loc) || ref.Location == "" {
			continue
		}
		target := filepath.Join(oldAbs, loc)
		rel, err := filepath.Rel(newAbs, target)
		if err != nil {
			undo()
			return func() {}, fmt.Errorf("external data %q of tensor %q cannot be reached from %s: %w", ref.Location, ref.Tensor.GetName(), newDir, err)
		}
		for _, kv := range ref.Tensor.ExternalData {
			if kv.GetKey() == "location" && kv.GetValue() == ref.Location {
				changes = append(changes, change{kv, kv.Value})
				kv.Value = ptr(filepath.ToSlash(rel))
			}
		}
	}
	return undo, nil
}

// visitTensors calls f on every TensorProto reachable from the model.
func visitTensors(mp *onnxpb.ModelProto, f func(*onnxpb.TensorProto)) {
	visitGraph(mp.GetGraph(), f)
	for _, ti := range mp.GetTrainingInfo() {
		visitGraph(ti.GetInitialization(), f)
		visitGraph(ti.GetAlgorithm(), f)
	}
	for _, fn := range mp.GetFunctions() {
		for _, n := range fn.GetNode() {
			visitNode(n, f)
		}
	}
}

func visitGraph(g *onnxpb.GraphProto, f func(*onnxpb.TensorProto)) {
	if g == nil {
		return
	}
	for _, t := range g.GetInitializer() {
		f(t)
	}
	for _, st := range g.GetSparseInitializer() {
		if st.GetValues() != nil {
			f(st.GetValues())
		}
		if st.GetIndices() != nil {
			f(st.GetIndices())
		}
	}
	for _, n := range g.GetNode() {
		visitNode(n, f)
	}
}

func visitNode(n *onnxpb.NodeProto, f func(*onnxpb.TensorProto)) {
	for _, a := range n.GetAttribute() {
		if a.GetT() != nil {
			f(a.GetT())
		}
		for _, t := range a.GetTensors() {
			f(t)
		}
		visitGraph(a.GetG(), f)
		for _, g := range a.GetGraphs() {
			visitGraph(g, f)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// EscapingExternalData returns the external-data locations that leave the
// model's directory: absolute paths and paths through "..". ONNX Runtime
// (1.30) refuses to load such locations, so callers warn about them.
func (m *Model) EscapingExternalData() []string {
	var out []string
	seen := map[string]bool{}
	for _, ref := range m.ExternalTensors() {
		loc := filepath.ToSlash(ref.Location)
		escapes := filepath.IsAbs(ref.Location) || loc == ".." || strings.HasPrefix(loc, "../") || strings.Contains(loc, "/../")
		if escapes && !seen[loc] {
			seen[loc] = true
			out = append(out, loc)
		}
	}
	return out
}
