package tensorfile

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxloss/onnxloss/onnxpb"
	"google.golang.org/protobuf/proto"
)

// addFixtures seeds a fuzz corpus with the testdata files of one extension.
func addFixtures(f *testing.F, ext string) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "*"+ext))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// checkOneLine fails on error messages that span lines.
func checkOneLine(t *testing.T, err error) {
	t.Helper()
	if strings.ContainsAny(err.Error(), "\n\r") {
		t.Fatalf("multi-line error %q", err)
	}
}

// roundTrip checks that what was read writes and reads back identically.
func roundTrip(t *testing.T, format Format, ts []*onnxpb.TensorProto, name string) {
	t.Helper()
	for _, tt := range ts {
		d, _ := dtypeOf(tt.GetDataType())
		if d.npyKind == 0 && (format == NPY || format == NPZ) {
			return
		}
	}
	var buf bytes.Buffer
	if err := Write(&buf, format, ts); err != nil {
		t.Fatalf("read but cannot write back: %v", err)
	}
	back, err := Read(bytes.NewReader(buf.Bytes()), format, name)
	if err != nil {
		t.Fatalf("cannot read what was written: %v", err)
	}
	if len(back) != len(ts) {
		t.Fatalf("round trip: %d tensors, want %d", len(back), len(ts))
	}
	for i := range ts {
		if !proto.Equal(back[i], ts[i]) {
			t.Fatalf("round trip changed tensor %d:\n%v\n%v", i, back[i], ts[i])
		}
	}
}

func FuzzReadNPY(f *testing.F) {
	addFixtures(f, ".npy")
	f.Fuzz(func(t *testing.T, data []byte) {
		tp, err := ReadNPY(bytes.NewReader(data), "x")
		if err != nil {
			checkOneLine(t, err)
			return
		}
		roundTrip(t, NPY, []*onnxpb.TensorProto{tp}, "x")
	})
}

func FuzzReadNPZ(f *testing.F) {
	addFixtures(f, ".npz")
	f.Fuzz(func(t *testing.T, data []byte) {
		ts, err := ReadNPZ(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			checkOneLine(t, err)
			return
		}
		for _, tp := range ts {
			if tp.GetName() == "" {
				return // a member called ".npy": readable, but not writable
			}
		}
		roundTrip(t, NPZ, ts, "")
	})
}

func FuzzReadPB(f *testing.F) {
	addFixtures(f, ".pb")
	f.Fuzz(func(t *testing.T, data []byte) {
		tp, err := ReadPB(bytes.NewReader(data), "x")
		if err != nil {
			checkOneLine(t, err)
			return
		}
		if _, err := Float64s(tp); err != nil {
			t.Fatalf("normalized tensor rejected: %v", err)
		}
		roundTrip(t, PB, []*onnxpb.TensorProto{tp}, "x")
	})
}

func FuzzReadJSON(f *testing.F) {
	f.Add([]byte(`{"x": {"dtype": "float32", "shape": [2, 2], "data": [1, 2.5, "NaN", "-Infinity"]}}`))
	f.Add([]byte(`{"b": {"dtype": "int64", "data": [[1, 2, 3], [4, 5, 6]]}, "a": {"dtype": "bool", "data": [true, false, 1]}}`))
	f.Add([]byte(`{"s": {"dtype": "uint8", "data": 7}, "t": {"dtype": "float16", "shape": [], "data": [0.5]}}`))
	f.Add([]byte(`{"x": {"dtype": "bfloat16", "shape": [1, 0], "data": [[]]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ts, err := ReadJSON(bytes.NewReader(data))
		if err != nil {
			checkOneLine(t, err)
			return
		}
		for _, tp := range ts {
			if tp.GetName() == "" {
				return // "" is a valid JSON key but not a writable tensor name
			}
		}
		roundTrip(t, JSON, ts, "")
	})
}
