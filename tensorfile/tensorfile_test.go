package tensorfile

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxloss/onnxloss/onnxpb"
	"google.golang.org/protobuf/proto"
)

func mustNew(t testing.TB, name string, dims []int64, data any) *onnxpb.TensorProto {
	t.Helper()
	tp, err := New(name, dims, data)
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

var (
	nan32 = math.Float32frombits(0x7fc00000) // what numpy's float32(nan) is
	inf32 = float32(math.Inf(1))
)

func f16s(vals ...float32) []Float16 {
	out := make([]Float16, len(vals))
	for i, v := range vals {
		out[i] = Float16FromFloat32(v)
	}
	return out
}

func iota32(n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(i)
	}
	return out
}

// sameTensors compares tensors bit for bit (NaN payloads and -0 included).
func sameTensors(t *testing.T, got, want []*onnxpb.TensorProto) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d tensors, want %d", len(got), len(want))
	}
	for i := range got {
		if !proto.Equal(got[i], want[i]) {
			t.Errorf("tensor %d:\n got %v\nwant %v", i, got[i], want[i])
		}
	}
}

// TestReadNumpyFixtures reads files written by numpy (testdata/gen.py).
func TestReadNumpyFixtures(t *testing.T) {
	ptrs := func(ts ...*onnxpb.TensorProto) []*onnxpb.TensorProto { return ts }
	for _, tc := range []struct {
		file string
		want func(t testing.TB) []*onnxpb.TensorProto
	}{
		{"f32.npy", func(t testing.TB) []*onnxpb.TensorProto {
			negZero := math.Float32frombits(0x80000000)
			return ptrs(mustNew(t, "f32", []int64{2, 3}, []float32{0, 1.5, -2, negZero, nan32, inf32}))
		}},
		{"f64_be.npy", func(t testing.TB) []*onnxpb.TensorProto {
			return ptrs(mustNew(t, "f64_be", []int64{2, 3}, []float64{0, 0.25, 0.5, 0.75, 1, 1.25}))
		}},
		{"f32_fortran.npy", func(t testing.TB) []*onnxpb.TensorProto {
			return ptrs(mustNew(t, "f32_fortran", []int64{2, 3, 4}, iota32(24)))
		}},
		{"i64_be_fortran.npy", func(t testing.TB) []*onnxpb.TensorProto {
			return ptrs(mustNew(t, "i64_be_fortran", []int64{3, 2}, []int64{1, -2, 3, -4, 5, 1 << 40}))
		}},
		{"f16.npy", func(t testing.TB) []*onnxpb.TensorProto {
			return ptrs(mustNew(t, "f16", []int64{6}, []Float16{0x3c00, 0xc100, 0x0001, 0x7bff, 0x7c00, 0x7e00}))
		}},
		{"bool.npy", func(t testing.TB) []*onnxpb.TensorProto {
			return ptrs(mustNew(t, "bool", []int64{3, 2}, []bool{true, false, false, true, true, true}))
		}},
		{"scalar.npy", func(t testing.TB) []*onnxpb.TensorProto {
			return ptrs(mustNew(t, "scalar", nil, []float64{3.25}))
		}},
		{"empty.npy", func(t testing.TB) []*onnxpb.TensorProto {
			return ptrs(mustNew(t, "empty", []int64{0, 3}, []int32{}))
		}},
		{"v2.npy", func(t testing.TB) []*onnxpb.TensorProto {
			return ptrs(mustNew(t, "v2", []int64{3}, []int16{1, 2, 3}))
		}},
		{"v3.npy", func(t testing.TB) []*onnxpb.TensorProto {
			return ptrs(mustNew(t, "v3", []int64{2}, []uint8{7, 8}))
		}},
		{"stored.npz", func(t testing.TB) []*onnxpb.TensorProto {
			return ptrs(
				mustNew(t, "logits", []int64{2, 2}, []float32{0.5, -1, 2, 3}),
				mustNew(t, "labels", []int64{2}, []int64{1, 0}))
		}},
		{"compressed.npz", func(t testing.TB) []*onnxpb.TensorProto {
			return ptrs(
				mustNew(t, "i8", []int64{3}, []int8{-128, 0, 127}),
				mustNew(t, "u8", []int64{2}, []uint8{0, 255}),
				mustNew(t, "i32", []int64{1, 2}, []int32{math.MinInt32, math.MaxInt32}),
				mustNew(t, "mask", []int64{2}, []bool{true, false}))
		}},
		{"typed_float.pb", func(t testing.TB) []*onnxpb.TensorProto {
			return ptrs(mustNew(t, "typed", []int64{2, 2}, []float32{1, 2, 3, 4.5}))
		}},
		{"typed_int64.pb", func(t testing.TB) []*onnxpb.TensorProto {
			return ptrs(mustNew(t, "typed_int64", []int64{3}, []int64{1, -1, 1 << 50}))
		}},
		{"typed_f16.pb", func(t testing.TB) []*onnxpb.TensorProto {
			return ptrs(mustNew(t, "h", []int64{2}, f16s(1.5, -0.25)))
		}},
		{"typed_bool.pb", func(t testing.TB) []*onnxpb.TensorProto {
			return ptrs(mustNew(t, "b", []int64{3}, []bool{true, false, true}))
		}},
		{"typed_double.pb", func(t testing.TB) []*onnxpb.TensorProto {
			return ptrs(mustNew(t, "d", []int64{2}, []float64{0.1, -1e300}))
		}},
		{"raw_float.pb", func(t testing.TB) []*onnxpb.TensorProto {
			return ptrs(mustNew(t, "raw", []int64{3, 2}, iota32(6)))
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, err := ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			sameTensors(t, got, tc.want(t))
		})
	}
}

