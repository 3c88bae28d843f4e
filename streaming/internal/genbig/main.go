// Command genbig writes large ONNX models for the inject benchmark
// (scripts/bench-inject.sh) without holding them in memory: an MLP of
// square Gemm layers whose weights are random bytes, inline or in a sparse
// external-data file. With -equal A B it reports whether two models decode
// to equal protos.
//
//	go run ./streaming/internal/genbig -o big.onnx -mib 1024
//	go run ./streaming/internal/genbig -o ext.onnx -mib 8192 -external weights.bin
//	go run ./streaming/internal/genbig -equal a.onnx b.onnx
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/onnxpb"
)

func main() {
	out := flag.String("o", "big.onnx", "model `FILE` to write")
	mib := flag.Int64("mib", 1024, "approximate size of the weights in MiB")
	width := flag.Int64("width", 4096, "layer width D: each hidden weight is D×D float32")
	classes := flag.Int64("classes", 10, "output classes C")
	external := flag.String("external", "", "write the weights to this side `FILE` (beside the model, sparse) instead of inline")
	equal := flag.Bool("equal", false, "compare the two model files given as arguments instead")
	flag.Parse()
	var err error
	if *equal {
		err = compare(flag.Arg(0), flag.Arg(1))
	} else {
		err = generate(*out, *mib<<20, *width, *classes, *external)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "genbig:", err)
		os.Exit(1)
	}
}

// compare loads two models and says whether their protos are equal.
func compare(a, b string) error {
	ma, err := graphedit.Load(a)
	if err != nil {
		return err
	}
	mb, err := graphedit.Load(b)
	if err != nil {
		return err
	}
	if !proto.Equal(ma.Proto, mb.Proto) {
		return fmt.Errorf("%s and %s differ", a, b)
	}
	fmt.Printf("%s and %s are proto.Equal\n", a, b)
	return nil
}

func f32(dims ...int64) *onnxpb.TensorProto {
	return &onnxpb.TensorProto{Dims: dims, DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT))}
}

func valueInfo(name string, dims ...any) *onnxpb.ValueInfoProto {
	shape := &onnxpb.TensorShapeProto{}
	for _, d := range dims {
		switch v := d.(type) {
		case string:
			shape.Dim = append(shape.Dim, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: v}})
		case int64:
			shape.Dim = append(shape.Dim, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: v}})
		}
	}
	return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Shape: shape}}}}
}

