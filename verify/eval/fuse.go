package eval

import (
	"fmt"
	"slices"

	"github.com/onnxloss/onnxloss/onnxpb"
)

// Node fusion. A LogSoftmax whose output only a GatherElements on the same
// axis reads — the label pick of every cross-entropy-style loss — runs as
// one node that computes each row's shift c (LogSoftmax(x) = x − c) and
// picks x[label] − c, never writing the N×C log-probabilities: on a
// 65536×1000 batch that skips a 262 MB write, the buffer behind it and a
// gather of cache misses. The values are the ones the two nodes give, bit
// for bit: the shift is computed by the same kernels (logSoftmaxShift), and
// rows holding ±Inf or NaN go through the same float64 fallback. A run that
// asks for or feeds a fused-away value runs the graph unfused (graph.go).
// The other fusions: BatchNormalization → Relu (fuse_bnrelu.go), a Concat
// before a BatchNormalization (fuse_concatbn.go), an Add of per-class
// offsets before the pair (fuse_addpick.go) and runs of elementwise nodes
// (fuse_elementwise.go).

// fusedLogSoftmaxGather is the op of a fused LogSoftmax → GatherElements pair.
var fusedLogSoftmaxGather = &opDef{
	info: OpInfo{OpType: "LogSoftmax+GatherElements", Family: "fuse"},
	fn:   opLogSoftmaxGather,
}

// fusion is one planned fusion of nodes: the node replacing them (at the
// last one's position), its op, the nodes it absorbs (prepared with it, for
// the fallback that runs the ops in turn) and the values no longer
// computed.
type fusion struct {
	fused    *onnxpb.NodeProto
	def      *opDef
	absorbed []*onnxpb.NodeProto
	internal []string
}

// planFusions finds the fusable node pairs of a graph: by node index, the
// pairs' second nodes (replaced by a fused node) and their first nodes
// (dropped). A pair fuses when the first node's only output is read once,
// by the second node, and is no graph output. implicit lists the values
// each node's subgraphs read.
func planFusions(nodes []*onnxpb.NodeProto, implicit [][]string, outputs []string, opset int64) (replace map[int]*fusion, drop map[int]bool) {
	readers := map[string]int{}
	for i, n := range nodes {
		for _, in := range n.GetInput() {
			readers[in]++
		}
		for _, in := range implicit[i] {
			readers[in]++
		}
	}
	for _, o := range outputs {
		readers[o]++
	}
	producer := map[string]int{}
	for i, n := range nodes {
		if len(n.GetOutput()) == 1 {
			producer[n.GetOutput()[0]] = i
		}
	}
	for i, n := range nodes {
		if len(n.GetInput()) == 0 || len(n.GetOutput()) != 1 {
			continue
		}
		y := n.GetInput()[0]
		j, ok := producer[y]
		if !ok || y == "" || readers[y] != 1 {
			continue
		}
		var fz *fusion
		switch a := nodes[j]; {
		case isDefaultOp(a, "LogSoftmax") && isDefaultOp(n, "GatherElements"):
			fz = fuseLogSoftmaxGather(a, n, opset)
		case isDefaultOp(a, "BatchNormalization") && isDefaultOp(n, "Relu"):
			fz = fuseBatchNormRelu(a, n)
		}
		if fz == nil {
			continue
		}
		fz.internal = []string{y}
		if replace == nil {
			replace, drop = map[int]*fusion{}, map[int]bool{}
		}
		replace[i] = fz
		drop[j] = true
	}
	// An Add read only by a fused LogSoftmax → GatherElements (logit
	// adjustment: logits + a per-class offset) joins it: fuse_addpick.go.
	for _, fz := range replace {
		if fz.def != fusedLogSoftmaxGather {
			continue
		}
		x := fz.fused.GetInput()[0]
		k, ok := producer[x]
		if !ok || x == "" || readers[x] != 1 || drop[k] || !isAddOfTwo(nodes[k]) {
			continue
		}
		fz.def = fusedAddLogSoftmaxGather
		fz.fused.Input = []string{nodes[k].GetInput()[0], nodes[k].GetInput()[1], fz.fused.GetInput()[1]}
		fz.absorbed = append(fz.absorbed, nodes[k])
		fz.internal = append(fz.internal, x)
		drop[k] = true
	}
	// A Concat read only by a BatchNormalization (fused with its Relu or
	// not) joins it: fuse_concatbn.go.
	for j, n := range nodes {
		fz := replace[j]
		bn := n
		if fz != nil {
			if fz.def != fusedBatchNormRelu {
				continue
			}
			bn = fz.fused
		} else if drop[j] || !isDefaultOp(n, "BatchNormalization") || len(n.GetOutput()) != 1 {
			continue
		}
		if len(bn.GetInput()) != 5 {
			continue // the ops in turn report it
		}
		x := bn.GetInput()[0]
		k, ok := producer[x]
		if !ok || x == "" || readers[x] != 1 || !isDefaultOp(nodes[k], "Concat") || len(nodes[k].GetInput()) == 0 || slices.Contains(nodes[k].GetInput(), "") {
			continue
		}
		if fz == nil {
			fz = &fusion{fused: &onnxpb.NodeProto{Name: n.Name, OpType: n.OpType, Input: n.Input, Output: n.Output, Attribute: n.Attribute}}
			if replace == nil {
				replace, drop = map[int]*fusion{}, map[int]bool{}
			}
			replace[j] = fz
		}
		fz.def = fusedConcatBatchNorm
		fz.fused.Input = append(append([]string{}, nodes[k].GetInput()...), bn.GetInput()[1:]...)
		fz.absorbed = append(fz.absorbed, nodes[k])
		fz.internal = append(fz.internal, x)
		drop[k] = true
	}
	return replace, drop
}