func TestReadErrors(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"bad_unicode.npy", "testdata/bad_unicode.npy: unsupported dtype '<U3': use a numeric array"},
		{"bad_object.npy", "testdata/bad_object.npy: unsupported dtype '|O': object arrays cannot be read; use a numeric array"},
		{"bad_struct.npy", "testdata/bad_struct.npy: unsupported structured dtype (record array): use one numeric array per tensor"},
		{"bad_complex.npy", "testdata/bad_complex.npy: unsupported dtype '<c8': complex arrays are not supported"},
		{"bad_member.npz", "testdata/bad_member.npz: member x.npy: unsupported dtype '<U3': use a numeric array"},
		{"bad_truncated.npy", "testdata/bad_truncated.npy: truncated: shape [2 3] of float64 needs 48 data bytes, file has 16"},
		{"missing.npy", "testdata/missing.npy: open: no such file or directory"},
		{"gen.py", `testdata/gen.py: unknown tensor file extension ".py": use .npy, .npz, .pb or .json`},
		{"f32.npy/", "is a directory"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", tc.file)
			if strings.HasSuffix(tc.file, "/") {
				path = filepath.Join(t.TempDir(), "d.npy")
				os.Mkdir(path, 0o755)
			}
			_, err := ReadFile(path)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\ndoes not contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

// allDtypes holds one tensor of each supported dtype, with awkward values.
func allDtypes(t testing.TB) []*onnxpb.TensorProto {
	return []*onnxpb.TensorProto{
		mustNew(t, "f32", []int64{2, 3}, []float32{0, -1.5, 3.4028235e38, 1e-45, inf32, float32(math.Inf(-1))}),
		mustNew(t, "f64", []int64{3}, []float64{math.Pi, -0.1, 5e-324}),
		mustNew(t, "f16", []int64{2, 2}, f16s(1, -0.5, 65504, 6e-8)),
		mustNew(t, "i8", []int64{2}, []int8{-128, 127}),
		mustNew(t, "i16", []int64{2}, []int16{-32768, 32767}),
		mustNew(t, "i32", []int64{1, 2}, []int32{math.MinInt32, math.MaxInt32}),
		mustNew(t, "i64", []int64{2}, []int64{math.MinInt64, math.MaxInt64}),
		mustNew(t, "u8", []int64{2}, []uint8{0, 255}),
		mustNew(t, "u16", []int64{1}, []uint16{65535}),
		mustNew(t, "u32", []int64{1}, []uint32{math.MaxUint32}),
		mustNew(t, "u64", []int64{1}, []uint64{math.MaxUint64}),
		mustNew(t, "bool", []int64{2, 1}, []bool{true, false}),
		mustNew(t, "scalar", nil, []float32{2.5}),
		mustNew(t, "empty", []int64{0, 4}, []int64{}),
	}
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	all := allDtypes(t)
	for _, ext := range []string{".npz", ".json"} {
		t.Run(ext, func(t *testing.T) {
			path := filepath.Join(dir, "all"+ext)
			if err := WriteFile(path, all); err != nil {
				t.Fatal(err)
			}
			got, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			sameTensors(t, got, all)
		})
	}
	for _, ext := range []string{".npy", ".pb"} {
		for _, tt := range all {
			t.Run(ext+"/"+tt.GetName(), func(t *testing.T) {
				path := filepath.Join(dir, tt.GetName()+ext)
				if err := WriteFile(path, []*onnxpb.TensorProto{tt}); err != nil {
					t.Fatal(err)
				}
				got, err := ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				sameTensors(t, got, []*onnxpb.TensorProto{tt})
			})
		}
	}
	// bfloat16 exists in ONNX but not numpy.
	bf := newRaw("bf", onnxpb.TensorProto_BFLOAT16, []int64{2}, []byte{0x80, 0x3f, 0x00, 0xc0})
	for _, ext := range []string{".pb", ".json"} {
		path := filepath.Join(dir, "bf"+ext)
		if err := WriteFile(path, []*onnxpb.TensorProto{bf}); err != nil {
			t.Fatal(err)
		}
		got, err := ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		sameTensors(t, got, []*onnxpb.TensorProto{bf})
	}
	if err := WriteFile(filepath.Join(dir, "bf.npy"), []*onnxpb.TensorProto{bf}); err == nil ||
		!strings.Contains(err.Error(), "bfloat16 has no numpy dtype") {
		t.Errorf("bfloat16 to .npy: got %v", err)
	}
}

func TestWriteFileErrors(t *testing.T) {
	dir := t.TempDir()
	a := mustNew(t, "a", []int64{1}, []float32{1})
	for _, tc := range []struct {
		file    string
		tensors []*onnxpb.TensorProto
		want    string
	}{
		{"two.npy", []*onnxpb.TensorProto{a, a}, "a .npy file holds exactly one tensor, got 2: use .npz or .json"},
		{"none.pb", nil, "a .pb file holds exactly one tensor, got 0"},
		{"dup.npz", []*onnxpb.TensorProto{a, a}, `two tensors are named "a"`},
		{"anon.json", []*onnxpb.TensorProto{{DataType: proto.Int32(1)}}, "tensor 0 has no name"},
		{"bad.npz", []*onnxpb.TensorProto{{Name: proto.String("s"), DataType: proto.Int32(int32(onnxpb.TensorProto_STRING))}},
			"unsupported data_type STRING"},
		{"short.npz", []*onnxpb.TensorProto{{Name: proto.String("s"), DataType: proto.Int32(1), Dims: []int64{3}, RawData: []byte{1, 2, 3, 4}}},
			"raw_data has 4 bytes, shape [3] of float32 needs 12"},
		{"x.txt", []*onnxpb.TensorProto{a}, "unknown tensor file extension"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join(dir, tc.file)
			err := WriteFile(path, tc.tensors)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), path+": ") {
				t.Errorf("got %v, want %q", err, tc.want)
			}
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Errorf("%s was created", tc.file)
			}
		})
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left files behind: %v", ents)
	}
	// A write into a missing directory fails cleanly.
	if err := WriteFile(filepath.Join(dir, "no", "x.npy"), []*onnxpb.TensorProto{a}); err == nil {
		t.Error("no error writing into a missing directory")
	}
}

