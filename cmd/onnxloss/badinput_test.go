package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/internal/refs"
	"github.com/onnxloss/onnxloss/onnxpb"
)

// buildBinary compiles the real onnxloss binary once per test binary.
func buildBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "onnxloss-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "onnxloss")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = err
			binPath = string(out)
		}
	})
	if binErr != nil {
		t.Fatalf("go build: %v: %s", binErr, binPath)
	}
	return binPath
}

// tinyModel writes a one-node model (Identity of an input of the given type
// and shape) at the given opset.
func tinyModel(t *testing.T, path string, opset int64, elem onnxpb.TensorProto_DataType, shape ...int64) {
	t.Helper()
	dims := make([]graphedit.Dim, len(shape))
	for i, d := range shape {
		dims[i] = graphedit.Dim{Value: d}
	}
	vt := graphedit.ValueType{Elem: elem, Shape: dims}
	s := func(v string) *string { return &v }
	mp := &onnxpb.ModelProto{
		IrVersion:   ptrI64(7),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: s(""), Version: ptrI64(opset)}},
		Graph: &onnxpb.GraphProto{
			Name:   s("tiny"),
			Input:  []*onnxpb.ValueInfoProto{graphedit.TensorValueInfo("x", vt)},
			Output: []*onnxpb.ValueInfoProto{graphedit.TensorValueInfo("y", vt)},
			Node:   []*onnxpb.NodeProto{{Name: s("id"), OpType: s("Identity"), Input: []string{"x"}, Output: []string{"y"}}},
		},
	}
	if err := (&graphedit.Model{Proto: mp}).Save(path); err != nil {
		t.Fatal(err)
	}
}

func ptrI64(v int64) *int64 { return &v }

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func fileHash(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		return [32]byte{}
	}
	return sha256.Sum256(b)
}

