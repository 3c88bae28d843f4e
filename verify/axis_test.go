package verify_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/inject"
	"github.com/onnxloss/onnxloss/internal/goldens"
	"github.com/onnxloss/onnxloss/internal/refs"
	"github.com/onnxloss/onnxloss/lossops"
	"github.com/onnxloss/onnxloss/onnxpb"
	"github.com/onnxloss/onnxloss/verify"
)

func axisGoldens(t *testing.T) (string, *goldens.AxisGoldens) {
	t.Helper()
	root, err := refs.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	a, err := goldens.LoadAxis(root)
	if err != nil {
		t.Fatal(err)
	}
	return root, a
}

func mustPass(t *testing.T, m *graphedit.Model, path string) *verify.Report {
	t.Helper()
	rep, err := verify.Synthetic(m, path, verify.SyntheticOptions{Tolerance: verify.DefaultTolerance, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Pass || len(rep.Checks) < 3 {
		var buf bytes.Buffer
		rep.WriteText(&buf)
		t.Fatalf("synthetic check failed:\n%s", buf.String())
	}
	return rep
}

// TestSyntheticKnowsTheClassAxis runs the synthetic check on every
// class-last and detection golden (host and real models): it must draw
// logits with C at the recorded class axis (and background labels where
// there is a background label) and agree with the closed form.
func TestSyntheticKnowsTheClassAxis(t *testing.T) {
	root, a := axisGoldens(t)
	dir := t.TempDir()
	var host []goldens.Case
	for i, c := range a.Cases {
		if c.Model == "" {
			host = append(host, c)
			continue
		}
		if i%7 != 0 && !strings.HasPrefix(c.Name, "detection/") {
			continue // a spread of the real-model cases keeps this fast
		}
		path := filepath.Join(dir, c.Model+".onnx")
		if _, err := goldens.InjectModelCase(root, c, path); err != nil {
			t.Fatal(err)
		}
		m, err := graphedit.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		rep := mustPass(t, m, path)
		// class last: the drawn logits end with C, e.g. "synthetic, logits [4 3 7]"
		if name := rep.Checks[1].Name; !strings.HasSuffix(name, fmt.Sprintf(" %d]", len(c.Counts))) {
			t.Errorf("%s: synthetic logits %q do not end with C = %d", c.Name, name, len(c.Counts))
		}
	}
	injected, err := goldens.InjectAll(host, dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, ic := range injected {
		m, err := graphedit.Load(ic.Path)
		if err != nil {
			t.Fatal(err)
		}
		mustPass(t, m, ic.Path)
	}
}

// TestSyntheticCatchesTheWrongAxis edits an injected class-last model so
// that its LogSoftmax normalizes over the sequence axis: the synthetic
// check must fail.
func TestSyntheticCatchesTheWrongAxis(t *testing.T) {
	root, _ := axisGoldens(t)
	m, err := graphedit.Load(filepath.Join(root, "testdata", "models", "token_cls_o17.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inject.Inject(m, inject.Options{Loss: lossops.WeightedCE, Counts: &lossops.Counts{Values: []float64{5, 6, 7, 8, 9, 10, 11}}, Weighting: lossops.WeightNone}); err != nil {
		t.Fatal(err)
	}
	edited := false
	for _, n := range m.Graph().GetNode() {
		if n.GetOpType() == "LogSoftmax" && strings.HasPrefix(n.GetName(), "onnxloss/") {
			n.Attribute = []*onnxpb.AttributeProto{graphedit.AttrInt("axis", 1)}
			edited = true
		}
	}
	if !edited {
		t.Fatal("no LogSoftmax to edit")
	}
	rep, err := verify.Synthetic(m, "edited", verify.SyntheticOptions{Tolerance: verify.DefaultTolerance, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Pass {
		t.Fatal("the synthetic check passed a loss over the sequence axis")
	}
}

// TestSyntheticChecksEveryHead injects a loss into two heads of a host
// model (class-first (N, 3, L) and either the same or a class-last
// (N, M, 3), so the labels are shared only when the shapes agree) and
// checks each head's output and the weighted total.
func TestSyntheticChecksEveryHead(t *testing.T) {
	for _, shared := range []bool{true, false} {
		m := twoHeadModel(shared)
		res, err := inject.Inject(m, inject.Options{Loss: lossops.CBFocal, Counts: &lossops.Counts{Values: []float64{30, 5, 12}}, Beta: 0.99, Gamma: 2, Normalize: true,
			Heads: []string{"out", "aux"}, HeadWeights: []float64{1, 0.4}, IgnoreIndex: ptrI64(-1)})
		if err != nil {
			t.Fatal(err)
		}
		md := res.Metadata
		if len(md.Heads) != 2 || (md.Heads[0].Labels == md.Heads[1].Labels) != shared {
			t.Fatalf("shared %v: heads %+v", shared, md.Heads)
		}
		rep := mustPass(t, m, "two-head")
		var outputs []string
		for _, c := range rep.Checks[:3] {
			outputs = append(outputs, c.Output)
		}
		if got := strings.Join(outputs, " "); got != "loss/out loss/aux loss" {
			t.Errorf("checks cover %q, want loss/out loss/aux loss", got)
		}
	}
}

func ptrI64(v int64) *int64 { return &v }

// twoHeadModel has input x (N, 3, L) and outputs out = x and aux = x, or
// with shared false aux = Transpose(x), declared (N, M, 3).
func twoHeadModel(shared bool) *graphedit.Model {
	f32 := func(dims ...any) graphedit.ValueType {
		vt := graphedit.ValueType{Elem: onnxpb.TensorProto_FLOAT}
		for _, d := range dims {
			switch v := d.(type) {
			case int:
				vt.Shape = append(vt.Shape, graphedit.Dim{Value: int64(v)})
			case string:
				vt.Shape = append(vt.Shape, graphedit.Dim{Value: -1, Param: v})
			}
		}
		return vt
	}
	s := func(v string) *string { return &v }
	i := func(v int64) *int64 { return &v }
	auxNode := &onnxpb.NodeProto{Name: s("aux"), OpType: s("Identity"), Input: []string{"x"}, Output: []string{"aux"}}
	auxType := f32("N", 3, "L")
	if !shared {
		auxNode = &onnxpb.NodeProto{Name: s("aux"), OpType: s("Transpose"), Input: []string{"x"}, Output: []string{"aux"}, Attribute: []*onnxpb.AttributeProto{graphedit.AttrInts("perm", []int64{0, 2, 1})}}
		auxType = f32("N", "M", 3) // another symbol: labels (N, L) and (N, M) are not shared
	}
	return &graphedit.Model{Proto: &onnxpb.ModelProto{
		IrVersion:   i(8),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: s(""), Version: i(17)}},
		Graph: &onnxpb.GraphProto{
			Name:   s("two-head"),
			Input:  []*onnxpb.ValueInfoProto{graphedit.TensorValueInfo("x", f32("N", 3, "L"))},
			Output: []*onnxpb.ValueInfoProto{graphedit.TensorValueInfo("out", f32("N", 3, "L")), graphedit.TensorValueInfo("aux", auxType)},
			Node:   []*onnxpb.NodeProto{{Name: s("out"), OpType: s("Identity"), Input: []string{"x"}, Output: []string{"out"}}, auxNode},
		},
	}}
}
