package graphedit_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxloss/onnxloss/graphedit"
)

func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// A write that fails part-way leaves nothing under the final name and no
// temporary file; an existing file keeps its old content.
func TestWriteAtomicFailure(t *testing.T) {
	boom := errors.New("disk on fire")
	partial := func(w io.Writer) error {
		if _, err := w.Write([]byte("half a model")); err != nil {
			return err
		}
		return boom
	}
	t.Run("new file", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "out.onnx")
		err := graphedit.WriteAtomic(path, partial)
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want it to wrap %v", err, boom)
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("error %q does not name %s", err, path)
		}
		if names := dirEntries(t, dir); len(names) != 0 {
			t.Errorf("directory holds %v after a failed write, want nothing", names)
		}
	})
	t.Run("existing file", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "out.onnx")
		if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := graphedit.WriteAtomic(path, partial); err == nil {
			t.Fatal("no error")
		}
		if b, _ := os.ReadFile(path); string(b) != "old" {
			t.Errorf("file holds %q after a failed write, want the old content", b)
		}
		if names := dirEntries(t, dir); len(names) != 1 {
			t.Errorf("directory holds %v, want only out.onnx", names)
		}
	})
}

// A successful save replaces the file and leaves no temporary file.
func TestSaveReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.onnx")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := graphedit.Load(filepath.Join("..", "testdata", "models", "mlp_o13.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	if names := dirEntries(t, dir); len(names) != 1 || names[0] != "m.onnx" {
		t.Errorf("directory holds %v, want only m.onnx", names)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o644 {
		t.Errorf("saved file mode %v, want 0644", st.Mode().Perm())
	}
	if _, err := graphedit.Load(path); err != nil {
		t.Errorf("saved file does not load: %v", err)
	}
}

// Saving into a missing directory, onto a directory or under a file fails
// with a message naming the problem, and creates nothing.
func TestSaveBadDestination(t *testing.T) {
	m, err := graphedit.Load(filepath.Join("..", "testdata", "models", "mlp_o13.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "plain.txt")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path, want string
	}{
		{"missing dir", filepath.Join(dir, "nope", "m.onnx"), "does not exist"},
		{"onto a directory", dir, "is a directory"},
		{"under a file", filepath.Join(file, "m.onnx"), "is not a directory"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := m.Save(c.path)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not say %q", err, c.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q spans several lines", err)
			}
			if names := dirEntries(t, dir); len(names) != 1 {
				t.Errorf("directory holds %v, want only plain.txt", names)
			}
		})
	}
}
