package labelcounts

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
)

// PNG colour types (the IHDR byte).
const (
	pngGrey      = 0
	pngRGB       = 2
	pngPalette   = 3
	pngGreyAlpha = 4
	pngRGBA      = 6
)

// maskTally holds one worker's sums over the masks it decoded.
type maskTally struct {
	counts, images, pixels []int64
	labels, ignored        int64
	hist                   []int64 // one image's histogram, reused
}

// countMasks counts the pixels of each class in segmentation mask PNGs,
// decoding them in parallel on all cores. A mask is a palette PNG (the
// pixel value is the palette index, as PIL's mode "P" gives it) or an 8- or
// 16-bit greyscale PNG (the grey value; for 1-, 2- and 4-bit greyscale the
// stored sample 0..2^d-1). For each class it also counts the images in
// which the class appears and the pixels of those images, which
// median-frequency weighting needs. The first bad mask (in input order)
// is the error.
func countMasks(items []input, opt Options, c *counter) error {
	workers := min(runtime.GOMAXPROCS(0), len(items))
	var next atomic.Int64
	var failed atomic.Bool
	errs := make([]error, len(items))
	tallies := make([]*maskTally, workers)
	var wg sync.WaitGroup
	for w := range workers {
		t := &maskTally{}
		tallies[w] = t
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= len(items) {
					return
				}
				px, err := t.addMask(items[i], c)
				if err != nil {
					name := items[i].path
					if items[i].stdin != nil {
						name = "standard input"
					}
					errs[i] = fmt.Errorf("mask %s: %w", name, err)
					failed.Store(true)
					return
				}
				if opt.Progress != nil {
					opt.Progress.fileDone(px)
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	// Merge the workers' tallies.
	n := len(c.counts)
	for _, t := range tallies {
		n = max(n, len(t.counts))
	}
	c.grow(int64(n))
	c.images = make([]int64, n)
	c.pixels = make([]int64, n)
	for _, t := range tallies {
		for v := range t.counts {
			c.counts[v] += t.counts[v]
			c.images[v] += t.images[v]
			c.pixels[v] += t.pixels[v]
		}
		c.labels += t.labels
		c.ignored += t.ignored
	}
	c.sawID = true
	return nil
}

// addMask decodes one mask and adds it to t; it returns its pixel count.
// It only reads c's fixed settings (ignore index, class limit).
func (t *maskTally) addMask(it input, c *counter) (int64, error) {
	var data []byte
	var err error
	if it.stdin != nil {
		data, err = io.ReadAll(it.stdin)
	} else {
		data, err = os.ReadFile(it.path)
	}
	if err != nil {
		return 0, fmt.Errorf("cannot be read: %v", errors.Unwrap(err))
	}
	values, wide, w, h, err := maskValues(data)
	if err != nil {
		return 0, err
	}
	size := 256
	if wide {
		size = 1 << 16
	}
	if len(t.hist) < size {
		t.hist = make([]int64, 1<<16)
	}
	hist := t.hist[:size]
	clear(hist)
	if wide {
		for i := 0; i+1 < len(values); i += 2 {
			hist[binary.BigEndian.Uint16(values[i:])]++
		}
	} else {
		for _, v := range values {
			hist[v]++
		}
	}
	total := int64(w) * int64(h)
	for v, n := range hist {
		if n == 0 {
			continue
		}
		if c.hasIgn && int64(v) == c.ignore {
			t.ignored += n
			continue
		}
		if int64(v) >= int64(len(c.counts)) {
			if err := c.checkID(int64(v)); err != nil {
				return 0, fmt.Errorf("pixel value %d: %w", v, err)
			}
		}
		if v >= len(t.counts) {
			grow := func(s []int64) []int64 { return append(s, make([]int64, v+1-len(s))...) }
			t.counts, t.images, t.pixels = grow(t.counts), grow(t.images), grow(t.pixels)
		}
		t.counts[v] += n
		t.images[v]++
		t.pixels[v] += total
	}
	t.labels += total
	return total, nil
}

// maskValues decodes a mask PNG to its class values: one byte per pixel,
// or with wide two big-endian bytes.
func maskValues(data []byte) (values []byte, wide bool, w, h int, err error) {
	if len(data) < 33 || !bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) || string(data[12:16]) != "IHDR" {
		return nil, false, 0, 0, errors.New("is not a PNG file: masks are PNGs whose pixel values are class ids")
	}
	depth, colour := data[24], data[25]
	switch colour {
	case pngGrey, pngPalette:
	case pngRGB, pngRGBA, pngGreyAlpha:
		kind := map[byte]string{pngRGB: "RGB", pngRGBA: "RGBA", pngGreyAlpha: "greyscale with alpha"}[colour]
		return nil, false, 0, 0, fmt.Errorf("is %s: a class mask is a palette or greyscale PNG whose pixel value is the class id (map colour-coded masks to ids first, e.g. Cityscapes *_labelIds.png, not *_color.png)", kind)
	default:
		return nil, false, 0, 0, fmt.Errorf("has PNG colour type %d: want a palette or greyscale PNG", colour)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, false, 0, 0, fmt.Errorf("is not a valid PNG: %v", err)
	}
	b := img.Bounds()
	w, h = b.Dx(), b.Dy()
	n := w * h
	switch m := img.(type) {
	case *image.Paletted:
		return rows(m.Pix, m.Stride, w, h, 1), false, w, h, nil
	case *image.Gray:
		v := rows(m.Pix, m.Stride, w, h, 1)
		unscale(v, depth)
		return v, false, w, h, nil
	case *image.Gray16:
		return rows(m.Pix, m.Stride, w, h, 2), true, w, h, nil
	case *image.NRGBA: // greyscale with a tRNS chunk: the grey value is in R
		v := make([]byte, n)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				v[y*w+x] = m.Pix[y*m.Stride+4*x]
			}
		}
		unscale(v, depth)
		return v, false, w, h, nil
	case *image.NRGBA64:
		v := make([]byte, 2*n)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				copy(v[2*(y*w+x):], m.Pix[y*m.Stride+8*x:y*m.Stride+8*x+2])
			}
		}
		return v, true, w, h, nil
	}
	return nil, false, 0, 0, fmt.Errorf("decodes to %T: want a palette or greyscale PNG", img)
}

// rows returns the w×h pixels of pix (bpp bytes each) without stride padding.
func rows(pix []byte, stride, w, h, bpp int) []byte {
	if stride == w*bpp {
		return pix[:w*h*bpp]
	}
	out := make([]byte, 0, w*h*bpp)
	for y := 0; y < h; y++ {
		out = append(out, pix[y*stride:y*stride+w*bpp]...)
	}
	return out
}

// unscale undoes image/png's scaling of 1-, 2- and 4-bit grey samples to
// 0..255, so the value is the stored sample.
func unscale(v []byte, depth byte) {
	if depth >= 8 {
		return
	}
	f := byte(255 / (1<<depth - 1))
	for i := range v {
		v[i] /= f
	}
}
