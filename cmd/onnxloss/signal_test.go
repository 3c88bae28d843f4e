package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestInterruptRemovesTemp starts the real `onnxloss inject` on a 200 MB
// model, on the streaming and the in-memory path, and sends SIGINT, SIGTERM
// or SIGHUP as soon as its temporary output exists: the process must remove
// the temporary file, exit with 128+signal (130, 143, 129) and one line
// saying so, leave nothing under the output name and the input unchanged.
// A run that finishes before the signal lands is retried.
func TestInterruptRemovesTemp(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 200 MB model: skipped with -short")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "big.onnx")
	writeBigModel(t, in)
	inHash := hashFile(t, in)
	counts := writeFile(t, filepath.Join(dir, "counts.json"), "[500, 120, 7, 40, 3, 9, 1000, 77, 1, 60]")
	signals := []struct {
		sig  syscall.Signal
		name string
		code int
	}{{syscall.SIGINT, "SIGINT", 130}, {syscall.SIGTERM, "SIGTERM", 143}, {syscall.SIGHUP, "SIGHUP", 129}}
	for _, mode := range []string{"stream", "no-stream"} {
		for _, s := range signals {
			t.Run(mode+"/"+s.name, func(t *testing.T) {
				out := filepath.Join(dir, fmt.Sprintf("big.%s.%s.onnx", mode, s.name))
				args := []string{"inject", "--loss", "cb_focal", "--counts", counts, "-o", out, "--" + mode, in}
				for attempt := 1; ; attempt++ {
					landed, code, stderr := interruptWhenTempExists(t, bin, args, out, s.sig)
					if landed && strings.Contains(stderr, "nothing was being written") {
						// The signal came after the rename: the output must
						// then be complete (and the exit code still 128+n).
						if code != s.code {
							t.Errorf("exit code %d, want %d", code, s.code)
						}
						checkComplete(t, out)
						landed = false
					}
					if !landed {
						if attempt == 5 {
							t.Fatalf("the run finished before the signal 5 times")
						}
						os.Remove(out)
						continue
					}
					if code != s.code {
						t.Errorf("exit code %d, want %d; stderr: %s", code, s.code, stderr)
					}
					lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
					if last := lines[len(lines)-1]; !strings.Contains(last, "interrupted by "+s.name+": removed the unfinished output") {
						t.Errorf("last stderr line %q does not say the temporary output was removed", last)
					}
					break
				}
				if left := tempFiles(out); len(left) > 0 {
					t.Errorf("temporary files left behind: %v", left)
				}
				if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("an interrupted run left %s (stat: %v)", out, err)
				}
				if hashFile(t, in) != inHash {
					t.Fatal("the input changed")
				}
			})
		}
	}
}

// interruptWhenTempExists runs bin and sends sig once the temporary output
// beside out exists. landed is false when the process finished first.
func interruptWhenTempExists(t *testing.T, bin string, args []string, out string, sig syscall.Signal) (landed bool, code int, stderr string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var errBuf strings.Builder
	cmd.Stderr = &errBuf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	exitCode := func(err error) int {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	}
	deadline := time.After(2 * time.Minute)
	tick := time.NewTicker(200 * time.Microsecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if c := exitCode(err); c != 0 {
				t.Fatalf("inject failed before the signal: exit %d: %s", c, errBuf.String())
			}
			return false, 0, errBuf.String()
		case <-deadline:
			cmd.Process.Kill()
			t.Fatal("inject still running after 2 minutes")
		case <-tick.C:
			if len(tempFiles(out)) == 0 {
				continue
			}
			if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
				t.Fatal(err)
			}
			err := <-done
			c := exitCode(err)
			if c == 0 {
				return false, 0, errBuf.String() // finished just before the signal
			}
			return true, c, errBuf.String()
		}
	}
}
