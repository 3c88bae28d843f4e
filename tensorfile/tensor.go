package tensorfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"

	"github.com/onnxloss/onnxloss/onnxpb"
	"google.golang.org/protobuf/proto"
)

// maxElems caps the element count of one tensor. It is far above anything a
// verify run needs and keeps byte counts well inside int.
const maxElems = 1 << 40

// numElems multiplies dims, rejecting negative dimensions and products that
// overflow or exceed maxElems.
func numElems(dims []int64) (int, error) {
	n := uint64(1)
	for _, d := range dims {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension %d in shape %v", d, dims)
		}
		if d == 0 {
			n = 0
		}
	}
	if n == 0 {
		return 0, nil
	}
	for _, d := range dims {
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > maxElems {
			return 0, fmt.Errorf("shape %v has too many elements", dims)
		}
		n = lo
	}
	return int(n), nil
}

// New builds a tensor with raw_data from a Go slice: []float32, []float64,
// []Float16, []int8, []int16, []int32, []int64, []uint8, []uint16, []uint32,
// []uint64 or []bool. The slice length must equal the product of dims
// (nil or empty dims is a scalar holding one element).
func New(name string, dims []int64, data any) (*onnxpb.TensorProto, error) {
	n, err := numElems(dims)
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", name, err)
	}
	var dt onnxpb.TensorProto_DataType
	var raw []byte
	var count int
	le := binary.LittleEndian
	switch v := data.(type) {
	case []float32:
		dt, count = onnxpb.TensorProto_FLOAT, len(v)
		for _, x := range v {
			raw = le.AppendUint32(raw, math.Float32bits(x))
		}
	case []float64:
		dt, count = onnxpb.TensorProto_DOUBLE, len(v)
		for _, x := range v {
			raw = le.AppendUint64(raw, math.Float64bits(x))
		}
	case []Float16:
		dt, count = onnxpb.TensorProto_FLOAT16, len(v)
		for _, x := range v {
			raw = le.AppendUint16(raw, uint16(x))
		}
	case []int8:
		dt, count = onnxpb.TensorProto_INT8, len(v)
		for _, x := range v {
			raw = append(raw, byte(x))
		}
	case []int16:
		dt, count = onnxpb.TensorProto_INT16, len(v)
		for _, x := range v {
			raw = le.AppendUint16(raw, uint16(x))
		}
	case []int32:
		dt, count = onnxpb.TensorProto_INT32, len(v)
		for _, x := range v {
			raw = le.AppendUint32(raw, uint32(x))
		}
	case []int64:
		dt, count = onnxpb.TensorProto_INT64, len(v)
		for _, x := range v {
			raw = le.AppendUint64(raw, uint64(x))
		}
	case []uint8:
		dt, count = onnxpb.TensorProto_UINT8, len(v)
		raw = append([]byte{}, v...)
	case []uint16:
		dt, count = onnxpb.TensorProto_UINT16, len(v)
		for _, x := range v {
			raw = le.AppendUint16(raw, x)
		}
	case []uint32:
		dt, count = onnxpb.TensorProto_UINT32, len(v)
		for _, x := range v {
			raw = le.AppendUint32(raw, x)
		}
	case []uint64:
		dt, count = onnxpb.TensorProto_UINT64, len(v)
		for _, x := range v {
			raw = le.AppendUint64(raw, x)
		}
	case []bool:
		dt, count = onnxpb.TensorProto_BOOL, len(v)
		for _, x := range v {
			if x {
				raw = append(raw, 1)
			} else {
				raw = append(raw, 0)
			}
		}
	default:
		return nil, fmt.Errorf("tensor %q: unsupported Go type %T", name, data)
	}
	if count != n {
		return nil, fmt.Errorf("tensor %q: shape %v needs %d elements, got %d", name, dims, n, count)
	}
	return newRaw(name, dt, dims, raw), nil
}

// newRaw assembles a TensorProto; raw must already be little-endian and sized.
func newRaw(name string, dt onnxpb.TensorProto_DataType, dims []int64, raw []byte) *onnxpb.TensorProto {
	if raw == nil {
		raw = []byte{}
	}
	return &onnxpb.TensorProto{
		Name:     proto.String(name),
		DataType: proto.Int32(int32(dt)),
		Dims:     append([]int64{}, dims...),
		RawData:  raw,
	}
}

