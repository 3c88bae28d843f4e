package autodiff

import (
	"fmt"
	"testing"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/onnxpb"
)

// FuzzGradients builds one-node models of every rule's op from fuzzed
// shapes, attributes and constant inputs (most of them invalid) and checks
// that Gradients returns a result or an error, never panics.
func FuzzGradients(f *testing.F) {
	f.Add([]byte{0, 2, 3, 4, 1, 2, 0, 1, 5})
	f.Add([]byte{17, 4, 1, 3, 5, 5, 2, 2, 255, 0, 3})
	f.Add([]byte{40, 3, 2, 2, 2, 9, 9, 1, 0, 128, 7})
	ops := Ops()
	f.Fuzz(func(t *testing.T, data []byte) {
		next := func() int {
			if len(data) == 0 {
				return 0
			}
			b := data[0]
			data = data[1:]
			return int(b)
		}
		small := func() int64 { return int64(next()%7) - 2 }
		op := ops[next()%len(ops)]
		opset := []int64{11, 13, 16, 17, 18, 20}[next()%6]
		mp := &onnxpb.ModelProto{
			IrVersion:   ptr(int64(8)),
			OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: ptr(""), Version: ptr(opset)}},
			Graph:       &onnxpb.GraphProto{Name: ptr("fuzz")},
		}
		nIn := next()%4 + 1
		var inputs, params []string
		for i := 0; i < nIn; i++ {
			name := fmt.Sprintf("in%d", i)
			rank := next() % 5
			dims := make([]int64, rank)
			for k := range dims {
				dims[k] = int64(next()%4 + 1)
			}
			var tp *onnxpb.TensorProto
			if next()%3 == 0 {
				v := make([]int64, numel(dims))
				for k := range v {
					v[k] = small()
				}
				tp = graphedit.Int64Tensor(name, dims, v)
			} else {
				v := make([]float32, numel(dims))
				for k := range v {
					v[k] = float32(small())
				}
				tp = graphedit.Float32Tensor(name, dims, v)
				params = append(params, name)
			}
			mp.Graph.Initializer = append(mp.Graph.Initializer, tp)
			inputs = append(inputs, name)
		}
		var attrs []*onnxpb.AttributeProto
		for _, a := range []string{"axis", "keepdims", "transA", "transB", "group", "exclusive", "reverse", "ceil_mode", "count_include_pad"} {
			if next()%3 == 0 {
				attrs = append(attrs, graphedit.AttrInt(a, small()))
			}
		}
		for _, a := range []string{"axes", "perm", "kernel_shape", "strides", "pads", "dilations", "output_padding", "split"} {
			if next()%3 == 0 {
				v := make([]int64, next()%5)
				for k := range v {
					v[k] = small()
				}
				attrs = append(attrs, graphedit.AttrInts(a, v))
			}
		}
		if next()%4 == 0 {
			attrs = append(attrs, graphedit.AttrString("auto_pad", []string{"SAME_UPPER", "VALID", "SAME_LOWER", "bogus"}[next()%4]))
		}
		nOut := next()%3 + 1
		outs := make([]string, nOut)
		for i := range outs {
			outs[i] = fmt.Sprintf("out%d", i)
		}
		mp.Graph.Node = append(mp.Graph.Node,
			&onnxpb.NodeProto{Name: ptr("node"), OpType: ptr(op), Input: inputs, Output: outs, Attribute: attrs},
			&onnxpb.NodeProto{Name: ptr("sum"), OpType: ptr("ReduceSum"), Input: []string{"out0"}, Output: []string{"loss"}, Attribute: []*onnxpb.AttributeProto{graphedit.AttrInt("keepdims", 0)}},
		)
		mp.Graph.Output = []*onnxpb.ValueInfoProto{graphedit.TensorValueInfo("loss", graphedit.ValueType{Elem: onnxpb.TensorProto_FLOAT, Shape: []graphedit.Dim{}})}
		_, _ = Reachable(mp, "loss")
		_, _ = Gradients(mp, "loss", params)
	})
}
