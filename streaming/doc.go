// Package streaming injects a loss into an ONNX model file in constant memory:
// it decodes only the graph skeleton, copies the input's bytes straight through and
// writes what inject added after them, so that in a model in canonical field order the
// initializer payloads keep their byte offsets.
package streaming
