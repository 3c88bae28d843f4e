// Package extdata reads the external data of ONNX tensors from an untrusted
// model: only regular files inside the model's directory, sizes checked first.
//
// A location is refused when it is empty, absolute, holds a NUL byte, leaves
// the directory through "..", or resolves outside it through a symbolic
// link; the file must be a regular file (never a FIFO, a device or a
// directory, which are neither opened for blocking reads nor read), and the
// range offset..offset+length must lie inside it before anything is
// allocated. Opening goes through os.Root, so a symbolic link swapped in
// between the checks and the open cannot lead outside the directory either.
package extdata

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/onnxloss/onnxloss/onnxpb"
)

// Ref is one tensor's external_data entries, parsed.
type Ref struct {
	// Location is the file, relative to the model's directory, as stored.
	Location string
	// Offset is where the payload starts in the file (0 when not given).
	Offset int64
	// Length is the payload's size in bytes, or -1 when not given.
	Length int64
}

// Parse reads the location, offset and length entries of a tensor's
// external_data. Unknown keys (checksum, …) are ignored.
func Parse(entries []*onnxpb.StringStringEntryProto) (Ref, error) {
	r := Ref{Length: -1}
	seen := map[string]bool{}
	for _, kv := range entries {
		k := kv.GetKey()
		switch k {
		case "location", "offset", "length":
		default:
			continue
		}
		if seen[k] {
			return r, fmt.Errorf("external data has two %q entries", k)
		}
		seen[k] = true
		v := kv.GetValue()
		switch k {
		case "location":
			r.Location = v
		case "offset", "length":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return r, fmt.Errorf("external data %s %q is not a byte count (a non-negative integer)", k, v)
			}
			if k == "offset" {
				r.Offset = n
			} else {
				r.Length = n
			}
		}
	}
	if !seen["location"] || r.Location == "" {
		return r, errors.New("external data without a location")
	}
	return r, nil
}

// CheckLocation refuses locations that cannot name a file inside the
// model's directory, whatever the file system holds: empty, NUL bytes,
// absolute paths and paths that leave the directory through "..".
func CheckLocation(loc string) error {
	switch {
	case loc == "":
		return errors.New("external data without a location")
	case strings.IndexByte(loc, 0) >= 0:
		return fmt.Errorf("external data location %q holds a NUL byte: not a file name", loc)
	case filepath.IsAbs(loc) || strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, `\`):
		return fmt.Errorf("external data location %q is absolute: onnxloss reads external data only from files inside the model's directory (locations relative to it)", loc)
	case !filepath.IsLocal(filepath.FromSlash(loc)):
		return fmt.Errorf("external data location %q leaves the model's directory: onnxloss reads external data only from files inside it (move the file beside the model)", loc)
	}
	return nil
}

// Open opens the file that location names inside dir for reading, after
// checking it: see the package comment. The caller closes the file. The
// returned FileInfo is the opened file's own (fstat), a regular file.
func Open(dir, location string) (*os.File, fs.FileInfo, error) {
	if err := CheckLocation(location); err != nil {
		return nil, nil, err
	}
	if dir == "" {
		dir = "."
	}
	name := filepath.FromSlash(location)
	if err := checkSymlinks(dir, name); err != nil {
		return nil, nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("external data %q: cannot open the model's directory: %w", location, unwrapPath(err))
	}
	defer root.Close()
	// Stat before open: opening a FIFO blocks and opening a device can act
	// on it, so neither is opened at all.
	st, err := root.Stat(name)
	if err != nil {
		return nil, nil, openError(location, dir, err)
	}
	if err := checkRegular(location, st); err != nil {
		return nil, nil, err
	}
	// O_NONBLOCK: if the file was swapped for a FIFO since the Stat, the
	// open still returns at once, and the fstat below refuses it.
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, openError(location, dir, err)
	}
	fst, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("external data %q: %w", location, unwrapPath(err))
	}
	if err := checkRegular(location, fst); err != nil {
		f.Close()
		return nil, nil, err
	}
	if !os.SameFile(st, fst) {
		f.Close()
		return nil, nil, fmt.Errorf("external data %q changed while it was being opened: run again on files nothing else is writing", location)
	}
	return f, fst, nil
}

// checkSymlinks resolves dir/name and refuses it when it lands outside dir
// (also resolved), so that the error can say so in plain words; os.Root
// enforces the same rule again at open time.
func checkSymlinks(dir, name string) error {
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return fmt.Errorf("external data: cannot resolve the model's directory %s: %w", dir, unwrapPath(err))
	}
	target, err := filepath.EvalSymlinks(filepath.Join(dir, name))
	if err != nil {
		// A missing file is reported by the open, with its own message.
		return nil
	}
	realDir, _ = filepath.Abs(realDir)
	target, _ = filepath.Abs(target)
	rel, err := filepath.Rel(realDir, target)
	if err != nil || !filepath.IsLocal(rel) {
		return fmt.Errorf("external data location %q resolves through a symbolic link to %q, outside the model's directory: onnxloss reads external data only from files inside it", filepath.ToSlash(name), target)
	}
	return nil
}

func checkRegular(location string, st fs.FileInfo) error {
	mode := st.Mode()
	if mode.IsRegular() {
		return nil
	}
	kind := "not a regular file"
	switch {
	case mode.IsDir():
		kind = "a directory"
	case mode&fs.ModeNamedPipe != 0:
		kind = "a FIFO (named pipe)"
	case mode&fs.ModeCharDevice != 0:
		kind = "a character device"
	case mode&fs.ModeDevice != 0:
		kind = "a block device"
	case mode&fs.ModeSocket != 0:
		kind = "a socket"
	}
	return fmt.Errorf("external data %q is %s: external data must be a regular file beside the model", location, kind)
}

func openError(location, dir string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("external data %q: no such file in the model's directory %s", location, dir)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("external data %q: permission denied", location)
	case strings.Contains(err.Error(), "escapes"):
		return fmt.Errorf("external data location %q resolves outside the model's directory: onnxloss reads external data only from files inside it", location)
	}
	return fmt.Errorf("external data %q: %w", location, unwrapPath(err))
}

// unwrapPath drops the operation and path of a *fs.PathError, which the
// messages above already name.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Read returns the want bytes of the payload that entries describe, read
// from a file inside dir (see Open). A length entry, if present, must equal
// want; the range must lie inside the file, which is checked before the
// buffer is allocated, so a size claimed by the model never allocates more
// than the file holds.
func Read(dir string, entries []*onnxpb.StringStringEntryProto, want int64) ([]byte, error) {
	ref, err := Parse(entries)
	if err != nil {
		return nil, err
	}
	if want < 0 {
		return nil, fmt.Errorf("external data %q: negative size %d", ref.Location, want)
	}
	if ref.Length >= 0 && ref.Length != want {
		return nil, fmt.Errorf("external data %q: length %d, but the tensor's shape and type need %d bytes", ref.Location, ref.Length, want)
	}
	f, st, err := Open(dir, ref.Location)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if size := st.Size(); ref.Offset > size || want > size-ref.Offset {
		return nil, fmt.Errorf("external data %q holds %d bytes, but the tensor needs %d at offset %d: the file is truncated or the model points at the wrong file", ref.Location, size, want, ref.Offset)
	}
	buf := make([]byte, want)
	if want == 0 {
		return buf, nil
	}
	n, err := f.ReadAt(buf, ref.Offset)
	if n == len(buf) {
		return buf, nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return nil, fmt.Errorf("external data %q at offset %d, length %d: %w", ref.Location, ref.Offset, want, unwrapPath(err))
}
