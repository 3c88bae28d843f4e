package inject

import (
	"fmt"
	"strings"

	"github.com/onnxloss/onnxloss/graphedit"
)

// ClassAxis is the class axis inject chose for a logits value and why.
type ClassAxis struct {
	// Axis is in [0, rank).
	Axis int
	// Reason says how it was chosen, for stderr.
	Reason string
}

// ChooseClassAxis picks the class axis of logits of type vt for C classes.
// explicit (--class-axis, negative counting from the end) wins when given;
// its dim must be C if static. Otherwise an axis other than the batch axis 0
// whose static size is C wins when it is the only one; if several or none
// are, rank 2 and rank ≥ 4 take axis 1 (classifiers, NCHW segmenters) and
// rank 3 — (N, C, L) and (N, T, C) are both common — is an error asking for
// --class-axis, because a loss over the wrong axis is silent.
func ChooseClassAxis(name string, vt graphedit.ValueType, C int, explicit *int) (ClassAxis, error) {
	rank := vt.Rank()
	shape := shapeString(vt)
	if explicit != nil {
		a := *explicit
		if a < 0 {
			a += rank
		}
		if a < 0 || a >= rank {
			return ClassAxis{}, fmt.Errorf("--class-axis %d is outside logits %q of shape %s: use an axis in -%d..%d", *explicit, name, shape, rank, rank-1)
		}
		if d := vt.Shape[a]; d.Static() && d.Value != int64(C) {
			return ClassAxis{}, fmt.Errorf("logits %q (shape %s) have %d classes at the class axis %d but the counts give %d: pass counts for %d classes, or the right --class-axis", name, shape, d.Value, a, C, d.Value)
		}
		return ClassAxis{Axis: a, Reason: fmt.Sprintf("--class-axis %d", *explicit)}, nil
	}
	var matches []int
	for i := 1; i < rank; i++ {
		if d := vt.Shape[i]; d.Static() && d.Value == int64(C) {
			matches = append(matches, i)
		}
	}
	if len(matches) == 1 {
		return ClassAxis{Axis: matches[0], Reason: fmt.Sprintf("the only axis of static size C = %d in %s", C, shape)}, nil
	}
	what := fmt.Sprintf("no axis of static size C = %d", C)
	if len(matches) > 1 {
		what = fmt.Sprintf("axes %s all have static size C = %d", joinInts(matches), C)
	}
	if rank == 3 {
		return ClassAxis{}, fmt.Errorf("logits %q have shape %s and %s, so the class axis is ambiguous for rank 3 ((N, C, L) or (N, T, C)): pass --class-axis 1 or --class-axis -1 (and counts for that many classes)", name, shape, what)
	}
	if d := vt.Shape[1]; d.Static() && d.Value != int64(C) {
		return ClassAxis{}, fmt.Errorf("logits %q (shape %s) have %d classes (dim 1) but the counts give %d: pass counts for %d classes, or --class-axis if the classes are on another axis", name, shape, d.Value, C, d.Value)
	}
	return ClassAxis{Axis: 1, Reason: fmt.Sprintf("the rank-%d default (%s in %s)", rank, what, shape)}, nil
}

func shapeString(vt graphedit.ValueType) string {
	parts := make([]string, len(vt.Shape))
	for i, d := range vt.Shape {
		parts[i] = d.String()
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func joinInts(v []int) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = fmt.Sprint(x)
	}
	return strings.Join(parts, ", ")
}

// withoutAxis returns shape without axis a (symbolic dims copied).
func withoutAxis(shape []graphedit.Dim, a int) []graphedit.Dim {
	return append(append([]graphedit.Dim{}, shape[:a]...), shape[a+1:]...)
}

// ClassAxisHint describes, for `onnxloss inspect`, how inject will choose the
// class axis of logits of type vt (rank ≥ 3), before any counts are known.
func ClassAxisHint(vt graphedit.ValueType) string {
	var cands []string
	for i := 1; i < vt.Rank(); i++ {
		if d := vt.Shape[i]; d.Static() {
			cands = append(cands, fmt.Sprintf("%d (size %d)", i, d.Value))
		}
	}
	have := "no axis after the batch axis is static"
	if len(cands) > 0 {
		have = "static axes " + strings.Join(cands, ", ")
	}
	fallback := "axis 1"
	if vt.Rank() == 3 {
		fallback = "an error asking for --class-axis"
	}
	return fmt.Sprintf("axis chosen by inject: the only axis whose static size is C (the number of counts), else %s; %s in %s", fallback, have, shapeString(vt))
}
