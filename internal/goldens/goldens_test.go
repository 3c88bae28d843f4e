package goldens

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/onnxloss/onnxloss/internal/refs"
)

// TestGoldensReproduceFromPyTorch regenerates the golden files with the
// committed scripts and Debian's PyTorch and checks that the committed
// files hold exactly what PyTorch computes: same cases, same weights and
// expected losses to 1e-12 relative (bit-level differences of vectorized
// float64 math between CPUs stay far below that).
func TestGoldensReproduceFromPyTorch(t *testing.T) {
	if err := exec.Command(refs.Python, "-c", "import torch, torchvision").Run(); err != nil {
		refs.Unavailable(t, "PyTorch", "apt-get install -y python3-torch python3-torchvision (run with /usr/bin/python3)")
	}
	root, err := refs.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []struct{ script, file string }{
		{"gen-goldens.py", "losses.json"},
		{"gen-training-goldens.py", "training.json"},
	} {
		t.Run(g.file, func(t *testing.T) {
			fresh := filepath.Join(t.TempDir(), g.file)
			out, err := exec.Command(refs.Python, filepath.Join(root, "scripts", g.script), fresh).CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", g.script, err, out)
			}
			want := readCases(t, fresh)
			got := readCases(t, filepath.Join(root, "testdata", "goldens", g.file))
			if len(got) != len(want) {
				t.Fatalf("committed %s has %d cases, PyTorch gives %d: regenerate it", g.file, len(got), len(want))
			}
			for i := range want {
				if got[i].Name != want[i].Name {
					t.Fatalf("case %d is %q, PyTorch's is %q", i, got[i].Name, want[i].Name)
				}
				compare(t, got[i].Name+" expected", got[i].Expected.Data, want[i].Expected.Data)
				compare(t, got[i].Name+" weights", got[i].Weights, want[i].Weights)
				compare(t, got[i].Name+" logits", got[i].Logits.Data, want[i].Logits.Data)
			}
		})
	}
}

type goldenFile struct {
	Cases []Case `json:"cases"`
}

func readCases(t *testing.T, path string) []Case {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f goldenFile
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return f.Cases
}

func compare(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d values, PyTorch %d", what, len(got), len(want))
		return
	}
	for i := range want {
		if d := math.Abs(got[i] - want[i]); d > 1e-12*math.Abs(want[i]) && d > 1e-300 {
			t.Errorf("%s[%d] = %.17g, PyTorch %.17g", what, i, got[i], want[i])
			return
		}
	}
}

// TestCatalogueGoldensReproduceFromReferences regenerates catalogue.json
// with the venv's reference packages (segmentation_models_pytorch, monai,
// timm, installed by scripts/install-refs.sh) and checks that the committed
// file holds what they compute, to 1e-12 relative as above.
func TestCatalogueGoldensReproduceFromReferences(t *testing.T) {
	root, err := refs.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	python := filepath.Join(root, ".venv", "bin", "python")
	if err := exec.Command(python, "-c", "import segmentation_models_pytorch, monai, timm").Run(); err != nil {
		refs.Unavailable(t, "the loss reference packages", "run scripts/install-refs.sh (installs scripts/venv-requirements.txt into .venv)")
	}
	fresh := filepath.Join(t.TempDir(), CatalogueFile)
	out, err := exec.Command(python, filepath.Join(root, "scripts", "gen-catalogue-goldens.py"), fresh).CombinedOutput()
	if err != nil {
		t.Fatalf("gen-catalogue-goldens.py: %v\n%s", err, out)
	}
	want := readCases(t, fresh)
	got := readCases(t, filepath.Join(root, "testdata", "goldens", CatalogueFile))
	if len(got) != len(want) {
		t.Fatalf("committed %s has %d cases, the references give %d: regenerate it", CatalogueFile, len(got), len(want))
	}
	for i := range want {
		if got[i].Name != want[i].Name {
			t.Fatalf("case %d is %q, the references' is %q", i, got[i].Name, want[i].Name)
		}
		compare(t, got[i].Name+" expected", got[i].Expected.Data, want[i].Expected.Data)
		compare(t, got[i].Name+" weights", got[i].Weights, want[i].Weights)
		compare(t, got[i].Name+" logits", got[i].Logits.Data, want[i].Logits.Data)
	}
}
