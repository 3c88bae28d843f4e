package eval

import "github.com/onnxloss/onnxloss/onnxpb"

// The label pick of a logit-adjusted loss (balanced softmax, logit
// adjustment): Add(logits, offsets) → LogSoftmax → GatherElements. Fused,
// each row of logits + offsets is formed in a row buffer and picked from
// there, so neither the adjusted N×C logits nor their log-probabilities are
// written out: on a 65536×1000 batch that skips a 262 MB write and read.
// The sums are Add's (one float32 addition per element), so the picks are
// the three nodes' values bit for bit.

// fusedAddLogSoftmaxGather is the op of a fused Add → LogSoftmax →
// GatherElements chain; its inputs are the Add's two operands and the
// indices, its absorbed nodes the LogSoftmax and the Add.
var fusedAddLogSoftmaxGather = &opDef{
	info: OpInfo{OpType: "Add+LogSoftmax+GatherElements", Family: "fuse"},
	fn:   opAddLogSoftmaxGather,
}

// isAddOfTwo reports whether n is a default-domain Add of two named
// operands without attributes (before opset 7 "broadcast"/"axis" could
// align the second operand with leading dims, which the rows do not follow).
func isAddOfTwo(n *onnxpb.NodeProto) bool {
	in := n.GetInput()
	return isDefaultOp(n, "Add") && len(in) == 2 && in[0] != "" && in[1] != "" && len(n.GetAttribute()) == 0 && len(n.GetOutput()) == 1
}

// opAddLogSoftmaxGather computes GatherElements(LogSoftmax(a + b), idx).
// The fast path takes float32 a with the pick along its last axis and b a
// row of per-class offsets (a's last dim, every other dim 1, no more dims
// than a); anything else runs the Add, then the pair.
func opAddLogSoftmaxGather(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 3, 3); err != nil {
		return nil, err
	}
	a, b, idx := in[0], in[1], in[2]
	sm, add := c.prep.absorbed[0], c.prep.absorbed[1]
	// a + b == b + a exactly, so the offsets may be either operand.
	x, off, ok := a, []float32(nil), false
	if off, ok = classOffsets(a, b); !ok {
		x = b
		off, ok = classOffsets(b, a)
	}
	if ok {
		if o, ok, err := logSoftmaxGatherRows(c, sm, x, off, idx); ok || err != nil {
			return []*Tensor{o}, err
		}
	}
	xs, err := c.runAbsorbed(add, []*Tensor{a, b}, []bool{len(c.dead) > 0 && c.dead[0], len(c.dead) > 1 && c.dead[1]})
	if err != nil {
		return nil, err
	}
	x = xs[0]
	cp := *c
	cp.dead = []bool{true, len(c.dead) > 2 && c.dead[2]}
	res, err := opLogSoftmaxGather(&cp, []*Tensor{x, idx})
	c.recycleIntermediate(x, a, b, firstResult(res))
	return res, err
}

// classOffsets returns b's values when a is float32 of rank ≥ 1 and b a
// float32 row along a's last axis (its last dim equal to a's, every other
// dim 1, rank at most a's): then a + b adds b to each of a's rows.
func classOffsets(a, b *Tensor) ([]float32, bool) {
	ad, ok1 := a.data.([]float32)
	bd, ok2 := b.data.([]float32)
	r, rb := a.Rank(), b.Rank()
	if !ok1 || !ok2 || ad == nil || r == 0 || rb == 0 || rb > r || b.shape[rb-1] != a.shape[r-1] {
		return nil, false
	}
	for _, d := range b.shape[:rb-1] {
		if d != 1 {
			return nil, false
		}
	}
	return bd, true
}
