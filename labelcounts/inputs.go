package labelcounts

import (
	"archive/zip"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// input is one file (or directory, or standard input) to count.
type input struct {
	path   string
	format Format
	stdin  *bufio.Reader // non-nil for "-"
}

// CountInputs counts the labels of every input and sums them. An input is a
// file, a directory (an ImageFolder tree, a folder of mask PNGs, or with
// --format a folder of files of that format, e.g. Spark's part files), a
// glob ("masks/*.png"), or "-" for standard input. The format is
// opt.Format, else taken from each path (FormatOf) or, for a directory or
// standard input, from what it holds; all inputs must have one format.
// Errors are one line and name the input.
func CountInputs(inputs []string, opt Options) (*Result, error) {
	if len(inputs) == 0 {
		return nil, errors.New("no inputs: give label files, directories or globs (- for standard input)")
	}
	items, format, err := expandInputs(inputs, opt)
	if err != nil {
		return nil, err
	}
	opt.Format = format
	if err := checkOptions(opt); err != nil {
		return nil, err
	}
	if opt.Progress != nil {
		opt.Progress.setFiles(len(items), format == Masks)
	}
	c := newCounter(opt)
	if format == Masks {
		err = countMasks(items, opt, c)
	} else {
		for _, it := range items {
			if err = countInput(it, opt, c); err != nil {
				break
			}
			if opt.Progress != nil {
				opt.Progress.fileDone(0)
			}
		}
	}
	if err != nil {
		return nil, err
	}
	res, err := c.result(opt)
	if err != nil {
		if len(inputs) == 1 && inputs[0] != "-" {
			return nil, fmt.Errorf("%s %s: %w", what(format), inputs[0], err)
		}
		return nil, fmt.Errorf("%d inputs: %w", len(inputs), err)
	}
	res.Format, res.Sources, res.Files = format, inputs, len(items)
	return res, nil
}

// what names an input of format f in errors.
func what(f Format) string {
	switch f {
	case ImageFolder:
		return "ImageFolder tree"
	case COCO:
		return "COCO file"
	case Masks:
		return "mask"
	case Parquet:
		return "Parquet file"
	case LabelCount:
		return "counts table"
	case NPZ:
		return "npz file"
	}
	return "label file"
}

func hasMeta(s string) bool { return strings.ContainsAny(s, "*?[") }

// expandInputs resolves globs and directories into files and decides the
// one format of the run.
func expandInputs(inputs []string, opt Options) ([]input, Format, error) {
	if opt.Format != "" {
		if _, ok := formatByName(string(opt.Format)); !ok {
			return nil, "", fmt.Errorf("unknown --format %q: use one of %s", opt.Format, formatList())
		}
	}
	var items []input
	stdinUsed := false
	for _, in := range inputs {
		switch {
		case in == "-":
			if stdinUsed {
				return nil, "", errors.New("standard input (-) is given twice: give it once")
			}
			stdinUsed = true
			it, err := stdinInput(opt)
			if err != nil {
				return nil, "", err
			}
			items = append(items, it)
		case hasMeta(in):
			matches, err := filepath.Glob(in)
			if err != nil {
				return nil, "", fmt.Errorf("glob %q is malformed: %v", in, err)
			}
			if len(matches) == 0 {
				return nil, "", fmt.Errorf("glob %q matches no files: check the pattern (quote it so the shell does not expand it)", in)
			}
			for _, m := range matches {
				got, err := pathInputs(m, opt)
				if err != nil {
					return nil, "", err
				}
				items = append(items, got...)
			}
		default:
			got, err := pathInputs(in, opt)
			if err != nil {
				return nil, "", err
			}
			items = append(items, got...)
		}
	}
	format := items[0].format
	for _, it := range items[1:] {
		if it.format != format {
			return nil, "", fmt.Errorf("the inputs mix formats: %s is %s but %s is %s: count them separately, or force one with --format", items[0].path, format, it.path, it.format)
		}
	}
	return items, format, nil
}

// formatByName returns the Format named s.
func formatByName(s string) (Format, bool) {
	for _, f := range Formats {
		if string(f) == s {
			return f, true
		}
	}
	return "", false
}

func formatList() string {
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}

// pathInputs turns one path (not a glob) into inputs.
func pathInputs(path string, opt Options) ([]input, error) {
	st, err := os.Stat(path)
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("input %s does not exist", path)
		case errors.Is(err, fs.ErrPermission):
			return nil, fmt.Errorf("input %s cannot be read: permission denied", path)
		}
		return nil, fmt.Errorf("input %s cannot be read: %w", path, err)
	}
	if !st.IsDir() {
		f := opt.Format
		if f == "" {
			f = FormatOf(path)
		}
		if f == ImageFolder {
			return nil, fmt.Errorf("input %s is a file, but an ImageFolder tree is a directory with one folder per class", path)
		}
		return []input{{path: path, format: f}}, nil
	}
	return dirInputs(path, opt.Format)
}

