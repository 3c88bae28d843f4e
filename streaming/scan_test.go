package streaming

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/inject"
	"github.com/onnxloss/onnxloss/internal/refs"
	"github.com/onnxloss/onnxloss/lossops"
	"github.com/onnxloss/onnxloss/onnxpb"
)

func testModels(t testing.TB) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "testdata", "models", "*.onnx"))
	if err != nil || len(paths) < 9 {
		t.Fatalf("testdata models: %v (%d found, want >= 9)", err, len(paths))
	}
	return paths
}

// stripTensor clears a tensor's element data, as the scanner skips it.
func stripTensor(t *onnxpb.TensorProto) {
	if t == nil {
		return
	}
	t.FloatData, t.Int32Data, t.StringData, t.Int64Data, t.RawData, t.DoubleData, t.Uint64Data = nil, nil, nil, nil, nil, nil, nil
}

func stripSparse(s *onnxpb.SparseTensorProto) {
	if s != nil {
		stripTensor(s.Values)
		stripTensor(s.Indices)
	}
}

func stripNode(n *onnxpb.NodeProto) {
	for _, a := range n.GetAttribute() {
		stripTensor(a.T)
		for _, t := range a.Tensors {
			stripTensor(t)
		}
		stripSparse(a.SparseTensor)
		for _, s := range a.SparseTensors {
			stripSparse(s)
		}
		stripGraph(a.G)
		for _, g := range a.Graphs {
			stripGraph(g)
		}
	}
}

func stripGraph(g *onnxpb.GraphProto) {
	if g == nil {
		return
	}
	for _, t := range g.Initializer {
		stripTensor(t)
	}
	for _, s := range g.SparseInitializer {
		stripSparse(s)
	}
	for _, n := range g.Node {
		stripNode(n)
	}
}

// stripModel is the reference for the skeleton: the decoded model without
// tensor payloads, wherever tensors live.
func stripModel(m *onnxpb.ModelProto) {
	stripGraph(m.Graph)
	for _, ti := range m.TrainingInfo {
		stripGraph(ti.Initialization)
		stripGraph(ti.Algorithm)
	}
	for _, f := range m.Functions {
		for _, n := range f.Node {
			stripNode(n)
		}
	}
}

// checkScan compares the scanner with protobuf's decoder on data.
func checkScan(t *testing.T, data []byte) {
	res, err := scan(bytes.NewReader(data), int64(len(data)))
	ref := &onnxpb.ModelProto{}
	refErr := proto.Unmarshal(data, ref)
	if err != nil {
		if strings.Contains(err.Error(), "\n") {
			t.Fatalf("error of several lines: %q", err)
		}
		var fe *FormatError
		if !errors.As(err, &fe) || !errors.Is(err, graphedit.ErrNotONNX) {
			t.Fatalf("scan error %v is not a FormatError", err)
		}
		if refErr == nil && len(data) > 0 && !strings.Contains(err.Error(), "nested too deeply") {
			t.Fatalf("scan failed (%v) on data protobuf decodes", err)
		}
		return
	}
	var total int64
	for _, f := range res.top {
		total += f.end - f.start
	}
	if total != int64(len(data)) || (len(res.top) > 0 && res.top[0].start != 0) {
		t.Fatalf("top-level fields cover %d of %d bytes", total, len(data))
	}
	if refErr != nil {
		return // payloads are not validated: protobuf may reject what the scan passes
	}
	sk := &onnxpb.ModelProto{}
	if err := proto.Unmarshal(res.skeleton, sk); err != nil {
		t.Fatalf("skeleton does not decode: %v", err)
	}
	stripModel(ref)
	if !proto.Equal(sk, ref) {
		t.Fatalf("skeleton differs from the decoded model without payloads")
	}
}

