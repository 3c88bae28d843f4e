package eval

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unsafe"

	"github.com/onnxloss/onnxloss/extdata"
	"github.com/onnxloss/onnxloss/internal/half"
	"github.com/onnxloss/onnxloss/onnxpb"
)

// DType is an ONNX tensor element type (the TensorProto.DataType code).
type DType int32

// Supported element types.
const (
	Float32  DType = DType(onnxpb.TensorProto_FLOAT)
	Uint8    DType = DType(onnxpb.TensorProto_UINT8)
	Int8     DType = DType(onnxpb.TensorProto_INT8)
	Uint16   DType = DType(onnxpb.TensorProto_UINT16)
	Int16    DType = DType(onnxpb.TensorProto_INT16)
	Int32    DType = DType(onnxpb.TensorProto_INT32)
	Int64    DType = DType(onnxpb.TensorProto_INT64)
	Bool     DType = DType(onnxpb.TensorProto_BOOL)
	Float16  DType = DType(onnxpb.TensorProto_FLOAT16)
	Float64  DType = DType(onnxpb.TensorProto_DOUBLE)
	Uint32   DType = DType(onnxpb.TensorProto_UINT32)
	Uint64   DType = DType(onnxpb.TensorProto_UINT64)
	BFloat16 DType = DType(onnxpb.TensorProto_BFLOAT16)
)

// String returns the ONNX name of the type (e.g. "FLOAT").
func (d DType) String() string {
	if s, ok := onnxpb.TensorProto_DataType_name[int32(d)]; ok {
		return s
	}
	return "DTYPE(" + strconv.Itoa(int(d)) + ")"
}

// Supported reports whether the evaluator can hold tensors of this type.
func (d DType) Supported() bool {
	switch d {
	case Float32, Uint8, Int8, Uint16, Int16, Int32, Int64, Bool, Float16, Float64, Uint32, Uint64, BFloat16:
		return true
	}
	return false
}

// Size returns the element size in bytes (0 for unsupported types).
func (d DType) Size() int {
	switch d {
	case Uint8, Int8, Bool:
		return 1
	case Uint16, Int16, Float16, BFloat16:
		return 2
	case Float32, Int32, Uint32:
		return 4
	case Int64, Float64, Uint64:
		return 8
	}
	return 0
}

func (d DType) isFloat() bool {
	return d == Float32 || d == Float64 || d == Float16 || d == BFloat16
}

// Tensor is a dense, row-major tensor. Its data is a typed Go slice:
// []float32, []float64, []int64, []int32, []int16, []int8, []uint64, []uint32,
// []uint16 (also holding the bits of float16 and bfloat16), []uint8 or []bool.
type Tensor struct {
	dtype DType
	shape []int64
	data  any
}

// NumElements returns the product of the dims of shape (1 for a scalar). A
// product that does not fit in an int64 gives math.MaxInt64, so that a shape
// read from a model can never wrap around to a small count.
func NumElements(shape []int64) int64 {
	n := int64(1)
	for _, d := range shape {
		if d == 0 {
			return 0
		}
	}
	for _, d := range shape {
		if d != 0 && (n > math.MaxInt64/abs64(d)) {
			return math.MaxInt64
		}
		n *= d
	}
	return n
}

func abs64(v int64) int64 {
	if v < 0 {
		if v == math.MinInt64 {
			return math.MaxInt64
		}
		return -v
	}
	return v
}

// MaxTensorBytes caps the size of any one tensor the evaluator allocates
// (4 GiB by default): shapes come from untrusted models and files, and a
// claimed size beyond the cap is an error naming the tensor instead of an
// out-of-memory crash. Raise it before creating sessions for bigger tensors.
var MaxTensorBytes int64 = 4 << 30

// ErrTooLarge reports a tensor beyond MaxTensorBytes or a shape whose element
// count overflows.
var ErrTooLarge = errors.New("tensor too large")

