package eval

import "github.com/onnxloss/onnxloss/onnxpb"

// BatchNormalization → Relu. The pre-activation blocks of DenseNet-style
// models normalise and rectify every concatenation before a convolution;
// run as two nodes, the Relu reads and writes the whole normalised tensor
// once more. Fused, each plane is normalised and rectified while it is in
// cache, by the two nodes' own kernels (so bit for bit their values). A run
// that feeds or asks for the normalised value runs unfused (graph.go).

// fusedBatchNormRelu is the op of a fused BatchNormalization → Relu pair.
// It has no half-precision wrapper: float16 inputs take the two-op path,
// where each op rounds its own output as it does unfused.
var fusedBatchNormRelu = &opDef{
	info: OpInfo{OpType: "BatchNormalization+Relu", Family: "fuse"},
	fn:   opBatchNormRelu,
}

// fuseBatchNormRelu plans BatchNormalization a → Relu n: the fused node is
// the BatchNormalization (inputs and attributes) writing the Relu's output.
// A BatchNormalization with more than one output (training statistics) does
// not fuse.
func fuseBatchNormRelu(a, n *onnxpb.NodeProto) *fusion {
	if len(a.GetOutput()) != 1 || len(n.GetInput()) != 1 {
		return nil
	}
	return &fusion{
		def:      fusedBatchNormRelu,
		absorbed: []*onnxpb.NodeProto{n},
		fused: &onnxpb.NodeProto{
			Name:      a.Name,
			OpType:    a.OpType,
			Input:     a.Input,
			Output:    n.Output,
			Attribute: a.Attribute,
		},
	}
}

// opBatchNormRelu computes Relu(BatchNormalization(x, ...)): in one pass for
// float32 inference, else as the two ops in turn.
func opBatchNormRelu(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	args, err := batchNormArgs(c, in)
	if err != nil {
		return nil, err
	}
	if x32 := args.x.Float32s(); x32 != nil && !args.training {
		o := c.output(0, Float32, args.x.shape, in)
		batchNormPlanes32(o.Float32s(), x32, args.folded(c), args.n, args.ch, args.inner, true)
		return []*Tensor{o}, nil
	}
	ys, err := callOp(registry["BatchNormalization"], c, in)
	if err != nil {
		return nil, err
	}
	y := ys[0]
	// y is this node's own buffer (fresh, or x's when x was dead): the Relu
	// may overwrite it.
	res, err := c.runAbsorbed(c.prep.absorbed[0], []*Tensor{y}, []bool{true})
	if err != nil {
		return nil, err
	}
	c.recycleIntermediate(y, in[0], firstResult(res))
	return res, nil
}
