package labelcounts

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/onnxloss/onnxloss/lossops"
)

// npyBytes builds a .npy file: dtype descr, shape, fortran flag and the
// raw little/big-endian data.
func npyBytes(descr string, shape []int, fortran bool, data []byte) []byte {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = fmt.Sprint(d)
	}
	tuple := "(" + strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	tuple += ")"
	fo := "False"
	if fortran {
		fo = "True"
	}
	hdr := fmt.Sprintf("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr, fo, tuple)
	for (10+len(hdr)+1)%64 != 0 {
		hdr += " "
	}
	hdr += "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(hdr)))
	b.WriteString(hdr)
	b.Write(data)
	return b.Bytes()
}

func i64s(v ...int64) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, v)
	return b.Bytes()
}

func f32s(v ...float32) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, v)
	return b.Bytes()
}

func ptr[T any](v T) *T { return &v }

func TestCount(t *testing.T) {
	tests := []struct {
		name   string
		input  string
		opt    Options
		counts []int64
		labels int64
		ignore int64
	}{
		{"text", "0\n1\n1\n2\n1\n", Options{Format: Text}, []int64{1, 3, 1}, 5, 0},
		{"text no final newline", "2\n2\n0", Options{Format: Text}, []int64{1, 0, 2}, 3, 0},
		{"text blank, comments, spaces, CRLF, BOM", "\xef\xbb\xbf# labels\n 1 \r\n\n\t0\r\n+1\n", Options{Format: Text}, []int64{1, 2}, 3, 0},
		{"text num-classes pads", "0\n1\n", Options{Format: Text, NumClasses: 4}, []int64{1, 1, 0, 0}, 2, 0},
		{"text ignore-index", "0\n-100\n3\n-100\n", Options{Format: Text, IgnoreIndex: ptr(int64(-100))}, []int64{1, 0, 0, 1}, 4, 2},
		{"text ignore 255", "255\n1\n", Options{Format: Text, IgnoreIndex: ptr(int64(255))}, []int64{0, 1}, 2, 1},
		{"csv single column with header", "label\n1\n0\n1\n", Options{Format: CSV}, []int64{1, 2}, 3, 0},
		{"csv single column no header", "1\n0\n1\n", Options{Format: CSV}, []int64{1, 2}, 3, 0},
		{"csv column by name", "path,label\na.jpg,2\nb.jpg,0\n", Options{Format: CSV, Column: "label"}, []int64{1, 0, 1}, 2, 0},
		{"csv column by index with header", "path,label\na.jpg,2\nb.jpg,2\n", Options{Format: CSV, Column: "1"}, []int64{0, 0, 2}, 2, 0},
		{"csv column by index no header", "a.jpg,1\nb.jpg,0\n", Options{Format: CSV, Column: "1"}, []int64{1, 1}, 2, 0},
		{"csv quoted and comment", "# export\n\"x,y\",1\n\"z\",1\n", Options{Format: CSV, Column: "1"}, []int64{0, 2}, 2, 0},
		{"tsv", "path\tlabel\na\t1\n", Options{Format: CSV, Column: "label", Comma: '\t'}, []int64{0, 1}, 1, 0},
		{"npy int64 1-D", string(npyBytes("<i8", []int{4}, false, i64s(0, 2, 2, 1))), Options{Format: NPY}, []int64{1, 1, 2}, 4, 0},
		{"npy int64 N×H×W with ignore", string(npyBytes("<i8", []int{1, 2, 2}, false, i64s(0, 255, 1, 1))), Options{Format: NPY, IgnoreIndex: ptr(int64(255))}, []int64{1, 2}, 4, 1},
		{"npy uint8", string(npyBytes("|u1", []int{3}, false, []byte{3, 0, 3})), Options{Format: NPY}, []int64{1, 0, 0, 2}, 3, 0},
		{"npy int32 big-endian", string(npyBytes(">i4", []int{2}, false, []byte{0, 0, 0, 1, 0, 0, 0, 1})), Options{Format: NPY}, []int64{0, 2}, 2, 0},
		{"npy float labels", string(npyBytes("<f4", []int{3}, false, f32s(1, 1, 0))), Options{Format: NPY}, []int64{1, 2}, 3, 0},
		{"npy multi-hot float", string(npyBytes("<f4", []int{2, 3}, false, f32s(1, 0, 1, 0, 0, 1))), Options{Format: NPY, MultiHot: true}, []int64{1, 0, 2}, 2, 0},
		{"npy multi-hot bool fortran", string(npyBytes("|b1", []int{2, 3}, true, []byte{1, 1, 0, 0, 0, 1})), Options{Format: NPY, MultiHot: true}, []int64{2, 0, 1}, 2, 0},
		{"npy multi-hot int8", string(npyBytes("|i1", []int{2, 2}, false, []byte{1, 1, 0, 1})), Options{Format: NPY, MultiHot: true, NumClasses: 2}, []int64{1, 2}, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Count(strings.NewReader(tt.input), tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(res.Counts, tt.counts) || res.Labels != tt.labels || res.Ignored != tt.ignore {
				t.Errorf("got %v (%d labels, %d ignored), want %v (%d, %d)", res.Counts, res.Labels, res.Ignored, tt.counts, tt.labels, tt.ignore)
			}
		})
	}
}

