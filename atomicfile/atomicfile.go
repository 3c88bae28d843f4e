// Package atomicfile writes output files the safe way: into a temporary file
// beside the destination, renamed into place only when complete.
//
// It never replaces anything but a regular file (CheckOutput), keeps the
// temporary name within the file-name limit, and registers the temporary
// file with internal/cleanup so that SIGINT, SIGTERM and SIGHUP remove it.
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"unicode/utf8"

	"github.com/onnxloss/onnxloss/internal/cleanup"
)

// WriteBytes writes data to a temporary file beside path and renames it
// to path. On any error nothing is left under path or beside it.
func WriteBytes(path string, data []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Write creates a temporary file beside path, lets write fill it and
// renames it to path. If write fails, the temporary file is removed and path
// is untouched, so a failed or killed run never leaves a partial file under
// path. Like cp and onnx.save it does not fsync: that would double the time
// of a large write, and only a power loss before the kernel writes the data
// back could then lose it (run `sync FILE` after it where that matters).
func Write(path string, write func(io.Writer) error) error {
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cannot write %s: directory %s does not exist: create it first", path, dir)
	}
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("cannot write %s: %s is not a directory", path, dir)
	}
	if err := CheckOutput(path); err != nil {
		return err
	}
	f, untrack, err := cleanup.CreateTemp(dir, tempPattern(filepath.Base(path)))
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	defer untrack()
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := write(f); err != nil {
		return fail(err)
	}
	if err := f.Chmod(0o644); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := cleanup.Commit(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// CheckOutput refuses an output path that exists and is not a regular file
// (a directory, a device such as /dev/null, a FIFO, a socket): the write
// renames a new file over it, which would replace the special file. A
// symbolic link is judged by what it points to.
func CheckOutput(path string) error {
	if n := len(filepath.Base(path)); n > maxNameBytes {
		return fmt.Errorf("cannot write %s: the file name is %d bytes, longer than the 255 bytes a file name may have", path, n)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil // absent (or unreachable: the write reports that)
	}
	mode := st.Mode()
	switch {
	case mode.IsRegular():
		return nil
	case mode.IsDir():
		return fmt.Errorf("cannot write %s: it is a directory, give a file name", path)
	case mode&fs.ModeCharDevice != 0:
		return fmt.Errorf("cannot write %s: it is a character device; onnxloss replaces only regular files, give a file name", path)
	case mode&fs.ModeDevice != 0:
		return fmt.Errorf("cannot write %s: it is a block device; onnxloss replaces only regular files, give a file name", path)
	case mode&fs.ModeNamedPipe != 0:
		return fmt.Errorf("cannot write %s: it is a FIFO (named pipe); onnxloss replaces only regular files, give a file name", path)
	case mode&fs.ModeSocket != 0:
		return fmt.Errorf("cannot write %s: it is a socket; onnxloss replaces only regular files, give a file name", path)
	}
	return fmt.Errorf("cannot write %s: it is not a regular file; onnxloss replaces only regular files, give a file name", path)
}

// maxNameBytes is the longest file name (one path component) Linux file
// systems accept, NAME_MAX.
const maxNameBytes = 255

// tempPattern is the os.CreateTemp pattern of the temporary file beside an
// output named base: ".BASE.tmp-" and up to 10 random digits. A long base is
// cut (at a character boundary) so that the temporary name stays within
// maxNameBytes for every output name that is itself valid.
func tempPattern(base string) string {
	const extra = len(".") + len(".tmp-") + 10 // CreateTemp's random part is a uint32
	if len(base) > maxNameBytes-extra {
		cut := maxNameBytes - extra
		for cut > 0 && !utf8.RuneStart(base[cut]) {
			cut--
		}
		base = base[:cut]
	}
	return "." + base + ".tmp-*"
}
