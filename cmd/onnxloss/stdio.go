package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"
)

// stdoutFlags are the flags naming an output file; "-" as their value means
// standard output. Input files are the positional arguments and the flags
// marked TakesFile; "-" there means standard input. Every command gets this
// from run, none handles "-" itself.
var stdoutFlags = map[string]bool{"output": true, "plot": true}

// ownStdin are the commands that read a positional "-" themselves
// (counts streams standard input and sniffs its format).
var ownStdin = map[string]bool{"counts": true}

// stdio stands a temporary file in for "-": standard input is copied into
// one before the command runs, an output written to one is copied to
// standard output after the command succeeded (so a failed run writes
// nothing there).
type stdio struct {
	dir     string
	stdin   string // temporary copy of standard input, "" if unused
	stdinBy string // what read standard input, for the "read once" error
	stdout  string // temporary output to copy to standard output
}

// stdinName and stdoutName are what the temporary files are called in
// messages.
const (
	stdinName  = "<stdin>"
	stdoutName = "<stdout>"
)

// bind replaces "-" in p's input and output positions with temporary
// files. in is standard input.
func (s *stdio) bind(p *parsedArgs, in io.Reader) error {
	if p.command == nil {
		return nil
	}
	own := flagIndex(p.command.Flags)
	where := "onnxloss " + p.command.Name
	useStdin := func(what string, tensorFile bool) (string, error) {
		if s.stdin != "" {
			return "", usageErr{fmt.Sprintf("standard input (-) is given twice, to %s and %s: it can be read once, pass one of them as a file (see `%s --help`)", s.stdinBy, what, where)}
		}
		if err := s.mkdir(); err != nil {
			return "", err
		}
		data, err := io.ReadAll(in)
		if err != nil {
			return "", fmt.Errorf("reading standard input: %w", err)
		}
		path := filepath.Join(s.dir, "stdin"+sniffExtension(data, tensorFile))
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return "", err
		}
		s.stdin, s.stdinBy = path, what
		return path, nil
	}
	for i, a := range p.positional {
		if a == "-" && !ownStdin[p.command.Name] {
			path, err := useStdin(strings.ToUpper(argsUsage(p.command)), false)
			if err != nil {
				return err
			}
			p.positional[i] = path
		}
	}
	for i := 0; i < len(p.flags); i++ {
		name, value, hasValue := strings.Cut(strings.TrimLeft(p.flags[i], "-"), "=")
		f := own[name]
		if f == nil || !takesValue(f) {
			continue
		}
		at := -1
		if !hasValue && i+1 < len(p.flags) {
			at, value = i+1, p.flags[i+1]
			i++
		}
		if value != "-" {
			continue
		}
		var path string
		switch {
		case stdoutFlags[f.Names()[0]]:
			if s.stdout != "" {
				return usageErr{fmt.Sprintf("standard output (-) is given twice: write one of the outputs to a file (see `%s --help`)", where)}
			}
			if err := s.mkdir(); err != nil {
				return err
			}
			path = filepath.Join(s.dir, "stdout"+extensionHint(p.command, f))
			s.stdout = path
		case takesFile(f):
			var err error
			if path, err = useStdin(dashed(f.Names()[0]), f.Names()[0] != "counts"); err != nil {
				return err
			}
		default:
			continue
		}
		if at < 0 {
			p.flags[i] = p.flags[i][:strings.Index(p.flags[i], "=")+1] + path
		} else {
			p.flags[at] = path
		}
	}
	if s.stdout != "" {
		for _, a := range p.flags {
			if a == "--json" || a == "-json" || a == "--json=true" {
				return usageErr{fmt.Sprintf("--json and an output to - both write to standard output: write the output to a file (see `%s --help`)", where)}
			}
		}
	}
	return nil
}

// extensionHint keeps an output's format choosable when it goes to standard
// output: commands that pick the format from the extension get the
// default one.
func extensionHint(cmd *cli.Command, f cli.Flag) string {
	if f.Names()[0] == "plot" {
		return ".png"
	}
	if cmd.Name == "counts" {
		return ".json"
	}
	return ".onnx"
}

func takesFile(f cli.Flag) bool {
	sf, ok := f.(*cli.StringFlag)
	return ok && sf.TakesFile
}

// argsUsage names a command's positional argument, e.g. "MODEL".
func argsUsage(cmd *cli.Command) string {
	if cmd.ArgsUsage == "" {
		return "the argument"
	}
	return strings.Fields(cmd.ArgsUsage)[0]
}

func (s *stdio) mkdir() error {
	if s.dir != "" {
		return nil
	}
	d, err := os.MkdirTemp("", "onnxloss-stdio-")
	if err != nil {
		return fmt.Errorf("temporary directory for - : %w", err)
	}
	s.dir = d
	return nil
}

// flush copies the temporary output to w.
func (s *stdio) flush(w io.Writer) error {
	if s.stdout == "" {
		return nil
	}
	f, err := os.Open(s.stdout)
	if err != nil {
		return fmt.Errorf("the output for standard output was not written: %w", err)
	}
	defer f.Close()
	if _, err := io.Copy(w, f); err != nil {
		return fmt.Errorf("writing standard output: %w", err)
	}
	return nil
}

func (s *stdio) close() {
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}

// rename shows the temporary files as <stdin> and <stdout> in what a
// command prints.
func (s *stdio) rename(w io.Writer) io.Writer {
	var pairs [][2][]byte
	if s.stdin != "" {
		pairs = append(pairs, [2][]byte{[]byte(s.stdin), []byte(stdinName)})
	}
	if s.stdout != "" {
		pairs = append(pairs, [2][]byte{[]byte(s.stdout), []byte(stdoutName)})
	}
	if len(pairs) == 0 {
		return w
	}
	return renamingWriter{w, pairs}
}

// renamingWriter replaces byte strings in every write; each message is one
// Fprintf, so a path never straddles two writes.
type renamingWriter struct {
	w     io.Writer
	pairs [][2][]byte
}

func (r renamingWriter) Write(b []byte) (int, error) {
	out := b
	for _, p := range r.pairs {
		out = bytes.ReplaceAll(out, p[0], p[1])
	}
	if _, err := r.w.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}

// sniffExtension names standard input's format for readers that choose by
// extension: .npy and .npz by their magic bytes; for tensor-file flags also
// .json (a leading { or [) and otherwise .pb. Anything else gets none
// (models and counts JSON are read whatever the name; labels default to
// text).
func sniffExtension(data []byte, tensorFile bool) string {
	switch {
	case bytes.HasPrefix(data, []byte("\x93NUMPY")):
		return ".npy"
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return ".npz"
	case !tensorFile:
		return ""
	case len(bytes.TrimSpace(data)) > 0 && (bytes.TrimSpace(data)[0] == '{' || bytes.TrimSpace(data)[0] == '['):
		return ".json"
	}
	return ".pb"
}
