// Package labelcounts counts the samples of each class in datasets (label files, ImageFolder
// trees, COCO annotations, mask PNGs, Parquet columns), streaming, for the counts JSON inject reads.
package labelcounts

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
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
	// NPZ is a NumPy .npz archive; the labels are its only array, or the
	// array Options.Column names. Read like NPY, streaming.
	NPZ Format = "npz"
	// ImageFolder is a directory with one subdirectory per class, read as
	// torchvision.datasets.ImageFolder reads it (see CountImageFolder).
	ImageFolder Format = "imagefolder"
	// COCO is a COCO instances JSON file (see CountCOCO).
	COCO Format = "coco"
	// Masks are segmentation mask PNGs whose pixel values are class ids
	// (see CountMasks).
	Masks Format = "masks"
	// Parquet is a Parquet file whose labels are one column (see
	// countParquet).
	Parquet Format = "parquet"
	// LabelCount is an already aggregated table, CSV or Parquet, with a
	// label column and a count column: what SELECT label, COUNT(*) ...
	// GROUP BY label gives.
	LabelCount Format = "label-count"
)

// Formats lists the formats in the order the CLI documents them.
var Formats = []Format{Text, CSV, NPY, NPZ, ImageFolder, COCO, Masks, Parquet, LabelCount}

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
	// Classes, when non-nil, names the classes: class c is Classes[c].
	// String labels (CSV, Parquet, ImageFolder folders) are looked up in
	// it, and a name not in it is an error. Without it string labels get
	// the ids of their sorted unique names.
	Classes []string
	// CountColumn is the count column of a LabelCount table ("" means
	// "count"). Column is its label column ("" means "label").
	CountColumn string
	// COCOExcludeCrowd leaves COCO annotations with iscrowd = 1 out.
	COCOExcludeCrowd bool
	// Progress, when non-nil, is told how far a count has got.
	Progress *Progress
	// Stdin is read for the input "-" (nil: os.Stdin).
	Stdin io.Reader
}

// Result holds the per-class counts of a label file.
type Result struct {
	// Counts has one entry per class: Counts[c] samples of class c (for
	// masks: pixels).
	Counts []int64
	// Labels is the number of labels read (with multi-hot: rows), ignored
	// ones included.
	Labels int64
	// Ignored is the number of labels equal to the ignore index (and with
	// COCOExcludeCrowd, the crowd annotations left out).
	Ignored int64
	// Classes names the classes when the source does (Options.Classes,
	// string labels, ImageFolder folders, COCO categories), else nil.
	Classes []string
	// Samples is the number of samples the counts come from when that is
	// not the sum of Counts: the rows of multi-hot labels (neg_pos weights
	// need it). 0 otherwise.
	Samples int64
	// Images[c] is the number of mask images in which class c appears,
	// and ImagePixels[c] the number of pixels of those images (all of
	// their pixels, ignored ones included): median-frequency weights need
	// them. Nil for sources other than masks.
	Images, ImagePixels []int64
	// Format and Sources say what was counted: the format and the inputs
	// as given. IgnoreIndex is the ignored label value, if any.
	Format      Format
	Sources     []string
	IgnoreIndex *int64
	// Files is the number of files read (globs and directories expanded).
	Files int
}

// FormatOf returns the format the extension of path implies: .npy, .npz,
// .csv and .tsv, .json (COCO), .png (masks), .parquet and .pq; anything
// else is Text.
func FormatOf(path string) Format {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".npy":
		return NPY
	case ".npz":
		return NPZ
	case ".csv", ".tsv":
		return CSV
	case ".json":
		return COCO
	case ".png":
		return Masks
	case ".parquet", ".pq":
		return Parquet
	}
	return Text
}

// CountFile counts the labels of one input (see CountInputs). Errors are
// one line and name the file (and the line or element where the problem is).
func CountFile(path string, opt Options) (*Result, error) {
	return CountInputs([]string{path}, opt)
}

// Count counts the labels read from r in the format opt.Format (Text when
// empty). It reads r once, in chunks, using memory independent of its
// length (the counts aside).
func Count(r io.Reader, opt Options) (*Result, error) {
	if err := checkOptions(opt); err != nil {
		return nil, err
	}
	c := newCounter(opt)
	if err := countStream(r, opt, c); err != nil {
		return nil, err
	}
	res, err := c.result(opt)
	if err != nil {
		return nil, err
	}
	res.Format = opt.Format
	if res.Format == "" {
		res.Format = Text
	}
	return res, nil
}