// SizeOf returns the number of bytes a tensor of type dt and shape needs,
// after checking the shape: no negative dims, an element count that fits in
// an int64, and at most MaxTensorBytes. Errors wrap ErrTooLarge when the
// size is the problem.
func SizeOf(dt DType, shape []int64) (int64, error) {
	n := int64(1)
	zero := false
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in shape %v", shape)
		}
		zero = zero || d == 0
	}
	if !zero {
		for _, d := range shape {
			if n > math.MaxInt64/d {
				return 0, fmt.Errorf("%w: shape %v has more than 2^63 elements", ErrTooLarge, shape)
			}
			n *= d
		}
	} else {
		n = 0
	}
	size := int64(dt.Size())
	if size == 0 {
		return 0, fmt.Errorf("unsupported data type %v", dt)
	}
	if n > MaxTensorBytes/size {
		return 0, fmt.Errorf("%w: shape %v of %v needs %s, more than the %s the evaluator allows for one tensor", ErrTooLarge, shape, dt, humanSize(float64(n)*float64(size)), humanSize(float64(MaxTensorBytes)))
	}
	return n * size, nil
}

// humanSize formats a byte count with a binary unit.
func humanSize(b float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	i := 0
	for b >= 1024 && i < len(units)-1 {
		b /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f B", b)
	}
	return fmt.Sprintf("%.1f %s", b, units[i])
}

func makeData(dt DType, n int) (any, error) {
	if n < 0 {
		return nil, fmt.Errorf("negative element count %d", n)
	}
	switch dt {
	case Float32:
		return make([]float32, n), nil
	case Float64:
		return make([]float64, n), nil
	case Int64:
		return make([]int64, n), nil
	case Int32:
		return make([]int32, n), nil
	case Int16:
		return make([]int16, n), nil
	case Int8:
		return make([]int8, n), nil
	case Uint64:
		return make([]uint64, n), nil
	case Uint32:
		return make([]uint32, n), nil
	case Uint16, Float16, BFloat16:
		return make([]uint16, n), nil
	case Uint8:
		return make([]uint8, n), nil
	case Bool:
		return make([]bool, n), nil
	}
	return nil, fmt.Errorf("unsupported data type %v", dt)
}

// New returns a zero-filled tensor of the given type and shape. The size is
// checked first (see SizeOf).
func New(dt DType, shape []int64) (*Tensor, error) {
	if !dt.Supported() {
		return nil, fmt.Errorf("unsupported data type %v", dt)
	}
	if _, err := SizeOf(dt, shape); err != nil {
		return nil, err
	}
	data, err := makeData(dt, int(NumElements(shape)))
	if err != nil {
		return nil, err
	}
	return &Tensor{dtype: dt, shape: append([]int64{}, shape...), data: data}, nil
}

// mustNew is New for internal use where dtype and shape were validated.
// Shapes often come from the model's values (Expand, Range, Tile, …), so an
// error panics as an allocError, which callOp turns back into the node's
// error: bad input, not a bug.
func mustNew(dt DType, shape []int64) *Tensor {
	t, err := New(dt, shape)
	if err != nil {
		panic(allocError{err})
	}
	return t
}

// allocError carries an allocation error out of an op through a panic.
type allocError struct{ err error }

// mustFit panics with an allocError unless a buffer of type dt and the given
// shape passes SizeOf: ops call it before allocating scratch space whose size
// follows from the model rather than from a tensor that already exists.
func mustFit(dt DType, shape ...int64) {
	if _, err := SizeOf(dt, shape); err != nil {
		panic(allocError{err})
	}
}

func newTyped[T any](dt DType, shape []int64, data []T) *Tensor {
	if int64(len(data)) != NumElements(shape) {
		panic(fmt.Sprintf("eval: %d values for shape %v", len(data), shape))
	}
	return &Tensor{dtype: dt, shape: append([]int64{}, shape...), data: data}
}

// NewFloat32 wraps data (not copied) as a float32 tensor; len(data) must match shape.
func NewFloat32(shape []int64, data []float32) *Tensor { return newTyped(Float32, shape, data) }

