package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/onnxpb"
)

// Hostile inputs for the bad-input table (issue 12): external data that
// points out of the model's directory or at special files, sizes that
// overflow or exceed the bytes present, names with terminal escapes,
// special files as outputs, and malformed graphs on every path.

// writeModelRaw writes mp without graphedit's Save, which would rewrite the
// external-data locations the test wants stored as they are.
func writeModelRaw(t *testing.T, path string, mp *onnxpb.ModelProto) string {
	t.Helper()
	b, err := proto.Marshal(mp)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func sp(v string) *string { return &v }

func floatVI(name string, dims ...int64) *onnxpb.ValueInfoProto {
	d := make([]graphedit.Dim, len(dims))
	for i, v := range dims {
		d[i] = graphedit.Dim{Value: v}
	}
	return graphedit.TensorValueInfo(name, graphedit.ValueType{Elem: onnxpb.TensorProto_FLOAT, Shape: d})
}

// mmWeights is the (4, 5) weight of the MatMul model: multiples of 1/4, so
// x·W is exact in float32 and a test can tell these weights from others.
func mmWeights() []float32 {
	w := make([]float32, 20)
	for i := range w {
		w[i] = float32((i%7)-3) / 4
	}
	return w
}

func float32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return b
}

// mmModel is x (1, 4) → MatMul with the initializer W → logits (1, 5).
func mmModel(w *onnxpb.TensorProto) *onnxpb.ModelProto {
	w.Name = sp("W")
	if w.DataType == nil {
		w.DataType = ptrI32(int32(onnxpb.TensorProto_FLOAT))
	}
	return &onnxpb.ModelProto{
		IrVersion:   ptrI64(7),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: sp(""), Version: ptrI64(13)}},
		Graph: &onnxpb.GraphProto{
			Name:        sp("mm"),
			Input:       []*onnxpb.ValueInfoProto{floatVI("x", 1, 4)},
			Output:      []*onnxpb.ValueInfoProto{floatVI("logits", 1, 5)},
			Initializer: []*onnxpb.TensorProto{w},
			Node:        []*onnxpb.NodeProto{{Name: sp("mm"), OpType: sp("MatMul"), Input: []string{"x", "W"}, Output: []string{"logits"}}},
		},
	}
}

// externalW is W stored in location at offset, with the given dims.
func externalW(location string, offset int64, dims ...int64) *onnxpb.TensorProto {
	if len(dims) == 0 {
		dims = []int64{4, 5}
	}
	kv := func(k, v string) *onnxpb.StringStringEntryProto {
		return &onnxpb.StringStringEntryProto{Key: sp(k), Value: sp(v)}
	}
	return &onnxpb.TensorProto{Dims: dims, DataLocation: onnxpb.TensorProto_EXTERNAL.Enum(),
		ExternalData: []*onnxpb.StringStringEntryProto{kv("location", location), kv("offset", strconv.FormatInt(offset, 10))}}
}

// mmTensors writes the inputs and the expected logits of the MatMul model
// for the given weights as JSON tensor files and returns their paths.
func mmTensors(t *testing.T, dir string, w []float32) (inputs, expect string) {
	t.Helper()
	x := []float64{1, -2, 0.5, 3}
	y := make([]float64, 5)
	for j := range y {
		for i := range x {
			y[j] += x[i] * float64(w[i*5+j])
		}
	}
	tensor := func(name string, shape []int, data []float64) string {
		b, err := json.Marshal(map[string]any{name: map[string]any{"dtype": "float32", "shape": shape, "data": data}})
		if err != nil {
			t.Fatal(err)
		}
		return writeFile(t, filepath.Join(dir, name+".json"), string(b))
	}
	return tensor("x", []int{1, 4}, x), tensor("logits", []int{1, 5}, y)
}

// identityChain is x (4, 5) → Identity → a → Identity → logits (4, 5) at
// the given opset; edit breaks it.
func identityChain(opset int64, edit func(g *onnxpb.GraphProto, m *onnxpb.ModelProto)) *onnxpb.ModelProto {
	m := &onnxpb.ModelProto{
		IrVersion:   ptrI64(7),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: sp(""), Version: ptrI64(opset)}},
		Graph: &onnxpb.GraphProto{
			Name:   sp("chain"),
			Input:  []*onnxpb.ValueInfoProto{floatVI("x", 4, 5)},
			Output: []*onnxpb.ValueInfoProto{floatVI("logits", 4, 5)},
			Node: []*onnxpb.NodeProto{
				{Name: sp("first"), OpType: sp("Identity"), Input: []string{"x"}, Output: []string{"a"}},
				{Name: sp("second"), OpType: sp("Identity"), Input: []string{"a"}, Output: []string{"logits"}},
			},
		},
	}
	if edit != nil {
		edit(m.Graph, m)
	}
	return m
}

