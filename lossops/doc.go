// Package lossops turns per-class counts into class weights and defines the loss catalogue
// (weighted CE, focal, class-balanced): ONNX subgraph builders and closed-form float64 references.
package lossops
