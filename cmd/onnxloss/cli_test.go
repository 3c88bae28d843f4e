package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/onnxpb"
	"github.com/onnxloss/onnxloss/tensorfile"
)

// runBin runs the real binary with stdin and returns exit code, stdout, stderr.
func runBin(t *testing.T, stdin []byte, args ...string) (int, []byte, string) {
	t.Helper()
	cmd := exec.Command(buildBinary(t), args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.Bytes(), stderr.String()
}

// TestNoArgumentsPrintsUsage: `onnxloss` alone is a usage error.
func TestNoArgumentsPrintsUsage(t *testing.T) {
	code, out, errText := runBin(t, nil)
	if code != 2 || len(out) != 0 || !strings.Contains(errText, "USAGE:") || !strings.Contains(errText, "inject") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errText)
	}
}

// TestHelpCommand: `onnxloss help inject` and `inject -h` print the
// command's help.
func TestHelpCommand(t *testing.T) {
	for _, args := range [][]string{{"help", "inject"}, {"inject", "-h"}, {"h"}} {
		code, out, e := runBin(t, nil, args...)
		if code != 0 || !strings.Contains(string(out), "inject") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, e)
		}
	}
}

// TestVersionCommand: `onnxloss version` and --version agree; -v is --verbose.
func TestVersionCommand(t *testing.T) {
	code, out, _ := runBin(t, nil, "version")
	code2, out2, _ := runBin(t, nil, "--version")
	if code != 0 || code2 != 0 || !strings.HasPrefix(string(out), "onnxloss ") || !strings.Contains(string(out2), strings.TrimPrefix(strings.TrimSpace(string(out)), "onnxloss ")) {
		t.Fatalf("version: %d %q; --version: %d %q", code, out, code2, out2)
	}
}

