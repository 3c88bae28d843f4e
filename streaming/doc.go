// Package streaming injects a loss into an ONNX model file in constant memory:
// it decodes only the graph skeleton and copies initializer payloads straight through.
package streaming