func TestCountErrors(t *testing.T) {
	tests := []struct {
		name  string
		input string
		opt   Options
		want  string
	}{
		{"text word", "1\ncat\n", Options{Format: Text}, `line 2: "cat" is not an integer label`},
		{"text float", "1.5\n", Options{Format: Text}, `"1.5" is not an integer label`},
		{"text two labels", "1 2\n", Options{Format: Text}, `"1 2" is not an integer`},
		{"text negative", "0\n-1\n", Options{Format: Text}, "line 2: label -1 is negative"},
		{"text sign only", "-\n", Options{Format: Text}, `"-" is not an integer`},
		{"text overflow", "99999999999999999999\n", Options{Format: Text}, "too large"},
		{"text huge id", "5000000\n", Options{Format: Text}, "too large for a class id"},
		{"text beyond num-classes", "0\n3\n", Options{Format: Text, NumClasses: 3}, "line 2: label 3 is out of range for --num-classes 3"},
		{"text empty", "", Options{Format: Text}, "no labels found"},
		{"text only comments", "# nothing\n\n", Options{Format: Text}, "no labels found"},
		{"text all ignored", "-1\n-1\n", Options{Format: Text, IgnoreIndex: ptr(int64(-1))}, "all 2 labels equal the ignore index"},
		{"text long line", strings.Repeat("1", maxLine+5), Options{Format: Text}, "longer than"},
		{"bad num-classes", "1\n", Options{Format: Text, NumClasses: -2}, "--num-classes -2 is invalid"},
		{"multi-hot text", "1\n", Options{Format: Text, MultiHot: true}, "multi-hot labels are read from a .npy"},
		{"csv many columns no --column", "a,b\n1,2\n", Options{Format: CSV}, "has 2 columns: pick the labels with --column"},
		{"csv unknown column", "a,b\n1,2\n", Options{Format: CSV, Column: "label"}, `--column "label" is not in the header`},
		{"csv column index out of range", "a,b\n1,2\n", Options{Format: CSV, Column: "5"}, "--column 5 is out of range"},
		{"csv ids and names", "label\n1\ndog\n", Options{Format: CSV}, "the labels mix integer class ids and class names"},
		{"csv name not in classes", "label\ncat\ndog\n", Options{Format: CSV, Classes: []string{"cat"}}, `row 3, column 0: label "dog" is not one of the --classes`},
		{"csv empty cell", "x,label\na,1\nb,\n", Options{Format: CSV, Column: "label"}, "row 3, column 1: empty label"},
		{"csv short row", "x,label\na,1\nb\n", Options{Format: CSV, Column: "label"}, "row 3 has 1 columns"},
		{"csv bad quote", "label\n\"1\n", Options{Format: CSV}, "not valid CSV"},
		{"npy bad magic", "NUMPY....", Options{Format: NPY}, "not a .npy file"},
		{"npy truncated", string(npyBytes("<i8", []int{4}, false, i64s(0, 1))), Options{Format: NPY}, "truncated: shape [4] needs 4 elements, the data ends after 2"},
		{"npy trailing", string(npyBytes("<i8", []int{1}, false, i64s(0, 1))), Options{Format: NPY}, "trailing data"},
		{"npy string dtype", string(npyBytes("<U3", []int{1}, false, nil)), Options{Format: NPY}, "unsupported .npy dtype"},
		{"npy complex", string(npyBytes("<c8", []int{1}, false, nil)), Options{Format: NPY}, "unsupported .npy dtype"},
		{"npy float not integral", string(npyBytes("<f4", []int{2}, false, f32s(1, 0.5))), Options{Format: NPY}, "element 1 is 0.5, not an integer class id"},
		{"npy float NaN", string(npyBytes("<f4", []int{1}, false, f32s(float32(math.NaN())))), Options{Format: NPY}, "not an integer class id"},
		{"npy negative", string(npyBytes("<i8", []int{2}, false, i64s(0, -3))), Options{Format: NPY}, "element 1: label -3 is negative"},
		{"npy bool without multi-hot", string(npyBytes("|b1", []int{1, 2}, false, []byte{0, 1})), Options{Format: NPY}, "pass --multi-hot"},
		{"multi-hot 1-D", string(npyBytes("<f4", []int{2}, false, f32s(1, 0))), Options{Format: NPY, MultiHot: true}, "need shape (N, C)"},
		{"multi-hot soft", string(npyBytes("<f4", []int{1, 2}, false, f32s(1, 0.3))), Options{Format: NPY, MultiHot: true}, "element 1 is 0.3: multi-hot targets must be 0 or 1"},
		{"multi-hot num-classes mismatch", string(npyBytes("<f4", []int{1, 2}, false, f32s(1, 0))), Options{Format: NPY, MultiHot: true, NumClasses: 3}, "--num-classes 3 but the multi-hot array has 2 columns"},
		{"multi-hot ignore", "", Options{Format: NPY, MultiHot: true, IgnoreIndex: ptr(int64(0))}, "--ignore-index applies to index labels"},
		{"unknown format", "1", Options{Format: "xlsx"}, "unknown label file format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Count(strings.NewReader(tt.input), tt.opt)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func TestCountFileAndJSON(t *testing.T) {
	d := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(d, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name    string
		path    string
		opt     Options
		classes []string
		want    string
	}{
		{"txt", write("y.txt", "0\n2\n2\n"), Options{}, nil, "[1,0,2]\n"},
		{"csv by extension", write("y.csv", "label\n1\n"), Options{NumClasses: 3}, []string{"a", "b", "c"}, `{"counts":[0,1,0],"classes":["a","b","c"]}` + "\n"},
		{"tsv by extension", write("y.tsv", "f\tlabel\nx\t0\n"), Options{Column: "label"}, nil, "[1]\n"},
		{"npy by extension", write("y.npy", string(npyBytes("<i8", []int{2}, false, i64s(1, 1)))), Options{}, nil, "[0,2]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := CountFile(tt.path, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			b, err := CountsJSON(res.Counts, tt.classes)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("JSON %s, want %s", b, tt.want)
			}
			// inject reads what counts writes.
			c, err := lossops.ParseCounts(b)
			if err != nil {
				t.Fatalf("lossops cannot read it: %v", err)
			}
			if len(c.Values) != len(res.Counts) || !reflect.DeepEqual(c.Classes, tt.classes) {
				t.Errorf("lossops read %v %v", c.Values, c.Classes)
			}
		})
	}
	if _, err := CountFile(filepath.Join(d, "nope.txt"), Options{}); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := CountFile(d, Options{}); err == nil || !strings.Contains(err.Error(), "has no class folders (ImageFolder) and no mask PNGs") {
		t.Errorf("directory: %v", err)
	}
	if _, err := CountFile(write("bad.txt", "x\n"), Options{}); err == nil || !strings.HasPrefix(err.Error(), "label file "+filepath.Join(d, "bad.txt")+": line 1:") {
		t.Errorf("error does not name the file and line: %v", err)
	}
	if _, err := CountsJSON([]int64{1, 2}, []string{"a"}); err == nil || !strings.Contains(err.Error(), "1 class names for 2 classes") {
		t.Errorf("names mismatch: %v", err)
	}
}

