package inject

import (
	"fmt"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/internal/termtext"
)

// LogitsCandidates returns the graph outputs that can be logits: float
// tensors of rank ≥ 2 (or unknown rank).
func LogitsCandidates(m *graphedit.Model) []string {
	var out []string
	for _, o := range m.Graph().GetOutput() {
		vt, ok := m.ValueType(o.GetName())
		if !ok || !graphedit.IsFloat(vt.Elem) || (vt.Rank() >= 0 && vt.Rank() < 2) {
			continue
		}
		out = append(out, o.GetName())
	}
	return out
}

// findLogits picks the logits value: the explicit name, or the single
// candidate graph output.
func findLogits(m *graphedit.Model, explicit string) (string, error) {
	if explicit != "" {
		if !m.HasName(explicit) {
			return "", fmt.Errorf("--logits %q is not a value of the graph: run `onnxloss inspect` to list the outputs", explicit)
		}
		return explicit, nil
	}
	cands := LogitsCandidates(m)
	switch len(cands) {
	case 1:
		return cands[0], nil
	case 0:
		return "", fmt.Errorf("no graph output is a float tensor of rank >= 2 (N, C, ...): pass --logits NAME")
	}
	return "", fmt.Errorf("several outputs could be the logits (%s): pass --logits NAME", termtext.Names(cands))
}
