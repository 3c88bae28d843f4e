// Package verify checks the numbers of a model with an onnxloss loss: it runs
// the graph in the pure-Go evaluator and compares with the closed form or another runtime.
package verify
