package labelcounts

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/onnxloss/onnxloss/tensorfile"
)

// npyHeader is the part of a .npy header dictionary labelcounts needs.
type npyHeader struct {
	kind    byte // 'i' signed, 'u' unsigned, 'f' float, 'b' bool
	size    int  // bytes per element
	big     bool // big-endian
	fortran bool
	shape   []int64
}

// readNPYHeader reads a .npy header with the tool's one .npy reader
// (tensorfile.ReadNPYHeader), leaving r at the first data byte, and checks
// that the dtype can hold labels.
func readNPYHeader(r io.Reader) (npyHeader, error) {
	th, err := tensorfile.ReadNPYHeader(r)
	if err != nil {
		return npyHeader{}, err
	}
	h := npyHeader{fortran: th.Fortran, shape: th.Shape}
	d := th.Descr
	if len(d) < 3 {
		return h, fmt.Errorf("unsupported .npy dtype %q: want integer, float or bool labels", d)
	}
	switch d[0] {
	case '<', '|', '=':
	case '>':
		h.big = true
	default:
		return h, fmt.Errorf("unsupported .npy dtype %q", d)
	}
	h.kind = d[1]
	size, err := strconv.Atoi(d[2:])
	if err != nil || !validDtype(h.kind, size) {
		return h, fmt.Errorf("unsupported .npy dtype %q: want integer, float or bool labels", d)
	}
	h.size = size
	return h, nil
}

func validDtype(kind byte, size int) bool {
	switch kind {
	case 'i', 'u':
		return size == 1 || size == 2 || size == 4 || size == 8
	case 'f':
		return size == 4 || size == 8
	case 'b':
		return size == 1
	}
	return false
}

// countNPY counts integer labels, or with opt.MultiHot the positives of
// each column of an (N, C) 0/1 array, reading the data in chunks.
func countNPY(r io.Reader, opt Options, c *counter) error {
	h, err := readNPYHeader(r)
	if err != nil {
		return err
	}
	total := int64(1)
	for _, d := range h.shape {
		if d != 0 && total > math.MaxInt64/d {
			return fmt.Errorf("shape %v is too large", h.shape)
		}
		total *= d
	}
	var nclass int64
	if opt.MultiHot {
		if len(h.shape) != 2 {
			return fmt.Errorf("multi-hot labels need shape (N, C), the array has shape %v", h.shape)
		}
		nclass = h.shape[1]
		if nclass == 0 || nclass > MaxClasses {
			return fmt.Errorf("multi-hot array of shape %v: need 1..%d classes", h.shape, MaxClasses)
		}
		if c.fixed && int64(len(c.counts)) != nclass {
			return fmt.Errorf("--num-classes %d but the multi-hot array has %d columns", len(c.counts), nclass)
		}
		if !c.fixed {
			c.counts = make([]int64, nclass)
		}
		c.labels = h.shape[0]
	} else if h.kind == 'b' {
		return errors.New("a bool array holds multi-hot targets, not class ids: pass --multi-hot")
	}
	order := binary.ByteOrder(binary.LittleEndian)
	if h.big {
		order = binary.BigEndian
	}
	br := bufio.NewReaderSize(r, 1<<16)
	buf := make([]byte, (1<<16)/h.size*h.size)
	var idx int64
	for idx < total {
		want := int64(len(buf) / h.size)
		if left := total - idx; left < want {
			want = left
		}
		chunk := buf[:want*int64(h.size)]
		n, err := io.ReadFull(br, chunk)
		if err != nil {
			return fmt.Errorf("truncated: shape %v needs %d elements, the data ends after %d", h.shape, total, idx+int64(n/h.size))
		}
		for k := 0; k < n; k += h.size {
			v, integral := decode(chunk[k:k+h.size], h, order)
			if opt.MultiHot {
				if v != 0 && v != 1 {
					return fmt.Errorf("element %d is %.6g: multi-hot targets must be 0 or 1", idx, v)
				}
				if v == 1 {
					col := idx % nclass
					if h.fortran {
						col = idx / h.shape[0]
					}
					c.counts[col]++
				}
			} else {
				if !integral {
					return fmt.Errorf("element %d is %.6g, not an integer class id", idx, v)
				}
				if err := c.add(int64(v)); err != nil {
					return fmt.Errorf("element %d: %w", idx, err)
				}
			}
			idx++
		}
	}
	if _, err := br.ReadByte(); err == nil {
		return fmt.Errorf("trailing data after the %d elements of shape %v", total, h.shape)
	}
	return nil
}

// decode returns one element as a float64 (exact for the integers a class
// id can be) and whether it is an integer value.
func decode(b []byte, h npyHeader, order binary.ByteOrder) (float64, bool) {
	switch h.kind {
	case 'b':
		if b[0] != 0 {
			return 1, true
		}
		return 0, true
	case 'i':
		var v int64
		switch h.size {
		case 1:
			v = int64(int8(b[0]))
		case 2:
			v = int64(int16(order.Uint16(b)))
		case 4:
			v = int64(int32(order.Uint32(b)))
		default:
			v = int64(order.Uint64(b))
		}
		if v > 1<<53 || v < -(1<<53) {
			v = 1 << 53 // beyond any class id; reported as out of range
		}
		return float64(v), true
	case 'u':
		var v uint64
		switch h.size {
		case 1:
			v = uint64(b[0])
		case 2:
			v = uint64(order.Uint16(b))
		case 4:
			v = uint64(order.Uint32(b))
		default:
			v = order.Uint64(b)
		}
		if v > 1<<53 {
			v = 1 << 53
		}
		return float64(v), true
	}
	var f float64
	if h.size == 4 {
		f = float64(math.Float32frombits(order.Uint32(b)))
	} else {
		f = math.Float64frombits(order.Uint64(b))
	}
	return f, f == math.Trunc(f) && math.Abs(f) <= 1<<53
}