// NewFloat64 wraps data (not copied) as a float64 tensor; len(data) must match shape.
func NewFloat64(shape []int64, data []float64) *Tensor { return newTyped(Float64, shape, data) }

// NewInt64 wraps data (not copied) as an int64 tensor; len(data) must match shape.
func NewInt64(shape []int64, data []int64) *Tensor { return newTyped(Int64, shape, data) }

// NewInt32 wraps data (not copied) as an int32 tensor; len(data) must match shape.
func NewInt32(shape []int64, data []int32) *Tensor { return newTyped(Int32, shape, data) }

// NewBool wraps data (not copied) as a bool tensor; len(data) must match shape.
func NewBool(shape []int64, data []bool) *Tensor { return newTyped(Bool, shape, data) }

// NewFloat16 wraps IEEE half-precision bit patterns (not copied) as a float16 tensor.
func NewFloat16(shape []int64, bits []uint16) *Tensor { return newTyped(Float16, shape, bits) }

// DType returns the element type.
func (t *Tensor) DType() DType { return t.dtype }

// Shape returns the dims (do not modify).
func (t *Tensor) Shape() []int64 { return t.shape }

// Rank returns the number of dims.
func (t *Tensor) Rank() int { return len(t.shape) }

// Len returns the number of elements.
func (t *Tensor) Len() int { return int(NumElements(t.shape)) }

// Data returns the underlying typed slice (see Tensor).
func (t *Tensor) Data() any { return t.data }

// Float32s returns the data of a float32 tensor, nil otherwise.
func (t *Tensor) Float32s() []float32 { d, _ := t.data.([]float32); return d }

// Float64s returns the data of a float64 tensor, nil otherwise.
func (t *Tensor) Float64s() []float64 { d, _ := t.data.([]float64); return d }

// Int64s returns the data of an int64 tensor, nil otherwise.
func (t *Tensor) Int64s() []int64 { d, _ := t.data.([]int64); return d }

// Int32s returns the data of an int32 tensor, nil otherwise.
func (t *Tensor) Int32s() []int32 { d, _ := t.data.([]int32); return d }

// Bools returns the data of a bool tensor, nil otherwise.
func (t *Tensor) Bools() []bool { d, _ := t.data.([]bool); return d }

// AsFloat64 returns all elements converted to float64 (any numeric type, bool as 0/1).
func (t *Tensor) AsFloat64() []float64 {
	n := t.Len()
	out := make([]float64, n)
	for i := 0; i < n; i++ {
		out[i] = t.f64At(i)
	}
	return out
}

// f64At returns element i converted to float64.
func (t *Tensor) f64At(i int) float64 {
	switch d := t.data.(type) {
	case []float32:
		return float64(d[i])
	case []float64:
		return d[i]
	case []int64:
		return float64(d[i])
	case []int32:
		return float64(d[i])
	case []int16:
		return float64(d[i])
	case []int8:
		return float64(d[i])
	case []uint64:
		return float64(d[i])
	case []uint32:
		return float64(d[i])
	case []uint16:
		switch t.dtype {
		case Float16:
			return float64(f16ToF32(d[i]))
		case BFloat16:
			return float64(bf16ToF32(d[i]))
		}
		return float64(d[i])
	case []uint8:
		return float64(d[i])
	case []bool:
		if d[i] {
			return 1
		}
		return 0
	}
	return math.NaN()
}

// i64At returns element i converted to int64 (for index-like inputs).
func (t *Tensor) i64At(i int) int64 {
	switch d := t.data.(type) {
	case []int64:
		return d[i]
	case []int32:
		return int64(d[i])
	case []int16:
		return int64(d[i])
	case []int8:
		return int64(d[i])
	case []uint64:
		return int64(d[i])
	case []uint32:
		return int64(d[i])
	case []uint8:
		return int64(d[i])
	case []bool:
		if d[i] {
			return 1
		}
		return 0
	case []uint16:
		if t.dtype == Uint16 {
			return int64(d[i])
		}
	}
	return int64(t.f64At(i))
}

