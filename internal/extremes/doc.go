// Package extremes holds the numerical-extremes tests of the loss catalogue:
// every loss of lossops.Losses is injected into a host model and run in the
// pure-Go evaluator on extreme logits (±1e4, the float32 exp overflow edge
// ±88/±89, all-equal), extreme counts (1 to 1e9, β = 0.9999), C = 2 and
// C = 1000, γ ∈ {0, 0.5, 5}, a batch of 1 and batches whose every position is
// ignored, and compared with lossops.Reference in float64. Central finite
// differences of the float64 graph are compared with those of the closed
// form. The package has no code of its own; see extremes_test.go.
package extremes