// FuzzScan checks on arbitrary bytes that the scanner never panics, fails
// with a FormatError of one line, accepts whatever protobuf's decoder
// accepts, and then yields exactly the decoded model minus tensor payloads.
func FuzzScan(f *testing.F) {
	for _, p := range testModels(f) {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Fuzz(checkScan)
}

// TestScanSeeds runs the fuzz check on the testdata models and on every
// prefix of one of them.
func TestScanSeeds(t *testing.T) {
	for _, p := range testModels(t) {
		b, _ := os.ReadFile(p)
		checkScan(t, b)
	}
	b, _ := os.ReadFile(testModels(t)[0])
	for i := range b {
		checkScan(t, b[:i])
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.ReaderAt
	n atomic.Int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n.Add(int64(n))
	return n, err
}

// bigModel returns mlp_o13 with extra initializers holding MiBs of data in
// raw_data, float_data and int64_data.
func bigModel(t *testing.T) []byte {
	t.Helper()
	m, err := graphedit.Load(filepath.Join("..", "testdata", "models", "mlp_o13.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	g := m.Graph()
	raw := make([]byte, 8<<20)
	for i := range raw {
		raw[i] = byte(i * 31)
	}
	ft := onnxpb.TensorProto_FLOAT
	it := onnxpb.TensorProto_INT64
	g.Initializer = append(g.Initializer,
		&onnxpb.TensorProto{Name: proto.String("big_raw"), Dims: []int64{2 << 20}, DataType: proto.Int32(int32(ft)), RawData: raw},
		&onnxpb.TensorProto{Name: proto.String("big_float"), Dims: []int64{1 << 18}, DataType: proto.Int32(int32(ft)), FloatData: make([]float32, 1<<18)},
		&onnxpb.TensorProto{Name: proto.String("big_int"), Dims: []int64{1 << 17}, DataType: proto.Int32(int32(it)), Int64Data: make([]int64, 1<<17)})
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestScanSkipsPayloads checks that the scan reads a few KiB of a model
// holding 9 MiB of tensor data.
func TestScanSkipsPayloads(t *testing.T) {
	b := bigModel(t)
	cr := &countingReader{r: bytes.NewReader(b)}
	res, err := scan(cr, int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if res.payload < 9<<20 {
		t.Errorf("skipped %d payload bytes, want >= 9 MiB", res.payload)
	}
	if n := cr.n.Load(); n > 16<<10 || n != res.read {
		t.Errorf("read %d bytes (scanner counted %d) of %d, want <= 16 KiB", n, res.read, len(b))
	}
	t.Logf("read %d of %d bytes", cr.n.Load(), len(b))
}

// TestExternalDataNeverOpened injects into a model whose initializers live
// in a side file, writing to another directory: only the model file is
// opened (the side file is even moved away during inject), the locations
// are rewritten, and ONNX Runtime run from the output directory gives the
// loss of the same model with inline data.
// externalSource is the model externalModel moves into external data.
var externalSource = filepath.Join("..", "testdata", "models", "mlp_o13.onnx")

// externalModel writes testdata's MLP with its initializers moved into
// dir/data/weights.bin and returns the model path and the side file's path.
func externalModel(t *testing.T, dir string) (model, sidePath string) {
	t.Helper()
	dataDir := filepath.Join(dir, "data")
	if err := os.Mkdir(dataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	m, err := graphedit.Load(externalSource)
	if err != nil {
		t.Fatal(err)
	}
	var side []byte
	for _, in := range m.Graph().Initializer {
		if len(in.RawData) == 0 {
			t.Fatalf("initializer %s has no raw_data", in.GetName())
		}
		off := len(side)
		side = append(side, in.RawData...)
		in.RawData = nil
		in.DataLocation = onnxpb.TensorProto_EXTERNAL.Enum()
		in.ExternalData = []*onnxpb.StringStringEntryProto{
			{Key: proto.String("location"), Value: proto.String("weights.bin")},
			{Key: proto.String("offset"), Value: proto.String(itoa(off))},
			{Key: proto.String("length"), Value: proto.String(itoa(len(side) - off))},
		}
	}
	sidePath = filepath.Join(dataDir, "weights.bin")
	if err := os.WriteFile(sidePath, side, 0o644); err != nil {
		t.Fatal(err)
	}
	m.Dir = dataDir
	model = filepath.Join(dataDir, "model.onnx")
	if err := m.Save(model); err != nil {
		t.Fatal(err)
	}
	return model, sidePath
}

func TestExternalDataNeverOpened(t *testing.T) {
	dir := t.TempDir()
	model, sidePath := externalModel(t, dir)
	var opened []string
	openFile = func(p string) (*os.File, error) { opened = append(opened, p); return os.Open(p) }
	defer func() { openFile = os.Open }()
	if err := os.Rename(sidePath, sidePath+".away"); err != nil {
		t.Fatal(err)
	}
	opt := inject.Options{Loss: lossops.CBFocal, Counts: &lossops.Counts{Values: []float64{50, 20, 9, 300, 41}}, Beta: 0.999, Gamma: 2, Reduction: lossops.Mean, Normalize: true}
	out := filepath.Join(dir, "out.onnx")
	res, err := Inject(model, out, opt)
	if err2 := os.Rename(sidePath+".away", sidePath); err2 != nil {
		t.Fatal(err2)
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(opened) != 1 || opened[0] != model {
		t.Errorf("opened %q, want only the model", opened)
	}
	if !strings.HasPrefix(res.Notes[len(res.Notes)-1], "streamed:") {
		t.Errorf("not streamed: %q", res.Notes)
	}
	got, err := graphedit.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	ext := got.ExternalTensors()
	if len(ext) != 4 {
		t.Fatalf("%d external tensors, want 4", len(ext))
	}
	for _, r := range ext {
		if r.Location != "data/weights.bin" {
			t.Errorf("tensor %s: location %q, want data/weights.bin", r.Tensor.GetName(), r.Location)
		}
	}
	memOut := filepath.Join(dir, "mem.onnx")
	if _, err := InMemory(model, memOut, opt); err != nil {
		t.Fatal(err)
	}
	want, err := graphedit.Load(memOut)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got.Proto, want.Proto) {
		t.Errorf("streamed model differs from the in-memory one")
	}

	refs.ORTHarness(t)
	inline := filepath.Join(dir, "inline.onnx")
	if _, err := InMemory(externalSource, inline, opt); err != nil {
		t.Fatal(err)
	}
	x := make([]float64, 3*16)
	for i := range x {
		x[i] = float64(i%7) - 3
	}
	feeds := map[string]refs.Tensor{
		"x":      refs.FloatTensor("float32", []int{3, 16}, x),
		"labels": refs.IntTensor("int64", []int{3}, []int64{0, 3, 4}),
	}
	r := refs.RunORT(t, []refs.Job{{Model: out, Inputs: feeds}, {Model: inline, Inputs: feeds}})
	if r[0].Error != "" || r[1].Error != "" {
		t.Fatalf("ONNX Runtime: %q %q", r[0].Error, r[1].Error)
	}
	for _, name := range []string{"loss", "logits"} {
		a, _ := r[0].Outputs[name].Floats()
		b, _ := r[1].Outputs[name].Floats()
		if len(a) == 0 || strings.TrimSpace(fmtFloats(a)) != strings.TrimSpace(fmtFloats(b)) {
			t.Errorf("%s from the external-data model %v, inline model %v", name, a, b)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func fmtFloats(v []float64) string {
	var sb strings.Builder
	for _, x := range v {
		sb.WriteString(strconvF(x))
		sb.WriteByte(' ')
	}
	return sb.String()
}

// TestTruncatedFiles cuts every testdata model at every byte: each cut
// fails with one line, and no output (nor temporary file) is left.
func TestTruncatedFiles(t *testing.T) {
	dir := t.TempDir()
	outDir := filepath.Join(dir, "out")
	if err := os.Mkdir(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	opt := inject.Options{Loss: lossops.WeightedCE, Counts: &lossops.Counts{Values: []float64{1, 2, 3, 4, 5}}, Reduction: lossops.Mean}
	cuts, truncated := 0, 0
	for _, p := range testModels(t) {
		b, _ := os.ReadFile(p)
		cut := filepath.Join(dir, "cut.onnx")
		// Every byte of the first 64 and the last 64, and 200 cuts between.
		for n := 0; n < len(b); n += max(1, min(len(b)/200, map[bool]int{true: 1, false: len(b)}[n < 64 || n >= len(b)-64-len(b)/200])) {
			if err := os.WriteFile(cut, b[:n], 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Inject(cut, filepath.Join(outDir, "o.onnx"), opt)
			if err == nil {
				t.Fatalf("%s cut at %d: no error", filepath.Base(p), n)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("%s cut at %d: error of several lines: %q", filepath.Base(p), n, err)
			}
			var fe *FormatError
			if errors.As(err, &fe) && fe.Truncated {
				truncated++
			}
			cuts++
		}
		if left, _ := os.ReadDir(outDir); len(left) != 0 {
			t.Fatalf("%s: files left in the output directory: %v", filepath.Base(p), left)
		}
	}
	t.Logf("%d cuts, all errors; %d reported as truncated, the rest cut between top-level fields (no graph, no opset)", cuts, truncated)
}

// TestCLITruncated runs the onnxloss binary on cut models, streamed and
// not: exit code 2, one line on stderr, no output file.
func TestCLITruncated(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "onnxloss")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/onnxloss/onnxloss/cmd/onnxloss").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	countsFile := filepath.Join(dir, "counts.json")
	os.WriteFile(countsFile, []byte("[5, 3, 9, 2, 4]"), 0o644)
	b, err := os.ReadFile(filepath.Join("..", "testdata", "models", "mlp_o13.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.onnx")
	out := filepath.Join(dir, "out.onnx")
	for _, n := range []int{0, 1, 7, 40, 100, 500, len(b) / 2, len(b) - 300, len(b) - 20, len(b) - 1} {
		os.WriteFile(cut, b[:n], 0o644)
		for _, mode := range []string{"--stream", "--no-stream"} {
			cmd := exec.Command(bin, "inject", "--loss", "cb_focal", "--counts", countsFile, mode, "-o", out, cut)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 2 {
				t.Errorf("cut at %d %s: %v, want exit 2", n, mode, err)
			}
			if lines := strings.Count(strings.TrimSpace(stderr.String()), "\n") + 1; lines != 1 {
				t.Errorf("cut at %d %s: %d lines on stderr: %q", n, mode, lines, stderr.String())
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("cut at %d %s: output written", n, mode)
			}
			if n == len(b)/2 && mode == "--stream" {
				t.Logf("%s", strings.TrimSpace(stderr.String()))
			}
		}
	}
}

func strconvF(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// TestEscapingExternalDataIsReported: writing the output where its external
// data can only be reached through ".." (which ONNX Runtime refuses) gives a
// note on both paths; writing it in a parent of the data's directory does not.
func TestEscapingExternalDataIsReported(t *testing.T) {
	dir := t.TempDir()
	model, _ := externalModel(t, dir)
	if err := os.Mkdir(filepath.Join(dir, "other"), 0o755); err != nil {
		t.Fatal(err)
	}
	opt := inject.Options{Loss: lossops.Focal, Counts: &lossops.Counts{Values: []float64{50, 20, 9, 300, 41}}, Gamma: 2, Reduction: lossops.Mean, Normalize: true}
	for name, f := range map[string]func(string, string, inject.Options) (*inject.Result, error){"streaming": Inject, "in memory": InMemory} {
		for _, tc := range []struct {
			out  string
			warn bool
		}{{filepath.Join(dir, "other", "out.onnx"), true}, {filepath.Join(dir, "out.onnx"), false}} {
			res, err := f(model, tc.out, opt)
			if err != nil {
				t.Fatal(err)
			}
			warned := false
			for _, n := range res.Notes {
				warned = warned || strings.Contains(n, "outside its directory (../data/weights.bin)")
			}
			if warned != tc.warn {
				t.Errorf("%s to %s: warned %v, want %v (notes %q)", name, tc.out, warned, tc.warn, res.Notes)
			}
			os.Remove(tc.out)
		}
	}
}
