package graphedit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/onnxloss/onnxloss/atomicfile"
	"github.com/onnxloss/onnxloss/onnxpb"
)

// Model is an ONNX model together with the directory its external data
// locations are relative to.
type Model struct {
	// Proto is the decoded model; edits go straight into it.
	Proto *onnxpb.ModelProto
	// Dir is the directory that relative external-data locations resolve
	// against: the directory of the file the model was loaded from or last
	// saved to. Empty for a model that never touched the file system.
	Dir string

	used  map[string]bool // every name in the main graph, see names()
	inner map[string]bool // every name in its subgraphs, see innerNames()
}

// ErrNotONNX reports input that does not decode as an ONNX model.
var ErrNotONNX = errors.New("not an ONNX model")

// Load reads the model in the file at path. External data payloads are not
// read: tensors keep their location entries, resolved against the file's
// directory.
func Load(path string) (*Model, error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("cannot read model %s: no such file", path)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read model: %w", err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("cannot read model %s: it is a directory, give an .onnx file", path)
	}
	if !st.Mode().IsRegular() && st.Mode()&fs.ModeNamedPipe == 0 {
		return nil, fmt.Errorf("cannot read model %s: not a regular file or pipe", path)
	}
	data, err := readModelFile(path, st.Mode().IsRegular())
	if err != nil {
		return nil, err
	}
	m, err := LoadBytes(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m.Dir = filepath.Dir(path)
	return m, nil
}

// MaxPipedModel is the most Load reads from a pipe: protobuf messages, and so
// ONNX models without external data, are limited to 2 GiB.
const MaxPipedModel = 2 << 30

// readModelFile reads the model file; a pipe is read up to MaxPipedModel
// bytes, so an endless stream fails instead of exhausting memory.
func readModelFile(path string, regular bool) ([]byte, error) {
	if regular {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("cannot read model: %w", err)
		}
		return data, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read model: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxPipedModel+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read model: %w", err)
	}
	if len(data) > MaxPipedModel {
		return nil, fmt.Errorf("cannot read model %s: the pipe delivered more than 2 GiB, the most an ONNX model (a protobuf message) can hold", path)
	}
	return data, nil
}

// LoadReader reads a whole model from r. External data locations resolve
// against the current directory until the model is saved.
func LoadReader(r io.Reader) (*Model, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading model: %w", err)
	}
	return LoadBytes(data)
}

// LoadBytes decodes a serialized model. It rejects input that is not
// protobuf, is truncated, or decodes to something without a graph.
func LoadBytes(data []byte) (*Model, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: the file is empty", ErrNotONNX)
	}
	mp := &onnxpb.ModelProto{}
	if err := proto.Unmarshal(data, mp); err != nil {
		if looksLikeText(data) {
			return nil, fmt.Errorf("%w: the file is text (JSON, a script, …), an .onnx model is binary protobuf", ErrNotONNX)
		}
		return nil, fmt.Errorf("%w: protobuf decoding failed (truncated or not an .onnx file): %v", ErrNotONNX, err)
	}
	if err := checkLooksLikeModel(mp); err != nil {
		return nil, err
	}
	return &Model{Proto: mp}, nil
}

// checkLooksLikeModel rejects protobuf that happens to decode as a
// ModelProto but is not one (random bytes often decode to an empty message).
func checkLooksLikeModel(mp *onnxpb.ModelProto) error {
	if mp.GetIrVersion() <= 0 {
		return fmt.Errorf("%w: no ir_version (is this an .onnx model file?)", ErrNotONNX)
	}
	if mp.Graph == nil {
		return fmt.Errorf("%w: the model has no graph", ErrNotONNX)
	}
	// IR ≥ 3 requires opset_import; exporters write it after the graph, so
	// a file cut right after its graph decodes without one.
	if mp.GetIrVersion() >= 3 && len(mp.GetOpsetImport()) == 0 {
		return fmt.Errorf("%w: the model has no opset_import (truncated file?)", ErrNotONNX)
	}
	return nil
}

// looksLikeText reports whether data is valid UTF-8 made of printable
// characters and whitespace (a JSON file, a script, …).
func looksLikeText(data []byte) bool {
	if len(data) > 4096 {
		data = data[:4096]
	}
	// A cut in the middle of a multi-byte rune at the 4096 limit is fine.
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		if r == utf8.RuneError && size <= 1 && len(data) >= utf8.UTFMax {
			return false
		}
		if r < 0x20 && r != '\n' && r != '\r' && r != '\t' {
			return false
		}
		data = data[size:]
	}
	return true
}

// Marshal serializes the model deterministically: the same model always
// gives the same bytes, and fields the schema does not know are kept.
func (m *Model) Marshal() ([]byte, error) {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m.Proto)
	if err != nil {
		return nil, fmt.Errorf("encoding model: %w", err)
	}
	return b, nil
}

// Write serializes the model to w.
func (m *Model) Write(w io.Writer) error {
	b, err := m.Marshal()
	if err != nil {
		return err
	}
	_, err = io.Copy(w, bytes.NewReader(b))
	return err
}

// Save writes the model to path through a temporary file in the same
// directory that is renamed into place, so path never holds a partial model.
// External-data locations are rewritten so that they still point at the same
// files from path's directory, and m.Dir becomes that directory; payloads
// are never read or copied. If the write fails, the model is left as it was.
//
// Saved into a directory that is not the data files' directory or one of
// its ancestors, locations start with "../": valid ONNX, which the onnx
// checker follows, but ONNX Runtime (1.30) refuses any location whose real
// path leaves the model's directory, and absolute locations.
func (m *Model) Save(path string) error {
	dir := filepath.Dir(path)
	undo, err := m.relocateExternalData(dir)
	if err != nil {
		return err
	}
	b, err := m.Marshal()
	if err == nil {
		err = WriteFileAtomic(path, b)
	}
	if err != nil {
		undo()
		return err
	}
	m.Dir = dir
	return nil
}

// WriteFileAtomic writes data to a temporary file beside path and renames it
// to path. On any error nothing is left under path or beside it.
func WriteFileAtomic(path string, data []byte) error {
	return atomicfile.WriteBytes(path, data)
}

// WriteAtomic creates a temporary file beside path, lets write fill it and
// renames it to path: see atomicfile.Write.
func WriteAtomic(path string, write func(io.Writer) error) error {
	return atomicfile.Write(path, write)
}

// CheckOutput refuses an output path that exists and is not a regular file:
// see atomicfile.CheckOutput.
func CheckOutput(path string) error { return atomicfile.CheckOutput(path) }
