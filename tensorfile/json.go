package tensorfile

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/onnxloss/onnxloss/onnxpb"
)

// jsonTensor is one entry of a tensor JSON file.
type jsonTensor struct {
	DType *string         `json:"dtype"`
	Shape *[]int64        `json:"shape"`
	Data  json.RawMessage `json:"data"`
}

// ReadJSON reads tensors from a JSON object mapping names to
// {"dtype": "float32", "shape": [2, 3], "data": [...]}, in file order.
// data is flat and row-major, or nested arrays (then shape may be omitted and
// is inferred; a bare number is a 0-d tensor). Non-finite floats are the
// strings "NaN", "Infinity" and "-Infinity". Booleans are true/false (or 0/1).
// Integers must be integral and in range for the dtype; float values beyond
// the dtype's range are errors.
func ReadJSON(r io.Reader) ([]*onnxpb.TensorProto, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	if tok != json.Delim('{') {
		return nil, errors.New(`want a JSON object {"name": {"dtype": ..., "shape": [...], "data": [...]}, ...}`)
	}
	var out []*onnxpb.TensorProto
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("bad JSON: %w", err)
		}
		name, _ := tok.(string)
		if seen[name] {
			return nil, fmt.Errorf("tensor %q appears twice", name)
		}
		seen[name] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("tensor %q: bad JSON: %w", name, err)
		}
		t, err := jsonToTensor(name, raw)
		if err != nil {
			return nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		out = append(out, t)
	}
	if _, err := dec.Token(); err != nil { // closing '}'
		return nil, fmt.Errorf("bad JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("bad JSON: data after the top-level object")
	}
	return out, nil
}

func jsonToTensor(name string, raw json.RawMessage) (*onnxpb.TensorProto, error) {
	var jt jsonTensor
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&jt); err != nil {
		return nil, fmt.Errorf(`want {"dtype": ..., "shape": [...], "data": [...]}: %w`, err)
	}
	if jt.DType == nil {
		return nil, fmt.Errorf(`missing "dtype" (one of %s)`, dtypeNames())
	}
	d, ok := dtypeByName(*jt.DType)
	if !ok {
		return nil, fmt.Errorf("unsupported dtype %q: use one of %s", *jt.DType, dtypeNames())
	}
	if jt.Data == nil {
		return nil, errors.New(`missing "data"`)
	}
	var data any
	ddec := json.NewDecoder(bytes.NewReader(jt.Data))
	ddec.UseNumber()
	if err := ddec.Decode(&data); err != nil {
		return nil, fmt.Errorf("bad data: %w", err)
	}
	var flat []any
	var nested []int64
	var isNested bool
	if arr, ok := data.([]any); ok {
		nested = []int64{int64(len(arr))}
		var final bool
		if err := flatten(arr, 0, &nested, &flat, &isNested, &final); err != nil {
			return nil, err
		}
	} else {
		flat, nested, isNested = []any{data}, []int64{}, true
	}
	var dims []int64
	switch {
	case jt.Shape == nil:
		dims = nested
	case isNested:
		dims = *jt.Shape
		if !slices.Equal(dims, nested) {
			return nil, fmt.Errorf("shape %v does not match the nesting of data %v", dims, nested)
		}
	default:
		dims = *jt.Shape
	}
	n, err := numElems(dims)
	if err != nil {
		return nil, err
	}
	if n != len(flat) {
		return nil, fmt.Errorf("shape %v needs %d values, data has %d", dims, n, len(flat))
	}
	rawData := make([]byte, 0, n*d.size)
	for i, v := range flat {
		rawData, err = appendJSONValue(rawData, d, v)
		if err != nil {
			return nil, fmt.Errorf("data[%d]: %w", i, err)
		}
	}
	return newRaw(name, d.dt, dims, rawData), nil
}

// flatten appends the leaves of arr to flat, checking that nested arrays are
// rectangular. shape holds the dims found so far (the first path down fixes
// them); final is set once a leaf has been seen, after which no level may be
// added; nested reports whether arr had sub-arrays at all.
func flatten(arr []any, depth int, shape *[]int64, flat *[]any, nested, final *bool) error {
	ragged := errors.New("data is a ragged (non-rectangular) nested array")
	for _, v := range arr {
		sub, isArr := v.([]any)
		if !isArr {
			*final = true
			if len(*shape) != depth+1 {
				return ragged
			}
			*flat = append(*flat, v)
			continue
		}
		*nested = true
		if len(*shape) == depth+1 {
			if *final {
				return ragged
			}
			*shape = append(*shape, int64(len(sub)))
		}
		if int64(len(sub)) != (*shape)[depth+1] {
			return ragged
		}
		if err := flatten(sub, depth+1, shape, flat, nested, final); err != nil {
			return err
		}
	}
	return nil
}

