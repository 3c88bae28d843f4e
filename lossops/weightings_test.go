package lossops_test

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxloss/onnxloss/internal/refs"
	"github.com/onnxloss/onnxloss/lossops"
)

// TestWeightingsMatchNumPy computes enet, neg_pos and median_frequency on
// random long-tailed counts in NumPy (float64) and compares.
func TestWeightingsMatchNumPy(t *testing.T) {
	script := `
import json, numpy as np
rng = np.random.default_rng(4)
out = []
for C in [2, 5, 10, 64]:
    n = np.floor(1e6 * 0.8 ** np.arange(C) * rng.random(C)) + 1
    N = float(n.sum() + rng.integers(0, 10**6))
    P = n * rng.integers(2, 50, C)
    f = n / P
    w = {"enet": (1 / np.log(1.02 + n / n.sum())).tolist(), "enet_c": (1 / np.log(1.5 + n / n.sum())).tolist(),
         "neg_pos": ((N - n) / n).tolist(), "median_frequency": (np.median(f) / f).tolist()}
    out.append({"counts": n.tolist(), "samples": N, "image_pixels": P.tolist(), "want": w})
print(json.dumps(out))`
	b, err := exec.Command(refs.Python, "-c", script).Output()
	if err != nil {
		refs.Unavailable(t, "NumPy ("+refs.Python+")", "apt-get install -y python3-numpy")
	}
	var cases []struct {
		Counts      []float64
		Samples     float64
		ImagePixels []float64 `json:"image_pixels"`
		Want        map[string][]float64
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		for name, cfg := range map[string]lossops.WeightConfig{
			"enet":             {Scheme: lossops.WeightENet},
			"enet_c":           {Scheme: lossops.WeightENet, ENetC: 1.5},
			"neg_pos":          {Scheme: lossops.WeightNegPos, Samples: tc.Samples},
			"median_frequency": {Scheme: lossops.WeightMedianFrequency, ImagePixels: tc.ImagePixels},
		} {
			got, err := lossops.ClassWeights(tc.Counts, cfg)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for c, w := range tc.Want[name] {
				// The same few float64 operations on both sides.
				if math.Abs(got[c]-w) > 1e-12*math.Abs(w) {
					t.Errorf("C=%d %s class %d: %v, NumPy %v", len(tc.Counts), name, c, got[c], w)
				}
			}
		}
	}
}

func TestParseWeightVector(t *testing.T) {
	d := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(d, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		in   string
		want []float64
		err  string
	}{
		{"0.2,1,3.5", []float64{0.2, 1, 3.5}, ""},
		{write("w.json", "[0.5, 2]\n"), []float64{0.5, 2}, ""},
		{write("w.txt", "1.000000000000000000e+00\n2.5e-01\n"), []float64{1, 0.25}, ""},
		{write("bad.json", "[1, \"a\"]"), nil, "not a JSON array of numbers"},
		{write("bad.txt", "1 two\n"), nil, `weight 1 is "two"`},
		{write("empty.txt", "\n"), nil, "no numbers"},
		{"nofile", nil, "neither numbers like 0.2,1,3.5 nor an existing file"},
	}
	for _, tt := range tests {
		got, err := lossops.ParseWeightVector(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || len(got) != len(tt.want) {
			t.Fatalf("%s: %v %v", tt.in, got, err)
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%s: %v, want %v", tt.in, got, tt.want)
			}
		}
	}
}

func FuzzParseWeightVector(f *testing.F) {
	f.Add("0.2,1,3.5")
	f.Add("1 2\n3\t4")
	f.Add(",,")
	f.Add("\n\x00") // a "file name" with a newline: the error must stay one line
	f.Fuzz(func(t *testing.T, s string) {
		w, err := lossops.ParseWeightVector(s)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		if len(w) == 0 {
			t.Fatal("no weights and no error")
		}
	})
}