func TestWriteFileReplacesAtomically(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.npz")
	for i := range 2 {
		ts := []*onnxpb.TensorProto{mustNew(t, "x", []int64{1}, []int64{int64(i)})}
		if err := WriteFile(path, ts); err != nil {
			t.Fatal(err)
		}
		got, err := ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		sameTensors(t, got, ts)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("directory holds %v, want only out.npz", ents)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", fi.Mode())
	}
}

func TestNormalizeTypedFields(t *testing.T) {
	i32 := func(v int32) *int32 { return &v }
	for _, tc := range []struct {
		name string
		in   *onnxpb.TensorProto
		want *onnxpb.TensorProto
		err  string
	}{
		{"float_data", &onnxpb.TensorProto{Name: proto.String("x"), DataType: i32(1), Dims: []int64{2}, FloatData: []float32{1, 2}},
			mustNew(t, "x", []int64{2}, []float32{1, 2}), ""},
		{"int32_data int8", &onnxpb.TensorProto{Name: proto.String("x"), DataType: i32(3), Dims: []int64{2}, Int32Data: []int32{-1, 5}},
			mustNew(t, "x", []int64{2}, []int8{-1, 5}), ""},
		{"int32_data uint16", &onnxpb.TensorProto{Name: proto.String("x"), DataType: i32(4), Dims: []int64{1}, Int32Data: []int32{65535}},
			mustNew(t, "x", []int64{1}, []uint16{65535}), ""},
		{"int32_data bool", &onnxpb.TensorProto{Name: proto.String("x"), DataType: i32(9), Dims: []int64{3}, Int32Data: []int32{0, 1, 7}},
			mustNew(t, "x", []int64{3}, []bool{false, true, true}), ""},
		{"raw bool 2 is true", &onnxpb.TensorProto{Name: proto.String("x"), DataType: i32(9), Dims: []int64{2}, RawData: []byte{2, 0}},
			mustNew(t, "x", []int64{2}, []bool{true, false}), ""},
		{"uint64_data uint32", &onnxpb.TensorProto{Name: proto.String("x"), DataType: i32(12), Dims: []int64{1}, Uint64Data: []uint64{4e9}},
			mustNew(t, "x", []int64{1}, []uint32{4e9}), ""},
		{"raw wins", &onnxpb.TensorProto{Name: proto.String("x"), DataType: i32(7), Dims: []int64{1}, Int64Data: []int64{9}, RawData: []byte{1, 0, 0, 0, 0, 0, 0, 0}},
			mustNew(t, "x", []int64{1}, []int64{1}), ""},
		{"wrong field", &onnxpb.TensorProto{DataType: i32(7), Dims: []int64{2}, FloatData: []float32{1, 2}},
			nil, "int64 tensor of shape [2] needs 2 values, has 0 in int64_data (and no raw_data)"},
		{"no type", &onnxpb.TensorProto{Dims: []int64{1}}, nil, "data_type not set"},
		{"complex", &onnxpb.TensorProto{DataType: i32(14)}, nil, "unsupported data_type COMPLEX64"},
		{"unknown type", &onnxpb.TensorProto{DataType: i32(99)}, nil, "unknown data_type 99"},
		{"negative dim", &onnxpb.TensorProto{DataType: i32(1), Dims: []int64{-1}}, nil, "negative dimension"},
		{"overflow dims", &onnxpb.TensorProto{DataType: i32(1), Dims: []int64{1 << 32, 1 << 32}}, nil, "too many elements"},
		{"external", &onnxpb.TensorProto{DataType: i32(1), DataLocation: onnxpb.TensorProto_EXTERNAL.Enum()}, nil, "external file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Normalize(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got, tc.want) {
				t.Errorf("got %v\nwant %v", got, tc.want)
			}
		})
	}
}