// generate writes the model: the small part is encoded with protobuf, the
// big weights are written as initializer fields whose payloads are
// streamed from a random source (inline) or described as external data.
func generate(path string, size, d, c int64, external string) error {
	layers := max(1, (size+2*d*d)/(4*d*d)) // rounded
	g := &onnxpb.GraphProto{Name: proto.String("genbig_mlp")}
	prev := "x"
	gemm := func(in, w, b, out string) *onnxpb.NodeProto {
		return &onnxpb.NodeProto{Name: proto.String("/" + out), OpType: proto.String("Gemm"), Input: []string{in, w, b}, Output: []string{out},
			Attribute: []*onnxpb.AttributeProto{{Name: proto.String("transB"), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(1)}}}
	}
	var big []*onnxpb.TensorProto
	for i := range layers {
		w, b, h, r := fmt.Sprintf("fc%d.weight", i), fmt.Sprintf("fc%d.bias", i), fmt.Sprintf("fc%d", i), fmt.Sprintf("relu%d", i)
		g.Node = append(g.Node, gemm(prev, w, b, h),
			&onnxpb.NodeProto{Name: proto.String("/" + r), OpType: proto.String("Relu"), Input: []string{h}, Output: []string{r}})
		bias := f32(d)
		bias.Name, bias.RawData = proto.String(b), make([]byte, 4*d)
		g.Initializer = append(g.Initializer, bias)
		wt := f32(d, d)
		wt.Name = proto.String(w)
		big = append(big, wt)
		prev = r
	}
	g.Node = append(g.Node, gemm(prev, "head.weight", "head.bias", "logits"))
	hw, hb := f32(c, d), f32(c)
	hw.Name, hw.RawData = proto.String("head.weight"), make([]byte, 4*c*d)
	hb.Name, hb.RawData = proto.String("head.bias"), make([]byte, 4*c)
	g.Initializer = append(g.Initializer, hw, hb)
	g.Input = []*onnxpb.ValueInfoProto{valueInfo("x", "N", d)}
	g.Output = []*onnxpb.ValueInfoProto{valueInfo("logits", "N", c)}

	wbytes := 4 * d * d
	var fields [][]byte // encoded big initializer fields, without inline payloads
	for i, t := range big {
		if external != "" {
			t.DataLocation = onnxpb.TensorProto_EXTERNAL.Enum()
			t.ExternalData = []*onnxpb.StringStringEntryProto{
				{Key: proto.String("location"), Value: proto.String(external)},
				{Key: proto.String("offset"), Value: proto.String(strconv.FormatInt(int64(i)*wbytes, 10))},
				{Key: proto.String("length"), Value: proto.String(strconv.FormatInt(wbytes, 10))},
			}
		}
		head, err := proto.Marshal(t)
		if err != nil {
			return err
		}
		if external == "" {
			head = protowire.AppendTag(head, 9, protowire.BytesType)
			head = protowire.AppendVarint(head, uint64(wbytes))
		}
		fields = append(fields, head)
	}
	// The fields go in field-number order, as protobuf serializers (so
	// onnx.save and torch.onnx.export) write them: the graph's nodes, name
	// and initializers (the small ones, then the big ones), then its inputs
	// and outputs; the model's ir_version and producer_name, its graph, then
	// its opset_import.
	ends := &onnxpb.GraphProto{Input: g.Input, Output: g.Output}
	g.Input, g.Output = nil, nil
	gb, err := proto.MarshalOptions{Deterministic: true}.Marshal(g)
	if err != nil {
		return err
	}
	gtail, err := proto.MarshalOptions{Deterministic: true}.Marshal(ends)
	if err != nil {
		return err
	}
	graphLen := int64(len(gb) + len(gtail))
	for _, h := range fields {
		body := int64(len(h))
		if external == "" {
			body += wbytes
		}
		graphLen += int64(protowire.SizeTag(5)+protowire.SizeVarint(uint64(body))) + body
	}
	mb, err := proto.MarshalOptions{Deterministic: true}.Marshal(&onnxpb.ModelProto{IrVersion: proto.Int64(7), ProducerName: proto.String("genbig")})
	if err != nil {
		return err
	}
	mtail, err := proto.MarshalOptions{Deterministic: true}.Marshal(&onnxpb.ModelProto{
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(13)}}})
	if err != nil {
		return err
	}

	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.Write(mb)
	w.Write(protowire.AppendVarint(protowire.AppendTag(nil, 7, protowire.BytesType), uint64(graphLen)))
	w.Write(gb)
	rng := rand.NewChaCha8([32]byte{'o', 'n', 'n', 'x', 'l', 'o', 's', 's'})
	for _, h := range fields {
		body := int64(len(h))
		if external == "" {
			body += wbytes
		}
		w.Write(protowire.AppendVarint(protowire.AppendTag(nil, 5, protowire.BytesType), uint64(body)))
		w.Write(h)
		if external == "" {
			if _, err := io.CopyN(w, rng, wbytes); err != nil {
				return err
			}
		}
	}
	w.Write(gtail)
	w.Write(mtail)
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if external != "" {
		side := filepath.Join(filepath.Dir(path), external)
		sf, err := os.Create(side)
		if err != nil {
			return err
		}
		if err := sf.Truncate(int64(len(big)) * wbytes); err != nil {
			return err
		}
		if err := sf.Close(); err != nil {
			return err
		}
	}
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	fmt.Printf("wrote %s: %d layers of %dx%d, %d bytes", path, layers, d, d, st.Size())
	if external != "" {
		fmt.Printf(", external data %s: %d bytes (sparse)", external, int64(len(big))*wbytes)
	}
	fmt.Println()
	return nil
}
