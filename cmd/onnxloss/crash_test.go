package main

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/onnxpb"
)

// bigModelRows is K of the big model's (K, 10) float32 weight: 5,000,000 rows
// make a 200 MB initializer, well above the 64 MiB from which the CLI streams,
// so that writing the output takes long enough to be interrupted.
const bigModelRows = 5_000_000

// writeBigModel writes a classifier x (N, K) → MatMul with a (K, 10) float32
// initializer → logits (N, 10), opset 13, and returns its size.
func writeBigModel(t *testing.T, path string) int64 {
	t.Helper()
	const classes = 10
	raw := make([]byte, 4*bigModelRows*classes)
	for i := 0; i < len(raw); i += 4 {
		// Non-trivial bytes, so a torn copy cannot look like the original.
		binary.LittleEndian.PutUint32(raw[i:], uint32(i)*2654435761)
	}
	s := func(v string) *string { return &v }
	ft := onnxpb.TensorProto_FLOAT
	dim := func(v int64) graphedit.Dim { return graphedit.Dim{Value: v} }
	batch := graphedit.Dim{Value: -1, Param: "N"}
	mp := &onnxpb.ModelProto{
		IrVersion:   ptrI64(7),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: s(""), Version: ptrI64(13)}},
		Graph: &onnxpb.GraphProto{
			Name:  s("big"),
			Input: []*onnxpb.ValueInfoProto{graphedit.TensorValueInfo("x", graphedit.ValueType{Elem: ft, Shape: []graphedit.Dim{batch, dim(bigModelRows)}})},
			Output: []*onnxpb.ValueInfoProto{graphedit.TensorValueInfo("logits",
				graphedit.ValueType{Elem: ft, Shape: []graphedit.Dim{batch, dim(classes)}})},
			Initializer: []*onnxpb.TensorProto{{Name: s("W"), Dims: []int64{bigModelRows, classes}, DataType: ptrI32(int32(ft)), RawData: raw}},
			Node:        []*onnxpb.NodeProto{{Name: s("fc"), OpType: s("MatMul"), Input: []string{"x", "W"}, Output: []string{"logits"}}},
		},
	}
	if err := (&graphedit.Model{Proto: mp}).Save(path); err != nil {
		t.Fatalf("writing the big model: %v", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

func ptrI32(v int32) *int32 { return &v }

// hashFile returns the SHA-256 of the file at path.
func hashFile(t *testing.T, path string) [32]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("hashing %s: %v", path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatalf("hashing %s: %v", path, err)
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum
}

// tempFiles returns the temporary files graphedit.WriteAtomic leaves beside
// out (".NAME.tmp-*") and their sizes.
func tempFiles(out string) map[string]int64 {
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+".tmp-*"))
	files := map[string]int64{}
	for _, m := range matches {
		if st, err := os.Stat(m); err == nil {
			files[m] = st.Size()
		}
	}
	return files
}

// killTrigger says when to SIGKILL the inject: after a fixed delay, or as
// soon as its temporary output file holds at least frac of the input's
// size (frac 0: as soon as the file exists).
type killTrigger struct {
	delay time.Duration
	frac  float64
	// bySize selects frac over delay.
	bySize bool
}

func (k killTrigger) String() string {
	if k.bySize {
		return fmt.Sprintf("temp file at %.0f%%", 100*k.frac)
	}
	return "after " + k.delay.String()
}

