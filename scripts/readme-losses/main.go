// Command readme-losses rewrites the table of losses in README.md from the
// loss catalogue (lossops.ReadmeTable): go run ./scripts/readme-losses.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/onnxloss/onnxloss/lossops"
)

const (
	begin = "<!-- losses table: generated"
	end   = "<!-- end of losses table -->"
)

func main() {
	if err := rewrite("README.md"); err != nil {
		fmt.Fprintln(os.Stderr, "readme-losses:", err)
		os.Exit(1)
	}
}

func rewrite(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := string(raw)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		return fmt.Errorf("%s has no %q … %q section", path, begin, end)
	}
	head := s[i:]
	head = head[:strings.Index(head, "\n")+1]
	out := s[:i] + head + lossops.ReadmeTable() + s[j:]
	return os.WriteFile(path, []byte(out), 0o644)
}
