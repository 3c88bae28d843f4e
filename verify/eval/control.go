package eval

import "fmt"

func init() {
	register("control", false, map[string]opFunc{
		"If":   opIf,
		"Loop": opLoop,
		"Scan": opScan,
	})
}

// truth reads a one-element condition tensor.
func truth(t *Tensor, what string) (bool, error) {
	if t.Len() != 1 {
		return false, fmt.Errorf("%s must have one element, has shape %v", what, t.shape)
	}
	return t.f64At(0) != 0, nil
}

func opIf(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if err := needInputs(in, 1, 1); err != nil {
		return nil, err
	}
	cond, err := truth(in[0], "cond")
	if err != nil {
		return nil, err
	}
	branch := "else_branch"
	if cond {
		branch = "then_branch"
	}
	sub, err := c.subgraph(branch)
	if err != nil {
		return nil, err
	}
	if len(sub.outputs) != c.nOut {
		return nil, fmt.Errorf("%s has %d outputs, node has %d", branch, len(sub.outputs), c.nOut)
	}
	res, err := c.runSubgraph(sub, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", branch, err)
	}
	return res, nil
}

// stack joins equally shaped tensors along a new axis (at position axis);
// an empty list gives shape [0].
func stack(ts []*Tensor, axis int, dt DType) (*Tensor, error) {
	if len(ts) == 0 {
		return mustNew(dt, []int64{0}), nil
	}
	el := ts[0].shape
	for _, t := range ts[1:] {
		if !shapeEq(t.shape, el) || t.dtype != ts[0].dtype {
			return nil, fmt.Errorf("iterations produced %v %v and %v %v", ts[0].dtype, el, t.dtype, t.shape)
		}
	}
	if axis < 0 || axis > len(el) {
		return nil, fmt.Errorf("axis %d out of range for rank %d", axis, len(el)+1)
	}
	shape := append(append(append([]int64{}, el[:axis]...), int64(len(ts))), el[axis:]...)
	o := mustNew(ts[0].dtype, shape)
	es := o.dtype.Size()
	outer := int(NumElements(el[:axis]))
	inner := int(NumElements(el[axis:])) * es
	ob := o.bytes()
	for k, t := range ts {
		tb := t.bytes()
		for a := 0; a < outer; a++ {
			copy(ob[(a*len(ts)+k)*inner:][:inner], tb[a*inner:][:inner])
		}
	}
	return o, nil
}

