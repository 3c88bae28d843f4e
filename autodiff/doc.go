// Package autodiff builds reverse-mode gradients of an ONNX graph in ONNX:
// given a scalar value and initializers, it appends default-domain nodes that
// compute d value / d initializer, one registered rule per op.
//
// It knows nothing of losses or of the command line. Rules read like entries
// of PyTorch's tools/autograd/derivatives.yaml: for one op, an expression per
// differentiable input, written with graphedit's Builder. Each rule lives in
// a file of its op family and registers itself in init (see Register).
package autodiff
