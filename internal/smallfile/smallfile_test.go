package smallfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestRead(t *testing.T) {
	d := t.TempDir()
	p := filepath.Join(d, "f")
	if err := os.WriteFile(p, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := Read(p, 10); err != nil || string(b) != "0123456789" {
		t.Errorf("Read at the limit = %q, %v", b, err)
	}
	if _, err := Read(p, 9); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Read above the limit: %v, want ErrTooLarge", err)
	}
	if _, err := Read(d, 10); err == nil {
		t.Error("a directory was read")
	}
}

// TestReadEndlessStream reads /dev/zero, which never ends: Read must stop
// at the limit, quickly.
func TestReadEndlessStream(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero on this system")
	}
	start := time.Now()
	_, err := Read("/dev/zero", DefaultLimit)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Read(/dev/zero) = %v, want ErrTooLarge", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v", d)
	}
}
