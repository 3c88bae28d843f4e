package tensorfile_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/onnxloss/onnxloss/onnxpb"
	"github.com/onnxloss/onnxloss/tensorfile"
)

// Write logits and labels to an .npz file (what np.savez_compressed writes),
// then read them back as ONNX tensors.
func Example() {
	dir, err := os.MkdirTemp("", "tensorfile")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "in.npz")

	logits, err := tensorfile.New("logits", []int64{2, 3}, []float32{0.1, 2, -1, 0, 0.5, 3})
	if err != nil {
		log.Fatal(err)
	}
	labels, err := tensorfile.New("labels", []int64{2}, []int64{1, 2})
	if err != nil {
		log.Fatal(err)
	}
	if err := tensorfile.WriteFile(path, []*onnxpb.TensorProto{logits, labels}); err != nil {
		log.Fatal(err)
	}

	tensors, err := tensorfile.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range tensors {
		vals, _ := tensorfile.Float64s(t)
		fmt.Println(t.GetName(), onnxpb.TensorProto_DataType(t.GetDataType()), t.GetDims(), vals)
	}
	// Output:
	// logits FLOAT [2 3] [0.10000000149011612 2 -1 0 0.5 3]
	// labels INT64 [2] [1 2]
}
