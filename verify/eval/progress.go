package eval

import (
	"fmt"
	"io"
	"time"
)

// progress writes "evaluating: N/M nodes, T s" lines (carriage-return
// updated) to w once a run has taken more than a second.
type progress struct {
	w     io.Writer
	total int
	start time.Time
	last  time.Time
	shown bool
}

// ReportProgress makes Run write its progress to w (nodes done, elapsed
// time) when a run takes longer than a second; nil turns it off. Callers
// pass a terminal only: the line is rewritten in place.
func (s *Session) ReportProgress(w io.Writer) { s.progressTo = w }

func (p *progress) step(done int) {
	if p == nil {
		return
	}
	now := time.Now()
	if now.Sub(p.start) < time.Second || now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last, p.shown = now, true
	fmt.Fprintf(p.w, "\revaluating: %d/%d nodes, %.1f s", done, p.total, now.Sub(p.start).Seconds())
}

func (p *progress) finish() {
	if p != nil && p.shown {
		fmt.Fprintf(p.w, "\revaluating: %d/%d nodes, %.1f s\n", p.total, p.total, time.Since(p.start).Seconds())
	}
}
