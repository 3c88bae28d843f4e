package labelcounts

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Progress reports how far a long count has got, on one line rewritten in
// place (meant for a terminal): files done, bytes read or pixels decoded,
// and the rate. Start it, pass it in Options.Progress, and Stop it.
type Progress struct {
	w          io.Writer
	start      time.Time
	files      atomic.Int64
	done       atomic.Int64
	bytes      atomic.Int64
	items      atomic.Int64
	masks      atomic.Bool
	stop, quit chan struct{}
	once       sync.Once
}

// NewProgress returns a Progress that writes to w (a terminal's stderr).
func NewProgress(w io.Writer) *Progress {
	return &Progress{w: w, stop: make(chan struct{}), quit: make(chan struct{})}
}

// Start prints the progress line every 200 ms until Stop.
func (p *Progress) Start() {
	p.start = time.Now()
	go func() {
		defer close(p.quit)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.print()
			}
		}
	}()
}

// Stop ends the progress line (clearing it).
func (p *Progress) Stop() {
	p.once.Do(func() {
		close(p.stop)
		<-p.quit
		fmt.Fprint(p.w, "\r\x1b[K")
	})
}

func (p *Progress) print() {
	secs := time.Since(p.start).Seconds()
	if secs <= 0 {
		return
	}
	line := fmt.Sprintf("counting: %d/%d files", p.done.Load(), p.files.Load())
	if p.masks.Load() {
		line += fmt.Sprintf(", %.3g Mpixels, %.0f masks/s", float64(p.items.Load())/1e6, float64(p.done.Load())/secs)
	} else {
		line += fmt.Sprintf(", %.1f MiB read, %.1f MiB/s", float64(p.bytes.Load())/(1<<20), float64(p.bytes.Load())/(1<<20)/secs)
	}
	fmt.Fprintf(p.w, "\r%s\x1b[K", line)
}

func (p *Progress) setFiles(n int, masks bool) {
	p.files.Store(int64(n))
	p.masks.Store(masks)
}

func (p *Progress) fileDone(items int64) {
	p.done.Add(1)
	p.items.Add(items)
}

func (p *Progress) addBytes(n int64) { p.bytes.Add(n) }

// reader counts the bytes read through r.
func (p *Progress) reader(r io.Reader) io.Reader { return &countingReader{r: r, p: p} }

type countingReader struct {
	r io.Reader
	p *Progress
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.p.bytes.Add(int64(n))
	return n, err
}
