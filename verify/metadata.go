package verify

import (
	"fmt"

	"github.com/onnxloss/onnxloss/inject"
	"github.com/onnxloss/onnxloss/verify/eval"
)

// checkMetadata refuses onnxloss metadata that cannot describe a loss this
// tool injected, before the synthetic check sizes anything by it: the
// metadata comes from the model file, as untrusted as the rest of it.
func checkMetadata(md *inject.Metadata) error {
	if md.NumClasses < 1 {
		return fmt.Errorf("num_classes %d is invalid: need at least 1 class", md.NumClasses)
	}
	if len(md.Counts) != md.NumClasses {
		return fmt.Errorf("num_classes %d but %d counts: the metadata is inconsistent (re-run onnxloss inject)", md.NumClasses, len(md.Counts))
	}
	if md.Weighted && len(md.Weights) != md.NumClasses {
		return fmt.Errorf("num_classes %d but %d weights: the metadata is inconsistent (re-run onnxloss inject)", md.NumClasses, len(md.Weights))
	}
	if len(md.Classes) != 0 && len(md.Classes) != md.NumClasses {
		return fmt.Errorf("num_classes %d but %d class names: the metadata is inconsistent (re-run onnxloss inject)", md.NumClasses, len(md.Classes))
	}
	maxRank := 2 + len(syntheticShapes[0].spatial)
	if md.LogitsRank < 2 || md.LogitsRank > maxRank {
		return fmt.Errorf("logits_rank %d is not supported by the synthetic check (2 to %d)", md.LogitsRank, maxRank)
	}
	for _, sh := range syntheticShapes {
		shape := append([]int64{sh.batch, int64(md.NumClasses)}, sh.spatial[:md.LogitsRank-2]...)
		if _, err := eval.SizeOf(eval.Float64, shape); err != nil {
			return fmt.Errorf("num_classes %d: the synthetic logits %v would be too large: %w", md.NumClasses, shape, err)
		}
	}
	return nil
}