// TestStdinStdout: "-" is standard input for models and counts and
// standard output for models and counts JSON; the model written to stdout
// is byte-identical to the one written to a file, and stderr names
// <stdin>/<stdout> instead of temporary paths.
func TestStdinStdout(t *testing.T) {
	d := t.TempDir()
	model, err := os.ReadFile(modelPath("mlp_o13.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	counts := writeFile(t, filepath.Join(d, "c.json"), "[500, 120, 7, 40, 3]")
	toFile := filepath.Join(d, "file.onnx")
	if code, _, e := runBin(t, nil, "inject", "--loss", "cb_focal", "--counts", counts, "-o", toFile, modelPath("mlp_o13.onnx")); code != 0 {
		t.Fatalf("to file: %d %s", code, e)
	}
	want, _ := os.ReadFile(toFile)
	code, got, errText := runBin(t, model, "inject", "--loss", "cb_focal", "--counts", counts, "-o", "-", "-")
	if code != 0 || !bytes.Equal(got, want) {
		t.Fatalf("model via stdin/stdout: exit %d, %d bytes (want %d identical); stderr %s", code, len(got), len(want), errText)
	}
	if !strings.Contains(errText, "wrote <stdout>") || strings.Contains(errText, os.TempDir()) {
		t.Errorf("stderr should name <stdout>, not a temporary path: %s", errText)
	}
	if _, err := graphedit.LoadBytes(got); err != nil {
		t.Errorf("stdout is not a model: %v", err)
	}
	// Counts JSON from stdin.
	code, got, errText = runBin(t, []byte("[500, 120, 7, 40, 3]"), "inject", "--loss", "cb_focal", "--counts", "-", "-o", "-", modelPath("mlp_o13.onnx"))
	if code != 0 || !bytes.Equal(got, want) {
		t.Fatalf("counts via stdin: exit %d; stderr %s", code, errText)
	}
	// counts: labels from stdin, JSON to stdout, same as from a file.
	labels := "0\n1\n1\n2\n2\n2\n"
	code, got, errText = runBin(t, []byte(labels), "counts", "-", "-o", "-")
	if code != 0 || !strings.HasPrefix(strings.TrimSpace(string(got)), `{"counts":[1,2,3]`) {
		t.Fatalf("counts - -o -: exit %d, stdout %q, stderr %s", code, got, errText)
	}
	// inspect from stdin names <stdin>.
	code, got, _ = runBin(t, model, "inspect", "-")
	if code != 0 || !strings.Contains(string(got), "<stdin>") {
		t.Fatalf("inspect -: exit %d, %s", code, got)
	}
	// Tensor files from stdin: verify --inputs - reads the .npz by its
	// magic bytes and reports what it reports for the file.
	x := make([]float32, 3*16)
	for i := range x {
		x[i] = float32(math.Sin(float64(i) * 0.7))
	}
	xT, _ := tensorfile.New("x", []int64{3, 16}, x)
	labT, _ := tensorfile.New("labels", []int64{3}, []int64{4, 0, 2})
	npz := filepath.Join(d, "in.npz")
	if err := tensorfile.WriteFile(npz, []*onnxpb.TensorProto{xT, labT}); err != nil {
		t.Fatal(err)
	}
	npzBytes, _ := os.ReadFile(npz)
	codeF, fromFile, _ := runBin(t, nil, "verify", "--json", "--inputs", npz, toFile)
	codeS, fromStdin, e := runBin(t, npzBytes, "verify", "--json", "--inputs", "-", toFile)
	if codeF != 0 || codeS != 0 || !bytes.Equal(bytes.ReplaceAll(fromFile, []byte(npz), []byte("<stdin>")), fromStdin) {
		t.Errorf("verify --inputs -: exit %d/%d; file %s\nstdin %s\n%s", codeF, codeS, fromFile, fromStdin, e)
	}
	// A failed run writes nothing to stdout.
	code, got, _ = runBin(t, model, "inject", "--loss", "cb_focal", "--counts", counts, "--gamma", "-1", "-o", "-", "-")
	if code != 2 || len(got) != 0 {
		t.Fatalf("failed run: exit %d, %d bytes on stdout", code, len(got))
	}
}

// TestFlagOrder: flags after the model, values that start with "-"
// (negative numbers) and --flag=value all parse as intended.
func TestFlagOrder(t *testing.T) {
	d := t.TempDir()
	counts := writeFile(t, filepath.Join(d, "c.json"), "[500, 120, 7, 40, 3]")
	out := filepath.Join(d, "o.onnx")
	code, stdout, errText := runBin(t, nil, "inject", modelPath("mlp_o13.onnx"), "--loss", "focal", "--counts", counts, "--ignore-index", "-100", "-o", out, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errText)
	}
	var js struct {
		Output   string `json:"output"`
		Metadata struct {
			IgnoreIndex *int64 `json:"ignore_index"`
			Reduction   string `json:"reduction"`
		} `json:"onnxloss"`
	}
	if err := json.Unmarshal(stdout, &js); err != nil || js.Metadata.IgnoreIndex == nil || *js.Metadata.IgnoreIndex != -100 || js.Output != out {
		t.Fatalf("inject --json: %v %s", err, stdout)
	}
	// The summary names the options that are easy to get wrong silently.
	if !strings.Contains(errText, "loss options: reduction mean, ignore_index -100, weighting inverse, targets index, class axis 1, heads 1") {
		t.Errorf("summary lacks the options line: %s", errText)
	}
}

// TestQuietVerbose: --quiet leaves stderr empty on success (errors still
// show), --verbose lists every flag's effective value; both work before or
// after the command.
func TestQuietVerbose(t *testing.T) {
	d := t.TempDir()
	counts := writeFile(t, filepath.Join(d, "c.json"), "[500, 120, 7, 40, 3]")
	out := filepath.Join(d, "o.onnx")
	base := []string{"inject", "--loss", "focal", "--counts", counts, "-o", out, modelPath("mlp_o13.onnx")}
	for _, args := range [][]string{append([]string{"--quiet"}, base...), append(append([]string{}, base...), "-q")} {
		if code, _, e := runBin(t, nil, args...); code != 0 || e != "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, e)
		}
	}
	if code, _, e := runBin(t, nil, "-q", "inject", "--loss", "focal", "--counts", counts, "--gamma", "-1", "-o", out, modelPath("mlp_o13.onnx")); code != 2 || !strings.Contains(e, "gamma") {
		t.Errorf("--quiet hid an error: exit %d, %q", code, e)
	}
	code, _, e := runBin(t, nil, append([]string{"-v"}, base...)...)
	for _, want := range []string{"onnxloss inject: --tau 1 (default)", "onnxloss inject: --loss focal (given)", "onnxloss inject: --ignore-index none (default)"} {
		if code != 0 || !strings.Contains(e, want) {
			t.Errorf("--verbose: exit %d, stderr lacks %q: %s", code, want, e)
		}
	}
}

