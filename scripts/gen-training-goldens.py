#!/usr/bin/python3
"""Golden losses for the training graphs in testdata/models (models exported
together with F.cross_entropy / nn.CrossEntropyLoss): for each graph and each
loss of the catalogue, the value PyTorch computes for the new loss on the
logits torch produced for the recorded inputs (testdata/models/expected.json).

Run with Debian's /usr/bin/python3 (torch 1.13, torchvision 0.14). Writes
testdata/goldens/training.json. The loss formulas are the ones of
scripts/gen-goldens.py (imported, not copied).
"""
import importlib.util
import json
import os
import sys

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
spec = importlib.util.spec_from_file_location("gen_goldens", os.path.join(ROOT, "scripts", "gen-goldens.py"))
gg = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gg)

MODELS = ["train_mlp_ce_o13.onnx", "train_cnn_ce_o17.onnx", "train_mlp_dropout_o13.onnx"]
# Each loss is checked with the reduction and ignore_index carried over from
# the exported loss (mean, -100), and with --reduction sum / none overrides.
VARIANTS = [("carried", None), ("sum", "sum"), ("none", "none")]


def main():
    expected = json.load(open(os.path.join(ROOT, "testdata", "models", "expected.json")))
    cases = []
    for model in MODELS:
        rec = expected[model]
        logits = rec["extra"]["logits"]
        x = torch.tensor(logits["data"], dtype=torch.float32).to(torch.float64).view(logits["shape"])
        y = torch.tensor(rec["inputs"]["target"]["data"], dtype=torch.int64)
        C = x.shape[1]
        counts = gg.longtail(C, 900, 0.05)
        for loss in sorted(gg.DEFAULT_WEIGHTING):
            for variant, reduction in VARIANTS:
                weighting = gg.DEFAULT_WEIGHTING[loss]
                w = gg.class_weights(counts, weighting, 0.999, True, "error")
                c = {
                    "name": f"{model}/{loss}/{variant}", "model": model, "loss": loss,
                    "counts": counts, "weighting": weighting, "beta": 0.999, "normalize": True,
                    "gamma": 2.0, "alpha": 0.25, "label_smoothing": 0.0, "targets": "index",
                    "tau": 1.0, "max_margin": 0.5, "scale": 30.0, "zero_counts": "error",
                    # what the exported loss node says: reduction mean, ignore_index -100
                    "reduction": reduction or "mean", "ignore_index": -100,
                    "override_reduction": reduction is not None,
                }
                out, _ = gg.compute(c, x, y, None, None if weighting == "none" else w)
                c["weights"] = w
                c["expected"] = {"shape": list(out.shape), "data": [float(v) for v in out.reshape(-1)]}
                cases.append(c)
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "testdata", "goldens", "training.json")
    with open(path, "w") as f:
        f.write("{\n\"cases\": [\n")
        f.write(",\n".join(json.dumps(c, sort_keys=True, allow_nan=False) for c in cases))
        f.write(f"\n],\n\"torch\": {json.dumps(torch.__version__)}\n}}\n")
    print(f"wrote {len(cases)} cases to {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