// countStream counts the labels of one stream in a format read front to
// back (text, CSV, .npy, COCO).
func countStream(r io.Reader, opt Options, c *counter) error {
	if opt.Progress != nil {
		r = opt.Progress.reader(r)
	}
	switch opt.Format {
	case Text, "":
		return countText(r, c)
	case CSV:
		return countCSV(r, opt, c)
	case NPY:
		return countNPY(r, opt, c)
	case COCO:
		return countCOCO(r, opt, c)
	}
	if _, ok := formatByName(string(opt.Format)); !ok {
		return fmt.Errorf("unknown label file format %q: use one of %s", opt.Format, formatList())
	}
	return fmt.Errorf("the %s format cannot be read from a stream: give a file", opt.Format)
}

// checkOptions rejects option combinations that make no sense.
func checkOptions(opt Options) error {
	if opt.NumClasses < 0 || opt.NumClasses > MaxClasses {
		return fmt.Errorf("--num-classes %d is invalid: use 1..%d", opt.NumClasses, MaxClasses)
	}
	if opt.MultiHot && opt.Format != NPY && opt.Format != NPZ {
		return fmt.Errorf("multi-hot labels are read from a .npy/.npz array of shape (N, C) with --multi-hot, not from a %s file (a Parquet list column is multi-hot by itself)", formatName(opt.Format))
	}
	if opt.MultiHot && opt.IgnoreIndex != nil {
		return fmt.Errorf("--ignore-index applies to index labels, not multi-hot targets")
	}
	if opt.Classes != nil && opt.NumClasses != 0 && opt.NumClasses != len(opt.Classes) {
		return fmt.Errorf("--num-classes %d but %d class names: give one name per class", opt.NumClasses, len(opt.Classes))
	}
	return nil
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
	// classIndex maps the names of Options.Classes to their ids; byName
	// collects string labels when there is no classIndex.
	classIndex map[string]int
	byName     map[string]int64
	sawID      bool // an integer label was counted (mixing with byName is an error)
	// classes are the names a source gives the ids (COCO categories).
	classes []string
	samples int64
	images  []int64
	pixels  []int64
}

func newCounter(opt Options) *counter {
	c := &counter{limit: MaxAutoClasses}
	if opt.NumClasses == 0 && opt.Classes != nil {
		opt.NumClasses = len(opt.Classes)
	}
	if opt.NumClasses > 0 {
		c.counts = make([]int64, opt.NumClasses)
		c.fixed = true
		c.limit = int64(opt.NumClasses)
	}
	if opt.IgnoreIndex != nil {
		c.ignore, c.hasIgn = *opt.IgnoreIndex, true
	}
	if opt.Classes != nil {
		c.classIndex = make(map[string]int, len(opt.Classes))
		for i, n := range opt.Classes {
			c.classIndex[n] = i
		}
	}
	return c
}

// add counts one label; the error says what is wrong with it (the caller
// adds where it was).
func (c *counter) add(y int64) error { return c.addN(y, 1) }

// addN counts n labels of value y.
func (c *counter) addN(y, n int64) error {
	c.labels += n
	c.sawID = true
	if c.hasIgn && y == c.ignore {
		c.ignored += n
		return nil
	}
	if y >= 0 && y < int64(len(c.counts)) {
		c.counts[y] += n
		return nil
	}
	if err := c.checkID(y); err != nil {
		return err
	}
	c.grow(y + 1)
	c.counts[y] += n
	return nil
}

// checkID says why y, outside the counts so far, cannot be a class id (nil
// if it can).
func (c *counter) checkID(y int64) error {
	switch {
	case y < 0:
		return fmt.Errorf("label %d is negative: class ids are 0..C-1 (pass --ignore-index %d to skip it)", y, y)
	case c.fixed && y >= c.limit:
		return fmt.Errorf("label %d is out of range for --num-classes %d: class ids are 0..%d", y, c.limit, c.limit-1)
	case y >= c.limit:
		return fmt.Errorf("label %d is too large for a class id (at most %d without --num-classes)", y, c.limit-1)
	}
	return nil
}

// grow makes room for n classes.
func (c *counter) grow(n int64) {
	if n <= int64(len(c.counts)) {
		return
	}
	if n <= int64(cap(c.counts)) {
		c.counts = c.counts[:n]
		return
	}
	grown := make([]int64, n, max(n, int64(2*len(c.counts))))
	copy(grown, c.counts)
	c.counts = grown
}

// addName counts n labels of the class named name: through Options.Classes
// when given, else collected for the sorted unique names.
func (c *counter) addName(name string, n int64) error {
	if c.classIndex != nil {
		id, ok := c.classIndex[name]
		if !ok {
			return fmt.Errorf("label %q is not one of the --classes: add it there, or fix the label", shorten(name))
		}
		c.labels += n
		c.counts[id] += n
		return nil
	}
	if c.byName == nil {
		c.byName = map[string]int64{}
	}
	c.labels += n
	c.byName[name] += n
	return nil
}

