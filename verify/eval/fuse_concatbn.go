package eval

import (
	"fmt"
)

// Concat → BatchNormalization (→ Relu). A DenseNet layer concatenates every
// earlier feature map along the channels and normalises the result; run as
// nodes, the concatenation is written out and read back by the
// normalisation. Fused, each input plane is normalised (and rectified) on
// its way into the output, by the same kernels as the unfused nodes, so bit
// for bit their values. A run that feeds or asks for the concatenation or
// the normalised value runs unfused (graph.go).

// fusedConcatBatchNorm is the op of a fused Concat → BatchNormalization
// (→ Relu). Its inputs are the Concat's, then the BatchNormalization's
// four parameters; its absorbed nodes are the Relu, if fused, and the
// Concat, last. Like fusedBatchNormRelu, it has no half-precision wrapper.
var fusedConcatBatchNorm = &opDef{
	info: OpInfo{OpType: "Concat+BatchNormalization", Family: "fuse"},
	fn:   opConcatBatchNorm,
}

func opConcatBatchNorm(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	ab := c.prep.absorbed
	cat := ab[len(ab)-1]
	relu := len(ab) == 2
	k := len(in) - 4
	if k < 1 {
		return nil, fmt.Errorf("expects the Concat's inputs and 4 parameters, got %d inputs", len(in))
	}
	xs, params := in[:k], in[k:]
	if o, ok, err := concatBatchNorm32(c, cat, xs, params, relu); ok || err != nil {
		return []*Tensor{o}, err
	}
	// The ops in turn: the Concat with its own node's attributes, then the
	// BatchNormalization (and Relu) on its output, which they may overwrite.
	dead := make([]bool, k)
	copy(dead, c.dead)
	ys, err := c.runAbsorbed(cat, xs, dead)
	if err != nil {
		return nil, err
	}
	y := ys[0]
	cb := *c
	cb.dead = []bool{true, false, false, false, false} // y is this node's own buffer
	if len(c.dead) == len(in) {
		copy(cb.dead[1:], c.dead[k:])
	}
	var res []*Tensor
	if relu {
		res, err = opBatchNormRelu(&cb, append([]*Tensor{y}, params...))
	} else {
		res, err = callOp(registry["BatchNormalization"], &cb, append([]*Tensor{y}, params...))
	}
	if err != nil {
		return nil, err
	}
	c.recycleIntermediate(y, firstResult(res))
	return res, nil
}

// concatBatchNorm32 is the one-pass path: float32 inputs concatenated along
// the channels (axis 1), inference-mode normalisation. false (nothing done)
// for anything else, which the ops in turn compute or reject.
func concatBatchNorm32(c *opCtx, cat *prepNode, xs, params []*Tensor, relu bool) (*Tensor, bool, error) {
	x0 := xs[0]
	r := x0.Rank()
	if axis, err := normAxis((&opCtx{attrs: cat.attrs}).attrInt("axis", 0), r); err != nil || axis != 1 || r < 2 {
		return nil, false, nil
	}
	shape := append([]int64{}, x0.shape...)
	shape[1] = 0
	for _, t := range xs {
		if t == nil || t.Rank() != r || t.dtype != Float32 {
			return nil, false, nil
		}
		for d := 0; d < r; d++ {
			if d != 1 && t.shape[d] != x0.shape[d] {
				return nil, false, nil
			}
		}
		shape[1] += t.shape[1]
	}
	args, err := batchNormArgsOf(c, &Tensor{dtype: Float32, shape: shape}, params)
	if err != nil || args.training {
		return nil, false, nil // the ops in turn report the error
	}
	o := c.alloc(Float32, shape)
	if o.Len() == 0 {
		return o, true, nil
	}
	// Each output channel's input tensor and channel in it.
	src, local := make([]int32, args.ch), make([]int32, args.ch)
	off := 0
	for i, t := range xs {
		for cl := 0; cl < int(t.shape[1]); cl++ {
			src[off+cl], local[off+cl] = int32(i), int32(cl)
		}
		off += int(t.shape[1])
	}
	data := make([][]float32, len(xs))
	for i, t := range xs {
		data[i] = t.Float32s()
	}
	ch, inner := args.ch, args.inner
	chans := make([]int, len(xs))
	for i, t := range xs {
		chans[i] = int(t.shape[1])
	}
	batchNormPlanesFrom32(o.Float32s(), func(b, cc int) []float32 {
		i := src[cc]
		p := b*chans[i] + int(local[cc])
		return data[i][p*inner:][:inner]
	}, args.folded(c), args.n, ch, inner, relu)
	return o, true, nil
}