// TestPlotFormats: weights --plot writes what the extension says, checked
// by the files' magic bytes.
func TestPlotFormats(t *testing.T) {
	d := t.TempDir()
	counts := writeFile(t, filepath.Join(d, "c.json"), "[500, 120, 7, 40, 3]")
	for ext, magic := range map[string]string{".png": "\x89PNG\r\n", ".svg": "<?xml", ".pdf": "%PDF-", ".SVG": "<?xml"} {
		p := filepath.Join(d, "w"+ext)
		if code, _, e := runBin(t, nil, "weights", "--counts", counts, "--plot", p); code != 0 {
			t.Fatalf("%s: exit %d: %s", ext, code, e)
		}
		b, _ := os.ReadFile(p)
		if !bytes.HasPrefix(b, []byte(magic)) {
			t.Errorf("%s starts %q, want %q", ext, b[:min(len(b), 8)], magic)
		}
		if ext == ".svg" && !bytes.Contains(b, []byte("<svg")) {
			t.Errorf("%s has no <svg element", ext)
		}
	}
}

// TestCompletion: the bash script completes commands and each command's
// flags when bash runs it; zsh and fish scripts name every command and flag.
func TestCompletion(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	code, script, e := runBin(t, nil, "completion", "bash")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, e)
	}
	d := t.TempDir()
	sp := writeFile(t, filepath.Join(d, "c.bash"), string(script))
	complete := func(words ...string) string {
		arr := "onnxloss " + strings.Join(words, " ")
		sh := "source " + sp + "; COMP_WORDS=(" + arr + "); COMP_CWORD=" + itoa(int64(len(words))) + "; _onnxloss; echo \"${COMPREPLY[*]}\""
		out, err := exec.Command(bash, "-c", sh).CombinedOutput()
		if err != nil {
			t.Fatalf("bash: %v: %s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if got := complete("inj"); got != "inject" {
		t.Errorf("complete inj: %q", got)
	}
	if got := complete("inject", "--ignore"); got != "--ignore-index" {
		t.Errorf("complete inject --ignore: %q", got)
	}
	if got := complete("completion", "f"); got != "fish" {
		t.Errorf("complete completion f: %q", got)
	}
	app := newApp(nil, nil)
	for _, shell := range []string{"zsh", "fish"} {
		code, script, e := runBin(t, nil, "completion", shell)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", shell, code, e)
		}
		for _, c := range visibleCommands(app) {
			if !bytes.Contains(script, []byte(c.Name)) {
				t.Errorf("%s script lacks command %s", shell, c.Name)
			}
			for _, f := range c.Flags {
				if !bytes.Contains(script, []byte(f.Names()[0])) {
					t.Errorf("%s script lacks %s --%s", shell, c.Name, f.Names()[0])
				}
			}
		}
	}
}

// TestNoCountsNeeded: a loss that reads no counts is injected without
// --counts, C taken from the logits, and the result passes verify; it is
// the same graph as with a counts file (only the recorded counts differ).
func TestNoCountsNeeded(t *testing.T) {
	d := t.TempDir()
	counts := writeFile(t, filepath.Join(d, "c.json"), "[500, 120, 7, 40, 3]")
	without, with := filepath.Join(d, "without.onnx"), filepath.Join(d, "with.onnx")
	if code, _, e := runBin(t, nil, "inject", "--loss", "sigmoid_focal", "--targets", "multi-hot", "-o", without, modelPath("mlp_o13.onnx")); code != 0 || !strings.Contains(e, "no --counts: C = 5 from axis 1") {
		t.Fatalf("exit %d: %s", code, e)
	}
	if code, _, e := runBin(t, nil, "inject", "--loss", "sigmoid_focal", "--targets", "multi-hot", "--counts", counts, "-o", with, modelPath("mlp_o13.onnx")); code != 0 {
		t.Fatalf("exit %d: %s", code, e)
	}
	if code, out, e := runBin(t, nil, "verify", without); code != 0 {
		t.Fatalf("verify: exit %d: %s %s", code, out, e)
	}
	a, err1 := graphedit.Load(without)
	b, err2 := graphedit.Load(with)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if len(a.Proto.GetGraph().GetNode()) != len(b.Proto.GetGraph().GetNode()) {
		t.Errorf("%d nodes without counts, %d with", len(a.Proto.GetGraph().GetNode()), len(b.Proto.GetGraph().GetNode()))
	}
	for i, n := range a.Proto.GetGraph().GetNode() {
		if m := b.Proto.GetGraph().GetNode()[i]; n.GetOpType() != m.GetOpType() {
			t.Errorf("node %d: %s without counts, %s with", i, n.GetOpType(), m.GetOpType())
		}
	}
}
