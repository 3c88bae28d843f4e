// Package cleanup removes the temporary files of unfinished writes when the
// process is interrupted by SIGINT, SIGTERM or SIGHUP, then exits 128+signal.
//
// Writers create each temporary file with CreateTemp and rename it into
// place with Commit; both exclude the signal handler, so an
// interrupted run leaves either the complete output under its final name or
// nothing at all (SIGKILL cannot be caught: its temporary file may remain).
package cleanup

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"sync"
	"syscall"
)

var (
	mu      sync.Mutex
	pending = map[string]bool{}
)

// CreateTemp creates a temporary file as os.CreateTemp does and registers it
// for removal on interruption, with no signal handled in between (a file
// created but not yet registered would survive the signal). The returned
// function unregisters it: call it once the file is renamed or removed.
func CreateTemp(dir, pattern string) (f *os.File, untrack func(), err error) {
	mu.Lock()
	defer mu.Unlock()
	f, err = os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, func() {}, err
	}
	path := f.Name()
	pending[path] = true
	return f, func() {
		mu.Lock()
		delete(pending, path)
		mu.Unlock()
	}, nil
}

// Commit renames the tracked temporary file tmp to path and unregisters it,
// with no signal handled in between.
func Commit(tmp, path string) error {
	mu.Lock()
	defer mu.Unlock()
	err := os.Rename(tmp, path)
	if err == nil {
		delete(pending, tmp)
	}
	return err
}

// Pending returns the tracked temporary files, sorted.
func Pending() []string {
	mu.Lock()
	defer mu.Unlock()
	return pendingLocked()
}

func pendingLocked() []string {
	l := make([]string, 0, len(pending))
	for p := range pending {
		l = append(l, p)
	}
	sort.Strings(l)
	return l
}

// Signals are the signals HandleSignals catches.
var Signals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP}

// ExitCode is the shell's exit status for a process ended by sig: 128 plus
// the signal's number (130 SIGINT, 143 SIGTERM, 129 SIGHUP).
func ExitCode(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 1
}

// HandleSignals catches Signals for the rest of the process: on the first
// one it removes every tracked temporary file, writes one line to w naming
// the signal (and what it removed) and exits with ExitCode. name is the
// program's name for that line.
func HandleSignals(w io.Writer, name string) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, Signals...)
	go func() {
		sig := <-ch
		mu.Lock() // held until exit: no Commit after this point
		removed := 0
		for _, p := range pendingLocked() {
			if os.Remove(p) == nil {
				removed++
			}
		}
		what := "nothing was being written"
		if removed > 0 {
			what = "removed the unfinished output"
		}
		fmt.Fprintf(w, "%s: interrupted by %s: %s\n", name, signalName(sig), what)
		os.Exit(ExitCode(sig))
	}()
}

func signalName(sig os.Signal) string {
	switch sig {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return sig.String()
}
