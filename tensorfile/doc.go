// Package tensorfile reads and writes named tensors in .npy, .npz, ONNX TensorProto .pb
// and JSON files as *onnxpb.TensorProto, for onnxloss verify's --inputs and --expect.
package tensorfile
