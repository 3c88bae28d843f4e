// Package eval is onnxloss's pure-Go reference evaluator for ONNX graphs.
// It runs models (and the loss subgraphs onnxloss injects) so their numbers can be verified without a native runtime.
package eval
