package refs

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TrainORT runs ortharness/train.js — the onnxruntime-node training loop users
// copy — on a step model and its init model for steps steps over the batches
// in batchesNPZ, writing the trained parameters to out (.npz or
// .safetensors; "" writes none). It returns the loss of every step.
func TrainORT(t testing.TB, step, init, batchesNPZ string, steps int, out string) []float64 {
	t.Helper()
	dir := ORTHarness(t)
	return runTrainLoop(t, "node", filepath.Join(dir, "train.js"), step, init, batchesNPZ, steps, out)
}

// TrainPython runs scripts/train.py — the Python training loop, on
// onnxruntime from PyPI in .venv — like TrainORT.
func TrainPython(t testing.TB, step, init, batchesNPZ string, steps int, out string) []float64 {
	t.Helper()
	py := VenvPython(t, "onnxruntime", "safetensors")
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return runTrainLoop(t, py, filepath.Join(root, "scripts", "train.py"), step, init, batchesNPZ, steps, out)
}

func runTrainLoop(t testing.TB, interp, script, step, init, batchesNPZ string, steps int, out string) []float64 {
	t.Helper()
	args := []string{script, step, "--init", init, "--batches", batchesNPZ, "--steps", strconv.Itoa(steps)}
	if out != "" {
		args = append(args, "-o", out)
	}
	cmd := exec.Command(interp, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v: %s", filepath.Base(script), err, strings.TrimSpace(stderr.String()))
	}
	var losses []float64
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		f := strings.Fields(line)
		if len(f) != 4 || f[0] != "step" || f[2] != "loss" {
			t.Fatalf("%s printed %q, want \"step I loss L\"", filepath.Base(script), line)
		}
		v, err := strconv.ParseFloat(f[3], 64)
		if err != nil {
			t.Fatalf("%s: loss %q: %v", filepath.Base(script), f[3], err)
		}
		losses = append(losses, v)
	}
	if len(losses) != steps {
		t.Fatalf("%s printed %d losses for %d steps", filepath.Base(script), len(losses), steps)
	}
	return losses
}

// VenvPython returns the Python of the repository's .venv (made by
// scripts/install-refs.sh from scripts/venv-requirements.txt) after checking
// that it imports every module in modules, or skips/fails t.
func VenvPython(t testing.TB, modules ...string) string {
	t.Helper()
	return venvPython(t, ".venv", modules)
}

// TrainingVenvPython returns the Python of .venv-training, which has ONNX
// Runtime's training package (onnxruntime-training-cpu 1.19.2, from
// scripts/venv-training-requirements.txt), or skips/fails t.
func TrainingVenvPython(t testing.TB) string {
	t.Helper()
	return venvPython(t, ".venv-training", []string{"onnxruntime.training.api"})
}

func venvPython(t testing.TB, venv string, modules []string) string {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	py := filepath.Join(root, venv, "bin", "python")
	code := "import " + strings.Join(modules, ", ")
	if out, err := exec.Command(py, "-c", code).CombinedOutput(); err != nil {
		Unavailable(t, "the "+venv+" Python with "+strings.Join(modules, ", "), fmt.Sprintf("run scripts/install-refs.sh (%s: %s)", py, strings.TrimSpace(string(out))))
	}
	return py
}
