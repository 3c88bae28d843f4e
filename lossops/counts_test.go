package lossops

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseCountsGood(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		values  []float64
		classes []string
	}{
		{"array", `[500, 120, 7]`, []float64{500, 120, 7}, nil},
		{"array with spaces and newline", " \n[1,2]\n\t", []float64{1, 2}, nil},
		{"array of floats and exponents", `[1.5, 2e3, 0]`, []float64{1.5, 2000, 0}, nil},
		{"negative zero is zero", `[-0, 3]`, []float64{0, 3}, nil},
		{"one class", `[5]`, []float64{5}, nil},
		{"named", `{"counts": [500, 120, 7], "classes": ["cat", "dog", "eel"]}`, []float64{500, 120, 7}, []string{"cat", "dog", "eel"}},
		{"named without classes", `{"counts": [3, 4]}`, []float64{3, 4}, nil},
		{"named with null classes", `{"classes": null, "counts": [3, 4]}`, []float64{3, 4}, nil},
		{"ids", `{"0": 500, "1": 120, "2": 7}`, []float64{500, 120, 7}, nil},
		{"ids out of order", `{"2": 7, "0": 500, "1": 120}`, []float64{500, 120, 7}, nil},
		{"ids to 10", `{"0":1,"1":1,"2":1,"3":1,"4":1,"5":1,"6":1,"7":1,"8":1,"9":1,"10":11}`, []float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 11}, nil},
		{"big counts", `[1e9, 1]`, []float64{1e9, 1}, nil},
		{"utf-8 BOM", "\xef\xbb\xbf[1, 2]", []float64{1, 2}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCounts([]byte(tt.in))
			if err != nil {
				t.Fatalf("ParseCounts(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(c.Values, tt.values) || !reflect.DeepEqual(c.Classes, tt.classes) {
				t.Errorf("got %v %v, want %v %v", c.Values, c.Classes, tt.values, tt.classes)
			}
			if len(c.Values) > 0 && math.Signbit(c.Values[0]) {
				t.Errorf("count 0 is -0")
			}
		})
	}
}

