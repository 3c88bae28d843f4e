// Package labelcounts counts the samples of each class in a label file (text, CSV or .npy,
// index or multi-hot labels) in one streaming pass, for the counts JSON that onnxloss inject reads.
package labelcounts

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/onnxloss/onnxloss/atomicfile"
	"github.com/onnxloss/onnxloss/internal/smallfile"
)

// Format is the kind of label file.
type Format string

// The label file formats.
const (
	// Text has one integer label per line; blank lines and lines starting
	// with '#' are skipped; spaces, tabs and a trailing '\r' around the
	// label are allowed.
	Text Format = "text"
	// CSV is a comma-separated file (tab-separated for .tsv) whose labels
	// are one column (Options.Column), with or without a header row.
	CSV Format = "csv"
	// NPY is a NumPy .npy array: integer (or integral float) labels of any
	// shape, or with Options.MultiHot an N×C array of 0/1 targets.
	NPY Format = "npy"
)

// MaxAutoClasses bounds the class ids accepted when Options.NumClasses is
// not given, so that one stray huge number cannot allocate gigabytes.
const MaxAutoClasses = 1 << 20

// MaxClasses bounds Options.NumClasses.
const MaxClasses = 1 << 24

// Options say how to read a label file.
type Options struct {
	// Format is the file's format; "" picks it from the extension: .npy is
	// NPY, .csv and .tsv are CSV, anything else is Text.
	Format Format
	// Column selects the CSV column: a header name, or a 0-based index.
	// "" is allowed when the file has a single column.
	Column string
	// Comma is the CSV field separator; 0 means ',' (or '\t' for .tsv).
	Comma rune
	// MultiHot reads a .npy array of shape (N, C) whose entries are 0 or 1
	// (bool, integer or float) and counts the positives of each class. It
	// is never guessed: an N×C array of 0/1 is also a valid label map.
	MultiHot bool
	// NumClasses, when > 0, is the number of classes C: the counts have C
	// entries (classes without samples get 0) and a label >= C is an error.
	// 0 means max label + 1 (at most MaxAutoClasses).
	NumClasses int
	// IgnoreIndex, when non-nil, is a label value that is skipped (not
	// counted), like the loss's ignore_index.
	IgnoreIndex *int64
}

// Result holds the per-class counts of a label file.
type Result struct {
	// Counts has one entry per class: Counts[c] samples of class c.
	Counts []int64
	// Labels is the number of labels read (with multi-hot: rows), ignored
	// ones included.
	Labels int64
	// Ignored is the number of labels equal to the ignore index.
	Ignored int64
}

// FormatOf returns the format the extension of path implies.
func FormatOf(path string) Format {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".npy":
		return NPY
	case ".csv", ".tsv":
		return CSV
	}
	return Text
}

// CountFile counts the labels of the file at path. Errors are one line and
// name the file (and the line or element where the problem is).
func CountFile(path string, opt Options) (*Result, error) {
	f, err := os.Open(path)
	if err != nil {
		var pe *fs.PathError
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("label file %s does not exist", path)
		case errors.As(err, &pe):
			return nil, fmt.Errorf("label file %s cannot be read: %v", path, pe.Err)
		}
		return nil, fmt.Errorf("label file %s: %w", path, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, fmt.Errorf("label file %s is a directory: give a text, CSV or .npy file", path)
	}
	if opt.Format == "" {
		opt.Format = FormatOf(path)
	}
	if opt.Format == CSV && opt.Comma == 0 && strings.EqualFold(filepath.Ext(path), ".tsv") {
		opt.Comma = '\t'
	}
	res, err := Count(f, opt)
	if err != nil {
		return nil, fmt.Errorf("label file %s: %w", path, err)
	}
	return res, nil
}

// Count counts the labels read from r in the format opt.Format (Text when
// empty). It reads r once, in chunks, using memory independent of its
// length (the counts aside).
func Count(r io.Reader, opt Options) (*Result, error) {
	if opt.NumClasses < 0 || opt.NumClasses > MaxClasses {
		return nil, fmt.Errorf("--num-classes %d is invalid: use 1..%d", opt.NumClasses, MaxClasses)
	}
	if opt.MultiHot && opt.Format != NPY {
		return nil, fmt.Errorf("multi-hot labels are read from a .npy array of shape (N, C), not from a %s file", formatName(opt.Format))
	}
	if opt.MultiHot && opt.IgnoreIndex != nil {
		return nil, fmt.Errorf("--ignore-index applies to index labels, not multi-hot targets")
	}
	c := newCounter(opt)
	var err error
	switch opt.Format {
	case Text, "":
		err = countText(r, c)
	case CSV:
		err = countCSV(r, opt, c)
	case NPY:
		err = countNPY(r, opt, c)
	default:
		return nil, fmt.Errorf("unknown label file format %q: use text, csv or npy", opt.Format)
	}
	if err != nil {
		return nil, err
	}
	return c.result()
}

