package main

import (
	"strings"
	"testing"
)

// FuzzParseArgs: any command line either is rejected with a one-line
// message or parses into an argv whose every command flag that needs a
// value has one that is neither "--" nor a flag, and whose positional
// arguments are all kept, in order.
func FuzzParseArgs(f *testing.F) {
	for _, seed := range []string{
		"inject --loss cb_focal --counts c.json seg.onnx -o",
		"inject --loss focal --counts -o x.onnx m.onnx",
		"inject m.onnx --ignore-index -100 -o - --json",
		"counts - -o - --num-classes=3",
		"-q inject --ignore_index 255",
		"--bogus", "injct", "inspect -- -weird.onnx", "weights --counts=- --plot -",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args := append([]string{"onnxloss"}, strings.Fields(line)...)
		app := newApp(nil, nil)
		p, err := parseArgs(app, args)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if p.command == nil {
			return
		}
		own := flagIndex(p.command.Flags)
		for i := 0; i < len(p.flags); i++ {
			name, _, hasValue := strings.Cut(strings.TrimLeft(p.flags[i], "-"), "=")
			fl, ok := own[name]
			if !ok || hasValue || !takesValue(fl) {
				continue
			}
			if i+1 >= len(p.flags) || p.flags[i+1] == "--" || strings.HasPrefix(p.flags[i+1], "--") {
				t.Fatalf("flag %s got no value in %q", p.flags[i], p.flags)
			}
			i++
		}
		argv := p.argv("onnxloss")
		if len(p.positional) > 0 && argv[len(argv)-len(p.positional)-1] != "--" {
			t.Fatalf("positional arguments not after --: %q", argv)
		}
	})
}
