package lossops_test

import (
	"fmt"

	"github.com/onnxloss/onnxloss/lossops"
)

func ExampleParseCounts() {
	c, err := lossops.ParseCounts([]byte(`{"counts": [500, 120, 7], "classes": ["cat", "dog", "eel"]}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(c.Values, c.Classes)

	_, err = lossops.ParseCounts([]byte(`{"0": 500, "2": 7}`))
	fmt.Println(err)
	// Output:
	// [500 120 7] [cat dog eel]
	// counts: class id 1 is missing (found id 2): the keys must be the class ids 0..1, each once
}

func ExampleClassWeights() {
	counts := []float64{500, 120, 7}
	for _, cfg := range []lossops.WeightConfig{
		{Scheme: lossops.WeightInverse, Normalize: true},
		{Scheme: lossops.WeightEffective, Beta: 0.99, Normalize: true},
		{Scheme: lossops.WeightEffective, Beta: 0.9999, Normalize: false},
	} {
		w, err := lossops.ClassWeights(counts, cfg)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%-9s β=%-6v %.4f\n", cfg.Scheme, cfg.Beta, w)
	}

	_, err := lossops.ClassWeights([]float64{500, 0}, lossops.WeightConfig{Scheme: lossops.WeightInverse})
	fmt.Println(err)
	// Output:
	// inverse   β=0      [0.0392 0.1632 2.7976]
	// effective β=0.99   [0.1760 0.2496 2.5743]
	// effective β=0.9999 [0.0021 0.0084 0.1429]
	// class 1 has count 0, so it has no weight: give it a count > 0 or use --zero-counts skip (weight 0)
}

func ExampleReference() {
	// Two positions, three classes; class weights from counts.
	w, _ := lossops.ClassWeights([]float64{500, 120, 7}, lossops.WeightConfig{Scheme: lossops.WeightEffective, Beta: 0.9999, Normalize: true})
	logits := []float64{
		2.0, 0.5, -1.0, // position 0
		0.1, 0.2, 3.0, // position 1
	}
	labels := []int64{0, 2}
	for _, red := range []lossops.Reduction{lossops.Mean, lossops.None} {
		spec := lossops.Spec{Loss: lossops.CBFocal, Weights: w, Gamma: 2, Reduction: red}
		loss, shape, err := lossops.Reference(spec, logits, []int{2, 3}, labels, nil)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s: %.6f shape %v\n", red, loss, shape)
	}
	// Output:
	// mean: [0.632320] shape []
	// none: [0.016121 1.248520] shape [2]
}

func ExampleSpec_Adjustments() {
	counts := []float64{500, 120, 7}
	for _, spec := range []lossops.Spec{
		{Loss: lossops.LogitAdjusted, Counts: counts, Tau: 1},
		{Loss: lossops.BalancedSoftmax, Counts: counts},
		{Loss: lossops.LDAM, Counts: counts, MaxMargin: 0.5, Scale: 30},
	} {
		adj, err := spec.Adjustments(nil)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%-16s %.4f\n", spec.Loss, adj)
	}
	// A class without samples: an error, or with SkipZero left out (−∞ offset).
	_, err := lossops.Spec{Loss: lossops.BalancedSoftmax, Counts: []float64{5, 0}}.Adjustments([]string{"cat", "dog"})
	fmt.Println(err)
	adj, _ := lossops.Spec{Loss: lossops.BalancedSoftmax, Counts: []float64{5, 0}, SkipZero: true}.Adjustments(nil)
	fmt.Printf("%.4f\n", adj)
	// Output:
	// logit_adjusted   [-0.2263 -1.6535 -4.4950]
	// balanced_softmax [6.2146 4.7875 1.9459]
	// ldam             [0.1720 0.2457 0.5000]
	// class 1 ("dog") has count 0, so its logit offset (log 0) is infinite: give it a count > 0 or use --zero-counts skip (the class is left out of the loss)
	// [1.6094 -Inf]
}

func ExampleReference_ldam() {
	// LDAM: CE(s·(x − m_y·onehot(y)), y) with margins from the counts.
	spec := lossops.Spec{Loss: lossops.LDAM, Counts: []float64{500, 120, 7}, MaxMargin: 0.5, Scale: 30, Reduction: lossops.None}
	logits := []float64{
		0.9, 0.1, -0.2, // position 0: label 0, confident
		0.1, 0.2, 0.3, // position 1: label 2, the rare class, barely ahead
	}
	loss, _, err := lossops.Reference(spec, logits, []int{2, 3}, []int64{0, 2}, nil)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%.4g\n", loss)
	// Output:
	// [6.574e-09 12.05]
}

// A loss's catalogue entry gives its parameters and their defaults (what
// `onnxloss losses` and inject's --help show).
func ExampleLookup() {
	d := lossops.Lookup(lossops.Tversky)
	for _, p := range d.Params {
		fmt.Printf("--%s %g\n", p, d.Default(p))
	}
	// Output:
	// --alpha 0.5
	// --tversky-beta 0.5
	// --gamma 1
	// --smooth 0
}
