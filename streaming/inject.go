package streaming

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/onnxloss/onnxloss/graphcheck"
	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/inject"
)

// Threshold is the model size from which the CLI streams by default.
const Threshold = 64 << 20

// Use reports whether inject should stream the model at path: always with
// force, never with off, else when the file is at least Threshold bytes.
func Use(path string, force, off bool) bool {
	if off || force {
		return force && !off
	}
	st, err := os.Stat(path)
	return err == nil && st.Size() >= Threshold
}

// openFile opens the model; tests replace it to see which files are opened.
var openFile = os.Open

// Inject attaches the loss described by opt to the model in the file
// inPath and writes the result to outPath, in memory that does not grow with
// the model: it decodes the model without its tensor payloads, runs
// inject.Inject on that skeleton, and writes the output by copying the
// input's bytes and writing the fields inject added or changed after them,
// at the end of the graph and of the model (see planLevel), so that a
// model's tensor data keeps its byte offsets. The output decodes to the
// same model as InMemory's (proto.Equal) but its fields are not in
// canonical order, so its bytes differ from InMemory's. External-data
// locations are rewritten for outPath's directory; the data files are
// never opened. When the edit cannot be spliced into the input's bytes, it
// falls back to InMemory. The Result's notes say which path ran.
func Inject(inPath, outPath string, opt inject.Options) (*inject.Result, error) {
	if err := checkPaths(inPath, outPath); err != nil {
		return nil, err
	}
	f, err := openFile(inPath)
	if err != nil {
		return nil, fmt.Errorf("cannot read model: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cannot read model: %w", err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("cannot read model %s: it is a directory, give an .onnx file", inPath)
	}
	sc, err := scan(f, st.Size())
	if err != nil {
		return nil, withPath(err, inPath)
	}
	m, err := graphedit.LoadBytes(sc.skeleton)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", inPath, err)
	}
	m.Dir = filepath.Dir(inPath)
	if err := graphcheck.Check(m.Proto, graphcheck.Inject); err != nil {
		return nil, fmt.Errorf("%s: %w", inPath, err)
	}
	if sc.graphCount != 1 {
		return fallback(inPath, outPath, opt, fmt.Sprintf("the file holds %d graph fields", sc.graphCount))
	}
	top, graph := takeSnapshot(m.Proto), takeSnapshot(m.Graph())
	res, err := inject.Inject(m, opt)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", inPath, err)
	}
	if err := m.RelocateExternalData(filepath.Dir(outPath)); err != nil {
		return nil, err
	}
	if m.Graph() != graph.live.Interface() {
		return fallback(inPath, outPath, opt, "inject replaced the graph")
	}
	var graphSize int64
	out, err := planLevel(sc.top, top, 7, func(ps *pieces) error {
		body, err := planLevel(sc.graph, graph, 0, nil)
		if err != nil {
			return err
		}
		graphSize = body.size()
		ps.literal(protowire.AppendVarint(protowire.AppendTag(nil, 7, protowire.BytesType), uint64(graphSize)))
		for _, p := range body {
			if p.lit != nil {
				ps.literal(p.lit)
			} else {
				ps.copyRange(p.start, p.end)
			}
		}
		return nil
	})
	var us errUnspliceable
	if errors.As(err, &us) {
		return fallback(inPath, outPath, opt, us.reason)
	}
	if err != nil {
		return nil, err
	}
	if err := graphedit.WriteAtomic(outPath, func(w io.Writer) error { return out.write(w, f) }); err != nil {
		return nil, err
	}
	copied := out.copied()
	res.Notes = append(res.Notes, escapingNotes(m, outPath)...)
	res.Notes = append(res.Notes, fmt.Sprintf("streamed: %s of %s copied unchanged from the input (%s of tensor data never read), %s spliced in",
		human(copied), human(sc.size), human(sc.payload), human(out.size()-copied)))
	return res, nil
}

// InMemory is the in-memory inject: graphedit.Load, inject.Inject and
// Save. Memory grows with the model's inline data.
func InMemory(inPath, outPath string, opt inject.Options) (*inject.Result, error) {
	if err := checkPaths(inPath, outPath); err != nil {
		return nil, err
	}
	m, err := graphedit.Load(inPath)
	if err != nil {
		return nil, err
	}
	if err := graphcheck.Check(m.Proto, graphcheck.Inject); err != nil {
		return nil, fmt.Errorf("%s: %w", inPath, err)
	}
	res, err := inject.Inject(m, opt)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", inPath, err)
	}
	if err := m.Save(outPath); err != nil {
		return nil, err
	}
	res.Notes = append(res.Notes, escapingNotes(m, outPath)...)
	return res, nil
}

// escapingNotes warns when the output refers to external data outside its
// own directory, which ONNX Runtime refuses to load.
func escapingNotes(m *graphedit.Model, outPath string) []string {
	locs := m.EscapingExternalData()
	if len(locs) == 0 {
		return nil
	}
	return []string{fmt.Sprintf("the output refers to external data outside its directory (%s): ONNX Runtime refuses that; write the output into the data's directory or a parent of it",
		strings.Join(locs, ", "))}
}

// fallback runs InMemory and says why in the notes.
func fallback(inPath, outPath string, opt inject.Options, reason string) (*inject.Result, error) {
	res, err := InMemory(inPath, outPath, opt)
	if err != nil {
		return nil, err
	}
	res.Notes = append(res.Notes, "loaded the whole model into memory: "+reason)
	return res, nil
}

// checkPaths refuses to write over the input.
func checkPaths(inPath, outPath string) error {
	si, err1 := os.Stat(inPath)
	so, err2 := os.Stat(outPath)
	ia, err3 := filepath.Abs(inPath)
	oa, err4 := filepath.Abs(outPath)
	if (err1 == nil && err2 == nil && os.SameFile(si, so)) || (err3 == nil && err4 == nil && ia == oa) {
		return fmt.Errorf("output %s is the input: write to another file (the input is never modified)", outPath)
	}
	return nil
}

// withPath puts the file name into a format error.
func withPath(err error, path string) error {
	var fe *FormatError
	if errors.As(err, &fe) {
		fe.Path = path
		return fe
	}
	return fmt.Errorf("%s: %w", path, err)
}

// human formats a byte count.
func human(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