// badRow is one row of the bad-input table.
type badRow = struct {
	name string
	args []string
	code int
	want string
}

// hostileFixtures builds the files of the hostile rows in d and returns the
// rows, the files that must stay unchanged, and extra checks by row name.
func hostileFixtures(t *testing.T, bin, d, out, counts, mlp string) ([]badRow, []string, map[string]func(*testing.T)) {
	t.Helper()
	var rows []badRow
	var keep []string
	checks := map[string]func(*testing.T){}
	add := func(name string, code int, want string, args ...string) {
		rows = append(rows, badRow{name, args, code, want})
	}

	// --- External data: a model directory m/ beside outside/. ---
	md := filepath.Join(d, "m")
	outside := filepath.Join(d, "outside")
	for _, dir := range []string{md, outside, filepath.Join(md, "sub")} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	w := mmWeights()
	// The outside file holds exactly the right weights: were it read, the
	// check would pass.
	secret := writeFile(t, filepath.Join(outside, "w.bin"), string(float32Bytes(w)))
	small := writeFile(t, filepath.Join(md, "small.bin"), "0123456789abcdef")
	keep = append(keep, secret, small)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink(secret, filepath.Join(md, "abslink.bin")))
	must(os.Symlink("../outside/w.bin", filepath.Join(md, "rellink.bin")))
	must(os.Symlink(outside, filepath.Join(md, "odir")))
	must(os.Symlink("/dev/zero", filepath.Join(md, "zero.bin")))
	must(os.Symlink("loop.bin", filepath.Join(md, "loop.bin")))
	must(syscall.Mkfifo(filepath.Join(md, "fifo.bin"), 0o644))
	inputs, expect := mmTensors(t, d, w)
	verifyExt := func(name, want, location string, offset int64, dims ...int64) {
		p := writeModelRaw(t, filepath.Join(md, name+".onnx"), mmModel(externalW(location, offset, dims...)))
		keep = append(keep, p)
		add("external data: "+name, 2, want, "verify", p, "--inputs", inputs, "--expect", expect)
	}
	verifyExt("dotdot", "leaves the model's directory", "../outside/w.bin", 0)
	verifyExt("deep dotdot", "leaves the model's directory", "sub/../../outside/w.bin", 0)
	verifyExt("etc passwd", "leaves the model's directory", "../../../../../../../../etc/passwd", 0)
	verifyExt("absolute", "is absolute", secret, 0)
	verifyExt("absolute etc", "is absolute", "/etc/passwd", 0)
	verifyExt("symlink out absolute", "outside the model's directory", "abslink.bin", 0)
	verifyExt("symlink out relative", "outside the model's directory", "rellink.bin", 0)
	verifyExt("symlinked directory", "outside the model's directory", "odir/w.bin", 0)
	verifyExt("device", "outside the model's directory", "zero.bin", 0)
	verifyExt("fifo", "is a FIFO", "fifo.bin", 0)
	verifyExt("directory", "is a directory", "sub", 0)
	verifyExt("symlink loop", "symbolic links", "loop.bin", 0)
	verifyExt("missing", "no such file", "missing.bin", 0)
	verifyExt("nul byte", "NUL byte", "small.bin\x00../outside/w.bin", 0)
	verifyExt("past the end", "holds 16 bytes, but the tensor needs 80", "small.bin", 0)
	verifyExt("offset past the end", "holds 16 bytes, but the tensor needs 80 at offset 1000000", "small.bin", 1000000)
	// 2^30 floats (4 GiB, at the cap) claimed over a 16-byte file: refused
	// before anything is allocated.
	verifyExt("4 GiB over 16 bytes", "holds 16 bytes, but the tensor needs 4294967296", "small.bin", 0, 1<<15, 1<<15)
	verifyExt("2^38 elements", "more than the 4.0 GiB", "small.bin", 0, 1<<19, 1<<19)
	{
		m := mmModel(externalW("small.bin", 0))
		m.Graph.Initializer[0].ExternalData[1].Value = sp("12abc")
		p := writeModelRaw(t, filepath.Join(md, "badoffset.onnx"), m)
		keep = append(keep, p)
		add("external data: offset not a number", 2, `offset "12abc" is not a byte count`, "verify", p, "--inputs", inputs, "--expect", expect)
	}
	// The synthetic check reads initializers too: an injected model whose
	// weights point out of its directory.
	{
		src := writeModelRaw(t, filepath.Join(md, "ext_src.onnx"), mmModel(externalW("../outside/w.bin", 0)))
		injected := filepath.Join(md, "ext_injected.onnx")
		if res, err := exec.Command(bin, "inject", "--loss", "focal", "--counts", counts, "-o", injected, src).CombinedOutput(); err != nil {
			t.Fatalf("inject never reads external data, so this must work: %v: %s", err, res)
		}
		keep = append(keep, src, injected)
		add("external data: synthetic verify", 2, "leaves the model's directory", "verify", injected)
	}

	// --- Sizes from the file. ---
	size := func(name, want string, tp *onnxpb.TensorProto) {
		p := writeModelRaw(t, filepath.Join(d, "size_"+strings.ReplaceAll(name, " ", "_")+".onnx"), mmModel(tp))
		keep = append(keep, p)
		add("size: "+name, 2, want, "verify", p, "--inputs", inputs, "--expect", expect)
	}
	size("2^20 x 2^20 initializer", "more than the 4.0 GiB the evaluator allows for one tensor (if the model really needs it, raise --max-tensor-gib)", &onnxpb.TensorProto{Dims: []int64{1 << 20, 1 << 20}, RawData: []byte{1, 2, 3, 4}})
	size("overflowing dims", "more than 2^63 elements", &onnxpb.TensorProto{Dims: []int64{1<<32 + 1, 1 << 32}, RawData: []byte{1, 2, 3, 4}})
	size("overflowing dims, typed data", "more than 2^63 elements", &onnxpb.TensorProto{Dims: []int64{1 << 62, 1 << 62, 4}, FloatData: []float32{1}})
	size("negative dim", "negative dimension", &onnxpb.TensorProto{Dims: []int64{-4, 5}, RawData: []byte{1, 2, 3, 4}})
	size("raw data short", "raw data has 8 bytes", &onnxpb.TensorProto{Dims: []int64{4, 5}, RawData: make([]byte, 8)})
	size("typed data short", "3 values for shape", &onnxpb.TensorProto{Dims: []int64{4, 5}, FloatData: []float32{1, 2, 3}})
	size("1e9 x 1e9 typed", "more than the 4.0 GiB", &onnxpb.TensorProto{Dims: []int64{1e9, 1e9}, FloatData: []float32{1, 2, 3}})
	// An op whose output size comes from a constant in the model.
	bombOp := func(name, op string, in []string, attrs ...*onnxpb.AttributeProto) {
		shape := &onnxpb.TensorProto{Name: sp("shape"), Dims: []int64{2}, DataType: ptrI32(int32(onnxpb.TensorProto_INT64)), Int64Data: []int64{1 << 30, 4}}
		m := &onnxpb.ModelProto{
			IrVersion:   ptrI64(7),
			OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: sp(""), Version: ptrI64(13)}},
			Graph: &onnxpb.GraphProto{
				Name: sp("bomb"), Input: []*onnxpb.ValueInfoProto{floatVI("x", 1, 4)}, Output: []*onnxpb.ValueInfoProto{floatVI("logits", 1, 5)},
				Initializer: []*onnxpb.TensorProto{shape},
				Node:        []*onnxpb.NodeProto{{Name: sp("bomb"), OpType: sp(op), Input: in, Output: []string{"logits"}, Attribute: attrs}},
			},
		}
		p := writeModelRaw(t, filepath.Join(d, "bomb_"+name+".onnx"), m)
		keep = append(keep, p)
		add("size: "+name+" output", 2, "more than the 4.0 GiB", "verify", p, "--inputs", inputs, "--expect", expect)
	}
	bombOp("Expand", "Expand", []string{"x", "shape"})
	rangeOp := func(name, want string, limit float32) {
		scalar := func(n string, v float32) *onnxpb.TensorProto {
			return &onnxpb.TensorProto{Name: sp(n), DataType: ptrI32(int32(onnxpb.TensorProto_FLOAT)), FloatData: []float32{v}}
		}
		m := &onnxpb.ModelProto{
			IrVersion:   ptrI64(7),
			OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: sp(""), Version: ptrI64(13)}},
			Graph: &onnxpb.GraphProto{
				Name: sp("range"), Input: []*onnxpb.ValueInfoProto{floatVI("x", 1, 4)}, Output: []*onnxpb.ValueInfoProto{floatVI("logits", 1, 5)},
				Initializer: []*onnxpb.TensorProto{scalar("start", 0), scalar("limit", limit), scalar("delta", 1e-30)},
				Node:        []*onnxpb.NodeProto{{Name: sp("range"), OpType: sp("Range"), Input: []string{"start", "limit", "delta"}, Output: []string{"logits"}}},
			},
		}
		p := writeModelRaw(t, filepath.Join(d, "range_"+name+".onnx"), m)
		keep = append(keep, p)
		add("size: Range "+name, 2, want, "verify", p, "--inputs", inputs, "--expect", expect)
	}
	rangeOp("1e30 elements", "tensor too large: Range from 0 to 1.0000000150474662e+30", 1e30)
	rangeOp("NaN limit", "give no element count", float32(math.NaN()))
	bombOp("ConstantOfShape", "ConstantOfShape", []string{"shape"})
	// Metadata sizes: an injected model whose metadata lies.
	injected := filepath.Join(d, "meta_src.onnx")
	if res, err := exec.Command(bin, "inject", "--loss", "cb_focal", "--counts", counts, "-o", injected, mlp).CombinedOutput(); err != nil {
		t.Fatalf("setup inject: %v: %s", err, res)
	}
	meta := func(name, want string, edit func(map[string]any)) {
		m, err := graphedit.Load(injected)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := m.Metadata("onnxloss")
		var v map[string]any
		if err := json.Unmarshal([]byte(raw), &v); err != nil {
			t.Fatal(err)
		}
		edit(v)
		b, _ := json.Marshal(v)
		m.SetMetadata("onnxloss", string(b))
		p := filepath.Join(d, "meta_"+strings.ReplaceAll(name, " ", "_")+".onnx")
		if err := m.Save(p); err != nil {
			t.Fatal(err)
		}
		keep = append(keep, p)
		add("metadata: "+name, 2, want, "verify", p)
	}
	meta("num_classes 1e12", "num_classes 1000000000000 but 5 counts", func(v map[string]any) { v["num_classes"] = 1e12 })
	meta("num_classes 0", "num_classes 0 is invalid", func(v map[string]any) { v["num_classes"] = 0 })
	meta("num_classes negative", "num_classes -3 is invalid", func(v map[string]any) { v["num_classes"] = -3 })
	meta("logits_rank 99", "logits_rank 99 is not supported", func(v map[string]any) { v["logits_rank"] = 99 })
	meta("weights short", "num_classes 5 but 2 weights", func(v map[string]any) { v["weights"] = []float64{1, 2} })
	meta("huge consistent C", "would be too large", func(v map[string]any) {
		const c = 1 << 20
		v["num_classes"], v["counts"], v["weights"] = c, make([]float64, c), make([]float64, c)
		v["logits_rank"] = 5
	})
	add("size: --max-tensor-gib 0", 2, "--max-tensor-gib 0 is invalid", "verify", injected, "--max-tensor-gib", "0")
	add("size: --max-tensor-gib tiny", 2, "more than the 1.0 KiB the evaluator allows", "verify", injected, "--max-tensor-gib", "0.000001")
	// Small inputs read with a limit: endless streams fail fast.
	add("counts /dev/zero", 2, "counts file /dev/zero is larger than 64 MiB", "inject", "--loss", "focal", "--counts", "/dev/zero", "-o", out, mlp)
	add("weights counts /dev/zero", 2, "counts file /dev/zero is larger than 64 MiB", "weights", "--counts", "/dev/zero")
	add("classes file /dev/zero", 2, "classes file /dev/zero is larger than 64 MiB", "counts", writeFile(t, filepath.Join(d, "y_cls.txt"), "1\n"), "--classes-file", "/dev/zero", "-o", out)
	add("labels /dev/zero", 2, "line 1 is longer than", "counts", "/dev/zero", "-o", out)
	for _, ext := range []string{"pb", "json", "npy"} {
		z := filepath.Join(d, "zero."+ext)
		must(os.Symlink("/dev/zero", z))
		add("tensor file /dev/zero as ."+ext, 2, "is a device or socket, not a tensor file", "verify", injected, "--inputs", z)
	}

	// --- Names with terminal escapes. ---
	{
		m := identityChain(13, func(g *onnxpb.GraphProto, _ *onnxpb.ModelProto) {
			g.Output = []*onnxpb.ValueInfoProto{floatVI("a\x1b[2J\x1b[H", 4, 5), floatVI("b\r\nc\x00", 4, 5)}
			g.Node[0].Output[0] = "a\x1b[2J\x1b[H"
			g.Node[1].Input[0], g.Node[1].Output[0] = "a\x1b[2J\x1b[H", "b\r\nc\x00"
		})
		p := writeModelRaw(t, filepath.Join(d, "esc_two.onnx"), m)
		keep = append(keep, p)
		add("escapes: several logits candidates", 2, `several outputs could be the logits ("a\x1b[2J\x1b[H", "b\r\nc\x00")`, "inject", "--loss", "focal", "--counts", counts, "-o", out, p)
		add("escapes: inspect table", 0, "", "inspect", p)
		checks["escapes: inspect table"] = func(t *testing.T) {
			res, err := exec.Command(bin, "inspect", p).Output()
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(string(res), "\n") {
				if strings.HasPrefix(line, "output") && !strings.Contains(line, `"a\x1b[2J\x1b[H"`) && !strings.Contains(line, `"b\r\nc\x00"`) {
					t.Errorf("inspect table row not escaped: %q", line)
				}
			}
			if n := strings.Count(string(res), "\noutput "); n != 2 {
				t.Errorf("inspect table has %d output rows, want 2 (a name broke a row?):\n%s", n, res)
			}
		}
		mc := identityChain(13, func(g *onnxpb.GraphProto, _ *onnxpb.ModelProto) {
			g.Output[0] = floatVI("lo\x1b]0;owned\x07gits", 4, 4)
			g.Node[1].Output[0] = "lo\x1b]0;owned\x07gits"
		})
		pc := writeModelRaw(t, filepath.Join(d, "esc_c.onnx"), mc)
		keep = append(keep, pc)
		add("escapes: class count error", 2, `logits "lo\x1b]0;owned\agits" (shape [4,4]) have 4 classes`, "inject", "--loss", "focal", "--counts", counts, "-o", out, pc)
	}
	add("escapes: --logits", 2, `--logits "\x1b[31mnope\r" is not a value`, "inject", "--loss", "focal", "--counts", counts, "--logits", "\x1b[31mnope\r", "-o", out, mlp)
	add("escapes: --loss", 2, `unknown loss "\x1b[2Jfocal"`, "inject", "--loss", "\x1b[2Jfocal", "--counts", counts, "-o", out, mlp)
	add("escapes: --labels-name equals --loss-name", 2, `labels and loss are both named "\x1b[2J"`, "inject", "--loss", "focal", "--counts", counts, "--labels-name", "\x1b[2J", "--loss-name", "\x1b[2J", "-o", out, mlp)
	add("escapes: --labels-name success line", 0, "", "inject", "--loss", "focal", "--counts", counts, "--labels-name", "lab\x1b[31mels\n", "-o", filepath.Join(d, "esc_ok.onnx"), mlp)
	checks["escapes: --labels-name success line"] = func(t *testing.T) {
		res, err := exec.Command(bin, "inject", "--loss", "focal", "--counts", counts, "--labels-name", "lab\x1b[31mels\n", "-o", filepath.Join(d, "esc_ok2.onnx"), mlp).CombinedOutput()
		if err != nil || !strings.Contains(string(res), `new input "lab\x1b[31mels\n" (int64)`) {
			t.Errorf("success line does not show the escaped name: %v: %q", err, res)
		}
	}
	add("escapes: model path", 2, `nope\x1b[2J\n.onnx: no such file`, "inject", "--loss", "focal", "--counts", counts, "-o", out, filepath.Join(d, "nope\x1b[2J\n.onnx"))
	escCounts := writeFile(t, filepath.Join(d, "c_esc.json"), `{"counts": [5, 6, 7, 8, 9], "classes": ["c\u001b[31mat", "d\rog", "e\u202eel", "o w l", "yak"]}`)
	add("escapes: weights class names", 0, "", "weights", "--counts", escCounts)
	checks["escapes: weights class names"] = func(t *testing.T) {
		res, err := exec.Command(bin, "weights", "--counts", escCounts).Output()
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`"c\x1b[31mat"`, `"d\rog"`, `"e\u202eel"`, `"o w l"`, " yak "} {
			if !strings.Contains(string(res), want) {
				t.Errorf("weights table lacks %s:\n%s", want, res)
			}
		}
	}

	// --- -o: only regular files are replaced. ---
	fifo := filepath.Join(d, "out.fifo")
	must(syscall.Mkfifo(fifo, 0o644))
	devlink := filepath.Join(d, "devnull.onnx")
	must(os.Symlink("/dev/null", devlink))
	sock := filepath.Join(d, "out.sock")
	l, err := net.Listen("unix", sock)
	must(err)
	t.Cleanup(func() { l.Close() })
	stillSpecial := func(path string, mode os.FileMode) func(*testing.T) {
		return func(t *testing.T) {
			st, err := os.Stat(path)
			if err != nil || st.Mode()&mode == 0 {
				t.Errorf("%s was replaced: %v %v", path, st.Mode(), err)
			}
		}
	}
	oRow := func(name, want, target string, mode os.FileMode, args ...string) {
		add("-o "+name, 2, want, args...)
		checks["-o "+name] = stillSpecial(target, mode)
	}
	injTo := func(o string) []string {
		return []string{"inject", "--loss", "focal", "--counts", counts, "-o", o, mlp}
	}
	oRow("/dev/null", "it is a character device", "/dev/null", os.ModeCharDevice, injTo("/dev/null")...)
	oRow("/dev/null streaming", "it is a character device", "/dev/null", os.ModeCharDevice, append(injTo("/dev/null"), "--stream")...)
	oRow("FIFO", "it is a FIFO", fifo, os.ModeNamedPipe, injTo(fifo)...)
	oRow("symlink to /dev/null", "it is a character device", "/dev/null", os.ModeCharDevice, injTo(devlink)...)
	oRow("socket", "it is a socket", sock, os.ModeSocket, injTo(sock)...)
	oRow("counts to /dev/null", "it is a character device", "/dev/null", os.ModeCharDevice, "counts", writeFile(t, filepath.Join(d, "y_o.txt"), "1\n"), "-o", "/dev/null")
	oRow("weights plot to FIFO", "it is a FIFO", fifo, os.ModeNamedPipe, "weights", "--counts", counts, "--plot", fifo)
	add("-o name too long", 2, "longer than the 255 bytes", injTo(filepath.Join(d, strings.Repeat("n", 251)+".onnx"))...)
	long := filepath.Join(d, strings.Repeat("l", 245)+".onnx") // 250 bytes
	for _, mode := range []string{"--no-stream", "--stream"} {
		name := "-o 250-byte name " + mode
		add(name, 0, "", append(injTo(long), mode)...)
		checks[name] = func(t *testing.T) {
			if _, err := os.Stat(long); err != nil {
				t.Errorf("no output under the 250-byte name: %v", err)
			}
			os.Remove(long)
		}
	}

	// --- Malformed graphs, on the in-memory and streaming inject paths and
	// in verify. ---
	graphs := []struct {
		name, want string
		opset      int64
		edit       func(g *onnxpb.GraphProto, m *onnxpb.ModelProto)
	}{
		{"cycle", `has a cycle (node "first" (Identity) → node "second" (Identity) → node "first" (Identity))`, 13,
			func(g *onnxpb.GraphProto, _ *onnxpb.ModelProto) {
				g.Node[0].Input[0] = "a2"
				g.Node[1].Output = append(g.Node[1].Output, "a2")
			}},
		{"out of order", `node "second" (Identity) reads "a" before node "first" (Identity) produces it`, 13,
			func(g *onnxpb.GraphProto, _ *onnxpb.ModelProto) { g.Node[0], g.Node[1] = g.Node[1], g.Node[0] }},
		{"undefined input", `reads "ghost", which no graph input, initializer or node defines`, 13,
			func(g *onnxpb.GraphProto, _ *onnxpb.ModelProto) { g.Node[1].Input[0] = "ghost" }},
		{"two producers", `value "logits" is produced by two nodes, node "second" (Identity) and node "third" (Identity)`, 13,
			func(g *onnxpb.GraphProto, _ *onnxpb.ModelProto) {
				g.Node = append(g.Node, &onnxpb.NodeProto{Name: sp("third"), OpType: sp("Identity"), Input: []string{"x"}, Output: []string{"logits"}})
			}},
		{"output without type", `graph output "logits" has no type`, 13,
			func(g *onnxpb.GraphProto, _ *onnxpb.ModelProto) { g.Output[0].Type = nil }},
		{"output without element type", `graph output "logits" is a tensor without an element type`, 13,
			func(g *onnxpb.GraphProto, _ *onnxpb.ModelProto) {
				g.Output[0].Type.GetTensorType().ElemType = ptrI32(0)
			}},
		{"opset 1000", "supports opsets up to 23", 1000, nil},
		{"opset 24", "supports opsets up to 23", 24, nil},
		{"default domain twice", "imports domain ai.onnx (the default domain) twice", 13,
			func(_ *onnxpb.GraphProto, m *onnxpb.ModelProto) {
				m.OpsetImport = append(m.OpsetImport, &onnxpb.OperatorSetIdProto{Domain: sp("ai.onnx"), Version: ptrI64(17)})
			}},
	}
	for _, gc := range graphs {
		p := writeModelRaw(t, filepath.Join(d, "graph_"+strings.ReplaceAll(gc.name, " ", "_")+".onnx"), identityChain(gc.opset, gc.edit))
		keep = append(keep, p)
		add("graph: "+gc.name+" (inject)", 2, gc.want, "inject", "--loss", "focal", "--counts", counts, "-o", out, p)
		add("graph: "+gc.name+" (inject --stream)", 2, gc.want, "inject", "--loss", "focal", "--counts", counts, "-o", out, "--stream", p)
		add("graph: "+gc.name+" (verify)", 2, gc.want, "verify", p)
	}
	return rows, keep, checks
}

