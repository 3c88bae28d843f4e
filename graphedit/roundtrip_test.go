package graphedit_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/internal/refs"
	"github.com/onnxloss/onnxloss/onnxpb"
)

// testModels returns the paths of testdata/models/*.onnx.
func testModels(t testing.TB) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "testdata", "models", "*.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 9 {
		t.Fatalf("found %d models in testdata/models, want at least 9", len(paths))
	}
	return paths
}

// Load → Save of every testdata model gives the file's bytes back.
func TestSaveIsByteIdentical(t *testing.T) {
	out := t.TempDir()
	for _, path := range testModels(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			m, err := graphedit.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			dst := filepath.Join(out, filepath.Base(path))
			if err := m.Save(dst); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(dst)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("saved %d bytes differ from the file's %d bytes", len(got), len(want))
			}
			var buf bytes.Buffer
			if err := m.Write(&buf); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("Write gives %d bytes that differ from the file's %d bytes", buf.Len(), len(want))
			}
		})
	}
}

// Load → Marshal → re-read of every ONNX node-test model is proto.Equal to
// the original decoding.
func TestNodeTestModelsRoundTrip(t *testing.T) {
	dir := refs.NodeTestsDir(t)
	paths := refs.NodeTestModels(t, dir)
	for _, path := range paths {
		name := filepath.Base(filepath.Dir(path))
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		orig := &onnxpb.ModelProto{}
		if err := proto.Unmarshal(data, orig); err != nil {
			t.Errorf("%s: decoding with protobuf: %v", name, err)
			continue
		}
		m, err := graphedit.Load(path)
		if err != nil {
			t.Errorf("%s: Load: %v", name, err)
			continue
		}
		b, err := m.Marshal()
		if err != nil {
			t.Errorf("%s: Marshal: %v", name, err)
			continue
		}
		again := &onnxpb.ModelProto{}
		if err := proto.Unmarshal(b, again); err != nil {
			t.Errorf("%s: re-reading: %v", name, err)
			continue
		}
		if !proto.Equal(orig, again) {
			t.Errorf("%s: re-read model differs from the original", name)
		}
		m2, err := graphedit.LoadBytes(b)
		if err != nil {
			t.Errorf("%s: LoadBytes of the marshaled model: %v", name, err)
			continue
		}
		if b2, _ := m2.Marshal(); !bytes.Equal(b, b2) {
			t.Errorf("%s: second Marshal differs from the first", name)
		}
	}
	t.Logf("%d node-test models round-tripped", len(paths))
}

// Every testdata model, edited (metadata, a new node and output) and saved,
// passes onnx.checker.check_model(full_check=True).
func TestSavedModelsPassChecker(t *testing.T) {
	dir := t.TempDir()
	var saved []string
	for _, path := range testModels(t) {
		m, err := graphedit.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		m.SetMetadata("onnxloss", `{"test": true}`)
		out := m.Graph().GetOutput()[0].GetName()
		vt, ok := m.ValueType(out)
		if !ok {
			t.Fatalf("%s: output %s has no type", path, out)
		}
		b := graphedit.NewBuilder(m, "onnxloss")
		id := b.Op("Identity", "copy", []string{out})
		m.AddOutput(graphedit.TensorValueInfo(id, vt), 0)
		dst := filepath.Join(dir, filepath.Base(path))
		if err := m.Save(dst); err != nil {
			t.Fatal(err)
		}
		saved = append(saved, dst)
	}
	for p, msg := range refs.CheckModels(t, saved) {
		t.Errorf("onnx checker rejects %s: %s", filepath.Base(p), msg)
	}
}