func TestReadJSON(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     func(t testing.TB) []*onnxpb.TensorProto
		err      string
	}{
		{"flat", `{"x": {"dtype": "float32", "shape": [2, 2], "data": [1, 2.5, "NaN", "-Infinity"]}}`,
			func(t testing.TB) []*onnxpb.TensorProto {
				return []*onnxpb.TensorProto{mustNew(t, "x", []int64{2, 2}, []float32{1, 2.5, nan32, float32(math.Inf(-1))})}
			}, ""},
		{"nested, order kept", `{"b": {"dtype": "int64", "data": [[1, 2, 3], [4, 5, 6]]}, "a": {"dtype": "bool", "data": [true, false, 1]}}`,
			func(t testing.TB) []*onnxpb.TensorProto {
				return []*onnxpb.TensorProto{
					mustNew(t, "b", []int64{2, 3}, []int64{1, 2, 3, 4, 5, 6}),
					mustNew(t, "a", []int64{3}, []bool{true, false, true})}
			}, ""},
		{"nested with shape", `{"x": {"dtype": "float64", "shape": [1, 2], "data": [[0.1, 1e-300]]}}`,
			func(t testing.TB) []*onnxpb.TensorProto {
				return []*onnxpb.TensorProto{mustNew(t, "x", []int64{1, 2}, []float64{0.1, 1e-300})}
			}, ""},
		{"scalar", `{"s": {"dtype": "int32", "data": 7}, "t": {"dtype": "float16", "shape": [], "data": [0.5]}}`,
			func(t testing.TB) []*onnxpb.TensorProto {
				return []*onnxpb.TensorProto{mustNew(t, "s", nil, []int32{7}), mustNew(t, "t", []int64{}, f16s(0.5))}
			}, ""},
		{"integral floats", `{"x": {"dtype": "uint8", "data": [2.0, 1e2, 255]}}`,
			func(t testing.TB) []*onnxpb.TensorProto {
				return []*onnxpb.TensorProto{mustNew(t, "x", []int64{3}, []uint8{2, 100, 255})}
			}, ""},
		{"int64 extremes", `{"x": {"dtype": "int64", "data": [-9223372036854775808, 9223372036854775807]}}`,
			func(t testing.TB) []*onnxpb.TensorProto {
				return []*onnxpb.TensorProto{mustNew(t, "x", []int64{2}, []int64{math.MinInt64, math.MaxInt64})}
			}, ""},
		{"empty object", `{}`, func(testing.TB) []*onnxpb.TensorProto { return nil }, ""},
		{"not object", `[1, 2]`, nil, "want a JSON object"},
		{"not json", `{"x": `, nil, "bad JSON"},
		{"trailing", `{} {}`, nil, "data after the top-level object"},
		{"no dtype", `{"x": {"data": [1]}}`, nil, `tensor "x": missing "dtype"`},
		{"bad dtype", `{"x": {"dtype": "float", "data": [1]}}`, nil, `unsupported dtype "float": use one of bfloat16, bool, float16`},
		{"typo field", `{"x": {"dtype": "int8", "shap": [1], "data": [1]}}`, nil, `unknown field "shap"`},
		{"no data", `{"x": {"dtype": "int8"}}`, nil, `missing "data"`},
		{"count", `{"x": {"dtype": "int8", "shape": [2, 2], "data": [1, 2, 3]}}`, nil, "shape [2 2] needs 4 values, data has 3"},
		{"huge shape", `{"x": {"dtype": "int8", "shape": [4294967296, 4294967296], "data": []}}`, nil, "too many elements"},
		{"ragged", `{"x": {"dtype": "int8", "data": [[1, 2], [3]]}}`, nil, "ragged"},
		{"ragged depth", `{"x": {"dtype": "int8", "data": [1, [2]]}}`, nil, "ragged"},
		{"ragged deeper", `{"x": {"dtype": "int8", "data": [[[]], [1]]}}`, nil, "ragged"},
		{"ragged empty", `{"x": {"dtype": "int8", "data": [[], [[1]]]}}`, nil, "ragged"},
		{"shape vs nesting", `{"x": {"dtype": "int8", "shape": [4], "data": [[1, 2], [3, 4]]}}`, nil, "does not match the nesting"},
		{"int range", `{"x": {"dtype": "int8", "data": [128]}}`, nil, "data[0]: 128 is not a valid int8"},
		{"uint negative", `{"x": {"dtype": "uint32", "data": [-1]}}`, nil, "-1 is not a valid uint32"},
		{"int fraction", `{"x": {"dtype": "int64", "data": [1.5]}}`, nil, "1.5 is not a valid int64"},
		{"float range", `{"x": {"dtype": "float32", "data": [1e39]}}`, nil, "1e39 is out of range for float32"},
		{"half range", `{"x": {"dtype": "float16", "data": [70000]}}`, nil, "70000 is out of range for float16"},
		{"string float", `{"x": {"dtype": "float32", "data": ["abc"]}}`, nil, `"abc" is not a number`},
		{"bool value", `{"x": {"dtype": "bool", "data": [2]}}`, nil, "2 is not a bool"},
		{"null", `{"x": {"dtype": "float64", "data": [null]}}`, nil, "null is not a number"},
		{"duplicate", `{"x": {"dtype": "int8", "data": 1}, "x": {"dtype": "int8", "data": 1}}`, nil, `tensor "x" appears twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadJSON(strings.NewReader(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			sameTensors(t, got, tc.want(t))
		})
	}
}

func TestWriteJSONText(t *testing.T) {
	var buf bytes.Buffer
	err := WriteJSON(&buf, []*onnxpb.TensorProto{
		mustNew(t, "logits", []int64{1, 3}, []float32{0.1, nan32, float32(math.Inf(-1))}),
		mustNew(t, "labels", []int64{1}, []int64{2}),
		mustNew(t, "m", nil, []bool{true}),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "logits": {"dtype": "float32", "shape": [1, 3], "data": [0.1, "NaN", "-Infinity"]},
  "labels": {"dtype": "int64", "shape": [1], "data": [2]},
  "m": {"dtype": "bool", "shape": [], "data": [true]}
}
`
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}

// npyBytes assembles a .npy file from a header dict and data.
func npyBytes(major byte, dict string, data []byte) []byte {
	b := []byte(npyMagic)
	b = append(b, major, 0)
	if major == 1 {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(dict)))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(dict)))
	}
	return append(append(b, dict...), data...)
}

