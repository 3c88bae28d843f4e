package weightplot

import (
	"bytes"
	"image"
	_ "image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRenderPNG(t *testing.T) {
	many := make([]float64, 120)
	for i := range many {
		many[i] = float64(100000 / (i + 1))
	}
	tests := []struct {
		name   string
		counts []float64
		names  []string
		opt    Options
		w, h   int
	}{
		{"five named", []float64{500, 120, 7, 40, 3}, []string{"cat", "dog", "fox", "owl", "yak"}, Options{Beta: 0.9999, Normalize: true}, 1080, 840},
		{"raw weights, custom size", []float64{500, 120, 7}, nil, Options{Beta: 0.99, Width: 800, Height: 600}, 800, 600},
		{"zero count skipped", []float64{500, 0, 7, 1}, nil, Options{Beta: 0.999, Normalize: true}, 1080, 840},
		{"120 classes", many, nil, Options{Beta: 0.9999, Normalize: true}, 1080, 840},
		{"one class", []float64{10}, []string{"only"}, Options{Normalize: true}, 1080, 840},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Render(&buf, tt.counts, tt.names, tt.opt); err != nil {
				t.Fatal(err)
			}
			cfg, format, err := image.DecodeConfig(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatalf("not an image: %v", err)
			}
			if format != "png" || cfg.Width != tt.w || cfg.Height != tt.h {
				t.Errorf("%s %dx%d, want png %dx%d", format, cfg.Width, cfg.Height, tt.w, tt.h)
			}
			if buf.Len() < 10_000 {
				t.Errorf("PNG of %d bytes: too small to hold a plot", buf.Len())
			}
		})
	}
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name   string
		counts []float64
		names  []string
		opt    Options
		want   string
	}{
		{"no counts", nil, nil, Options{}, "no class counts"},
		{"names mismatch", []float64{1, 2}, []string{"a"}, Options{}, "1 class names for 2 counts"},
		{"all zero", []float64{0, 0}, nil, Options{}, "every class has count 0"},
		{"negative", []float64{3, -1}, nil, Options{}, "count -1 is invalid"},
		{"bad beta", []float64{3, 1}, nil, Options{Beta: 1}, "beta 1 is invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Render(new(bytes.Buffer), tt.counts, tt.names, tt.opt)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestWriteFile(t *testing.T) {
	d := t.TempDir()
	p := filepath.Join(d, "w.png")
	if err := WriteFile(p, []float64{50, 5}, nil, Options{Beta: 0.9, Normalize: true}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, _, err := image.DecodeConfig(f); err != nil {
		t.Errorf("written file is not an image: %v", err)
	}
	if err := WriteFile(filepath.Join(d, "missing", "w.png"), []float64{1}, nil, Options{}); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing directory: %v", err)
	}
	if err := WriteFile(filepath.Join(d, "bad.png"), nil, nil, Options{}); err == nil {
		t.Error("no counts: no error")
	}
	if m, _ := filepath.Glob(filepath.Join(d, ".*.tmp-*")); len(m) != 0 || fileExists(filepath.Join(d, "bad.png")) {
		t.Errorf("a failed render left files: %v", m)
	}
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }
