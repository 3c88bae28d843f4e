package tensorfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/onnxloss/onnxloss/onnxpb"
)

// npyMagic starts every .npy file.
const npyMagic = "\x93NUMPY"

// maxNPYHeader bounds the header length we accept. numpy itself refuses
// headers over 10,000 bytes unless told otherwise; real headers are ~100 bytes.
const maxNPYHeader = 1 << 20

// npyHeader is the parsed header dictionary of a .npy file.
type npyHeader struct {
	descr   string
	fortran bool
	shape   []int64
}

// ReadNPY reads one array in NumPy's .npy format (versions 1.0, 2.0 and 3.0)
// and returns it as a tensor called name, with raw_data in C (row-major)
// order and little-endian byte order whatever the file used. Numeric and bool
// dtypes are accepted; object, string, complex, datetime and structured
// arrays are rejected.
func ReadNPY(r io.Reader, name string) (*onnxpb.TensorProto, error) {
	h, err := readNPYHeader(r)
	if err != nil {
		return nil, err
	}
	d, swap, err := npyDtype(h.descr)
	if err != nil {
		return nil, err
	}
	n, err := numElems(h.shape)
	if err != nil {
		return nil, err
	}
	nbytes := n * d.size
	// Read incrementally so that a header claiming a huge shape cannot make
	// us allocate more than the data actually present.
	data, err := io.ReadAll(io.LimitReader(r, int64(nbytes)))
	if err != nil {
		return nil, fmt.Errorf("reading data: %w", err)
	}
	if len(data) < nbytes {
		return nil, fmt.Errorf("truncated: shape %v of %s needs %d data bytes, file has %d", h.shape, d.name, nbytes, len(data))
	}
	if swap {
		swapBytes(data, d.size)
	}
	if h.fortran && len(h.shape) > 1 && n > 0 {
		data = fortranToC(data, h.shape, d.size)
	}
	if d.dt == onnxpb.TensorProto_BOOL {
		for i, b := range data {
			if b != 0 {
				data[i] = 1
			}
		}
	}
	return newRaw(name, d.dt, h.shape, data), nil
}

// NPYHeader is the header of a .npy stream: the NumPy dtype string (e.g.
// "<i8"), the element order and the shape.
type NPYHeader struct {
	Descr   string
	Fortran bool
	Shape   []int64
}

// ReadNPYHeader reads the magic, version and header dictionary of a .npy
// stream (versions 1.0, 2.0 and 3.0), leaving r at the first data byte, so
// callers can stream the data (onnxloss counts does). The dictionary is
// parsed as a Python literal; structured dtypes are rejected.
func ReadNPYHeader(r io.Reader) (NPYHeader, error) {
	h, err := readNPYHeader(r)
	return NPYHeader{Descr: h.descr, Fortran: h.fortran, Shape: h.shape}, err
}

// readNPYHeader reads the magic, version, and header dictionary.
func readNPYHeader(r io.Reader) (npyHeader, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return npyHeader{}, errors.New("not a .npy file: too short")
	}
	if string(pre[:6]) != npyMagic {
		return npyHeader{}, errors.New("not a .npy file: bad magic (want \\x93NUMPY)")
	}
	major, minor := pre[6], pre[7]
	var hlen int
	switch major {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return npyHeader{}, errors.New("truncated .npy header")
		}
		hlen = int(binary.LittleEndian.Uint16(b[:]))
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return npyHeader{}, errors.New("truncated .npy header")
		}
		v := binary.LittleEndian.Uint32(b[:])
		if v > maxNPYHeader {
			return npyHeader{}, fmt.Errorf("npy header of %d bytes is too large (limit %d)", v, maxNPYHeader)
		}
		hlen = int(v)
	default:
		return npyHeader{}, fmt.Errorf("unsupported .npy format version %d.%d (want 1.0, 2.0 or 3.0)", major, minor)
	}
	hdr := make([]byte, hlen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return npyHeader{}, fmt.Errorf("truncated .npy header: want %d bytes", hlen)
	}
	return parseNPYHeader(hdr)
}

// parseNPYHeader parses the Python dict literal of a .npy header.
func parseNPYHeader(hdr []byte) (npyHeader, error) {
	p := &pyParser{s: string(bytes.TrimRight(hdr, " \t\r\n\x00"))}
	v, err := p.value(0)
	if err != nil {
		return npyHeader{}, fmt.Errorf("bad .npy header: %w", err)
	}
	p.skipSpace()
	if p.i != len(p.s) {
		return npyHeader{}, fmt.Errorf("bad .npy header: unexpected %q after the dictionary", p.rest())
	}
	dict, ok := v.(pyDict)
	if !ok {
		return npyHeader{}, errors.New("bad .npy header: not a dictionary")
	}
	var h npyHeader
	descr, ok := dict["descr"]
	if !ok {
		return h, errors.New("bad .npy header: no 'descr'")
	}
	switch x := descr.(type) {
	case string:
		h.descr = x
	case pyList, pyTuple:
		return h, errors.New("unsupported structured dtype (record array): use one numeric array per tensor")
	default:
		return h, errors.New("bad .npy header: 'descr' is not a string")
	}
	fo, ok := dict["fortran_order"].(bool)
	if !ok {
		return h, errors.New("bad .npy header: 'fortran_order' missing or not True/False")
	}
	h.fortran = fo
	shape, ok := dict["shape"].(pyTuple)
	if !ok {
		return h, errors.New("bad .npy header: 'shape' missing or not a tuple")
	}
	h.shape = make([]int64, 0, len(shape))
	for _, s := range shape {
		d, ok := s.(int64)
		if !ok || d < 0 {
			return h, fmt.Errorf("bad .npy header: shape element %s is not a non-negative integer", oneLine(fmt.Sprint(s)))
		}
		h.shape = append(h.shape, d)
	}
	return h, nil
}