// TestOutsideFileNeverRead shows that external data outside the model's
// directory is never read: the outside file holds exactly the weights that
// make the check pass, so reading it would give exit 0 — and the same
// weights inside the directory do give exit 0 — while holding other
// weights it would give a mismatch (exit 1). Both give exit 2, so its
// content has no effect on the result.
func TestOutsideFileNeverRead(t *testing.T) {
	bin := buildBinary(t)
	d := t.TempDir()
	md, outside := filepath.Join(d, "model"), filepath.Join(d, "outside")
	for _, dir := range []string{md, outside} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	w := mmWeights()
	other := make([]float32, len(w))
	for i := range other {
		other[i] = w[i] + 1
	}
	inputs, expect := mmTensors(t, d, w)
	run := func(args ...string) (int, string) {
		cmd := exec.Command(bin, args...)
		res, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), string(res)
		} else if err != nil {
			t.Fatal(err)
		}
		return 0, string(res)
	}
	// Control: the right weights inside the directory pass; other weights
	// there fail. So the outcome does depend on the bytes read.
	writeFile(t, filepath.Join(md, "w.bin"), string(float32Bytes(w)))
	writeFile(t, filepath.Join(md, "other.bin"), string(float32Bytes(other)))
	inside := writeModelRaw(t, filepath.Join(md, "inside.onnx"), mmModel(externalW("w.bin", 0)))
	if code, res := run("verify", inside, "--inputs", inputs, "--expect", expect); code != 0 {
		t.Fatalf("control: the weights inside the directory should pass: exit %d: %s", code, res)
	}
	wrong := writeModelRaw(t, filepath.Join(md, "wrong.onnx"), mmModel(externalW("other.bin", 0)))
	if code, res := run("verify", wrong, "--inputs", inputs, "--expect", expect); code != 1 {
		t.Fatalf("control: other weights should mismatch: exit %d: %s", code, res)
	}
	if err := os.Symlink(outside, filepath.Join(md, "out")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "w.bin"), filepath.Join(md, "link.bin")); err != nil {
		t.Fatal(err)
	}
	for _, content := range [][]float32{w, other} {
		writeFile(t, filepath.Join(outside, "w.bin"), string(float32Bytes(content)))
		for _, loc := range []string{"../outside/w.bin", filepath.Join(outside, "w.bin"), "out/w.bin", "link.bin"} {
			p := writeModelRaw(t, filepath.Join(md, "escape.onnx"), mmModel(externalW(loc, 0)))
			code, res := run("verify", p, "--inputs", inputs, "--expect", expect)
			if code != 2 || !strings.Contains(res, "outside") && !strings.Contains(res, "leaves") && !strings.Contains(res, "absolute") {
				t.Errorf("location %q: exit %d, want 2 refusing it: %s", loc, code, res)
			}
		}
	}
}

var _ = fmt.Sprint