func TestReadNPYMalformed(t *testing.T) {
	f4 := func(shape string) string {
		return "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }\n"
	}
	for _, tc := range []struct {
		name string
		in   []byte
		err  string
	}{
		{"empty", nil, "not a .npy file: too short"},
		{"magic", []byte("PK\x03\x04xxxxxxxxxxxx"), "bad magic"},
		{"version", npyBytes(4, f4("(1,)"), nil), "unsupported .npy format version 4.0"},
		{"header truncated", []byte(npyMagic + "\x01\x00\xff\x00{'descr'"), "truncated .npy header: want 255 bytes"},
		{"huge v2 header", append([]byte(npyMagic+"\x02\x00"), 0xff, 0xff, 0xff, 0xff), "too large"},
		{"overflowing shape", npyBytes(1, f4("(4294967296, 4294967296, 4294967296)"), nil), "too many elements"},
		{"int64 overflow dim", npyBytes(1, f4("(99999999999999999999,)"), nil), "bad integer"},
		{"huge shape tiny data", npyBytes(1, f4("(1000000000,)"), make([]byte, 8)), "needs 4000000000 data bytes, file has 8"},
		{"negative dim", npyBytes(1, f4("(-1,)"), nil), "not a non-negative integer"},
		{"not dict", npyBytes(1, "('descr', '<f4')", nil), "not a dictionary"},
		{"no shape", npyBytes(1, "{'descr': '<f4', 'fortran_order': False}", nil), "'shape' missing"},
		{"fortran not bool", npyBytes(1, "{'descr': '<f4', 'fortran_order': 0, 'shape': ()}", nil), "'fortran_order' missing or not True/False"},
		{"shape list", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': [1]}", nil), "'shape' missing or not a tuple"},
		{"garbage after", npyBytes(1, f4("(1,)")+"xyz", nil), "after the dictionary"},
		{"unterminated", npyBytes(1, "{'descr': '<f4", nil), "unterminated string"},
		{"deep", npyBytes(1, strings.Repeat("(", 100), nil), "nested too deeply"},
		{"pipe f8", npyBytes(1, "{'descr': '|f8', 'fortran_order': False, 'shape': ()}", nil), "no byte order"},
		{"f3", npyBytes(1, "{'descr': '<f3', 'fortran_order': False, 'shape': ()}", nil), "unsupported dtype '<f3'"},
		{"datetime", npyBytes(1, "{'descr': '<M8[ns]', 'fortran_order': False, 'shape': ()}", nil), "datetime"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadNPY(bytes.NewReader(tc.in), "x")
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("got error %v, want %q", err, tc.err)
			}
		})
	}
}

