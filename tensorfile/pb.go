package tensorfile

import (
	"fmt"
	"io"

	"github.com/onnxloss/onnxloss/onnxpb"
	"google.golang.org/protobuf/proto"
)

// ReadPB reads one serialized ONNX TensorProto (the input_N.pb / output_N.pb
// files of ONNX's test data sets) and returns it normalized to raw_data (see
// Normalize). A tensor without a name is given name.
func ReadPB(r io.Reader, name string) (*onnxpb.TensorProto, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var t onnxpb.TensorProto
	if err := proto.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("not a serialized ONNX TensorProto: %w", err)
	}
	nt, err := Normalize(&t)
	if err != nil {
		return nil, err
	}
	if nt.GetName() == "" {
		nt.Name = proto.String(name)
	}
	return nt, nil
}

// WritePB writes t as a serialized ONNX TensorProto with raw_data.
func WritePB(w io.Writer, t *onnxpb.TensorProto) error {
	nt, err := Normalize(t)
	if err != nil {
		return err
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(nt)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}
