package tensorfile

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/onnxloss/onnxloss/onnxpb"
)

// ReadNPZ reads a NumPy .npz archive (np.savez or np.savez_compressed: a zip
// of .npy members, stored or deflated) of the given size. Each member x.npy
// becomes a tensor named x, in archive order. Members that are not .npy
// files, and duplicate names, are errors.
func ReadNPZ(r io.ReaderAt, size int64) ([]*onnxpb.TensorProto, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) { // names are only used as tensor names
		return nil, fmt.Errorf("not a valid .npz (zip) archive: %w", err)
	}
	var out []*onnxpb.TensorProto
	seen := map[string]bool{}
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") && f.UncompressedSize64 == 0 {
			continue // directory entry
		}
		name, ok := strings.CutSuffix(f.Name, ".npy")
		if !ok {
			return nil, fmt.Errorf("member %s: not a .npy file (an .npz holds only .npy members)", oneLine(f.Name))
		}
		if seen[name] {
			return nil, fmt.Errorf("member %s: duplicate array name %q", oneLine(f.Name), name)
		}
		seen[name] = true
		t, err := readNPZMember(f, name)
		if err != nil {
			return nil, fmt.Errorf("member %s: %w", oneLine(f.Name), err)
		}
		out = append(out, t)
	}
	return out, nil
}

func readNPZMember(f *zip.File, name string) (*onnxpb.TensorProto, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	t, err := ReadNPY(rc, name)
	if err != nil {
		return nil, err
	}
	// Drain the member so that the zip reader checks its CRC-32 and size.
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return nil, err
	}
	return t, nil
}

// npzTime is the timestamp written on members, as numpy does, so that the
// same tensors always give the same bytes.
var npzTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// WriteNPZ writes tensors as a deflate-compressed .npz archive (what
// np.savez_compressed writes), one member name.npy per tensor. Names must be
// non-empty and distinct.
func WriteNPZ(w io.Writer, tensors []*onnxpb.TensorProto) error {
	if err := checkNames(tensors); err != nil {
		return err
	}
	zw := zip.NewWriter(w)
	for _, t := range tensors {
		fw, err := zw.CreateHeader(&zip.FileHeader{
			Name:     t.GetName() + ".npy",
			Method:   zip.Deflate,
			Modified: npzTime,
		})
		if err != nil {
			return err
		}
		if err := WriteNPY(fw, t); err != nil {
			return fmt.Errorf("tensor %q: %w", t.GetName(), err)
		}
	}
	return zw.Close()
}

// checkNames requires non-nil tensors with non-empty, distinct names.
func checkNames(tensors []*onnxpb.TensorProto) error {
	seen := map[string]bool{}
	for i, t := range tensors {
		if t == nil {
			return fmt.Errorf("tensor %d is nil", i)
		}
		n := t.GetName()
		if n == "" {
			return fmt.Errorf("tensor %d has no name", i)
		}
		if seen[n] {
			return fmt.Errorf("two tensors are named %q", n)
		}
		seen[n] = true
	}
	return nil
}
