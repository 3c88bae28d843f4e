package graphedit_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/onnxpb"
)

// Field numbers of the ONNX schema used to walk the encoded model.
const (
	modelGraphField       = 7 // ModelProto.graph
	graphNodeField        = 1 // GraphProto.node
	graphInitializerField = 5 // GraphProto.initializer
)

// unknownFields are the fields added to each message: one that a newer IR
// really has (metadata_props: NodeProto 9, GraphProto 16, TensorProto 16;
// ModelProto 26 is ONNX 1.16's configuration) as a length-delimited
// StringStringEntryProto-like payload, and a made-up varint field.
type unknownField struct {
	num   protowire.Number
	bytes []byte // nil for the varint field
	value uint64
}

func unknownsFor(msg string, newerIRField protowire.Number) []unknownField {
	var entry []byte
	entry = protowire.AppendTag(entry, 1, protowire.BytesType)
	entry = protowire.AppendString(entry, "newer-ir-"+msg)
	entry = protowire.AppendTag(entry, 2, protowire.BytesType)
	entry = protowire.AppendString(entry, "kept")
	return []unknownField{
		{num: newerIRField, bytes: entry},
		{num: 12345, value: 424242},
	}
}

func encodeUnknown(fs []unknownField) []byte {
	var b []byte
	for _, f := range fs {
		if f.bytes != nil {
			b = protowire.AppendTag(b, f.num, protowire.BytesType)
			b = protowire.AppendBytes(b, f.bytes)
		} else {
			b = protowire.AppendTag(b, f.num, protowire.VarintType)
			b = protowire.AppendVarint(b, f.value)
		}
	}
	return b
}

// fields splits an encoded message into its top-level fields: number →
// list of raw values (length-delimited contents, or varints).
type rawField struct {
	typ   protowire.Type
	bytes []byte
	value uint64
}

func fields(t *testing.T, b []byte) map[protowire.Number][]rawField {
	t.Helper()
	out := map[protowire.Number][]rawField{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatalf("bad tag: %v", protowire.ParseError(n))
		}
		b = b[n:]
		f := rawField{typ: typ}
		switch typ {
		case protowire.BytesType:
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				t.Fatalf("field %d: %v", num, protowire.ParseError(m))
			}
			f.bytes, n = v, m
		case protowire.VarintType:
			v, m := protowire.ConsumeVarint(b)
			if m < 0 {
				t.Fatalf("field %d: %v", num, protowire.ParseError(m))
			}
			f.value, n = v, m
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				t.Fatalf("field %d: %v", num, protowire.ParseError(n))
			}
		}
		b = b[n:]
		out[num] = append(out[num], f)
	}
	return out
}

func checkUnknowns(t *testing.T, where string, msg []byte, want []unknownField) {
	t.Helper()
	fs := fields(t, msg)
	for _, u := range want {
		got := fs[u.num]
		if len(got) != 1 {
			t.Errorf("%s: field %d occurs %d times after the round trip, want 1", where, u.num, len(got))
			continue
		}
		if u.bytes != nil && !bytes.Equal(got[0].bytes, u.bytes) {
			t.Errorf("%s: field %d = %q, want %q", where, u.num, got[0].bytes, u.bytes)
		}
		if u.bytes == nil && got[0].value != u.value {
			t.Errorf("%s: field %d = %d, want %d", where, u.num, got[0].value, u.value)
		}
	}
}

// A model carrying fields this schema (ONNX 1.12, IR 8) does not know keeps
// them, byte for byte, through Load and Save.
func TestUnknownFieldsSurvive(t *testing.T) {
	base, err := os.ReadFile(filepath.Join("..", "testdata", "models", "mlp_o13.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	mp := &onnxpb.ModelProto{}
	if err := proto.Unmarshal(base, mp); err != nil {
		t.Fatal(err)
	}
	modelU := unknownsFor("model", 26)
	graphU := unknownsFor("graph", 16)
	nodeU := unknownsFor("node", 9)
	tensorU := unknownsFor("tensor", 16)
	mp.ProtoReflect().SetUnknown(encodeUnknown(modelU))
	mp.Graph.ProtoReflect().SetUnknown(encodeUnknown(graphU))
	mp.Graph.Node[0].ProtoReflect().SetUnknown(encodeUnknown(nodeU))
	mp.Graph.Initializer[0].ProtoReflect().SetUnknown(encodeUnknown(tensorU))
	crafted, err := proto.MarshalOptions{Deterministic: true}.Marshal(mp)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "newer_ir.onnx")
	if err := os.WriteFile(in, crafted, 0o644); err != nil {
		t.Fatal(err)
	}

	m, err := graphedit.Load(in)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "saved.onnx")
	if err := m.Save(out); err != nil {
		t.Fatal(err)
	}
	saved, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(saved, crafted) {
		t.Errorf("saved model (%d bytes) differs from the crafted one (%d bytes)", len(saved), len(crafted))
	}
	for _, u := range [][]unknownField{modelU, graphU, nodeU, tensorU} {
		if !bytes.Contains(saved, encodeUnknown(u)) {
			t.Errorf("saved model lacks the bytes of unknown fields %d, %d", u[0].num, u[1].num)
		}
	}

	// Walk the saved bytes with protowire and find each unknown field in its
	// message.
	top := fields(t, saved)
	checkUnknowns(t, "ModelProto", saved, modelU)
	graph := top[modelGraphField]
	if len(graph) != 1 {
		t.Fatalf("saved model has %d graph fields", len(graph))
	}
	checkUnknowns(t, "GraphProto", graph[0].bytes, graphU)
	gf := fields(t, graph[0].bytes)
	checkUnknowns(t, "NodeProto", gf[graphNodeField][0].bytes, nodeU)
	checkUnknowns(t, "TensorProto", gf[graphInitializerField][0].bytes, tensorU)

	// Edits elsewhere keep them too.
	m.SetMetadata("k", "v")
	if err := m.AddInitializer(graphedit.Int64Tensor(m.UniqueName("extra"), []int64{1}, []int64{7})); err != nil {
		t.Fatal(err)
	}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range [][]unknownField{modelU, graphU, nodeU, tensorU} {
		if !bytes.Contains(b, encodeUnknown(u)) {
			t.Errorf("edited model lacks the bytes of unknown fields %d, %d", u[0].num, u[1].num)
		}
	}
}