// int64s returns the elements as int64 (copying unless already int64).
func (t *Tensor) int64s() []int64 {
	if d, ok := t.data.([]int64); ok {
		return d
	}
	n := t.Len()
	out := make([]int64, n)
	for i := range out {
		out[i] = t.i64At(i)
	}
	return out
}

// bytes returns the raw little-endian memory of the data (shared, not copied).
func (t *Tensor) bytes() []byte {
	n := t.Len() * t.dtype.Size()
	if n == 0 {
		return nil
	}
	var p unsafe.Pointer
	switch d := t.data.(type) {
	case []float32:
		p = unsafe.Pointer(unsafe.SliceData(d))
	case []float64:
		p = unsafe.Pointer(unsafe.SliceData(d))
	case []int64:
		p = unsafe.Pointer(unsafe.SliceData(d))
	case []int32:
		p = unsafe.Pointer(unsafe.SliceData(d))
	case []int16:
		p = unsafe.Pointer(unsafe.SliceData(d))
	case []int8:
		p = unsafe.Pointer(unsafe.SliceData(d))
	case []uint64:
		p = unsafe.Pointer(unsafe.SliceData(d))
	case []uint32:
		p = unsafe.Pointer(unsafe.SliceData(d))
	case []uint16:
		p = unsafe.Pointer(unsafe.SliceData(d))
	case []uint8:
		p = unsafe.Pointer(unsafe.SliceData(d))
	case []bool:
		p = unsafe.Pointer(unsafe.SliceData(d))
	default:
		return nil
	}
	return unsafe.Slice((*byte)(p), n)
}

// Clone returns a deep copy.
func (t *Tensor) Clone() *Tensor {
	c := mustNew(t.dtype, t.shape)
	copy(c.bytes(), t.bytes())
	return c
}

// reshaped returns a tensor sharing t's data with another shape.
func (t *Tensor) reshaped(shape []int64) *Tensor {
	return &Tensor{dtype: t.dtype, shape: append([]int64{}, shape...), data: t.data}
}

// String summarizes the tensor (type, shape and up to 8 values).
func (t *Tensor) String() string {
	n := t.Len()
	s := fmt.Sprintf("%v%v[", t.dtype, t.shape)
	for i := 0; i < n && i < 8; i++ {
		if i > 0 {
			s += " "
		}
		s += strconv.FormatFloat(t.f64At(i), 'g', 6, 64)
	}
	if n > 8 {
		s += " ..."
	}
	return s + "]"
}

