package paramload

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/onnxpb"
	"github.com/onnxloss/onnxloss/optim"
	"github.com/onnxloss/onnxloss/tensorfile"
)

// ReadFile reads the named tensors of a .npz or .safetensors file.
func ReadFile(path string) ([]*onnxpb.TensorProto, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".npz":
		ts, err := tensorfile.ReadFile(path)
		if err != nil {
			return nil, err
		}
		return ts, nil
	case ".safetensors":
		ts, err := readSafetensorsFile(path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return ts, nil
	}
	return nil, fmt.Errorf("%s: parameter files are .npz or .safetensors", path)
}

// Report says what Apply did.
type Report struct {
	// Updated lists the initializers given new values, in file order.
	Updated []string
	// Skipped lists the file's keys that are optimizer state of a step
	// model (lr, step, P_momentum, P_exp_avg, …, with or without _next),
	// which a model has no initializer for.
	Skipped []string
}

// Apply replaces m's initializers with the tensors of the same name. A key
// may carry a `_next` suffix (a step model's output name). Every key must
// name an initializer (or be optimizer state, skipped), with the same shape
// and element type; the first problem is returned and nothing is changed.
func Apply(m *graphedit.Model, tensors []*onnxpb.TensorProto) (Report, error) {
	var rep Report
	inits := map[string]*onnxpb.TensorProto{}
	for _, t := range m.Graph().GetInitializer() {
		inits[t.GetName()] = t
	}
	type change struct {
		init *onnxpb.TensorProto
		val  *onnxpb.TensorProto
	}
	var changes []change
	from := map[string]string{} // initializer → the key that set it
	var problems []string
	for _, t := range tensors {
		key := t.GetName()
		name := key
		if inits[name] == nil && strings.HasSuffix(key, "_next") {
			name = strings.TrimSuffix(key, "_next")
		}
		init := inits[name]
		if init == nil {
			if isOptimizerState(name, inits) {
				rep.Skipped = append(rep.Skipped, key)
				continue
			}
			problems = append(problems, fmt.Sprintf("key %q names no initializer of the model: keys are initializer names (a _next suffix is accepted)%s", key, suggest(name, inits)))
			continue
		}
		if prev, dup := from[name]; dup {
			problems = append(problems, fmt.Sprintf("keys %q and %q both set initializer %q: keep one", prev, key, name))
			continue
		}
		from[name] = key
		if got, want := onnxpb.TensorProto_DataType(t.GetDataType()), onnxpb.TensorProto_DataType(init.GetDataType()); got != want {
			problems = append(problems, fmt.Sprintf("key %q is %s but initializer %q is %s: save it as %s", key, graphedit.ElemName(got), name, graphedit.ElemName(want), graphedit.ElemName(want)))
			continue
		}
		if !slices.Equal(t.GetDims(), init.GetDims()) {
			problems = append(problems, fmt.Sprintf("key %q has shape %v but initializer %q has shape %v", key, t.GetDims(), name, init.GetDims()))
			continue
		}
		val, err := tensorfile.Normalize(t)
		if err != nil {
			problems = append(problems, fmt.Sprintf("key %q: %v", key, err))
			continue
		}
		changes = append(changes, change{init, val})
	}
	if len(problems) > 0 {
		msg := problems[0]
		if len(problems) > 1 {
			msg += fmt.Sprintf(" (and %d more problems)", len(problems)-1)
		}
		return Report{}, fmt.Errorf("%s", msg)
	}
	for _, c := range changes {
		name := c.init.GetName()
		dims, dt := c.init.GetDims(), c.init.GetDataType()
		c.init.Reset()
		c.init.Name, c.init.DataType, c.init.Dims = &name, &dt, dims
		c.init.RawData = c.val.GetRawData()
		rep.Updated = append(rep.Updated, name)
	}
	return rep, nil
}

// isOptimizerState reports whether name is a step model's lr or step or the
// optimizer state P_<suffix> of an initializer P.
func isOptimizerState(name string, inits map[string]*onnxpb.TensorProto) bool {
	if name == optim.LRInput || name == optim.StepInput {
		return true
	}
	for _, s := range optim.StateSuffixes() {
		if p, ok := strings.CutSuffix(name, "_"+s); ok && inits[p] != nil {
			return true
		}
	}
	return false
}

// suggest names an initializer that differs from name only by a prefix
// (torch state_dict keys of a wrapped module, e.g. "model.fc.weight").
func suggest(name string, inits map[string]*onnxpb.TensorProto) string {
	var cands []string
	for n := range inits {
		if strings.HasSuffix(n, "."+name) || strings.HasSuffix(name, "."+n) {
			cands = append(cands, n)
		}
	}
	if len(cands) == 1 {
		return fmt.Sprintf("; did you mean %q?", cands[0])
	}
	return ""
}
