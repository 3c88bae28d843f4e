package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/inject"
)

// writePNG encodes img with the standard library's encoder.
func writePNG(t *testing.T, path string, img image.Image) string {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCountsSourcesBadInput: every bad dataset is exit 2, one line on
// stderr naming the problem, and no counts file.
func TestCountsSourcesBadInput(t *testing.T) {
	d := t.TempDir()
	rgb := image.NewRGBA(image.Rect(0, 0, 4, 4))
	rgb.Set(1, 1, color.RGBA{200, 10, 10, 255})
	grey := image.NewGray(image.Rect(0, 0, 4, 4))
	grey.SetGray(2, 2, color.Gray{7})
	writePNG(t, filepath.Join(d, "rgb.png"), rgb)
	writePNG(t, filepath.Join(d, "big.png"), grey)
	write := func(name, s string) string {
		p := filepath.Join(d, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	noAnn := write("noann.json", `{"images": [{"id": 1}], "categories": [{"id": 1, "name": "a"}]}`)
	type row struct {
		Path string `parquet:"path"`
		Y    int64  `parquet:"y"`
	}
	pqPath := filepath.Join(d, "rows.parquet")
	if err := parquet.WriteFile(pqPath, []row{{"a", 1}, {"b", 0}}); err != nil {
		t.Fatal(err)
	}
	counts := write("counts.json", `{"counts": [5, 3, 2]}`)
	out := filepath.Join(d, "out.json")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"RGB mask", []string{"counts", filepath.Join(d, "rgb.png")}, "is RGBA: a class mask is a palette or greyscale PNG"},
		{"class id beyond num-classes", []string{"counts", filepath.Join(d, "big.png"), "--num-classes", "5"}, "pixel value 7: label 7 is out of range for --num-classes 5"},
		{"COCO without annotations", []string{"counts", noAnn}, `has no "annotations"`},
		{"Parquet without the column", []string{"counts", pqPath, "--column", "label"}, `has no column "label" (it has path, y)`},
		{"Parquet column not given", []string{"counts", pqPath}, "has 2 columns (path, y): pick the labels with --column"},
		{"glob matching nothing", []string{"counts", filepath.Join(d, "masks", "*.png")}, "matches no files"},
		{"mixed formats", []string{"counts", pqPath, noAnn}, "the inputs mix formats"},
		{"weights wrong length", []string{"weights", "--counts", counts, "--weights", "1,2"}, "--weights has 2 values but the counts have 3 classes"},
		{"weights negative", []string{"weights", "--weights", "0.5,-1,2"}, "weight 1 is -1: class weights must be finite numbers >= 0"},
		{"weights not numbers", []string{"weights", "--weights", "a,b"}, "is neither numbers like 0.2,1,3.5 nor an existing file"},
		{"weights and weighting", []string{"weights", "--weights", "1,2", "--weighting", "enet"}, "not both"},
		{"median_frequency without masks", []string{"weights", "--counts", counts, "--weighting", "median_frequency"}, "median_frequency needs the pixels"},
		{"enet c", []string{"weights", "--counts", counts, "--weighting", "enet", "--enet-c", "1"}, "--enet-c 1 is invalid"},
		{"iscrowd value", []string{"counts", noAnn, "--coco-iscrowd", "maybe"}, "--coco-iscrowd"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"onnxloss"}, tc.args...)
			if tc.args[0] == "counts" {
				args = append(args, "-o", out)
			}
			var stdout, stderr bytes.Buffer
			code := run(args, &stdout, &stderr)
			msg := stderr.String()
			if code != exitBadInput {
				t.Fatalf("exit %d, want %d; stderr %q", code, exitBadInput, msg)
			}
			if strings.Count(strings.TrimRight(msg, "\n"), "\n") != 0 || !strings.Contains(msg, tc.want) {
				t.Errorf("stderr %q, want one line mentioning %q", msg, tc.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("a counts file was written")
			}
			if stdout.Len() > 0 {
				t.Errorf("stdout %q", stdout.String())
			}
		})
	}
}