// dirInputs reads a directory: an ImageFolder tree, a folder of mask PNGs,
// or (with format) a folder of files of that format.
func dirInputs(dir string, format Format) ([]input, error) {
	switch format {
	case ImageFolder:
		return []input{{path: dir, format: ImageFolder}}, nil
	case "":
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("input %s cannot be read: %w", dir, err)
		}
		var subdirs, pngs int
		for _, e := range entries {
			isDir, err := entryIsDir(dir, e)
			if err != nil {
				continue
			}
			switch {
			case isDir:
				subdirs++
			case strings.EqualFold(filepath.Ext(e.Name()), ".png"):
				pngs++
			}
		}
		switch {
		case subdirs > 0 && pngs > 0:
			return nil, fmt.Errorf("directory %s has both folders and PNG files: say --format imagefolder (one folder per class) or --format masks (every PNG below it is a mask)", dir)
		case subdirs > 0:
			return []input{{path: dir, format: ImageFolder}}, nil
		case pngs > 0:
			format = Masks
		default:
			return nil, fmt.Errorf("directory %s has no class folders (ImageFolder) and no mask PNGs: give label files, or --format for a folder of them", dir)
		}
	}
	exts := map[Format][]string{
		Masks: {".png"}, Parquet: {".parquet", ".pq"}, NPY: {".npy"}, NPZ: {".npz"},
		CSV: {".csv", ".tsv"}, COCO: {".json"}, Text: {".txt"}, LabelCount: {".csv", ".tsv", ".parquet", ".pq"},
	}[format]
	var files []string
	err := walkFiles(dir, func(path string) {
		for _, e := range exts {
			if strings.EqualFold(filepath.Ext(path), e) {
				files = append(files, path)
				return
			}
		}
	})
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("directory %s has no %s files (%s) below it", dir, format, strings.Join(exts, ", "))
	}
	sort.Strings(files)
	items := make([]input, len(files))
	for i, f := range files {
		items[i] = input{path: f, format: format}
	}
	return items, nil
}

// walkFiles calls fn for every file below dir, following symbolic links
// and skipping names that start with '.' or '_' (Spark's _SUCCESS, .crc
// files).
func walkFiles(dir string, fn func(path string)) error {
	return walkDir(dir, 0, func(path string, e fs.DirEntry) {
		if n := e.Name(); !strings.HasPrefix(n, ".") && !strings.HasPrefix(n, "_") {
			fn(path)
		}
	})
}

// maxDepth bounds directory recursion (symbolic links can make cycles).
const maxDepth = 64

// walkDir calls fn for every non-directory entry below dir, in sorted
// order, following symbolic links to directories like os.walk(followlinks=True).
func walkDir(dir string, depth int, fn func(path string, e fs.DirEntry)) error {
	if depth > maxDepth {
		return fmt.Errorf("directory %s is more than %d levels deep: is there a symbolic link cycle?", dir, maxDepth)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("directory %s cannot be read: %w", dir, errors.Unwrap(err))
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		isDir, err := entryIsDir(dir, e)
		if err != nil || !isDir {
			fn(path, e)
			continue
		}
		if err := walkDir(path, depth+1, fn); err != nil {
			return err
		}
	}
	return nil
}

// entryIsDir says whether e is a directory, following a symbolic link.
func entryIsDir(dir string, e fs.DirEntry) (bool, error) {
	if e.Type()&fs.ModeSymlink == 0 {
		return e.IsDir(), nil
	}
	st, err := os.Stat(filepath.Join(dir, e.Name()))
	if err != nil {
		return false, err
	}
	return st.IsDir(), nil
}