func TestReadNPYVariants(t *testing.T) {
	// Python 2 longs, double quotes, keys in another order, no byte order.
	in := npyBytes(1, `{"shape": (2L, 1L), "fortran_order": True, "descr": "f4"}`,
		binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, math.Float32bits(1)), math.Float32bits(2)))
	got, err := ReadNPY(bytes.NewReader(in), "x")
	if err != nil {
		t.Fatal(err)
	}
	sameTensors(t, []*onnxpb.TensorProto{got}, []*onnxpb.TensorProto{mustNew(t, "x", []int64{2, 1}, []float32{1, 2})})
}

func TestReadNPZMalformed(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteNPZ(&buf, []*onnxpb.TensorProto{mustNew(t, "a", []int64{1}, []int8{1})}); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	if _, err := ReadNPZ(bytes.NewReader(good[:len(good)-10]), int64(len(good)-10)); err == nil ||
		!strings.Contains(err.Error(), "not a valid .npz (zip) archive") {
		t.Errorf("truncated npz: %v", err)
	}
	// Corrupt one byte of the compressed member.
	bad := append([]byte{}, good...)
	bad[50] ^= 0xff
	if _, err := ReadNPZ(bytes.NewReader(bad), int64(len(bad))); err == nil {
		t.Error("corrupted npz read without error")
	}
	// Corrupt the CRC-32 in the central directory: the member must be checked.
	bad = append([]byte{}, good...)
	bad[bytes.Index(bad, []byte("PK\x01\x02"))+16] ^= 0xff
	if _, err := ReadNPZ(bytes.NewReader(bad), int64(len(bad))); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("bad CRC: got %v", err)
	}
}

