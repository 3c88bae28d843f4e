package extdata

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onnxloss/onnxloss/onnxpb"
)

// tree is a model directory with every kind of entry a hostile model could
// point at, and an outside directory holding a file of the same size as
// the inside one.
type tree struct {
	dir, outside string
	content      []byte // of dir/w.bin and dir/sub/x.bin
	secret       []byte // of outside/secret.bin
}

func makeTree(t testing.TB) tree {
	t.Helper()
	base := t.TempDir()
	tr := tree{dir: filepath.Join(base, "model"), outside: filepath.Join(base, "outside")}
	tr.content = []byte("0123456789abcdef")
	tr.secret = []byte("SECRETSECRETSECR")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(tr.dir, "sub", "deeper"), 0o755))
	must(os.MkdirAll(tr.outside, 0o755))
	must(os.WriteFile(filepath.Join(tr.dir, "w.bin"), tr.content, 0o644))
	must(os.WriteFile(filepath.Join(tr.dir, "sub", "x.bin"), tr.content, 0o644))
	must(os.WriteFile(filepath.Join(tr.outside, "secret.bin"), tr.secret, 0o644))
	must(os.Symlink("w.bin", filepath.Join(tr.dir, "inlink")))                                  // inside → inside
	must(os.Symlink("../x.bin", filepath.Join(tr.dir, "sub", "deeper", "up")))                  // inside → inside, via ..
	must(os.Symlink(filepath.Join(tr.outside, "secret.bin"), filepath.Join(tr.dir, "abslink"))) // absolute link out
	must(os.Symlink("../outside/secret.bin", filepath.Join(tr.dir, "rellink")))                 // relative link out
	must(os.Symlink(tr.outside, filepath.Join(tr.dir, "outdir")))                               // a directory link out
	must(os.Symlink("loop", filepath.Join(tr.dir, "loop")))                                     // a loop
	must(os.Symlink("/dev/zero", filepath.Join(tr.dir, "zero")))                                // a device, outside
	must(syscall.Mkfifo(filepath.Join(tr.dir, "fifo"), 0o644))
	must(os.Symlink("fifo", filepath.Join(tr.dir, "fifolink")))
	return tr
}

func entries(loc string, off, length int64) []*onnxpb.StringStringEntryProto {
	kv := func(k, v string) *onnxpb.StringStringEntryProto {
		return &onnxpb.StringStringEntryProto{Key: &k, Value: &v}
	}
	e := []*onnxpb.StringStringEntryProto{kv("location", loc)}
	if off >= 0 {
		e = append(e, kv("offset", strconv.FormatInt(off, 10)))
	}
	if length >= 0 {
		e = append(e, kv("length", strconv.FormatInt(length, 10)))
	}
	return e
}