// FromProto decodes a TensorProto. Data may be in raw_data, in the typed fields,
// or external (data_location EXTERNAL; location, offset and length relative to baseDir).
func FromProto(tp *onnxpb.TensorProto, baseDir string) (*Tensor, error) {
	if tp == nil {
		return nil, fmt.Errorf("nil tensor")
	}
	dt := DType(tp.GetDataType())
	name := tp.GetName()
	if !dt.Supported() {
		return nil, fmt.Errorf("tensor %q: unsupported data type %v", name, dt)
	}
	if tp.GetSegment() != nil {
		return nil, fmt.Errorf("tensor %q: segmented tensors are not supported", name)
	}
	// Every size the model claims is checked against the data present
	// before the tensor is allocated.
	nbytes, err := SizeOf(dt, tp.GetDims())
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", name, err)
	}
	n := int(NumElements(tp.GetDims()))
	raw := tp.GetRawData()
	if tp.GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
		raw, err = extdata.Read(baseDir, tp.GetExternalData(), nbytes)
		if err != nil {
			return nil, fmt.Errorf("tensor %q: %w", name, err)
		}
	}
	external := tp.GetDataLocation() == onnxpb.TensorProto_EXTERNAL
	if (raw != nil || external) && int64(len(raw)) != nbytes {
		return nil, fmt.Errorf("tensor %q: raw data has %d bytes, shape %v of %v needs %d", name, len(raw), tp.GetDims(), dt, nbytes)
	}
	if !(raw != nil || external) {
		if k := typedLen(tp, dt); k != n {
			return nil, fmt.Errorf("tensor %q: %d values for shape %v", name, k, tp.GetDims())
		}
	}
	t, err := New(dt, tp.GetDims())
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", name, err)
	}
	if raw != nil || external {
		copy(t.bytes(), raw)
		if dt == Bool {
			b := t.data.([]bool)
			for i, v := range raw {
				b[i] = v != 0
			}
		}
		return t, nil
	}
	count := func(k int) error {
		if k != n {
			return fmt.Errorf("tensor %q: %d values for shape %v", name, k, t.shape)
		}
		return nil
	}
	switch d := t.data.(type) {
	case []float32:
		if err := count(len(tp.GetFloatData())); err != nil {
			return nil, err
		}
		copy(d, tp.GetFloatData())
	case []float64:
		if err := count(len(tp.GetDoubleData())); err != nil {
			return nil, err
		}
		copy(d, tp.GetDoubleData())
	case []int64:
		if err := count(len(tp.GetInt64Data())); err != nil {
			return nil, err
		}
		copy(d, tp.GetInt64Data())
	case []uint64:
		if err := count(len(tp.GetUint64Data())); err != nil {
			return nil, err
		}
		copy(d, tp.GetUint64Data())
	case []uint32:
		src := tp.GetUint64Data()
		if err := count(len(src)); err != nil {
			return nil, err
		}
		for i, v := range src {
			d[i] = uint32(v)
		}
	default:
		src := tp.GetInt32Data()
		if err := count(len(src)); err != nil {
			return nil, err
		}
		switch d := t.data.(type) {
		case []int32:
			copy(d, src)
		case []int16:
			for i, v := range src {
				d[i] = int16(v)
			}
		case []int8:
			for i, v := range src {
				d[i] = int8(v)
			}
		case []uint16:
			for i, v := range src {
				d[i] = uint16(v)
			}
		case []uint8:
			for i, v := range src {
				d[i] = uint8(v)
			}
		case []bool:
			for i, v := range src {
				d[i] = v != 0
			}
		}
	}
	return t, nil
}

// typedLen returns how many values the typed field that holds dt's data
// has (int32_data for the small integer types, bool and the 16-bit floats).
func typedLen(tp *onnxpb.TensorProto, dt DType) int {
	switch dt {
	case Float32:
		return len(tp.GetFloatData())
	case Float64:
		return len(tp.GetDoubleData())
	case Int64:
		return len(tp.GetInt64Data())
	case Uint64, Uint32:
		return len(tp.GetUint64Data())
	}
	return len(tp.GetInt32Data())
}

// Proto encodes the tensor as a TensorProto with raw_data.
func (t *Tensor) Proto(name string) *onnxpb.TensorProto {
	dt := int32(t.dtype)
	tp := &onnxpb.TensorProto{Dims: append([]int64{}, t.shape...), DataType: &dt}
	if name != "" {
		tp.Name = &name
	}
	raw := make([]byte, t.Len()*t.dtype.Size())
	if b, ok := t.data.([]bool); ok {
		for i, v := range b {
			if v {
				raw[i] = 1
			}
		}
	} else {
		copy(raw, t.bytes())
	}
	tp.RawData = raw
	return tp
}

var _ = binary.LittleEndian

// f16ToF32 converts IEEE 754 half-precision bits to float32.
func f16ToF32(h uint16) float32 { return half.F16ToF32(h) }

// f32ToF16 converts float32 to half-precision bits, rounding to nearest even.
func f32ToF16(f float32) uint16 { return half.F32ToF16(f) }

// bf16ToF32 converts bfloat16 bits to float32.
func bf16ToF32(h uint16) float32 { return half.BF16ToF32(h) }

// f32ToBF16 converts float32 to bfloat16 bits, rounding to nearest even.
func f32ToBF16(f float32) uint16 { return half.F32ToBF16(f) }