func TestFloat16(t *testing.T) {
	// Every half value survives half -> float32 -> half.
	for b := range 1 << 16 {
		h := Float16(b)
		f := h.Float32()
		if back := Float16FromFloat32(f); back != h && !math.IsNaN(float64(f)) {
			t.Fatalf("%#04x -> %g -> %#04x", b, f, back)
		}
		if math.IsNaN(float64(f)) != (b&0x7c00 == 0x7c00 && b&0x3ff != 0) {
			t.Fatalf("%#04x: NaN-ness wrong", b)
		}
	}
	for _, tc := range []struct {
		in   float32
		want Float16
	}{
		{1, 0x3c00},
		{65504, 0x7bff},
		{65519.99, 0x7bff},     // rounds down to max
		{65520, 0x7c00},        // ties to even: Inf
		{1 + 1.0/2048, 0x3c00}, // halfway, ties to even (down)
		{1 + 3.0/2048, 0x3c02}, // halfway, ties to even (up)
		{0x1p-24, 0x0001},      // smallest subnormal
		{0x1p-25, 0x0000},      // halfway to 0: ties to even
		{0x1.8p-25, 0x0001},    // above halfway
		{0x1.ffcp-15, 0x0400},  // subnormal rounding up into the smallest normal
		{0x1.ff8p-15, 0x03ff},  // largest subnormal
		{-0x1p-30, 0x8000},     // underflow keeps sign
		{float32(math.Inf(-1)), 0xfc00},
	} {
		if got := Float16FromFloat32(tc.in); got != tc.want {
			t.Errorf("Float16FromFloat32(%g) = %#04x, want %#04x", tc.in, got, tc.want)
		}
	}
}