// appendJSONValue encodes one JSON value as a little-endian element of d.
func appendJSONValue(b []byte, d dtype, v any) ([]byte, error) {
	le := binary.LittleEndian
	switch d.dt {
	case onnxpb.TensorProto_FLOAT, onnxpb.TensorProto_DOUBLE, onnxpb.TensorProto_FLOAT16, onnxpb.TensorProto_BFLOAT16:
		f, err := jsonFloat(v, d)
		if err != nil {
			return nil, err
		}
		switch d.dt {
		case onnxpb.TensorProto_FLOAT:
			return le.AppendUint32(b, math.Float32bits(float32(f))), nil
		case onnxpb.TensorProto_DOUBLE:
			return le.AppendUint64(b, math.Float64bits(f)), nil
		case onnxpb.TensorProto_FLOAT16:
			return le.AppendUint16(b, uint16(Float16FromFloat32(float32(f)))), nil
		default:
			return le.AppendUint16(b, bfloat16FromFloat32(float32(f))), nil
		}
	case onnxpb.TensorProto_BOOL:
		switch x := v.(type) {
		case bool:
			if x {
				return append(b, 1), nil
			}
			return append(b, 0), nil
		case json.Number:
			switch x {
			case "0":
				return append(b, 0), nil
			case "1":
				return append(b, 1), nil
			}
		}
		return nil, fmt.Errorf("%v is not a bool (want true, false, 0 or 1)", jsonShow(v))
	}
	// Integers.
	num, ok := v.(json.Number)
	if !ok {
		return nil, fmt.Errorf("%v is not a number", jsonShow(v))
	}
	signed := d.npyKind == 'i'
	bitsz := d.size * 8
	var u uint64
	if signed {
		i, err := strconv.ParseInt(string(num), 10, bitsz)
		if err != nil {
			i, err = integralFloat(num, float64(int64(-1)<<(bitsz-1)), math.Ldexp(1, bitsz-1))
			if err != nil {
				return nil, fmt.Errorf("%s is not a valid %s", num, d.name)
			}
		}
		u = uint64(i)
	} else {
		var err error
		u, err = strconv.ParseUint(string(num), 10, bitsz)
		if err != nil {
			i, err := integralFloat(num, 0, math.Ldexp(1, bitsz))
			if err != nil {
				return nil, fmt.Errorf("%s is not a valid %s", num, d.name)
			}
			u = uint64(i)
		}
	}
	switch d.size {
	case 1:
		return append(b, byte(u)), nil
	case 2:
		return le.AppendUint16(b, uint16(u)), nil
	case 4:
		return le.AppendUint32(b, uint32(u)), nil
	default:
		return le.AppendUint64(b, u), nil
	}
}

// integralFloat accepts numbers such as 3.0 or 1e3 that are integers in [lo, hi).
// It is only used for values within ±2^63, where float64 is exact enough.
func integralFloat(num json.Number, lo, hi float64) (int64, error) {
	f, err := strconv.ParseFloat(string(num), 64)
	if err != nil || f != math.Trunc(f) || f < lo || f >= hi || f >= math.Ldexp(1, 63) {
		return 0, errors.New("not an integer in range")
	}
	return int64(f), nil
}

// jsonFloat reads a float element: a number, or "NaN", "Infinity", "-Infinity".
func jsonFloat(v any, d dtype) (float64, error) {
	switch x := v.(type) {
	case json.Number:
		bitsz := 64
		if d.dt != onnxpb.TensorProto_DOUBLE {
			bitsz = 32
		}
		f, err := strconv.ParseFloat(string(x), bitsz)
		if err != nil {
			return 0, fmt.Errorf("%s is out of range for %s", x, d.name)
		}
		if !math.IsInf(f, 0) {
			switch d.dt {
			case onnxpb.TensorProto_FLOAT16:
				if h := Float16FromFloat32(float32(f)); h&0x7c00 == 0x7c00 {
					return 0, fmt.Errorf("%s is out of range for float16", x)
				}
			case onnxpb.TensorProto_BFLOAT16:
				if h := bfloat16FromFloat32(float32(f)); h&0x7f80 == 0x7f80 {
					return 0, fmt.Errorf("%s is out of range for bfloat16", x)
				}
			}
		}
		return f, nil
	case string:
		switch strings.ToLower(x) {
		case "nan":
			return math.NaN(), nil
		case "infinity", "inf", "+infinity", "+inf":
			return math.Inf(1), nil
		case "-infinity", "-inf":
			return math.Inf(-1), nil
		}
	}
	return 0, fmt.Errorf(`%v is not a number (non-finite values are "NaN", "Infinity", "-Infinity")`, jsonShow(v))
}