func formatName(f Format) string {
	if f == "" {
		return "text"
	}
	return string(f)
}

// counter accumulates per-class counts.
type counter struct {
	counts  []int64
	fixed   bool // NumClasses given: len(counts) is C
	limit   int64
	ignore  int64
	hasIgn  bool
	labels  int64
	ignored int64
}

func newCounter(opt Options) *counter {
	c := &counter{limit: MaxAutoClasses}
	if opt.NumClasses > 0 {
		c.counts = make([]int64, opt.NumClasses)
		c.fixed = true
		c.limit = int64(opt.NumClasses)
	}
	if opt.IgnoreIndex != nil {
		c.ignore, c.hasIgn = *opt.IgnoreIndex, true
	}
	return c
}

// add counts one label; the error says what is wrong with it (the caller
// adds where it was).
func (c *counter) add(y int64) error {
	c.labels++
	if c.hasIgn && y == c.ignore {
		c.ignored++
		return nil
	}
	if y >= 0 && y < int64(len(c.counts)) {
		c.counts[y]++
		return nil
	}
	switch {
	case y < 0:
		return fmt.Errorf("label %d is negative: class ids are 0..C-1 (pass --ignore-index %d to skip it)", y, y)
	case c.fixed:
		return fmt.Errorf("label %d is out of range for --num-classes %d: class ids are 0..%d", y, c.limit, c.limit-1)
	case y >= c.limit:
		return fmt.Errorf("label %d is too large for a class id (at most %d without --num-classes)", y, c.limit-1)
	}
	grown := make([]int64, max(y+1, int64(2*len(c.counts))))
	copy(grown, c.counts)
	c.counts = grown[:y+1]
	c.counts[y]++
	return nil
}

func (c *counter) result() (*Result, error) {
	if len(c.counts) == 0 {
		if c.labels == 0 {
			return nil, errors.New("no labels found: the file has no label lines or elements")
		}
		return nil, fmt.Errorf("all %d labels equal the ignore index: nothing to count", c.labels)
	}
	return &Result{Counts: c.counts, Labels: c.labels, Ignored: c.ignored}, nil
}

// ParseClasses splits a --classes value "cat,dog,eel" into names: trimmed,
// non-empty and distinct.
func ParseClasses(s string) ([]string, error) {
	parts := strings.Split(s, ",")
	return checkClasses(parts, "--classes")
}

// ReadClassesFile reads class names from a file, one per line (blank lines
// and surrounding spaces ignored).
func ReadClassesFile(path string) ([]string, error) {
	data, err := smallfile.Read(path, smallfile.DefaultLimit)
	if errors.Is(err, smallfile.ErrTooLarge) {
		return nil, fmt.Errorf("classes file %s is larger than %d MiB: it should hold one class name per line (is it the right file?)", path, smallfile.DefaultLimit>>20)
	}
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("classes file %s cannot be read: %v", path, err)
	}
	var names []string
	for _, line := range strings.Split(string(data), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			names = append(names, line)
		}
	}
	return checkClasses(names, "classes file "+path)
}

func checkClasses(names []string, what string) ([]string, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("%s has no class names", what)
	}
	seen := map[string]int{}
	out := make([]string, len(names))
	for i, n := range names {
		n = strings.TrimSpace(n)
		if n == "" {
			return nil, fmt.Errorf("%s: class name %d is empty", what, i)
		}
		if j, ok := seen[n]; ok {
			return nil, fmt.Errorf("%s: class name %q is given twice (classes %d and %d)", what, n, j, i)
		}
		seen[n] = i
		out[i] = n
	}
	return out, nil
}

// CountsJSON returns the counts file onnxloss inject reads: a JSON array
// [n0, n1, …], or {"counts": […], "classes": […]} when classes are given
// (one name per class).
func CountsJSON(counts []int64, classes []string) ([]byte, error) {
	if classes != nil && len(classes) != len(counts) {
		return nil, fmt.Errorf("%d class names for %d classes: give one name per class (or --num-classes %d)", len(classes), len(counts), len(classes))
	}
	var v any = counts
	if classes != nil {
		v = struct {
			Counts  []int64  `json:"counts"`
			Classes []string `json:"classes"`
		}{counts, classes}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding counts: %w", err)
	}
	return append(b, '\n'), nil
}

// WriteCountsFile writes CountsJSON(counts, classes) to path atomically: to
// a temporary file in the same directory, then renamed, so a failed run
// leaves no partial file.
func WriteCountsFile(path string, counts []int64, classes []string) (err error) {
	b, err := CountsJSON(counts, classes)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("output directory %s does not exist: create it first", dir)
	}
	return atomicfile.WriteBytes(path, b)
}