func TestFloat64s(t *testing.T) {
	for _, tc := range []struct {
		t    *onnxpb.TensorProto
		want []float64
	}{
		{mustNew(t, "a", []int64{2}, []float32{1.5, -2}), []float64{1.5, -2}},
		{mustNew(t, "b", []int64{2}, []bool{true, false}), []float64{1, 0}},
		{mustNew(t, "c", []int64{2}, []int8{-3, 4}), []float64{-3, 4}},
		{mustNew(t, "d", []int64{1}, f16s(0.25)), []float64{0.25}},
		{mustNew(t, "e", []int64{1}, []uint64{1 << 60}), []float64{1 << 60}},
	} {
		got, err := Float64s(tc.t)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: got %v want %v", tc.t.GetName(), got, tc.want)
		}
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := New("x", []int64{2}, []float32{1}); err == nil || !strings.Contains(err.Error(), "needs 2 elements, got 1") {
		t.Errorf("got %v", err)
	}
	if _, err := New("x", nil, []string{"a"}); err == nil || !strings.Contains(err.Error(), "unsupported Go type []string") {
		t.Errorf("got %v", err)
	}
}

func TestFormatOf(t *testing.T) {
	for path, want := range map[string]Format{"a.npy": NPY, "dir.x/B.NPZ": NPZ, "o.pb": PB, "x.Json": JSON, "x": "", "x.onnx": ""} {
		got, err := FormatOf(path)
		if got != want || (err == nil) != (want != "") {
			t.Errorf("FormatOf(%q) = %q, %v", path, got, err)
		}
	}
}

func TestRead(t *testing.T) {
	b, err := os.ReadFile("testdata/stored.npz")
	if err != nil {
		t.Fatal(err)
	}
	// An npz from a plain io.Reader (not a ReaderAt).
	ts, err := Read(struct{ *bytes.Buffer }{bytes.NewBuffer(b)}, NPZ, "")
	if err != nil || len(ts) != 2 {
		t.Fatalf("got %d tensors, %v", len(ts), err)
	}
	if _, err := Read(bytes.NewReader(b), "npz", ""); err == nil {
		t.Error("bad format accepted")
	}
	var out bytes.Buffer
	if err := Write(&out, "npz", ts); err == nil {
		t.Error("bad format accepted")
	}
}

// TestCappedReader checks the limit on reading a pipe: a stream of exactly
// the limit reads whole, one byte more fails instead of ending.
func TestCappedReader(t *testing.T) {
	for _, tc := range []struct {
		n    int
		fail bool
	}{{0, false}, {10, false}, {11, true}, {1000, true}} {
		r := &cappedReader{r: bytes.NewReader(make([]byte, tc.n)), left: 10}
		b, err := io.ReadAll(r)
		if tc.fail != (err != nil) || (!tc.fail && len(b) != tc.n) {
			t.Errorf("%d bytes through a cap of 10: %d read, err %v", tc.n, len(b), err)
		}
	}
}
