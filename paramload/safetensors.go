package paramload

import (
	"fmt"
	"io"
	"os"

	"github.com/nlpodyssey/safetensors"

	"github.com/onnxloss/onnxloss/onnxpb"
)

// maxSafetensorsFile bounds the size of a .safetensors file read into memory.
const maxSafetensorsFile = 1 << 36 // 64 GiB

// stDTypes maps safetensors dtypes to ONNX element types (both store
// little-endian values, so the bytes carry over unchanged).
var stDTypes = map[safetensors.DType]onnxpb.TensorProto_DataType{
	safetensors.BOOL: onnxpb.TensorProto_BOOL,
	safetensors.U8:   onnxpb.TensorProto_UINT8,
	safetensors.I8:   onnxpb.TensorProto_INT8,
	safetensors.I16:  onnxpb.TensorProto_INT16,
	safetensors.U16:  onnxpb.TensorProto_UINT16,
	safetensors.F16:  onnxpb.TensorProto_FLOAT16,
	safetensors.BF16: onnxpb.TensorProto_BFLOAT16,
	safetensors.I32:  onnxpb.TensorProto_INT32,
	safetensors.U32:  onnxpb.TensorProto_UINT32,
	safetensors.F32:  onnxpb.TensorProto_FLOAT,
	safetensors.F64:  onnxpb.TensorProto_DOUBLE,
	safetensors.I64:  onnxpb.TensorProto_INT64,
	safetensors.U64:  onnxpb.TensorProto_UINT64,
}

// readSafetensorsFile reads a whole .safetensors file.
func readSafetensorsFile(path string) ([]*onnxpb.TensorProto, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file")
	}
	if st.Size() > maxSafetensorsFile {
		return nil, fmt.Errorf("%d bytes is more than the %d this tool reads", st.Size(), int64(maxSafetensorsFile))
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSafetensorsFile+1))
	if err != nil {
		return nil, err
	}
	return ParseSafetensors(data)
}

// ParseSafetensors decodes a .safetensors file held in data into tensors in
// the file's order. The header size, every offset and every byte count are
// checked against data (github.com/nlpodyssey/safetensors, a port of Hugging
// Face's reference reader) before anything is copied.
func ParseSafetensors(data []byte) ([]*onnxpb.TensorProto, error) {
	st, err := safetensors.Deserialize(data)
	if err != nil {
		return nil, fmt.Errorf("not a valid .safetensors file: %w", err)
	}
	var out []*onnxpb.TensorProto
	for _, nt := range st.Tensors() {
		tv := nt.TensorView
		elem, ok := stDTypes[tv.DType()]
		if !ok {
			return nil, fmt.Errorf("tensor %q has dtype %s, which ONNX has no type for", nt.Name, tv.DType())
		}
		dims := make([]int64, len(tv.Shape()))
		for i, d := range tv.Shape() {
			if d > 1<<62 {
				return nil, fmt.Errorf("tensor %q: dimension %d is too large", nt.Name, d)
			}
			dims[i] = int64(d)
		}
		name, dt := nt.Name, int32(elem)
		out = append(out, &onnxpb.TensorProto{Name: &name, DataType: &dt, Dims: dims, RawData: append([]byte{}, tv.Data()...)})
	}
	return out, nil
}