// declareName makes name a class even with no labels (an empty ImageFolder
// class folder).
func (c *counter) declareName(name string) error {
	if c.classIndex != nil {
		if _, ok := c.classIndex[name]; !ok {
			return fmt.Errorf("class %q is not one of the --classes: add it there", shorten(name))
		}
		return nil
	}
	if c.byName == nil {
		c.byName = map[string]int64{}
	}
	c.byName[name] += 0
	return nil
}

func shorten(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}

func (c *counter) result(opt Options) (*Result, error) {
	res := &Result{Labels: c.labels, Ignored: c.ignored, Samples: c.samples, Images: c.images, ImagePixels: c.pixels}
	switch {
	case c.byName != nil:
		if c.sawID {
			return nil, errors.New("the labels mix integer class ids and class names: use one kind (names need --classes to fix their ids, or get the ids of their sorted order)")
		}
		names := make([]string, 0, len(c.byName))
		for n := range c.byName {
			names = append(names, n)
		}
		sort.Strings(names)
		if c.fixed && len(names) != len(c.counts) {
			return nil, fmt.Errorf("--num-classes %d but the labels have %d distinct names: give the class names with --classes", len(c.counts), len(names))
		}
		if len(names) > MaxAutoClasses {
			return nil, fmt.Errorf("the labels have %d distinct names, more than %d classes: is this the label column?", len(names), MaxAutoClasses)
		}
		c.counts = make([]int64, len(names))
		for i, n := range names {
			c.counts[i] = c.byName[n]
		}
		res.Classes = names
	case opt.Classes != nil:
		res.Classes = opt.Classes
	case c.classes != nil:
		res.Classes = c.classes
	}
	if len(c.counts) == 0 {
		if c.labels == 0 {
			return nil, errors.New("no labels found: the file has no label lines or elements")
		}
		return nil, fmt.Errorf("all %d labels equal the ignore index: nothing to count", c.labels)
	}
	if res.Images != nil {
		// Masks: per-class image statistics as long as the counts.
		for int64(len(res.Images)) < int64(len(c.counts)) {
			res.Images = append(res.Images, 0)
			res.ImagePixels = append(res.ImagePixels, 0)
		}
	}
	res.Counts = c.counts
	res.IgnoreIndex = opt.IgnoreIndex
	return res, nil
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

// countsFile is the counts JSON with where the counts came from.
type countsFile struct {
	Counts      []int64  `json:"counts"`
	Classes     []string `json:"classes,omitempty"`
	Samples     int64    `json:"samples,omitempty"`
	Images      []int64  `json:"images,omitempty"`
	ImagePixels []int64  `json:"image_pixels,omitempty"`
	Source      []string `json:"source,omitempty"`
	Format      Format   `json:"format,omitempty"`
	IgnoreIndex *int64   `json:"ignore_index,omitempty"`
}

// JSON returns the counts file onnxloss inject reads, recording where the
// counts came from:
//
//	{"counts": [...], "classes": [...], "samples": N, "images": [...],
//	 "image_pixels": [...], "source": [...], "format": "masks", "ignore_index": 255}
//
// with the keys that do not apply left out.
func (r *Result) JSON() ([]byte, error) {
	if r.Classes != nil && len(r.Classes) != len(r.Counts) {
		return nil, fmt.Errorf("%d class names for %d classes: give one name per class (or --num-classes %d)", len(r.Classes), len(r.Counts), len(r.Classes))
	}
	b, err := json.Marshal(countsFile{r.Counts, r.Classes, r.Samples, r.Images, r.ImagePixels, r.Sources, r.Format, r.IgnoreIndex})
	if err != nil {
		return nil, fmt.Errorf("encoding counts: %w", err)
	}
	return append(b, '\n'), nil
}

// WriteFile writes r.JSON() to path atomically (see WriteCountsFile).
func (r *Result) WriteFile(path string) error {
	b, err := r.JSON()
	if err != nil {
		return err
	}
	return writeAtomic(path, b)
}

// WriteCountsFile writes CountsJSON(counts, classes) to path atomically: to
// a temporary file in the same directory, then renamed, so a failed run
// leaves no partial file.
func WriteCountsFile(path string, counts []int64, classes []string) (err error) {
	b, err := CountsJSON(counts, classes)
	if err != nil {
		return err
	}
	return writeAtomic(path, b)
}

func writeAtomic(path string, b []byte) (err error) {
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("output directory %s does not exist: create it first", dir)
	}
	return atomicfile.WriteBytes(path, b)
}