func TestRead(t *testing.T) {
	tr := makeTree(t)
	ok := []struct {
		loc       string
		off, want int64
	}{
		{"w.bin", -1, 16},
		{"w.bin", 4, 8},
		{"sub/x.bin", 0, 16},
		{"./sub/../w.bin", 0, 16},
		{"inlink", 0, 16},
		{"sub/deeper/up", 0, 16},
		{"w.bin", 16, 0},
	}
	for _, tc := range ok {
		got, err := Read(tr.dir, entries(tc.loc, tc.off, -1), tc.want)
		off := max(tc.off, 0)
		if err != nil || !bytes.Equal(got, tr.content[off:off+tc.want]) {
			t.Errorf("Read(%q, %d, %d) = %q, %v", tc.loc, tc.off, tc.want, got, err)
		}
	}
	bad := []struct {
		loc       string
		off, want int64
		msg       string
	}{
		{"", 0, 16, "without a location"},
		{"/etc/passwd", 0, 16, "is absolute"},
		{filepath.Join(tr.outside, "secret.bin"), 0, 16, "is absolute"},
		{"../outside/secret.bin", 0, 16, "leaves the model's directory"},
		{"sub/../../outside/secret.bin", 0, 16, "leaves the model's directory"},
		{"..", 0, 16, "leaves the model's directory"},
		{"abslink", 0, 16, "outside the model's directory"},
		{"rellink", 0, 16, "outside the model's directory"},
		{"outdir/secret.bin", 0, 16, "outside the model's directory"},
		{"zero", 0, 16, "outside the model's directory"},
		{"fifo", 0, 16, "FIFO"},
		{"fifolink", 0, 16, "FIFO"},
		{"sub", 0, 16, "a directory"},
		{".", 0, 16, "a directory"},
		{"loop", 0, 16, "loop"},
		{"nope.bin", 0, 16, "no such file"},
		{"w.bin\x00.txt", 0, 16, "NUL"},
		{"w.bin", 0, 17, "holds 16 bytes"},
		{"w.bin", 10, 8, "holds 16 bytes"},
		{"w.bin", 1 << 62, 8, "holds 16 bytes"},
		{"w.bin", 0, 1 << 38, "holds 16 bytes"},
	}
	for _, tc := range bad {
		done := make(chan error, 1)
		go func() {
			_, err := Read(tr.dir, entries(tc.loc, tc.off, -1), tc.want)
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("Read(%q, %d, %d) error %v, want one mentioning %q", tc.loc, tc.off, tc.want, err, tc.msg)
			} else if strings.Contains(err.Error(), "\n") {
				t.Errorf("Read(%q): two-line error %q", tc.loc, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("Read(%q) blocked", tc.loc)
		}
	}
	// A length entry that disagrees with the tensor, and bad numbers.
	if _, err := Read(tr.dir, entries("w.bin", 0, 8), 16); err == nil || !strings.Contains(err.Error(), "length 8") {
		t.Errorf("length mismatch: %v", err)
	}
	e := entries("w.bin", -1, -1)
	neg, bogus := "-5", "12abc"
	k := "offset"
	if _, err := Read(tr.dir, append(e, &onnxpb.StringStringEntryProto{Key: &k, Value: &neg}), 4); err == nil {
		t.Error("a negative offset was accepted")
	}
	if _, err := Read(tr.dir, append(e, &onnxpb.StringStringEntryProto{Key: &k, Value: &bogus}), 4); err == nil {
		t.Error("a non-numeric offset was accepted")
	}
}

// FuzzRead reads fuzzed locations, offsets and lengths in a tree with
// symbolic links out of the model's directory, a FIFO, a device link and a
// loop. Read must never panic or block, and whenever it succeeds the
// location must resolve to a regular file inside the directory and the
// bytes must be that file's.
func FuzzRead(f *testing.F) {
	for _, s := range []string{"w.bin", "sub/x.bin", "inlink", "sub/deeper/up", "../outside/secret.bin", "abslink", "rellink",
		"outdir/secret.bin", "fifo", "fifolink", "zero", "loop", "/etc/passwd", "sub/../w.bin", "sub/deeper/../../w.bin", ".", "..", "", "w.bin\x00"} {
		f.Add(s, int64(0), int64(16))
	}
	f.Add("w.bin", int64(8), int64(8))
	f.Add("w.bin", int64(-1), int64(1<<40))
	tr := makeTree(f)
	realDir, err := filepath.EvalSymlinks(tr.dir)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, loc string, off, want int64) {
		if want > 1<<20 {
			want %= 1 << 20 // the size check is tested above; keep buffers small
		}
		got, err := Read(tr.dir, entries(loc, off, -1), want)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n") {
				t.Fatalf("two-line error for %q: %q", loc, err)
			}
			return
		}
		target, err := filepath.EvalSymlinks(filepath.Join(tr.dir, filepath.FromSlash(loc)))
		if err != nil {
			t.Fatalf("Read(%q) succeeded but the location does not resolve: %v", loc, err)
		}
		rel, err := filepath.Rel(realDir, target)
		if err != nil || !filepath.IsLocal(rel) {
			t.Fatalf("Read(%q) read %s, outside %s", loc, target, realDir)
		}
		st, err := os.Lstat(target)
		if err != nil || !st.Mode().IsRegular() {
			t.Fatalf("Read(%q) read %s, not a regular file", loc, target)
		}
		data, err := os.ReadFile(target)
		if err != nil {
			t.Fatal(err)
		}
		o := max(off, 0)
		if o+want > int64(len(data)) || !bytes.Equal(got, data[o:o+want]) {
			t.Fatalf("Read(%q, %d, %d) = %q, not the file's bytes", loc, off, want, got)
		}
		if bytes.Equal(got, tr.secret) || (len(got) > 0 && bytes.Contains(tr.secret, got) && !bytes.Contains(tr.content, got)) {
			t.Fatalf("Read(%q) returned the outside file's bytes", loc)
		}
	})
}

func TestParse(t *testing.T) {
	r, err := Parse(entries("a/b.bin", 7, 9))
	if err != nil || r.Location != "a/b.bin" || r.Offset != 7 || r.Length != 9 {
		t.Errorf("Parse = %+v, %v", r, err)
	}
	twice := append(entries("a", -1, -1), entries("b", -1, -1)...)
	if _, err := Parse(twice); err == nil || !errors.Is(err, err) || !strings.Contains(err.Error(), "two") {
		t.Errorf("two locations: %v", err)
	}
}
