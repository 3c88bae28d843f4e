package labelcounts

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The fuzz targets check that no input panics, errors are one line, and
// what is counted is consistent.

func checkOneLine(t *testing.T, err error) {
	if err != nil && strings.ContainsAny(err.Error(), "\n\r") {
		t.Fatalf("error is not one line: %q", err)
	}
}

func FuzzCOCO(f *testing.F) {
	f.Add(`{"annotations": [{"category_id": 3, "iscrowd": 1}, {"category_id": 1}], "categories": [{"id": 3, "name": "b"}, {"id": 1, "name": "a"}]}`)
	f.Add(`{"images": [{"id": 1, "x": [1, {"y": null}]}], "annotations": [], "categories": []}`)
	f.Add(`{"annotations": [{"category_id": 2}], "categories": [{"id": 2, "name": "x"}, {"id": 2, "name": "y"}]}`)
	f.Add(`[1, 2]`)
	f.Fuzz(func(t *testing.T, s string) {
		for _, exclude := range []bool{false, true} {
			c := newCounter(Options{})
			err := countCOCO(strings.NewReader(s), Options{COCOExcludeCrowd: exclude}, c)
			checkOneLine(t, err)
			if err == nil {
				if len(c.counts) != len(c.classes) {
					t.Fatalf("%d counts for %d classes", len(c.counts), len(c.classes))
				}
				var sum int64
				for _, n := range c.counts {
					sum += n
				}
				if sum+c.ignored != c.labels {
					t.Fatalf("counts sum %d + ignored %d != %d annotations", sum, c.ignored, c.labels)
				}
			}
		}
	})
}

func FuzzMaskPNG(f *testing.F) {
	for _, img := range []image.Image{
		image.NewGray(image.Rect(0, 0, 3, 2)),
		image.NewGray16(image.Rect(0, 0, 2, 2)),
		image.NewPaletted(image.Rect(0, 0, 4, 1), color.Palette{color.Black, color.White, color.Gray{9}}),
		image.NewRGBA(image.Rect(0, 0, 1, 1)),
	} {
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		values, wide, w, h, err := maskValues(data)
		checkOneLine(t, err)
		if err != nil {
			return
		}
		bpp := 1
		if wide {
			bpp = 2
		}
		if len(values) != w*h*bpp {
			t.Fatalf("%d values for %d×%d×%d", len(values), w, h, bpp)
		}
	})
}

func FuzzLabelCountCSV(f *testing.F) {
	f.Add("label,count\ncat,5\ndog,3\ncat,2\n")
	f.Add("count,label\n5,0\n3,2\n")
	f.Add("label,count\n1,-3\n")
	f.Add("label,count\n\"a,b\",1\nc\n")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, s string) {
		p := filepath.Join(dir, "t.csv")
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		c := newCounter(Options{})
		err := countLabelCountCSV(p, Options{}, c)
		checkOneLine(t, err)
		if err == nil {
			if _, err := c.result(Options{}); err != nil {
				checkOneLine(t, err)
			}
		}
	})
}

func FuzzParquet(f *testing.F) {
	seed, err := os.ReadFile(filepath.Join("testdata", "labels.parquet"))
	if err == nil {
		f.Add(seed)
	}
	f.Add([]byte("PAR1\x00\x00\x00\x00PAR1"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "t.parquet")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, col := range []string{"", "label", "tags"} {
			c := newCounter(Options{})
			checkOneLine(t, countParquet(p, Options{Column: col}, c))
		}
	})
}

func TestProgressLine(t *testing.T) {
	var buf bytes.Buffer
	p := NewProgress(&buf)
	p.start = time.Now().Add(-time.Second)
	p.setFiles(4, true)
	p.fileDone(1 << 20)
	p.print()
	if got := buf.String(); !strings.Contains(got, "counting: 1/4 files") || !strings.Contains(got, "masks/s") {
		t.Errorf("masks progress %q", got)
	}
	buf.Reset()
	p.setFiles(2, false)
	p.addBytes(3 << 20)
	p.print()
	if got := buf.String(); !strings.Contains(got, "3.0 MiB read") || !strings.Contains(got, "MiB/s") {
		t.Errorf("stream progress %q", got)
	}
}