func TestParseClasses(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  string
	}{
		{"cat,dog, eel", []string{"cat", "dog", "eel"}, ""},
		{"solo", []string{"solo"}, ""},
		{"cat,,dog", nil, "class name 1 is empty"},
		{"cat,dog,cat", nil, `"cat" is given twice`},
	}
	for _, tt := range tests {
		got, err := ParseClasses(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseClasses(%q) error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseClasses(%q) = %v, %v", tt.in, got, err)
		}
	}
	p := filepath.Join(t.TempDir(), "classes.txt")
	os.WriteFile(p, []byte("cat\n\n dog \n"), 0o644)
	if got, err := ReadClassesFile(p); err != nil || !reflect.DeepEqual(got, []string{"cat", "dog"}) {
		t.Errorf("ReadClassesFile = %v, %v", got, err)
	}
}

// FuzzCount feeds arbitrary bytes to every parser: no panic, one-line
// errors, and counts that add up.
func FuzzCount(f *testing.F) {
	f.Add([]byte("0\n1\n# c\n\n2\r\n"), uint8(0))
	f.Add([]byte("label,x\n1,a\n2,b\n"), uint8(1))
	f.Add(npyBytes("<i8", []int{2}, false, i64s(1, 0)), uint8(2))
	f.Add(npyBytes("<f4", []int{1, 2}, true, f32s(1, 0)), uint8(3))
	f.Add(npyBytes(">u2", []int{1, 1, 1}, false, []byte{0, 7}), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		opts := []Options{
			{Format: Text, IgnoreIndex: ptr(int64(-100))},
			{Format: CSV, Column: "label"},
			{Format: NPY, NumClasses: 300},
			{Format: NPY, MultiHot: true},
		}
		opt := opts[int(mode)%len(opts)]
		res, err := Count(bytes.NewReader(data), opt)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		var sum int64
		for _, n := range res.Counts {
			if n < 0 {
				t.Fatalf("negative count %v", res.Counts)
			}
			sum += n
		}
		if !opt.MultiHot && sum+res.Ignored != res.Labels {
			t.Fatalf("counts %v sum to %d, with %d ignored of %d labels", res.Counts, sum, res.Ignored, res.Labels)
		}
	})
}