func opLoop(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	if len(in) < 2 {
		return nil, fmt.Errorf("expects at least 2 inputs (M, cond), got %d", len(in))
	}
	body, err := c.subgraph("body")
	if err != nil {
		return nil, err
	}
	carried := in[2:]
	for i, t := range carried {
		if t == nil {
			return nil, fmt.Errorf("loop-carried input %d is missing", i)
		}
	}
	if len(body.inputs) != 2+len(carried) {
		return nil, fmt.Errorf("body has %d inputs, want %d (iteration, condition, %d carried)", len(body.inputs), 2+len(carried), len(carried))
	}
	nScan := len(body.outputs) - 1 - len(carried)
	if nScan < 0 {
		return nil, fmt.Errorf("body has %d outputs, want at least %d", len(body.outputs), 1+len(carried))
	}
	maxIter := int64(-1)
	if in[0] != nil && in[0].Len() > 0 {
		if maxIter, err = scalarInt(in[0], "M"); err != nil {
			return nil, err
		}
	}
	cond := true
	if in[1] != nil && in[1].Len() > 0 {
		if cond, err = truth(in[1], "cond"); err != nil {
			return nil, err
		}
	}
	state := append([]*Tensor{}, carried...)
	scans := make([][]*Tensor, nScan)
	condT := mustNew(Bool, nil)
	for i := int64(0); (maxIter < 0 || i < maxIter) && cond; i++ {
		if maxIter < 0 && i > 1<<31 {
			return nil, fmt.Errorf("loop without trip count ran 2^31 iterations")
		}
		iter := NewInt64(nil, []int64{i})
		condT.data.([]bool)[0] = cond
		feeds := map[string]*Tensor{body.inputs[0]: iter, body.inputs[1]: condT.Clone()}
		for k, t := range state {
			feeds[body.inputs[2+k]] = t
		}
		res, err := c.runSubgraph(body, feeds)
		if err != nil {
			return nil, fmt.Errorf("body, iteration %d: %w", i, err)
		}
		if cond, err = truth(res[0], "body condition output"); err != nil {
			return nil, err
		}
		for k := range state {
			state[k] = res[1+k].Clone()
		}
		for k := 0; k < nScan; k++ {
			scans[k] = append(scans[k], res[1+len(carried)+k].Clone())
		}
	}
	out := append([]*Tensor{}, state...)
	for k := 0; k < nScan; k++ {
		s, err := stack(scans[k], 0, Float32)
		if err != nil {
			return nil, fmt.Errorf("scan output %d: %w", k, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// sliceAxis returns element j of t along axis (the axis removed).
func sliceAxis(t *Tensor, axis int, j int64) *Tensor {
	shape := append(append([]int64{}, t.shape[:axis]...), t.shape[axis+1:]...)
	o := mustNew(t.dtype, shape)
	es := t.dtype.Size()
	outer := int(NumElements(t.shape[:axis]))
	n := int(t.shape[axis])
	inner := int(NumElements(t.shape[axis+1:])) * es
	ob, tb := o.bytes(), t.bytes()
	for a := 0; a < outer; a++ {
		copy(ob[a*inner:][:inner], tb[(a*n+int(j))*inner:][:inner])
	}
	return o
}

func opScan(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	body, err := c.subgraph("body")
	if err != nil {
		return nil, err
	}
	m := int(c.attrInt("num_scan_inputs", 0))
	if c.opset < 9 {
		return opScan8(c, in, body, m)
	}
	n := len(in) - m
	if m <= 0 || n < 0 {
		return nil, fmt.Errorf("num_scan_inputs %d does not fit %d inputs", m, len(in))
	}
	res, err := scanRun(c, body, in[:n], in[n:])
	return res, err
}

// opScan8 is Scan-8: a leading batch axis on every input and output, and
// an optional sequence_lens first input.
func opScan8(c *opCtx, in []*Tensor, body *Session, m int) ([]*Tensor, error) {
	if len(in) < 1 {
		return nil, fmt.Errorf("needs inputs")
	}
	if in[0] != nil {
		return nil, fmt.Errorf("sequence_lens is not supported")
	}
	rest := in[1:]
	n := len(rest) - m
	if m <= 0 || n < 0 {
		return nil, fmt.Errorf("num_scan_inputs %d does not fit %d inputs", m, len(rest))
	}
	if len(rest) == 0 || rest[0].Rank() == 0 {
		return nil, fmt.Errorf("inputs need a batch axis")
	}
	batch := rest[0].shape[0]
	var perBatch [][]*Tensor
	for b := int64(0); b < batch; b++ {
		var st, sc []*Tensor
		for i, t := range rest {
			if t.Rank() == 0 || t.shape[0] != batch {
				return nil, fmt.Errorf("input %d has shape %v, want batch %d first", i+1, t.shape, batch)
			}
			if i < n {
				st = append(st, sliceAxis(t, 0, b))
			} else {
				sc = append(sc, sliceAxis(t, 0, b))
			}
		}
		res, err := scanRun(c, body, st, sc)
		if err != nil {
			return nil, err
		}
		perBatch = append(perBatch, res)
	}
	out := make([]*Tensor, len(body.outputs))
	for k := range out {
		var ts []*Tensor
		for _, r := range perBatch {
			ts = append(ts, r[k])
		}
		s, err := stack(ts, 0, Float32)
		if err != nil {
			return nil, err
		}
		out[k] = s
	}
	return out, nil
}

// scanRun iterates body over the scan axis of the scan inputs, threading
// the state; outputs are the final state then the stacked scan outputs.
func scanRun(c *opCtx, body *Session, state, scanIn []*Tensor) ([]*Tensor, error) {
	n, m := len(state), len(scanIn)
	if len(body.inputs) != n+m {
		return nil, fmt.Errorf("body has %d inputs, want %d", len(body.inputs), n+m)
	}
	k := len(body.outputs) - n
	if k < 0 {
		return nil, fmt.Errorf("body has %d outputs, want at least %d", len(body.outputs), n)
	}
	axisAttr := func(name string, cnt int, rank func(i int) int) ([]int, error) {
		v, ok := c.attrInts(name)
		out := make([]int, cnt)
		if !ok {
			return out, nil
		}
		if len(v) != cnt {
			return nil, fmt.Errorf("%s has %d entries, want %d", name, len(v), cnt)
		}
		for i, a := range v {
			if rank == nil {
				out[i] = int(a)
				continue
			}
			ax, err := normAxis(a, rank(i))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			out[i] = ax
		}
		return out, nil
	}
	inAxes, err := axisAttr("scan_input_axes", m, func(i int) int { return scanIn[i].Rank() })
	if err != nil {
		return nil, err
	}
	inDirs, err := axisAttr("scan_input_directions", m, nil)
	if err != nil {
		return nil, err
	}
	outAxesRaw, err := axisAttr("scan_output_axes", k, nil)
	if err != nil {
		return nil, err
	}
	outDirs, err := axisAttr("scan_output_directions", k, nil)
	if err != nil {
		return nil, err
	}
	if m == 0 {
		return nil, fmt.Errorf("no scan inputs")
	}
	steps := scanIn[0].shape[inAxes[0]]
	for i, t := range scanIn {
		if t.shape[inAxes[i]] != steps {
			return nil, fmt.Errorf("scan input %d has %d steps, input 0 has %d", i, t.shape[inAxes[i]], steps)
		}
	}
	cur := append([]*Tensor{}, state...)
	outs := make([][]*Tensor, k)
	for s := int64(0); s < steps; s++ {
		feeds := map[string]*Tensor{}
		for i, t := range cur {
			feeds[body.inputs[i]] = t
		}
		for i, t := range scanIn {
			j := s
			if inDirs[i] != 0 {
				j = steps - 1 - s
			}
			feeds[body.inputs[n+i]] = sliceAxis(t, inAxes[i], j)
		}
		res, err := c.runSubgraph(body, feeds)
		if err != nil {
			return nil, fmt.Errorf("body, step %d: %w", s, err)
		}
		for i := 0; i < n; i++ {
			cur[i] = res[i].Clone()
		}
		for i := 0; i < k; i++ {
			outs[i] = append(outs[i], res[n+i].Clone())
		}
	}
	result := append([]*Tensor{}, cur...)
	for i := 0; i < k; i++ {
		ts := outs[i]
		if outDirs[i] != 0 {
			for a, b := 0, len(ts)-1; a < b; a, b = a+1, b-1 {
				ts[a], ts[b] = ts[b], ts[a]
			}
		}
		ax := outAxesRaw[i]
		if len(ts) > 0 && ax < 0 {
			ax += ts[0].Rank() + 1
		}
		st, err := stack(ts, ax, Float32)
		if err != nil {
			return nil, fmt.Errorf("scan output %d: %w", i, err)
		}
		result = append(result, st)
	}
	return result, nil
}