// stdinInput peeks at standard input to learn its format when opt.Format
// does not say it.
func stdinInput(opt Options) (input, error) {
	r := opt.Stdin
	if r == nil {
		r = os.Stdin
	}
	br := bufio.NewReaderSize(r, 1<<16)
	f := opt.Format
	if f == "" {
		head, _ := br.Peek(512)
		f = sniff(head)
	}
	switch f {
	case ImageFolder:
		return input{}, errors.New("an ImageFolder tree cannot come from standard input: give its directory")
	}
	return input{path: "-", format: f, stdin: br}, nil
}

// sniff tells the format of data from its first bytes.
func sniff(head []byte) Format {
	switch {
	case bytes.HasPrefix(head, []byte("\x93NUMPY")):
		return NPY
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return NPZ
	case bytes.HasPrefix(head, []byte("PAR1")):
		return Parquet
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return Masks
	case bytes.HasPrefix(bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n"), []byte("{")):
		return COCO
	}
	return Text
}

// countInput counts one input that is not a mask.
func countInput(it input, opt Options, c *counter) error {
	opt.Format = it.format
	name := it.path
	if it.stdin != nil {
		name = "standard input"
	}
	err := countOne(it, opt, c)
	if err != nil {
		return fmt.Errorf("%s %s: %w", what(it.format), name, err)
	}
	return nil
}

func countOne(it input, opt Options, c *counter) error {
	switch it.format {
	case ImageFolder:
		return countImageFolder(it.path, c)
	case Parquet, NPZ, LabelCount:
		// These need random access: spool standard input to a file.
		path := it.path
		if it.stdin != nil {
			tmp, err := spool(it.stdin)
			if err != nil {
				return err
			}
			defer os.Remove(tmp)
			path = tmp
		}
		switch it.format {
		case Parquet:
			return countParquet(path, opt, c)
		case NPZ:
			return countNPZ(path, opt, c)
		}
		if isParquet(path) {
			return countLabelCountParquet(path, opt, c)
		}
		return countLabelCountCSV(path, opt, c)
	}
	var r io.Reader
	if it.stdin != nil {
		r = it.stdin
	} else {
		f, err := os.Open(it.path)
		if err != nil {
			return fmt.Errorf("cannot be read: %w", errors.Unwrap(err))
		}
		defer f.Close()
		r = f
	}
	if it.format == CSV && opt.Comma == 0 && strings.EqualFold(filepath.Ext(it.path), ".tsv") {
		opt.Comma = '\t'
	}
	return countStream(r, opt, c)
}

// isParquet says whether the file starts with Parquet's magic bytes.
func isParquet(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [4]byte
	_, err = io.ReadFull(f, b[:])
	return err == nil && string(b[:]) == "PAR1"
}

// spool copies r to a temporary file and returns its path.
func spool(r io.Reader) (string, error) {
	f, err := os.CreateTemp("", "onnxloss-stdin-*")
	if err != nil {
		return "", fmt.Errorf("spooling standard input: %w", err)
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", fmt.Errorf("spooling standard input: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("spooling standard input: %w", err)
	}
	return f.Name(), nil
}

// countNPZ counts the labels of one array of a .npz archive, streaming it
// out of the archive: the only array, or the one opt.Column names.
func countNPZ(path string, opt Options, c *counter) error {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return fmt.Errorf("not a valid .npz (zip) archive: %v", err)
	}
	defer zr.Close()
	var names []string
	var pick *zip.File
	for _, f := range zr.File {
		name := strings.TrimSuffix(f.Name, ".npy")
		names = append(names, name)
		if opt.Column == name || (opt.Column == "" && len(zr.File) == 1) {
			pick = f
		}
	}
	if pick == nil {
		if opt.Column == "" {
			return fmt.Errorf("the archive holds %d arrays (%s): pick the labels with --column NAME", len(names), strings.Join(names, ", "))
		}
		return fmt.Errorf("the archive has no array %q (it has %s): fix --column", opt.Column, strings.Join(names, ", "))
	}
	rc, err := pick.Open()
	if err != nil {
		return fmt.Errorf("array %s: %v", pick.Name, err)
	}
	defer rc.Close()
	if opt.Progress != nil {
		opt.Progress.addBytes(int64(pick.CompressedSize64))
	}
	if err := countNPY(rc, opt, c); err != nil {
		return fmt.Errorf("array %s: %w", strings.TrimSuffix(pick.Name, ".npy"), err)
	}
	return nil
}
