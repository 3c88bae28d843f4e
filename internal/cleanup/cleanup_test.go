package cleanup

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestCreateCommit(t *testing.T) {
	d := t.TempDir()
	f, untrack, err := CreateTemp(d, ".x.tmp-*")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if p := Pending(); len(p) != 1 || p[0] != f.Name() {
		t.Fatalf("Pending = %v, want [%s]", p, f.Name())
	}
	out := filepath.Join(d, "x")
	if err := Commit(f.Name(), out); err != nil {
		t.Fatal(err)
	}
	if p := Pending(); len(p) != 0 {
		t.Errorf("Pending after Commit = %v", p)
	}
	untrack()
	if _, err := os.Stat(out); err != nil {
		t.Error(err)
	}
}

func TestExitCode(t *testing.T) {
	for sig, want := range map[syscall.Signal]int{syscall.SIGINT: 130, syscall.SIGTERM: 143, syscall.SIGHUP: 129} {
		if got := ExitCode(sig); got != want {
			t.Errorf("ExitCode(%v) = %d, want %d", sig, got, want)
		}
	}
}
