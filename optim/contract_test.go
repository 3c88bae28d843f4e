package optim_test

import (
	"math/rand"
	"strings"
	"testing"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/onnxpb"
	"github.com/onnxloss/onnxloss/optim"
)

// TestStepModelContract checks the names and order DESIGN.md fixes: inputs
// = model inputs, then p and its states per parameter, lr, step (none of
// them an initializer); outputs = loss, then X_next per state input but lr;
// init model = no inputs, one output per state input, same names.
func TestStepModelContract(t *testing.T) {
	for _, c := range []struct {
		opt      string
		s        optim.Settings
		suffixes []string
	}{
		{"sgd", optim.Settings{LR: 0.1, Momentum: 0.9}, []string{"momentum"}},
		{"sgd", optim.Settings{LR: 0.1}, nil},
		{"adamw", optim.Settings{LR: 0.1, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}, []string{"exp_avg", "exp_avg_sq"}},
	} {
		order := []string{"w", "b"}
		m, grads, _ := linearModel(t, onnxpb.TensorProto_FLOAT, map[string][]int64{"w": {2, 3}, "b": {3}}, order, rand.New(rand.NewSource(1)))
		modelInputs := len(m.Graph().GetInput())
		o, _ := optim.Lookup(c.opt)
		res, err := optim.Apply(m, "loss", order, grads, o, c.s)
		if err != nil {
			t.Fatal(err)
		}
		var wantIn, wantOut []string
		for _, p := range order {
			wantIn = append(wantIn, p)
			for _, suf := range c.suffixes {
				wantIn = append(wantIn, p+"_"+suf)
			}
		}
		wantIn = append(wantIn, "lr", "step")
		wantOut = append(wantOut, "loss")
		for _, x := range wantIn {
			if x != "lr" {
				wantOut = append(wantOut, x+"_next")
			}
		}
		var gotIn, gotOut, initOut []string
		for _, vi := range m.Graph().GetInput()[modelInputs:] {
			gotIn = append(gotIn, vi.GetName())
		}
		for _, vi := range m.Graph().GetOutput() {
			gotOut = append(gotOut, vi.GetName())
		}
		for _, vi := range res.Init.Graph().GetOutput() {
			initOut = append(initOut, vi.GetName())
		}
		if strings.Join(gotIn, ",") != strings.Join(wantIn, ",") || strings.Join(gotOut, ",") != strings.Join(wantOut, ",") || strings.Join(initOut, ",") != strings.Join(wantIn, ",") {
			t.Errorf("%s %+v:\ninputs %v\nwant   %v\noutputs %v\nwant    %v\ninit outputs %v", c.opt, c.s, gotIn, wantIn, gotOut, wantOut, initOut)
		}
		for _, x := range wantIn {
			if m.Initializer(x) != nil {
				t.Errorf("state input %q is also an initializer", x)
			}
		}
		if len(res.Init.Graph().GetInput()) != 0 || len(res.Init.Graph().GetInitializer()) != 0 {
			t.Error("the init model has inputs or initializers")
		}
	}
}

func TestApplyRejects(t *testing.T) {
	sgd, _ := optim.Lookup("sgd")
	ok := optim.Settings{LR: 0.1}
	cases := []struct {
		name   string
		edit   func(m *graphedit.Model)
		params []string
		s      optim.Settings
		want   string
	}{
		{"no parameters", nil, []string{}, ok, "no trainable parameters"},
		{"taken name", func(m *graphedit.Model) {
			m.AddInput(graphedit.TensorValueInfo("lr", graphedit.ValueType{Elem: onnxpb.TensorProto_FLOAT}), -1)
		}, []string{"w"}, ok, `already has a value named "lr"`},
		{"lr zero", nil, []string{"w"}, optim.Settings{}, "sgd needs --lr"},
		{"not an initializer", nil, []string{"G_w"}, ok, `"G_w" is not an initializer`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, grads, _ := linearModel(t, onnxpb.TensorProto_FLOAT, map[string][]int64{"w": {2}}, []string{"w"}, rand.New(rand.NewSource(2)))
			if c.edit != nil {
				c.edit(m)
			}
			g := grads[:len(c.params)]
			_, err := optim.Apply(m, "loss", c.params, g, sgd, c.s)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
}
