package eval

import (
	"bytes"
	"testing"
	"time"
)

// TestProgress: nothing within the first second; after it, a line rewritten
// in place, and a final line ending in a newline.
func TestProgress(t *testing.T) {
	var buf bytes.Buffer
	p := &progress{w: &buf, total: 3, start: time.Now()}
	p.step(1)
	p.finish()
	if buf.Len() != 0 {
		t.Fatalf("progress within the first second: %q", buf.String())
	}
	p = &progress{w: &buf, total: 3, start: time.Now().Add(-2 * time.Second)}
	p.step(1)
	p.finish()
	got := buf.String()
	if !bytes.HasPrefix([]byte(got), []byte("\revaluating: 1/3 nodes, 2.0 s")) || !bytes.HasSuffix([]byte(got), []byte("3/3 nodes, 2.0 s\n")) {
		t.Fatalf("progress output %q", got)
	}
	var nilP *progress
	nilP.step(1) // no progress requested: no-op
	nilP.finish()
}