func TestParseCountsBad(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", ``, "file is empty"},
		{"whitespace only", " \n\t ", "file is empty"},
		{"not JSON", `counts: 1 2 3`, "not valid JSON"},
		{"truncated", `[1, 2`, "not valid JSON"},
		{"trailing data", `[1, 2] [3]`, "not valid JSON"},
		{"trailing garbage", `[1, 2]x`, "not valid JSON"},
		{"bare NaN", `[1, NaN]`, "NaN and Infinity are not JSON numbers"},
		{"top-level number", `42`, "not an array or object"},
		{"top-level string", `"500,120"`, "not an array or object"},
		{"empty array", `[]`, "counts array is empty"},
		{"empty object", `{}`, "object is empty"},
		{"negative", `[500, -3, 7]`, "count 1 is -3: counts must be >= 0"},
		{"NaN as string", `[500, "NaN"]`, `count 1 is the string "NaN"`},
		{"Infinity as string", `[500, "-Infinity"]`, "NaN and Inf are not counts"},
		{"number as string", `["500", 1]`, "write it as a JSON number without quotes"},
		{"other string", `[1, "many"]`, "count 1 is the string"},
		{"null count", `[1, null]`, "count 1 is null, not a number"},
		{"bool count", `[true]`, "count 0 is a boolean"},
		{"nested array", `[[1, 2]]`, "count 0 is an array"},
		{"overflow", `[1e400]`, "out of range"},
		{"named missing counts", `{"classes": ["a"]}`, `key "counts" is missing`},
		{"named counts not array", `{"counts": 5}`, "not an array"},
		{"named classes length", `{"counts": [1, 2, 3], "classes": ["a", "b"]}`, `"classes" has 2 names but "counts" has 3 values`},
		{"named classes not strings", `{"counts": [1, 2], "classes": ["a", 2]}`, "class name 1 is a number"},
		{"named duplicate class", `{"counts": [1, 2], "classes": ["a", "a"]}`, `class name "a" is given twice`},
		{"named empty class", `{"counts": [1, 2], "classes": ["a", ""]}`, "class name 1 is empty"},
		{"named unknown key", `{"counts": [1, 2], "labels": ["a", "b"]}`, `unknown key "labels"`},
		{"named duplicate key", `{"counts": [1], "counts": [2]}`, `key "counts" appears twice`},
		{"named negative", `{"counts": [1, -2]}`, "count 1 is -2"},
		{"ids missing one", `{"0": 5, "2": 7}`, "class id 1 is missing (found id 2)"},
		{"ids start at 1", `{"1": 5, "2": 7}`, "class id 0 is missing (found id 2)"},
		{"ids duplicate", `{"0": 5, "1": 6, "0": 7}`, "class id 0 appears twice"},
		{"ids not a number", `{"0": 5, "cat": 7}`, `key "cat" is not a class id`},
		{"ids negative", `{"0": 5, "-1": 7}`, `key "-1" is not a class id`},
		{"ids leading zero", `{"0": 5, "01": 7}`, `key "01" is not a class id`},
		{"ids huge", `{"0": 5, "99999999999999999999": 7}`, "is not a class id"},
		{"ids large", `{"0": 5, "1000000": 7}`, "class id 1 is missing (found id 1000000)"},
		{"ids negative count", `{"0": 5, "1": -7}`, "count of class 1 is -7"},
		{"ids string count", `{"0": 5, "1": "Inf"}`, `count of class 1 is the string "Inf"`},
	}
	if len(tests) < 15 {
		t.Fatal("want at least 15 bad inputs")
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCounts([]byte(tt.in))
			if err == nil {
				t.Fatalf("ParseCounts(%q) = %v, want an error containing %q", tt.in, c, tt.want)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error %q does not contain %q", msg, tt.want)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error %q is not one line", msg)
			}
		})
	}
}

func TestLoadCounts(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "counts.json")
	if err := os.WriteFile(good, []byte(`{"counts": [500, 120], "classes": ["cat", "dog"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := LoadCounts(good)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Values, []float64{500, 120}) || !reflect.DeepEqual(c.Classes, []string{"cat", "dog"}) {
		t.Errorf("got %+v", c)
	}

	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`[1, -2]`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ path, want string }{
		{bad, "counts file " + bad + ": count 1 is -2"},
		{filepath.Join(dir, "missing.json"), "does not exist"},
		{dir, "counts file " + dir + " cannot be read"},
	} {
		_, err := LoadCounts(tt.path)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("LoadCounts(%s) error %v, want it to contain %q", tt.path, err, tt.want)
		}
		if err != nil && !strings.Contains(err.Error(), tt.path) {
			t.Errorf("error %q does not name the file", err)
		}
	}
}

func FuzzParseCounts(f *testing.F) {
	for _, s := range []string{
		`[500, 120, 7]`, `{"counts": [1, 2], "classes": ["a", "b"]}`, `{"0": 1, "1": 2}`,
		`[]`, `{}`, `[1, "NaN"]`, `{"0": 1, "0": 2}`, `[1e400]`, `[-0]`, "\xef\xbb\xbf[1]",
		`{"counts": [1], "counts": [2]}`, `{"1": 3}`, `[1, 2] 3`, `null`, `"x"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCounts(data)
		if err != nil {
			if c != nil {
				t.Fatalf("non-nil counts with error %v", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if len(c.Values) == 0 {
			t.Fatal("no counts without an error")
		}
		for i, v := range c.Values {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				t.Fatalf("count %d is %v", i, v)
			}
		}
		if c.Classes != nil && len(c.Classes) != len(c.Values) {
			t.Fatalf("%d classes for %d counts", len(c.Classes), len(c.Values))
		}
	})
}
