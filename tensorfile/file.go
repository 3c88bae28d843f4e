package tensorfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/onnxloss/onnxloss/onnxpb"
)

// Format is a tensor file format, named by its file extension.
type Format string

// The supported formats.
const (
	NPY  Format = ".npy"  // one NumPy array
	NPZ  Format = ".npz"  // a NumPy archive of named arrays
	PB   Format = ".pb"   // one serialized ONNX TensorProto
	JSON Format = ".json" // named tensors as JSON (see ReadJSON)
)

// FormatOf returns the format of path from its extension (case-insensitive).
func FormatOf(path string) (Format, error) {
	switch f := Format(strings.ToLower(filepath.Ext(path))); f {
	case NPY, NPZ, PB, JSON:
		return f, nil
	}
	return "", fmt.Errorf("unknown tensor file extension %q: use .npy, .npz, .pb or .json", filepath.Ext(path))
}

// baseName is the file name without directory and extension: the tensor name
// of a .npy file, and the default one of a .pb file.
func baseName(path string) string {
	b := filepath.Base(path)
	return strings.TrimSuffix(b, filepath.Ext(b))
}

// ReadFile reads the tensors of a .npy, .npz, .pb or .json file, chosen by
// extension. A .npy file's tensor is named after the file (in.npy gives
// "in"); a .pb tensor keeps its own name, or else is named after the file.
// Every tensor has its data in little-endian raw_data. Errors are one line
// starting with path.
func ReadFile(path string) ([]*onnxpb.TensorProto, error) {
	ts, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", oneLine(path), err)
	}
	return ts, nil
}

func readFile(path string) ([]*onnxpb.TensorProto, error) {
	format, err := FormatOf(path)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, unwrapPathError(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, unwrapPathError(err)
	}
	if fi.IsDir() {
		return nil, errors.New("is a directory, not a tensor file")
	}
	if m := fi.Mode(); m&(os.ModeDevice|os.ModeCharDevice|os.ModeSocket) != 0 {
		return nil, errors.New("is a device or socket, not a tensor file: give a regular file")
	}
	if format == NPZ {
		return ReadNPZ(f, fi.Size())
	}
	var r io.Reader = f
	if !fi.Mode().IsRegular() {
		// A pipe may never end: read at most what one protobuf message,
		// and so one ONNX tensor, can hold.
		r = &cappedReader{r: f, left: maxStreamBytes}
	}
	return Read(r, format, baseName(path))
}

// maxStreamBytes is the most ReadFile reads from a pipe: 2 GiB, the
// protobuf limit.
const maxStreamBytes = 2 << 30

// cappedReader reads at most left bytes from r and fails, rather than
// ending, when r has more.
type cappedReader struct {
	r    io.Reader
	left int64
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		var one [1]byte
		if n, err := c.r.Read(one[:]); n == 0 {
			return 0, err
		}
		return 0, errors.New("the pipe delivered more than 2 GiB: give a regular file")
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// unwrapPathError drops the path from *os.PathError, which the caller adds.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}

// Read reads tensors in the given format from r. name is the tensor name for
// NPY, and the fallback name for a PB tensor without one; NPZ and JSON carry
// their own names. An NPZ stream is read into memory first.
func Read(r io.Reader, format Format, name string) ([]*onnxpb.TensorProto, error) {
	switch format {
	case NPY:
		t, err := ReadNPY(r, name)
		if err != nil {
			return nil, err
		}
		return []*onnxpb.TensorProto{t}, nil
	case NPZ:
		if ra, ok := r.(interface {
			io.ReaderAt
			Size() int64
		}); ok {
			return ReadNPZ(ra, ra.Size())
		}
		b, err := io.ReadAll(r)
		if err != nil {
			return nil, err
		}
		return ReadNPZ(bytes.NewReader(b), int64(len(b)))
	case PB:
		t, err := ReadPB(r, name)
		if err != nil {
			return nil, err
		}
		return []*onnxpb.TensorProto{t}, nil
	case JSON:
		return ReadJSON(r)
	}
	return nil, fmt.Errorf("unknown tensor file format %q", string(format))
}

// Write writes tensors to w in the given format. NPY and PB hold exactly one
// tensor; NPZ and JSON any number, with distinct non-empty names.
func Write(w io.Writer, format Format, tensors []*onnxpb.TensorProto) error {
	one := func() (*onnxpb.TensorProto, error) {
		if len(tensors) != 1 {
			return nil, fmt.Errorf("a %s file holds exactly one tensor, got %d: use .npz or .json", string(format), len(tensors))
		}
		return tensors[0], nil
	}
	switch format {
	case NPY:
		t, err := one()
		if err != nil {
			return err
		}
		return WriteNPY(w, t)
	case PB:
		t, err := one()
		if err != nil {
			return err
		}
		return WritePB(w, t)
	case NPZ:
		return WriteNPZ(w, tensors)
	case JSON:
		return WriteJSON(w, tensors)
	}
	return fmt.Errorf("unknown tensor file format %q", string(format))
}

// WriteFile writes tensors to path in the format its extension names (see
// Write), atomically: the data goes to a temporary file in the same directory
// that is renamed over path only once complete, so path is never left
// half-written. Errors are one line starting with path.
func WriteFile(path string, tensors []*onnxpb.TensorProto) error {
	if err := writeFile(path, tensors); err != nil {
		return fmt.Errorf("%s: %w", oneLine(path), err)
	}
	return nil
}

func writeFile(path string, tensors []*onnxpb.TensorProto) (err error) {
	format, err := FormatOf(path)
	if err != nil {
		return err
	}
	// Encode first, so that bad tensors leave no temporary file behind.
	var buf bytes.Buffer
	if err := Write(&buf, format, tensors); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return unwrapPathError(err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(buf.Bytes()); err != nil {
		return err
	}
	if err = tmp.Chmod(0o644); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// oneLine escapes control and non-printable characters in s (a name or
// string taken from the input) so that error messages stay on one line.
func oneLine(s string) string {
	for _, r := range s {
		if !strconv.IsPrint(r) {
			q := strconv.Quote(s)
			return q[1 : len(q)-1]
		}
	}
	return s
}
