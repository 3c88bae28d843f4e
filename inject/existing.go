package inject

import (
	"github.com/onnxloss/onnxloss/graphedit"
	"github.com/onnxloss/onnxloss/onnxpb"
)

// removeLoss deletes the loss's nodes and the initializers nothing else uses.
func removeLoss(m *graphedit.Model, l graphedit.Loss) {
	g := m.Graph()
	drop := map[*onnxpb.NodeProto]bool{}
	for _, n := range l.NodeProtos {
		drop[n] = true
	}
	var inputs []string
	kept := g.Node[:0]
	for _, n := range g.Node {
		if drop[n] {
			inputs = append(inputs, n.GetInput()...)
			continue
		}
		kept = append(kept, n)
	}
	g.Node = kept
	for _, in := range inputs {
		if in == "" || len(m.Consumers(in)) > 0 || m.IsGraphOutput(in) || m.Initializer(in) == nil {
			continue
		}
		inits := g.Initializer[:0]
		for _, t := range g.Initializer {
			if t.GetName() != in {
				inits = append(inits, t)
			}
		}
		g.Initializer = inits
		// IR < 4 lists initializers among the graph inputs as well.
		gin := g.Input[:0]
		for _, vi := range g.Input {
			if vi.GetName() != in {
				gin = append(gin, vi)
			}
		}
		g.Input = gin
	}
	m.ResetNames()
}
