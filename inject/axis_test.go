package inject_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/inject"
	"github.com/onnxloss/onnxloss/onnxpb"
)

// shapeOf parses "N,16,10" into a float32 ValueType (names are symbolic,
// "?" unknown).
func shapeOf(s string) graphedit.ValueType {
	vt := graphedit.ValueType{Elem: onnxpb.TensorProto_FLOAT, Shape: []graphedit.Dim{}}
	for _, f := range strings.Split(s, ",") {
		var v int64
		if _, err := fmt.Sscan(f, &v); err == nil {
			vt.Shape = append(vt.Shape, graphedit.Dim{Value: v})
		} else if f == "?" {
			vt.Shape = append(vt.Shape, graphedit.Dim{Value: -1})
		} else {
			vt.Shape = append(vt.Shape, graphedit.Dim{Value: -1, Param: f})
		}
	}
	return vt
}

// TestChooseClassAxis is the rule of DESIGN.md's "The class axis": an
// explicit axis wins; else the only non-batch axis of static size C; else
// axis 1 at rank 2 and >= 4, and an error naming --class-axis at rank 3.
func TestChooseClassAxis(t *testing.T) {
	ax := func(v int) *int { return &v }
	cases := []struct {
		shape    string
		C        int
		explicit *int
		want     int    // -1: error
		errHas   string // fragment of the error
	}{
		{"N,5", 5, nil, 1, ""},
		{"N,?", 5, nil, 1, ""},
		{"N,16,10", 10, nil, 2, ""}, // the static case: not "pass counts for 16 classes"
		{"N,T,10", 10, nil, 2, ""},  // token classifier
		{"N,10,L", 10, nil, 1, ""},  // Conv1d labeller
		{"N,6,6", 6, nil, -1, "--class-axis"},
		{"N,T,?", 5, nil, -1, "--class-axis"},
		{"N,T,L", 5, nil, -1, "--class-axis"},
		{"N,16,12", 10, nil, -1, "--class-axis"},
		{"N,4,H,W", 4, nil, 1, ""},
		{"N,H,W,4", 4, nil, 3, ""}, // NHWC
		{"N,4,4,4", 4, nil, 1, ""}, // several: rank-4 default
		{"N,?,?,?", 4, nil, 1, ""},
		{"N,8,H,W", 4, nil, -1, "have 8 classes (dim 1) but the counts give 4"},
		{"10,16", 10, nil, -1, "have 16 classes (dim 1)"}, // a static batch equal to C is never the class axis
		{"N,16", 10, nil, -1, "have 16 classes (dim 1) but the counts give 10"},
		{"N,T,?", 5, ax(-1), 2, ""},
		{"N,T,?", 5, ax(2), 2, ""},
		{"N,6,6", 6, ax(1), 1, ""},
		{"N,6,6", 6, ax(-1), 2, ""},
		{"C,N", 3, ax(0), 0, ""},
		{"N,T,7", 7, ax(3), -1, "--class-axis 3 is outside"},
		{"N,T,7", 7, ax(-4), -1, "--class-axis -4 is outside"},
		{"N,T,7", 7, ax(1), 1, ""}, // explicit and T symbolic: taken as said
		{"N,9,7", 7, ax(1), -1, "have 9 classes at the class axis 1"},
	}
	for _, c := range cases {
		name := fmt.Sprintf("%s/C%d", c.shape, c.C)
		if c.explicit != nil {
			name += fmt.Sprintf("/axis%d", *c.explicit)
		}
		t.Run(name, func(t *testing.T) {
			got, err := inject.ChooseClassAxis("logits", shapeOf(c.shape), c.C, c.explicit)
			if c.want < 0 {
				if err == nil || !strings.Contains(err.Error(), c.errHas) {
					t.Fatalf("got %+v, %v; want an error containing %q", got, err, c.errHas)
				}
				return
			}
			if err != nil || got.Axis != c.want || got.Reason == "" {
				t.Fatalf("got %+v, %v; want axis %d with a reason", got, err, c.want)
			}
		})
	}
}
