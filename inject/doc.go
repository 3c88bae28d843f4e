// Package inject attaches a class-imbalance loss to an ONNX model: it finds the
// logits, adds the labels input, the loss subgraph, the loss output and metadata.
package inject