// jsonShow renders a decoded JSON value for an error message.
func jsonShow(v any) string {
	b, err := json.Marshal(v)
	if err != nil || len(b) > 40 {
		return fmt.Sprintf("%T value", v)
	}
	return string(b)
}

// WriteJSON writes tensors in the JSON format ReadJSON reads, one tensor per
// line, with flat row-major data. Floats are written in the shortest form
// that reads back to the same value; NaN and ±Inf as "NaN", "Infinity" and
// "-Infinity". Names must be non-empty and distinct.
func WriteJSON(w io.Writer, tensors []*onnxpb.TensorProto) error {
	if err := checkNames(tensors); err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	bw.WriteString("{")
	for i, t := range tensors {
		nt, err := Normalize(t)
		if err != nil {
			return fmt.Errorf("tensor %q: %w", t.GetName(), err)
		}
		d, _ := dtypeOf(nt.GetDataType())
		if i > 0 {
			bw.WriteString(",")
		}
		name, _ := json.Marshal(nt.GetName())
		fmt.Fprintf(bw, "\n  %s: {\"dtype\": %q, \"shape\": [", name, d.name)
		for j, s := range nt.Dims {
			if j > 0 {
				bw.WriteString(", ")
			}
			bw.WriteString(strconv.FormatInt(s, 10))
		}
		bw.WriteString("], \"data\": [")
		for j := 0; j*d.size < len(nt.RawData); j++ {
			if j > 0 {
				bw.WriteString(", ")
			}
			bw.WriteString(jsonElem(d, nt.RawData[j*d.size:(j+1)*d.size]))
		}
		bw.WriteString("]}")
	}
	if len(tensors) > 0 {
		bw.WriteString("\n")
	}
	bw.WriteString("}\n")
	return bw.Flush()
}

// jsonElem formats one little-endian element of d as JSON.
func jsonElem(d dtype, b []byte) string {
	le := binary.LittleEndian
	float := func(f float64, bitsz int) string {
		switch {
		case math.IsNaN(f):
			return `"NaN"`
		case math.IsInf(f, 1):
			return `"Infinity"`
		case math.IsInf(f, -1):
			return `"-Infinity"`
		}
		return strconv.FormatFloat(f, 'g', -1, bitsz)
	}
	switch d.dt {
	case onnxpb.TensorProto_FLOAT:
		return float(float64(math.Float32frombits(le.Uint32(b))), 32)
	case onnxpb.TensorProto_DOUBLE:
		return float(math.Float64frombits(le.Uint64(b)), 64)
	case onnxpb.TensorProto_FLOAT16:
		return float(float64(Float16(le.Uint16(b)).Float32()), 32)
	case onnxpb.TensorProto_BFLOAT16:
		return float(float64(bfloat16ToFloat32(le.Uint16(b))), 32)
	case onnxpb.TensorProto_BOOL:
		if b[0] != 0 {
			return "true"
		}
		return "false"
	case onnxpb.TensorProto_INT8:
		return strconv.FormatInt(int64(int8(b[0])), 10)
	case onnxpb.TensorProto_INT16:
		return strconv.FormatInt(int64(int16(le.Uint16(b))), 10)
	case onnxpb.TensorProto_INT32:
		return strconv.FormatInt(int64(int32(le.Uint32(b))), 10)
	case onnxpb.TensorProto_INT64:
		return strconv.FormatInt(int64(le.Uint64(b)), 10)
	case onnxpb.TensorProto_UINT8:
		return strconv.FormatUint(uint64(b[0]), 10)
	case onnxpb.TensorProto_UINT16:
		return strconv.FormatUint(uint64(le.Uint16(b)), 10)
	case onnxpb.TensorProto_UINT32:
		return strconv.FormatUint(uint64(le.Uint32(b)), 10)
	default:
		return strconv.FormatUint(le.Uint64(b), 10)
	}
}