// TestWeightsVectorIntoInject: --weights alone (no counts) sets the loss's
// class weights, raw unless --normalize sum is asked, and the metadata
// records weighting "given".
func TestWeightsVectorIntoInject(t *testing.T) {
	d := t.TempDir()
	model := filepath.Join("..", "..", "testdata", "models", "mlp_o13.onnx")
	wfile := filepath.Join(d, "w.txt")
	if err := os.WriteFile(wfile, []byte("0.5 1\n2 0.25\n4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want []float64
	}{
		{[]string{"--weights", "0.5,1,2,0.25,4"}, []float64{0.5, 1, 2, 0.25, 4}},
		{[]string{"--weights", wfile}, []float64{0.5, 1, 2, 0.25, 4}},
		{[]string{"--weights", wfile, "--normalize", "sum"}, []float64{5 * 0.5 / 7.75, 5 * 1 / 7.75, 5 * 2 / 7.75, 5 * 0.25 / 7.75, 5 * 4 / 7.75}},
	} {
		out := filepath.Join(d, "m.onnx")
		var stdout, stderr bytes.Buffer
		args := append([]string{"onnxloss", "inject", "--loss", "weighted_ce", "-o", out}, tc.args...)
		if code := run(append(args, model), &stdout, &stderr); code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, code, stderr.String())
		}
		m, err := graphedit.Load(out)
		if err != nil {
			t.Fatal(err)
		}
		md, ok, err := inject.ReadMetadata(m)
		if err != nil || !ok {
			t.Fatalf("metadata: %v %v", ok, err)
		}
		if md.Weighting != "given" || !md.Weighted || len(md.Weights) != 5 {
			t.Fatalf("%v: metadata %+v", tc.args, md)
		}
		for c, w := range md.Weights {
			if d := w - tc.want[c]; d > 1e-12 || d < -1e-12 {
				t.Errorf("%v: weight %d is %v, want %v", tc.args, c, w, tc.want[c])
			}
		}
	}
}

// TestMaskCountsOriginInMetadata: counts from mask PNGs record their origin,
// and inject copies it into the model's metadata.
func TestMaskCountsOriginInMetadata(t *testing.T) {
	d := t.TempDir()
	for k := 0; k < 3; k++ {
		m := image.NewGray(image.Rect(0, 0, 6, 4))
		for i := range m.Pix {
			m.Pix[i] = uint8((i + k) % 5)
		}
		m.Pix[0] = 255
		writePNG(t, filepath.Join(d, "m"+string(rune('0'+k))+".png"), m)
	}
	counts := filepath.Join(d, "counts.json")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"onnxloss", "counts", filepath.Join(d, "*.png"), "--ignore-index", "255", "-o", counts}, &stdout, &stderr); code != 0 {
		t.Fatalf("counts exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "counted 72 pixels of 3 masks (3 ignored) in 5 classes") {
		t.Errorf("summary %q", stderr.String())
	}
	out := filepath.Join(d, "m.onnx")
	model := filepath.Join("..", "..", "testdata", "models", "mlp_o13.onnx")
	stderr.Reset()
	if code := run([]string{"onnxloss", "inject", "--loss", "weighted_ce", "--counts", counts, "--weighting", "median_frequency", "-o", out, model}, &stdout, &stderr); code != 0 {
		t.Fatalf("inject exit %d: %s", code, stderr.String())
	}
	m, err := graphedit.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	md, ok, err := inject.ReadMetadata(m)
	if err != nil || !ok {
		t.Fatalf("metadata: %v %v", ok, err)
	}
	o := md.CountsOrigin
	if o == nil || o.Format != "masks" || o.IgnoreIndex == nil || *o.IgnoreIndex != 255 || len(o.Images) != 5 || o.Images[0] != 3 || o.ImagePixels[0] != 72 {
		t.Fatalf("counts origin %+v", o)
	}
	if md.Weighting != "median_frequency" || len(md.Weights) != 5 {
		t.Errorf("weighting %s %v", md.Weighting, md.Weights)
	}
}