// TestBadInputThroughCLI drives the real binary with bad models, counts and
// flags: each run exits with the expected code, prints exactly one line on
// stderr containing the expected fragment, writes no output file and leaves
// the input untouched.
func TestBadInputThroughCLI(t *testing.T) {
	bin := buildBinary(t)
	root, err := refs.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	d := t.TempDir()
	src, err := os.ReadFile(filepath.Join(root, "testdata", "models", "mlp_o13.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	mlp := filepath.Join(d, "mlp.onnx")
	writeFile(t, mlp, string(src))
	truncated := writeFile(t, filepath.Join(d, "truncated.onnx"), string(src[:len(src)/2]))
	empty := writeFile(t, filepath.Join(d, "empty.onnx"), "")
	text := writeFile(t, filepath.Join(d, "text.onnx"), "this is not a model\n")
	// A serialized TensorProto: valid protobuf, not a model.
	tensorPB := writeFile(t, filepath.Join(d, "tensor.onnx"), "\x08\x02\x08\x03\x10\x01\x4a\x04\x00\x00\x80\x3f")
	noGraph := writeFile(t, filepath.Join(d, "nograph.onnx"), "\x08\x07\x12\x05torch")
	opset10 := filepath.Join(d, "opset10.onnx")
	tinyModel(t, opset10, 10, onnxpb.TensorProto_FLOAT, 4, 5)
	intLogits := filepath.Join(d, "int.onnx")
	tinyModel(t, intLogits, 13, onnxpb.TensorProto_INT64, 4, 5)
	rank1 := filepath.Join(d, "rank1.onnx")
	tinyModel(t, rank1, 13, onnxpb.TensorProto_FLOAT, 5)
	dirAsModel := filepath.Join(d, "adir")
	if err := os.Mkdir(dirAsModel, 0o755); err != nil {
		t.Fatal(err)
	}

	counts := writeFile(t, filepath.Join(d, "counts.json"), "[500, 120, 7, 40, 3]")
	counts4 := writeFile(t, filepath.Join(d, "counts4.json"), "[500, 120, 7, 40]")
	counts6 := writeFile(t, filepath.Join(d, "counts6.json"), "[500, 120, 7, 40, 3, 9]")
	countsOneZero := writeFile(t, filepath.Join(d, "onezero.json"), "[500, 0, 7, 40, 3]")
	bad := func(name, content string) string { return writeFile(t, filepath.Join(d, name), content) }

	injected := filepath.Join(d, "injected.onnx")
	if out, err := exec.Command(bin, "inject", "--loss", "focal", "--counts", counts, "-o", injected, mlp).CombinedOutput(); err != nil {
		t.Fatalf("setup inject: %v: %s", err, out)
	}

	out := filepath.Join(d, "out.onnx")
	inj := func(model string, extra ...string) []string {
		return append(append([]string{"inject", "--loss", "cb_focal", "--counts", counts, "-o", out}, extra...), model)
	}
	withCounts := func(c string, extra ...string) []string {
		return append(append([]string{"inject", "--loss", "cb_focal", "--counts", c, "-o", out}, extra...), mlp)
	}
	adj := func(loss, c string, extra ...string) []string {
		return append(append([]string{"inject", "--loss", loss, "--counts", c, "-o", out}, extra...), mlp)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string // fragment of the one stderr line
	}{
		{"missing model", inj(filepath.Join(d, "nope.onnx")), 2, "no such file"},
		{"directory as model", inj(dirAsModel), 2, "is a directory"},
		{"empty model", inj(empty), 2, "empty"},
		{"text file", inj(text), 2, "not an ONNX model"},
		{"protobuf but not ONNX", inj(tensorPB), 2, "not an ONNX model"},
		{"truncated model", inj(truncated), 2, "truncated"},
		{"model without graph", inj(noGraph), 2, "no graph"},
		{"inspect garbage", []string{"inspect", text}, 2, "not an ONNX model"},
		{"inspect missing", []string{"inspect", filepath.Join(d, "nope.onnx")}, 2, "no such file"},
		{"unknown loss", []string{"inject", "--loss", "hinge", "--counts", counts, "-o", out, mlp}, 2, `unknown loss "hinge"`},
		{"logits not found", inj(mlp, "--logits", "nope"), 2, `--logits "nope" is not a value`},
		{"logits of rank 1", inj(rank1), 2, "rank >= 2"},
		{"logits rank 1 explicit", inj(mlp, "--logits", "fc2.bias"), 2, "rank 1"},
		{"integer logits", inj(intLogits, "--logits", "y"), 2, "int64"},
		{"C mismatch", withCounts(counts4), 2, "have 5 classes (dim 1) but the counts give 4"},
		{"counts empty file", withCounts(bad("c_empty.json", "")), 2, "empty"},
		{"counts not JSON", withCounts(bad("c_text.json", "cat: 5\n")), 2, "JSON"},
		{"counts empty array", withCounts(bad("c_emptyarr.json", "[]")), 2, "empty"},
		{"counts negative", withCounts(bad("c_neg.json", "[5, -1, 7, 40, 3]")), 2, "must be >= 0"},
		{"counts NaN string", withCounts(bad("c_nan.json", `[5, "NaN", 7, 40, 3]`)), 2, "NaN"},
		{"counts Inf string", withCounts(bad("c_inf.json", `[5, "Infinity", 7, 40, 3]`)), 2, "Infinity"},
		{"counts non-numeric", withCounts(bad("c_str.json", `[5, "many", 7, 40, 3]`)), 2, "many"},
		{"counts wrong ids", withCounts(bad("c_ids.json", `{"0": 5, "1": 6, "2": 7, "3": 8, "7": 9}`)), 2, "7"},
		{"counts all zero", withCounts(bad("c_zero.json", "[0, 0, 0, 0, 0]")), 2, "zero"},
		{"counts one zero", withCounts(countsOneZero), 2, "--zero-counts skip"},
		{"counts one zero skipped", withCounts(countsOneZero, "--zero-counts", "skip"), 0, ""},
		{"beta 1", inj(mlp, "--beta", "1"), 2, "beta"},
		{"beta negative", inj(mlp, "--beta", "-0.5"), 2, "beta"},
		{"gamma negative", inj(mlp, "--gamma", "-1"), 2, "gamma"},
		{"alpha above 1", inj(mlp, "--alpha", "1.5"), 2, "alpha"},
		{"label smoothing 1", []string{"inject", "--loss", "weighted_ce", "--counts", counts, "--label-smoothing", "1", "-o", out, mlp}, 2, "label smoothing"},
		{"label smoothing negative", []string{"inject", "--loss", "weighted_ce", "--counts", counts, "--label-smoothing", "-0.1", "-o", out, mlp}, 2, "label smoothing"},
		{"labels name collides", inj(mlp, "--labels-name", "x"), 2, `already has a value named "x"`},
		{"loss name collides", inj(mlp, "--loss-name", "logits"), 2, `already has a value named "logits"`},
		{"reduction foo", inj(mlp, "--reduction", "foo"), 2, `unknown reduction "foo"`},
		{"opset 10", inj(opset10), 2, "opset 11 or newer"},
		{"output dir missing", []string{"inject", "--loss", "focal", "--counts", counts, "-o", filepath.Join(d, "missing", "out.onnx"), mlp}, 2, "does not exist"},
		{"output is input", []string{"inject", "--loss", "focal", "--counts", counts, "-o", mlp, mlp}, 2, "is the input"},
		{"second injection", []string{"inject", "--loss", "focal", "--counts", counts, "-o", out, injected}, 2, "--replace"},
		{"multi-hot with softmax loss", []string{"inject", "--loss", "focal", "--counts", counts, "--targets", "multi-hot", "-o", out, mlp}, 2, "multi-hot targets need a sigmoid loss"},
		{"targets foo", inj(mlp, "--targets", "foo"), 2, "--targets"},
		{"labels dtype float", inj(mlp, "--labels-dtype", "float32"), 2, "--labels-dtype"},
		{"weighting foo", inj(mlp, "--weighting", "foo"), 2, "foo"},
		{"normalize foo", inj(mlp, "--normalize", "foo"), 2, "--normalize"},
		{"zero-counts foo", inj(mlp, "--zero-counts", "foo"), 2, "--zero-counts"},
		{"missing counts flag", []string{"inject", "--loss", "focal", "-o", out, mlp}, 2, "counts"},
		{"missing output flag", []string{"inject", "--loss", "focal", "--counts", counts, mlp}, 2, "output"},
		{"two models", []string{"inject", "--loss", "focal", "--counts", counts, "-o", out, mlp, mlp}, 2, "expected one MODEL"},
		{"unknown flag", inj(mlp, "--bogus"), 2, "bogus"},
		{"unknown command", []string{"frobnicate"}, 2, "frobnicate"},
		{"ldam zero count", adj("ldam", countsOneZero), 2, "class 1 has count 0, so its margin"},
		{"ldam zero count skipped", adj("ldam", countsOneZero, "--zero-counts", "skip"), 0, ""},
		{"logit_adjusted zero count", adj("logit_adjusted", countsOneZero), 2, "--zero-counts skip"},
		{"balanced_softmax zero count skipped", adj("balanced_softmax", countsOneZero, "--zero-counts", "skip"), 0, ""},
		{"ldam scale 0", adj("ldam", counts, "--scale", "0"), 2, "scale 0 is invalid"},
		{"ldam scale negative", adj("ldam", counts, "--scale", "-30"), 2, "scale -30 is invalid"},
		{"ldam max margin 0", adj("ldam", counts, "--max-margin", "0"), 2, "max margin 0 is invalid"},
		{"ldam max margin Inf", adj("ldam", counts, "--max-margin", "Inf"), 2, "max margin +Inf is invalid"},
		{"logit_adjusted tau NaN", adj("logit_adjusted", counts, "--tau", "NaN"), 2, "tau NaN is invalid"},
		{"logit_adjusted weighted", adj("logit_adjusted", counts, "--weighting", "inverse"), 2, "takes no class weights"},
		{"balanced_softmax weighted", adj("balanced_softmax", counts, "--weighting", "effective"), 2, "takes no class weights"},
		{"balanced_softmax multi-hot", adj("balanced_softmax", counts, "--targets", "multi-hot"), 2, "multi-hot targets need a sigmoid loss"},
		{"dice smooth negative", adj("dice", counts, "--smooth", "-1"), 2, "smooth -1 is invalid"},
		{"dice foreground", adj("dice", counts, "--reduction", "foreground"), 2, "not foreground"},
		{"tversky beta negative", adj("tversky", counts, "--tversky-beta", "-0.5"), 2, "--tversky-beta -0.5 is invalid"},
		{"asl clip 1", adj("asl", counts, "--clip", "1"), 2, "--clip 1 is invalid"},
		{"asl gamma-neg NaN", adj("asl", counts, "--gamma-neg", "NaN"), 2, "--gamma-neg NaN is invalid"},
		{"detach focusing on focal", adj("focal", counts, "--detach-focusing"), 2, "asl only"},
		{"poly1 epsilon Inf", adj("poly1", counts, "--epsilon", "Inf"), 2, "epsilon +Inf is invalid"},
		{"seesaw weighted", adj("seesaw", counts, "--weighting", "inverse"), 2, "takes no class weights"},
		{"seesaw q negative", adj("seesaw", counts, "--seesaw-q", "-2"), 2, "--seesaw-q -2 is invalid"},
		{"seesaw zero count", adj("seesaw", countsOneZero), 2, "--zero-counts skip"},
		{"seesaw zero count skipped", adj("seesaw", countsOneZero, "--zero-counts", "skip"), 0, ""},
		{"generalized_dice foreground", adj("generalized_dice", counts, "--reduction", "foreground"), 2, "not foreground"},
		{"class axis outside", inj(mlp, "--class-axis", "2"), 2, "--class-axis 2 is outside"},
		{"class axis negative outside", inj(mlp, "--class-axis", "-3"), 2, "--class-axis -3 is outside"},
		{"class axis not a number", inj(mlp, "--class-axis", "last"), 2, `--class-axis "last" is invalid`},
		{"class axis of wrong size", inj(modelPath("segnet_o13.onnx"), "--class-axis", "1"), 2, "have 4 classes at the class axis 1 but the counts give 5"},
		{"rank 3 ambiguous", []string{"inject", "--loss", "cb_focal", "--counts", counts6, "-o", out, modelPath("seq_conv1d_static_o13.onnx")}, 2, "pass --class-axis 1 or --class-axis -1"},
		{"rank 3 no static C", []string{"inject", "--loss", "cb_focal", "--counts", counts, "-o", out, modelPath("det_head_o13.onnx")}, 2, "pass --class-axis"},
		{"background with softmax loss", inj(mlp, "--loss", "focal", "--background-label", "-1"), 2, "background label needs a sigmoid loss"},
		{"background is a class", inj(mlp, "--background-label", "2"), 2, "background label 2 is a class id"},
		{"background equals ignore", inj(mlp, "--background-label", "-1", "--ignore-index", "-1"), 2, "both -1"},
		{"foreground with multi-hot", inj(mlp, "--reduction", "foreground", "--targets", "multi-hot"), 2, "foreground reduction"},
		{"head weights without heads", inj(mlp, "--head-weights", "1,0.5"), 2, "--head-weights needs several heads"},
		{"head weights not numbers", inj(mlp, "--logits", "logits,/fc1/Gemm_output_0", "--head-weights", "1,x"), 2, "--head-weights"},
		{"head weights count", inj(mlp, "--logits", "logits,logits2", "--head-weights", "1,0.5,2"), 2, "3 head weights for 2 heads"},
		{"head named twice", inj(mlp, "--logits", "logits,logits"), 2, "twice"},
		{"heads with reduction none", inj(mlp, "--logits", "logits,logits2", "--reduction", "none"), 2, "--reduction none"},
		{"counts missing file", []string{"counts", filepath.Join(d, "nope.txt"), "-o", out}, 2, "does not exist"},
		{"counts not integers", []string{"counts", bad("y_words.txt", "0\ncat\n"), "-o", out}, 2, `line 2: "cat" is not an integer label`},
		{"counts label beyond num-classes", []string{"counts", bad("y_big.txt", "0\n7\n"), "--num-classes", "5", "-o", out}, 2, "out of range for --num-classes 5"},
		{"counts negative label", []string{"counts", bad("y_neg.txt", "0\n-100\n"), "-o", out}, 2, "--ignore-index -100"},
		{"counts csv without column", []string{"counts", bad("y.csv", "a,b\n1,2\n"), "-o", out}, 2, "--column"},
		{"counts npy garbage", []string{"counts", bad("y.npy", "not numpy"), "-o", out}, 2, "not a .npy file"},
		{"counts multi-hot text", []string{"counts", bad("y_mh.txt", "1\n"), "--multi-hot", "-o", out}, 2, "multi-hot labels are read from a .npy"},
		{"counts classes vs num-classes", []string{"counts", bad("y_ok.txt", "1\n"), "--classes", "a,b", "--num-classes", "3", "-o", out}, 2, "--num-classes 3 but 2 class names"},
		{"counts duplicate class", []string{"counts", bad("y_ok2.txt", "1\n"), "--classes", "a,a", "-o", out}, 2, `"a" is given twice`},
		{"counts num-classes 0", []string{"counts", bad("y_ok3.txt", "1\n"), "--num-classes", "0", "-o", out}, 2, "--num-classes 0 is invalid"},
		{"counts output dir missing", []string{"counts", bad("y_ok4.txt", "1\n"), "-o", filepath.Join(d, "missing", "c.json")}, 2, "does not exist"},
		{"counts no argument", []string{"counts"}, 2, "counts needs at least one INPUT"},
		{"weights plot directory missing", []string{"weights", "--counts", counts, "--plot", filepath.Join(d, "missing", "w.png")}, 2, "does not exist"},
		{"weights bad beta", []string{"weights", "--counts", counts, "--beta", "2"}, 2, "beta"},
		{"weights missing counts", []string{"weights", "--counts", filepath.Join(d, "nope.json")}, 2, "nope.json"},
		// The command line itself (issue 14): a flag never swallows "--" or
		// the next flag, unknown names get the closest, no-effect flags are errors.
		{"output flag last without value", []string{"inject", "--loss", "cb_focal", "--counts", counts, mlp, "-o"}, 2, "flag -o needs a value"},
		{"counts flag followed by a flag", []string{"inject", "--loss", "cb_focal", "--counts", "-o", out, mlp}, 2, "flag --counts needs a value"},
		{"flag value before --", []string{"inject", "--loss", "cb_focal", "--counts", counts, "-o", "--", mlp}, 2, "flag -o needs a value"},
		{"counts -o last", []string{"counts", bad("y_ok5.txt", "1\n"), "-o"}, 2, "flag -o needs a value"},
		{"pytorch spelling of a flag", inj(mlp, "--ignore_index", "255"), 2, "unknown flag --ignore_index: did you mean --ignore-index?"},
		{"misspelt command", []string{"injcet", "--loss", "focal"}, 2, "did you mean `onnxloss inject`?"},
		{"unknown global flag", []string{"--bogus"}, 2, "unknown flag --bogus (see `onnxloss --help`)"},
		{"alpha with cb_focal", inj(mlp, "--alpha", "0.5"), 2, "--alpha has no effect with --loss cb_focal: it applies to sigmoid_focal"},
		{"gamma with weighted_ce", adj("weighted_ce", counts, "--gamma", "1"), 2, "--gamma has no effect with --loss weighted_ce"},
		{"gamma with logit_adjusted", adj("logit_adjusted", counts, "--gamma", "1"), 2, "--gamma has no effect with --loss logit_adjusted"},
		{"tau with focal", adj("focal", counts, "--tau", "2"), 2, "--tau has no effect with --loss focal: it applies to logit_adjusted"},
		{"scale with cb_softmax", adj("cb_softmax", counts, "--scale", "10"), 2, "--scale has no effect with --loss cb_softmax: it applies to ldam"},
		{"label smoothing with cb_focal", inj(mlp, "--label-smoothing", "0.1"), 2, "--label-smoothing has no effect with --loss cb_focal"},
		{"beta with inverse weighting", inj(mlp, "--weighting", "inverse", "--beta", "0.99"), 2, "--beta has no effect with --weighting inverse"},
		{"beta with focal's default weighting", adj("focal", counts, "--beta", "0.99"), 2, "--beta has no effect with --weighting inverse"},
		{"weights beta with inverse", []string{"weights", "--counts", counts, "--weighting", "inverse", "--beta", "0.9"}, 2, "--beta has no effect with --weighting inverse"},
		{"label file as counts", withCounts(bad("labels.txt", "0\n1\n1\n")), 2, "count them first: onnxloss counts"},
		{"stdin twice", []string{"inject", "--loss", "focal", "--counts", "-", "-o", out, "-"}, 2, "standard input (-) is given twice"},
		{"json with output to stdout", []string{"inject", "--loss", "focal", "--counts", counts, "-o", "-", "--json", mlp}, 2, "--json and an output to - both write to standard output"},
		{"counts json without -o", []string{"counts", bad("y_ok6.txt", "1\n"), "--json"}, 2, "write the counts with -o FILE"},
		{"plot unknown extension", []string{"weights", "--counts", counts, "--plot", filepath.Join(d, "w.txt")}, 2, `extension ".txt": use .png, .svg or .pdf`},
		{"completion unknown shell", []string{"completion", "tcsh"}, 2, `unknown shell "tcsh"`},
		{"version with argument", []string{"version", "x"}, 2, "version takes no arguments"},
		{"no counts for a weighted loss", []string{"inject", "--loss", "cb_focal", "-o", out, mlp}, 2, "--loss cb_focal with --weighting effective needs --counts FILE"},
		{"no counts for logit_adjusted", []string{"inject", "--loss", "logit_adjusted", "-o", out, mlp}, 2, "needs --counts FILE"},
		{"no counts, rank 3 logits", []string{"inject", "--loss", "sigmoid_focal", "-o", out, modelPath("seq_conv1d_static_o13.onnx")}, 2, "pass --class-axis 1 or --class-axis -1"},
		{"no counts needed: sigmoid_focal", []string{"inject", "--loss", "sigmoid_focal", "-o", out, mlp}, 0, ""},
		{"no counts needed: multi-hot", []string{"inject", "--loss", "sigmoid_focal", "--targets", "multi-hot", "-o", out, mlp}, 0, ""},
		{"no counts needed: weighting none", []string{"inject", "--loss", "weighted_ce", "--weighting", "none", "-o", out, mlp}, 0, ""},
	}
	inputs := []string{mlp, injected, counts}
	hostile, keep, checks := hostileFixtures(t, bin, d, out, counts, mlp)
	t.Logf("%d rows, %d of them hostile inputs (hostile_test.go)", len(tests)+len(hostile), len(hostile))
	tests = append(tests, hostile...)
	inputs = append(inputs, keep...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(out)
			before := map[string][32]byte{}
			for _, p := range inputs {
				before[p] = fileHash(t, p)
			}
			// A run that blocks (on a FIFO, say) fails instead of hanging.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, tc.args...)
			var stderr, stdout bytes.Buffer
			cmd.Stderr = &stderr
			cmd.Stdout = &stdout
			err := cmd.Run()
			if ctx.Err() != nil {
				t.Fatalf("still running after 2 minutes (blocked?); stderr: %s", stderr.String())
			}
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			msg := stderr.String()
			if code != tc.code {
				t.Fatalf("exit code %d, want %d; stderr: %s", code, tc.code, msg)
			}
			for p, h := range before {
				if fileHash(t, p) != h {
					t.Errorf("input %s changed", filepath.Base(p))
				}
			}
			// Nothing from a model or a flag reaches the terminal raw, and
			// nothing crashes.
			for stream, text := range map[string]string{"stderr": msg, "stdout": stdout.String()} {
				if i := strings.IndexFunc(text, func(r rune) bool {
					return r != '\n' && (r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x202e)
				}); i >= 0 {
					t.Errorf("%s holds a raw control character at byte %d: %q", stream, i, text)
				}
				for _, crash := range []string{"goroutine ", "panic:", "fatal error", "internal error"} {
					if strings.Contains(text, crash) {
						t.Errorf("%s shows a crash (%q): %s", stream, crash, text)
					}
				}
			}
			if check := checks[tc.name]; check != nil {
				check(t)
			}
			if tc.code == 0 {
				return
			}
			if lines := strings.Count(strings.TrimRight(msg, "\n"), "\n") + 1; lines != 1 || msg == "" {
				t.Errorf("stderr has %d lines, want exactly one: %q", lines, msg)
			}
			if !strings.Contains(msg, tc.want) {
				t.Errorf("stderr %q does not mention %q", msg, tc.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("an output file was written")
			}
			leftovers, _ := filepath.Glob(filepath.Join(d, ".*.tmp-*"))
			if len(leftovers) > 0 {
				t.Errorf("temporary files left: %v", leftovers)
			}
		})
	}
}
