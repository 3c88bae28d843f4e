// Package graphedit loads, edits and saves ONNX models: value lookups, unique
// names, new inputs/outputs/initializers/nodes and opset-aware node builders.
package graphedit