// FuzzParseLabel checks the integer parser against strconv.
func FuzzParseLabel(f *testing.F) {
	for _, s := range []string{"0", " 17\r\n", "-100", "+3", "9223372036854775807", "-9223372036854775808", "9223372036854775808", "1e3", "", "#x", "0x10"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		y, skip, err := ParseLabel([]byte(s), true)
		trimmed := strings.Trim(s, " \t\r\n")
		if skip {
			if trimmed != "" && !strings.HasPrefix(trimmed, "#") {
				t.Fatalf("%q skipped", s)
			}
			return
		}
		want, werr := parseInt(trimmed)
		if (err == nil) != (werr == nil) || (err == nil && y != want) {
			t.Fatalf("ParseLabel(%q) = %d, %v; strconv %d, %v", s, y, err, want, werr)
		}
	})
}

func parseInt(s string) (int64, error) { return strconv.ParseInt(s, 10, 64) }

// TestCountTextChunkBoundaries counts a file several chunks long, read one
// byte at a time, so lines straddle the 1 MiB chunk boundaries, with a
// comment and an ignored label mixed in.
func TestCountTextChunkBoundaries(t *testing.T) {
	var buf bytes.Buffer
	want := make([]int64, 1000)
	var ignored int64
	for i := 0; buf.Len() < 3<<20+17; i++ {
		switch {
		case i%7919 == 0:
			buf.WriteString("# comment line\n")
		case i%101 == 0:
			buf.WriteString("-100\n")
			ignored++
		default:
			y := (i * 7) % 1000
			fmt.Fprintf(&buf, "%d\n", y)
			want[y]++
		}
	}
	buf.WriteString("999") // no final newline
	want[999]++
	res, err := Count(iotest.OneByteReader(bytes.NewReader(buf.Bytes())), Options{IgnoreIndex: ptr(int64(-100))})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Counts, want) || res.Ignored != ignored {
		t.Errorf("counts differ from the expected ones (ignored %d, want %d)", res.Ignored, ignored)
	}
}