// fuseLogSoftmaxGather plans LogSoftmax a → GatherElements n. Only opset
// 13 and later fuse: before, LogSoftmax flattens the input to 2-D at its
// axis, which a gather cannot follow row by row.
func fuseLogSoftmaxGather(a, n *onnxpb.NodeProto, opset int64) *fusion {
	if opset < 13 || len(a.GetInput()) != 1 || len(n.GetInput()) != 2 || n.GetInput()[1] == a.GetOutput()[0] {
		return nil
	}
	return &fusion{
		def:      fusedLogSoftmaxGather,
		absorbed: []*onnxpb.NodeProto{a},
		fused: &onnxpb.NodeProto{
			Name:      n.Name,
			OpType:    n.OpType,
			Input:     []string{a.GetInput()[0], n.GetInput()[1]},
			Output:    n.Output,
			Attribute: n.Attribute,
		},
	}
}

func isDefaultOp(n *onnxpb.NodeProto, op string) bool {
	d := n.GetDomain()
	return n.GetOpType() == op && (d == "" || d == "ai.onnx")
}

// attrMap indexes a node's attributes by name.
func attrMap(n *onnxpb.NodeProto) map[string]*onnxpb.AttributeProto {
	m := map[string]*onnxpb.AttributeProto{}
	for _, a := range n.GetAttribute() {
		m[a.GetName()] = a
	}
	return m
}

// opLogSoftmaxGather computes GatherElements(LogSoftmax(x), idx). The fast
// path covers float32 rows along the last axis (both ops' axis) with int32
// or int64 indices whose other dims match x's; anything else runs the two
// ops one after the other.
func opLogSoftmaxGather(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 2, 2); err != nil {
		return nil, err
	}
	x, idx := in[0], in[1]
	sm := c.prep.absorbed[0]
	if o, ok, err := logSoftmaxGatherRows(c, sm, x, nil, idx); ok || err != nil {
		return []*Tensor{o}, err
	}
	return logSoftmaxThenGather(c, sm, x, idx)
}