// npyDtype maps a numpy type string such as "<f4" to a dtype, also telling
// whether the data is big-endian and must be byte-swapped.
func npyDtype(descr string) (dtype, bool, error) {
	bad := func(why string) (dtype, bool, error) {
		return dtype{}, false, fmt.Errorf("unsupported dtype '%s': %s", oneLine(descr), why)
	}
	if len(descr) < 2 {
		return bad("use a numeric array")
	}
	order, kind, rest := descr[0], descr[1], descr[2:]
	switch order {
	case '<', '>', '|', '=':
	default:
		// numpy always writes a byte-order character; tolerate its absence.
		order, kind, rest = '=', descr[0], descr[1:]
	}
	switch kind {
	case 'O':
		return bad("object arrays cannot be read; use a numeric array")
	case 'U', 'S', 'a':
		return bad("use a numeric array")
	case 'c':
		return bad("complex arrays are not supported")
	case 'M', 'm':
		return bad("datetime arrays are not supported")
	case 'V':
		return bad("void/structured arrays are not supported")
	case 'f', 'i', 'u', 'b':
	default:
		return bad("use a numeric array")
	}
	size, err := strconv.Atoi(rest)
	if err != nil || size <= 0 {
		return bad("use a numeric array")
	}
	for _, d := range dtypes {
		if d.npyKind == kind && d.size == size {
			if order == '|' && size > 1 {
				return bad("no byte order for a multi-byte type")
			}
			// '=' is "native"; numpy writes '<' or '>' explicitly, and files
			// come from little-endian machines in practice.
			return d, order == '>' && size > 1, nil
		}
	}
	return bad("use float16/32/64, int8/16/32/64, uint8/16/32/64 or bool")
}

// swapBytes reverses the byte order of each size-byte element in place.
func swapBytes(data []byte, size int) {
	if size == 1 {
		return
	}
	for i := 0; i+size <= len(data); i += size {
		e := data[i : i+size]
		for a, b := 0, size-1; a < b; a, b = a+1, b-1 {
			e[a], e[b] = e[b], e[a]
		}
	}
}

// fortranToC reorders column-major data of the given shape to row-major.
func fortranToC(data []byte, shape []int64, size int) []byte {
	k := len(shape)
	// Fortran strides (in elements): first axis varies fastest.
	fstride := make([]int, k)
	s := 1
	for j := 0; j < k; j++ {
		fstride[j] = s
		s *= int(shape[j])
	}
	out := make([]byte, len(data))
	idx := make([]int, k)
	src := 0
	for dst := 0; dst < len(out); dst += size {
		copy(out[dst:dst+size], data[src*size:src*size+size])
		// Advance the row-major multi-index (last axis fastest).
		for j := k - 1; j >= 0; j-- {
			idx[j]++
			src += fstride[j]
			if idx[j] < int(shape[j]) {
				break
			}
			src -= idx[j] * fstride[j]
			idx[j] = 0
		}
	}
	return out
}

// WriteNPY writes t as a .npy file (format 1.0, or 2.0 if the header needs
// it) in C order with a little-endian dtype. The tensor's name is not stored:
// a .npy file's name is its array name. bfloat16 has no numpy dtype and is
// rejected.
func WriteNPY(w io.Writer, t *onnxpb.TensorProto) error {
	nt, err := Normalize(t)
	if err != nil {
		return err
	}
	d, _ := dtypeOf(nt.GetDataType())
	if d.npyKind == 0 {
		return fmt.Errorf("%s has no numpy dtype: write .pb or .json instead", d.name)
	}
	order := "<"
	if d.size == 1 {
		order = "|"
	}
	var shape strings.Builder
	shape.WriteByte('(')
	for i, s := range nt.Dims {
		if i > 0 {
			shape.WriteString(", ")
		}
		shape.WriteString(strconv.FormatInt(s, 10))
	}
	if len(nt.Dims) == 1 {
		shape.WriteByte(',')
	}
	shape.WriteByte(')')
	dict := fmt.Sprintf("{'descr': '%s%c%d', 'fortran_order': False, 'shape': %s, }", order, d.npyKind, d.size, shape.String())
	// Pad with spaces and end with '\n' so that the data starts on a
	// 64-byte boundary, as numpy does.
	major, pre := byte(1), 10
	if len(dict)+1+pre > 65535 {
		major, pre = 2, 12
	}
	total := pre + len(dict) + 1
	pad := (64 - total%64) % 64
	hdr := dict + strings.Repeat(" ", pad) + "\n"
	var buf bytes.Buffer
	buf.WriteString(npyMagic)
	buf.WriteByte(major)
	buf.WriteByte(0)
	if major == 1 {
		buf.Write(binary.LittleEndian.AppendUint16(nil, uint16(len(hdr))))
	} else {
		buf.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(hdr))))
	}
	buf.WriteString(hdr)
	if _, err := w.Write(buf.Bytes()); err != nil {
		return err
	}
	_, err = w.Write(nt.RawData)
	return err
}
