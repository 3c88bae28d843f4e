package extdata_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/onnxloss/onnxloss/extdata"
	"github.com/onnxloss/onnxloss/onnxpb"
)

func Example() {
	dir, _ := os.MkdirTemp("", "extdata-example-")
	defer os.RemoveAll(dir)
	os.WriteFile(filepath.Join(dir, "weights.bin"), []byte("0123456789"), 0o644)
	entries := func(location string) []*onnxpb.StringStringEntryProto {
		k, off := "location", "offset"
		two := "2"
		return []*onnxpb.StringStringEntryProto{{Key: &k, Value: &location}, {Key: &off, Value: &two}}
	}
	b, err := extdata.Read(dir, entries("weights.bin"), 4)
	fmt.Printf("%q %v\n", b, err)
	_, err = extdata.Read(dir, entries("../../etc/passwd"), 4)
	fmt.Println(err)
	// Output:
	// "2345" <nil>
	// external data location "../../etc/passwd" leaves the model's directory: onnxloss reads external data only from files inside it (move the file beside the model)
}