// Normalize returns a copy of t with its values in raw_data (little-endian, as
// ONNX specifies) and the typed fields (float_data, int32_data, int64_data,
// double_data, uint64_data) cleared. It checks that the data type is a
// supported numeric one, that the dims are sane and that the data holds exactly
// one value per element. Booleans become 0 or 1. Tensors that keep their data
// in an external file, or are segments, are rejected.
func Normalize(t *onnxpb.TensorProto) (*onnxpb.TensorProto, error) {
	if t == nil {
		return nil, errors.New("nil tensor")
	}
	if t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL || len(t.ExternalData) > 0 {
		return nil, errors.New("data stored in an external file is not supported: save the tensor with its data inside")
	}
	if t.Segment != nil {
		return nil, errors.New("segmented tensors are not supported")
	}
	if t.DataType == nil {
		return nil, errors.New("data_type not set")
	}
	d, err := dtypeOf(t.GetDataType())
	if err != nil {
		return nil, err
	}
	n, err := numElems(t.Dims)
	if err != nil {
		return nil, err
	}
	var raw []byte
	if t.RawData != nil {
		if len(t.RawData)/d.size != n || len(t.RawData)%d.size != 0 {
			return nil, fmt.Errorf("raw_data has %d bytes, shape %v of %s needs %d", len(t.RawData), t.Dims, d.name, n*d.size)
		}
		raw = append([]byte{}, t.RawData...)
	} else {
		raw, err = typedToRaw(t, d, n)
		if err != nil {
			return nil, err
		}
	}
	if d.dt == onnxpb.TensorProto_BOOL {
		for i, b := range raw {
			if b != 0 {
				raw[i] = 1
			}
		}
	}
	out := newRaw(t.GetName(), d.dt, t.Dims, raw)
	if t.Name == nil {
		out.Name = nil
	}
	out.DocString = t.DocString
	return out, nil
}

// typedToRaw converts the typed data field proper to d into raw bytes.
func typedToRaw(t *onnxpb.TensorProto, d dtype, n int) ([]byte, error) {
	le := binary.LittleEndian
	field, count := "", 0
	switch d.dt {
	case onnxpb.TensorProto_FLOAT:
		field, count = "float_data", len(t.FloatData)
	case onnxpb.TensorProto_DOUBLE:
		field, count = "double_data", len(t.DoubleData)
	case onnxpb.TensorProto_INT64:
		field, count = "int64_data", len(t.Int64Data)
	case onnxpb.TensorProto_UINT32, onnxpb.TensorProto_UINT64:
		field, count = "uint64_data", len(t.Uint64Data)
	default:
		field, count = "int32_data", len(t.Int32Data)
	}
	if count != n {
		return nil, fmt.Errorf("%s tensor of shape %v needs %d values, has %d in %s (and no raw_data)", d.name, t.Dims, n, count, field)
	}
	raw := make([]byte, 0, n*d.size)
	switch d.dt {
	case onnxpb.TensorProto_FLOAT:
		for _, x := range t.FloatData {
			raw = le.AppendUint32(raw, math.Float32bits(x))
		}
	case onnxpb.TensorProto_DOUBLE:
		for _, x := range t.DoubleData {
			raw = le.AppendUint64(raw, math.Float64bits(x))
		}
	case onnxpb.TensorProto_INT64:
		for _, x := range t.Int64Data {
			raw = le.AppendUint64(raw, uint64(x))
		}
	case onnxpb.TensorProto_UINT32:
		for _, x := range t.Uint64Data {
			raw = le.AppendUint32(raw, uint32(x))
		}
	case onnxpb.TensorProto_UINT64:
		for _, x := range t.Uint64Data {
			raw = le.AppendUint64(raw, x)
		}
	default: // int32_data holds int32, int16, int8, uint16, uint8, bool, float16, bfloat16
		for _, x := range t.Int32Data {
			switch d.size {
			case 1:
				raw = append(raw, byte(x))
			case 2:
				raw = le.AppendUint16(raw, uint16(x))
			default:
				raw = le.AppendUint32(raw, uint32(x))
			}
		}
	}
	return raw, nil
}

// Float64s returns the values of t (raw_data or typed fields) as float64 in
// row-major order: booleans as 0 and 1, integers converted (int64 and uint64
// values beyond 2^53 lose precision), float16 and bfloat16 widened exactly.
func Float64s(t *onnxpb.TensorProto) ([]float64, error) {
	nt, err := Normalize(t)
	if err != nil {
		return nil, err
	}
	d, _ := dtypeOf(nt.GetDataType())
	raw := nt.RawData
	n := len(raw) / d.size
	out := make([]float64, n)
	le := binary.LittleEndian
	for i := range out {
		b := raw[i*d.size:]
		switch d.dt {
		case onnxpb.TensorProto_FLOAT:
			out[i] = float64(math.Float32frombits(le.Uint32(b)))
		case onnxpb.TensorProto_DOUBLE:
			out[i] = math.Float64frombits(le.Uint64(b))
		case onnxpb.TensorProto_FLOAT16:
			out[i] = float64(Float16(le.Uint16(b)).Float32())
		case onnxpb.TensorProto_BFLOAT16:
			out[i] = float64(bfloat16ToFloat32(le.Uint16(b)))
		case onnxpb.TensorProto_INT8:
			out[i] = float64(int8(b[0]))
		case onnxpb.TensorProto_INT16:
			out[i] = float64(int16(le.Uint16(b)))
		case onnxpb.TensorProto_INT32:
			out[i] = float64(int32(le.Uint32(b)))
		case onnxpb.TensorProto_INT64:
			out[i] = float64(int64(le.Uint64(b)))
		case onnxpb.TensorProto_UINT8, onnxpb.TensorProto_BOOL:
			out[i] = float64(b[0])
		case onnxpb.TensorProto_UINT16:
			out[i] = float64(le.Uint16(b))
		case onnxpb.TensorProto_UINT32:
			out[i] = float64(le.Uint32(b))
		case onnxpb.TensorProto_UINT64:
			out[i] = float64(le.Uint64(b))
		}
	}
	return out, nil
}
