package tensorfile

import (
	"fmt"
	"math"
	"sort"
	"strings"

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
func (h Float16) Float32() float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	man := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0x7f800000 | man<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+127-15)<<23 | man<<13)
	case man == 0: // ±0
		return math.Float32frombits(sign)
	}
	// Subnormal half: man × 2^-24, exactly representable as a normal float32.
	f := float32(man) * (1.0 / (1 << 24))
	if sign != 0 {
		f = -f
	}
	return f
}

// Float16FromFloat32 rounds f to the nearest half-precision value (ties to even).
// Values beyond the half range become ±Inf; NaN stays NaN.
func Float16FromFloat32(f float32) Float16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	man := b & 0x7fffff
	if exp == 0xff {
		if man != 0 {
			return Float16(sign | 0x7e00 | uint16(man>>13)) // quiet NaN, keep payload top bits
		}
		return Float16(sign | 0x7c00)
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return Float16(sign | 0x7c00)
	}
	if e <= 0 {
		// Subnormal half or zero. Full significand with implicit bit, shifted.
		if e < -10 {
			return Float16(sign) // rounds to ±0 (|f| < 2^-25)
		}
		m := man | 0x800000
		shift := uint32(14 - e) // 13 + (1 - e)
		half := m >> shift
		rem := m & (1<<shift - 1)
		mid := uint32(1) << (shift - 1)
		if rem > mid || (rem == mid && half&1 == 1) {
			half++
		}
		return Float16(sign | uint16(half))
	}
	half := uint32(e)<<10 | man>>13
	rem := man & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && half&1 == 1) {
		half++ // may carry into the exponent, up to Inf: correct
	}
	return Float16(sign | uint16(half))
}

// bfloat16ToFloat32 widens a bfloat16 bit pattern exactly.
func bfloat16ToFloat32(b uint16) float32 {
	return math.Float32frombits(uint32(b) << 16)
}

// bfloat16FromFloat32 rounds f to bfloat16 (ties to even), keeping NaN a NaN.
func bfloat16FromFloat32(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7f800000 == 0x7f800000 && b&0x7fffff != 0 {
		return uint16(b>>16) | 0x40
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}
