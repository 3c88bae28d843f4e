// Package smallfile reads files that are small by nature (counts, class
// names) with a size limit, so an endless stream such as /dev/zero fails fast.
package smallfile

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// DefaultLimit is the limit for counts and class-name files: 64 MiB holds
// the counts and names of millions of classes.
const DefaultLimit = 64 << 20

// ErrTooLarge reports a file beyond the limit.
var ErrTooLarge = errors.New("file too large")

// Read returns the contents of the file at path, or an error wrapping
// ErrTooLarge as soon as more than limit bytes have been read. Errors from
// opening the file are returned as they are (*fs.PathError).
func Read(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, fmt.Errorf("%s is a directory, not a file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: more than %d MiB", ErrTooLarge, limit>>20)
	}
	return data, nil
}
