package atomicfile_test

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/onnxloss/onnxloss/atomicfile"
)

func Example() {
	dir, _ := os.MkdirTemp("", "atomicfile-example-")
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "out.txt")
	err := atomicfile.Write(out, func(w io.Writer) error {
		_, err := io.WriteString(w, "complete\n")
		return err
	})
	b, _ := os.ReadFile(out)
	fmt.Printf("%v %q\n", err, b)
	fmt.Println(atomicfile.CheckOutput("/dev/null"))
	// Output:
	// <nil> "complete\n"
	// cannot write /dev/null: it is a character device; onnxloss replaces only regular files, give a file name
}
