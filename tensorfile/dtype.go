package tensorfile

import (
	"fmt"
	"sort"
	"strings"

	"github.com/onnxloss/onnxloss/internal/half"
	"github.com/onnxloss/onnxloss/onnxpb"
)

// dtype describes one supported element type.
type dtype struct {
	dt      onnxpb.TensorProto_DataType
	name    string // numpy / JSON name
	size    int    // bytes per element
	npyKind byte   // numpy kind character: 'f', 'i', 'u', 'b'; 0 if numpy has no such dtype
}

var dtypes = []dtype{
	{onnxpb.TensorProto_FLOAT, "float32", 4, 'f'},
	{onnxpb.TensorProto_DOUBLE, "float64", 8, 'f'},
	{onnxpb.TensorProto_FLOAT16, "float16", 2, 'f'},
	{onnxpb.TensorProto_BFLOAT16, "bfloat16", 2, 0},
	{onnxpb.TensorProto_INT8, "int8", 1, 'i'},
	{onnxpb.TensorProto_INT16, "int16", 2, 'i'},
	{onnxpb.TensorProto_INT32, "int32", 4, 'i'},
	{onnxpb.TensorProto_INT64, "int64", 8, 'i'},
	{onnxpb.TensorProto_UINT8, "uint8", 1, 'u'},
	{onnxpb.TensorProto_UINT16, "uint16", 2, 'u'},
	{onnxpb.TensorProto_UINT32, "uint32", 4, 'u'},
	{onnxpb.TensorProto_UINT64, "uint64", 8, 'u'},
	{onnxpb.TensorProto_BOOL, "bool", 1, 'b'},
}

// dtypeOf returns the description of an ONNX data type, or an error naming it.
func dtypeOf(dt int32) (dtype, error) {
	for _, d := range dtypes {
		if int32(d.dt) == dt {
			return d, nil
		}
	}
	name, ok := onnxpb.TensorProto_DataType_name[dt]
	if !ok {
		return dtype{}, fmt.Errorf("unknown data_type %d", dt)
	}
	return dtype{}, fmt.Errorf("unsupported data_type %s: use one of %s", name, dtypeNames())
}

// dtypeByName looks a dtype up by its numpy name.
func dtypeByName(name string) (dtype, bool) {
	for _, d := range dtypes {
		if d.name == name {
			return d, true
		}
	}
	return dtype{}, false
}

// dtypeNames lists the supported dtype names for error messages.
func dtypeNames() string {
	names := make([]string, len(dtypes))
	for i, d := range dtypes {
		names[i] = d.name
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// Float16 is an IEEE 754 half-precision number, held as its bit pattern
// (the form ONNX stores in raw_data and int32_data).
type Float16 uint16

// Float32 returns h as a float32; the conversion is exact.
func (h Float16) Float32() float32 { return half.F16ToF32(uint16(h)) }

// Float16FromFloat32 rounds f to the nearest half-precision value (ties to even).
// Values beyond the half range become ±Inf; NaN stays NaN.
func Float16FromFloat32(f float32) Float16 { return Float16(half.F32ToF16(f)) }

// bfloat16ToFloat32 widens a bfloat16 bit pattern exactly.
func bfloat16ToFloat32(b uint16) float32 { return half.BF16ToF32(b) }

// bfloat16FromFloat32 rounds f to bfloat16 (ties to even), keeping NaN a NaN.
func bfloat16FromFloat32(f float32) uint16 { return half.F32ToBF16(f) }
