package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"
)

func TestTempPattern(t *testing.T) {
	for _, base := range []string{"m.onnx", strings.Repeat("a", 239), strings.Repeat("b", 250), strings.Repeat("é", 127)} {
		p := tempPattern(base)
		// CreateTemp puts up to 10 digits where the * is.
		if n := len(p) - 1 + 10; n > maxNameBytes {
			t.Errorf("pattern for a %d-byte name gives %d-byte temporary names", len(base), n)
		}
		if !utf8.ValidString(p) {
			t.Errorf("pattern %q cuts a character", p)
		}
	}
}

func TestWrite(t *testing.T) {
	d := t.TempDir()
	long := filepath.Join(d, strings.Repeat("x", 250))
	if err := WriteBytes(long, []byte("ok")); err != nil {
		t.Fatalf("250-byte name: %v", err)
	}
	if err := WriteBytes(filepath.Join(d, strings.Repeat("y", 256)), []byte("no")); err == nil || !strings.Contains(err.Error(), "longer than the 255 bytes") {
		t.Errorf("256-byte name: %v", err)
	}
	fifo := filepath.Join(d, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteBytes(fifo, []byte("no")); err == nil || !strings.Contains(err.Error(), "FIFO") {
		t.Errorf("FIFO: %v", err)
	}
	if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the FIFO was replaced")
	}
	boom := errors.New("boom")
	if err := Write(filepath.Join(d, "failed"), func(w io.Writer) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("write error: %v", err)
	}
	left, _ := filepath.Glob(filepath.Join(d, ".*.tmp-*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	if _, err := os.Stat(filepath.Join(d, "failed")); err == nil {
		t.Error("a failed write left its output")
	}
}
