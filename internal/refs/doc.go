// Package refs runs the independent references onnxloss's tests compare
// against: ONNX Runtime (onnxruntime-node) and Debian's Python onnx checker.
package refs