// logSoftmaxGatherRows is the fast path; false when it does not apply.
// With off (C float32 values, one per class), each row is x's row plus off,
// added as Add does (one float32 addition per element) into a row buffer.
func logSoftmaxGatherRows(c *opCtx, sm *prepNode, x *Tensor, off []float32, idx *Tensor) (*Tensor, bool, error) {
	xf, ok := x.data.([]float32)
	r := x.Rank()
	if !ok || r == 0 || idx.Rank() != r || (idx.dtype != Int64 && idx.dtype != Int32) {
		return nil, false, nil
	}
	sa := (&opCtx{attrs: sm.attrs}).attrInt("axis", -1)
	ga := c.attrInt("axis", 0)
	if (sa != -1 && sa != int64(r-1)) || (ga != -1 && ga != int64(r-1)) {
		return nil, false, nil
	}
	for d := 0; d < r-1; d++ {
		if idx.shape[d] != x.shape[d] {
			return nil, false, nil
		}
	}
	cls := int(x.shape[r-1])
	k := int(idx.shape[r-1])
	if cls == 0 || k == 0 {
		return nil, false, nil // the ops' own checks and empty outputs
	}
	if off != nil && len(off) != cls {
		return nil, false, nil
	}
	o := c.alloc(Float32, idx.shape)
	of := o.data.([]float32)
	rows := idx.Len() / k
	bad := newFirstPos()
	parallelFor(rows, cls*4, func(lo, hi int) {
		var scratch, full, sum []float32
		var add func(o, a, b []float32)
		if off != nil {
			sum, add = make([]float32, cls), arithKern32("Add").vv
		}
		for i := lo; i < hi; i++ {
			row := xf[i*cls : (i+1)*cls]
			if off != nil {
				add(sum, row, off)
				row = sum
			}
			shift, finite := logSoftmaxShift(row, &scratch)
			if !finite {
				if cap(full) < cls {
					full = make([]float32, cls)
				}
				full = full[:cls]
				softmaxRowDegenerate(true, row, full)
			}
			for j := 0; j < k; j++ {
				p := i*k + j
				v := idx.i64At(p)
				if v < 0 {
					v += int64(cls)
				}
				if v < 0 || v >= int64(cls) {
					bad.keep(int64(p)) // the first bad position, as GatherElements reports
					return
				}
				if finite {
					of[p] = row[v] - shift
				} else {
					of[p] = full[v]
				}
			}
		}
	})
	if b := bad.get(); b >= 0 {
		_, err := indexAt(idx, int(b), int64(cls))
		return nil, true, err
	}
	return o, true, nil
}

// logSoftmaxThenGather runs the pair's two ops in turn, the LogSoftmax with
// its own node's attributes; its output goes back to the run's buffer pool.
func logSoftmaxThenGather(c *opCtx, sm *prepNode, x, idx *Tensor) ([]*Tensor, error) {
	ys, err := c.runAbsorbed(sm, []*Tensor{x}, []bool{len(c.dead) > 0 && c.dead[0]})
	if err != nil {
		return nil, err
	}
	y := ys[0]
	cg := *c
	cg.dead = []bool{false, len(c.dead) > 1 && c.dead[1]}
	res, err := callOp(registry["GatherElements"], &cg, []*Tensor{y, idx})
	c.recycleIntermediate(y, x, firstResult(res))
	return res, err
}

// The fused ops' fallbacks run their nodes in turn, as the graph would
// unfused: runAbsorbed runs one absorbed node inside the fused node's
// context, and recycleIntermediate returns the buffer of a value passed
// between them to the run's pool.

// absorbedCtx returns c set up for running absorbed node a: a's proto and
// attributes, its one output wanted, the inputs marked dead overwritable.
func (c *opCtx) absorbedCtx(a *prepNode, dead []bool) *opCtx {
	ac := *c
	ac.node, ac.attrs, ac.prep, ac.nOut, ac.want, ac.dead = a.proto, a.attrs, a, 1, []bool{true}, dead
	return &ac
}

// runAbsorbed runs absorbed node a on args (absorbedCtx); its errors name a
// and the fused node it is part of.
func (c *opCtx) runAbsorbed(a *prepNode, args []*Tensor, dead []bool) ([]*Tensor, error) {
	res, err := callOp(a.def, c.absorbedCtx(a, dead), args)
	if err != nil {
		return nil, fmt.Errorf("%s, fused with this one: %w", a.label, err)
	}
	return res, nil
}

// recycleIntermediate returns the buffer of t, a value only the fused node
// saw, to the run's pool, unless it is the buffer of one of keep (the fused
// node's inputs and result; nil entries are ignored). The pool itself
// declines buffers a live value still holds.
func (c *opCtx) recycleIntermediate(t *Tensor, keep ...*Tensor) {
	key := bufKey(t)
	if c.run == nil || key == nil {
		return
	}
	for _, k := range keep {
		if k != nil && bufKey(k) == key {
			return
		}
	}
	c.run.recycle(key)
}

// firstResult returns res[0], or nil for no result.
func firstResult(res []*Tensor) *Tensor {
	if len(res) == 0 {
		return nil
	}
	return res[0]
}