// TestKillMidWriteLosesNothing starts the real `onnxloss inject` on a 200 MB
// model, writing into the input's directory, and SIGKILLs it at several
// moments: after fixed delays, and when its temporary output file holds 0%,
// 50% and 95% of the input's size (so the kill lands in the middle of the
// write), on the streaming path (the default above 64 MiB) and the
// in-memory one (--no-stream). After every kill the input is byte-identical
// and nothing exists under the output's name. A killed process cannot
// clean up, so its hidden temporary file ".NAME.tmp-*" may remain beside
// the output (documented in the README); it never takes the final name,
// and a rerun into the same path succeeds. If a timed run finishes before
// its kill, the output must be complete instead.
func TestKillMidWriteLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 200 MB model: skipped with -short")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "big.onnx")
	inSize := writeBigModel(t, in)
	inHash := hashFile(t, in)
	counts := writeFile(t, filepath.Join(dir, "counts.json"), "[500, 120, 7, 40, 3, 9, 1000, 77, 1, 60]")

	triggers := []killTrigger{
		{bySize: true, frac: 0}, {bySize: true, frac: 0.5}, {bySize: true, frac: 0.95},
		{delay: 20 * time.Millisecond}, {delay: 150 * time.Millisecond}, {delay: 400 * time.Millisecond}, {delay: 1500 * time.Millisecond},
	}
	for _, mode := range []string{"stream", "no-stream"} {
		// A single size trigger can miss its window (the streaming path
		// copies 200 MB in one copy_file_range of ~0.1 s), so each one only
		// logs; at least one kill per path must land mid-write.
		midWrite := 0
		for i, trig := range triggers {
			t.Run(fmt.Sprintf("%s/%s", mode, trig), func(t *testing.T) {
				out := filepath.Join(dir, fmt.Sprintf("big.%s.%d.train.onnx", mode, i))
				args := []string{"inject", "--loss", "cb_focal", "--counts", counts, "-o", out, "--" + mode, in}
				killed, sawTemp := runAndKill(t, bin, args, out, inSize, trig)
				if got := hashFile(t, in); got != inHash {
					t.Fatalf("the input changed after the kill (%s)", trig)
				}
				_, err := os.Stat(out)
				switch {
				case killed && !errors.Is(err, os.ErrNotExist):
					t.Errorf("killed (%s), yet %s exists (stat: %v): a partial output took the final name", trig, out, err)
				case !killed:
					checkComplete(t, out)
				}
				if trig.bySize && !sawTemp {
					t.Logf("the temporary output was not seen at %.0f%% of the input before the process ended", 100*trig.frac)
				}
				if killed && sawTemp {
					midWrite++
				}
				left := tempFiles(out)
				for f, size := range left {
					t.Logf("killed=%v: leftover hidden temp file %s (%d of ~%d bytes)", killed, filepath.Base(f), size, inSize)
					if !killed {
						t.Errorf("a completed run left %s behind", f)
					}
					os.Remove(f)
				}
				os.Remove(out)
			})
		}
		if midWrite == 0 {
			t.Errorf("%s: no kill landed while the temporary output was being written", mode)
		}
		t.Run(mode+"/rerun after kill", func(t *testing.T) {
			out := filepath.Join(dir, "big."+mode+".rerun.onnx")
			args := []string{"inject", "--loss", "cb_focal", "--counts", counts, "-o", out, "--" + mode, in}
			if killed, _ := runAndKill(t, bin, args, out, inSize, killTrigger{bySize: true, frac: 0}); !killed {
				t.Fatal("the first run was not killed")
			}
			if res, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
				t.Fatalf("rerun after a kill: %v: %s", err, res)
			}
			checkComplete(t, out)
			if got := hashFile(t, in); got != inHash {
				t.Fatal("the input changed")
			}
			for f := range tempFiles(out) {
				os.Remove(f)
			}
			os.Remove(out)
		})
	}
}

// runAndKill starts bin with args and SIGKILLs it when trig fires. It reports
// whether the process was killed (rather than having exited on its own) and,
// for size triggers, whether the temporary output was seen at the trigger's
// size while the process ran.
func runAndKill(t *testing.T, bin string, args []string, out string, inSize int64, trig killTrigger) (killed, sawTemp bool) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	kill := func() bool {
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
			t.Fatalf("SIGKILL: %v", err)
		}
		err := <-done
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
				return true
			}
		}
		if err != nil {
			t.Fatalf("inject failed before the kill: %v: %s", err, stderr.String())
		}
		return false
	}
	deadline := time.After(2 * time.Minute)
	if !trig.bySize {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("inject failed: %v: %s", err, stderr.String())
			}
			return false, false
		case <-time.After(trig.delay):
			return kill(), false
		}
	}
	want := int64(trig.frac * float64(inSize))
	tick := time.NewTicker(200 * time.Microsecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("inject failed: %v: %s", err, stderr.String())
			}
			return false, false
		case <-deadline:
			kill()
			t.Fatal("inject still running after 2 minutes")
		case <-tick.C:
			for _, size := range tempFiles(out) {
				if size >= want {
					return kill(), true
				}
			}
		}
	}
}

// checkComplete loads the output of a finished inject and checks that the
// loss is its first output.
func checkComplete(t *testing.T, out string) {
	t.Helper()
	m, err := graphedit.Load(out)
	if err != nil {
		t.Fatalf("the completed output does not load: %v", err)
	}
	if outs := m.Graph().GetOutput(); len(outs) == 0 || outs[0].GetName() != "loss" {
		t.Fatalf("the completed output's first output is not the loss")
	}
}
