#!/usr/bin/env python3
"""Regenerate testdata/goldens/catalogue_grads.json.gz: PyTorch autograd
gradients of the catalogue's newer losses (poly1, dice, tversky,
generalized_dice, asl with and without its detached focusing, seesaw,
lovasz_softmax) with respect to the parameters of models in testdata/models.

The losses are the reference implementations themselves, as
scripts/gen-catalogue-goldens.py calls them (segmentation_models_pytorch
0.5.0, MONAI 1.4.0, timm 1.0.15, mmdetection's seesaw_ce_loss copy, the
PolyLoss formula), so this runs with the venv scripts/install-refs.sh
builds:

    .venv/bin/python scripts/gen-catalogue-grad-goldens.py [OUT]

The modules, batches and the case format are those of
scripts/gen-grad-goldens.py (module_for, onnx_grads, tensor), whose Go test
(stepmodel/golden_test.go) injects each case's loss with the same flags,
builds the `--optimizer none` step model, runs it in ONNX Runtime and
compares its <p>_grad outputs with these, under the same tolerance rule.
Deterministic: fixed seeds, sorted keys, gzip mtime 0.
"""

import gzip
import importlib.util
import json
import os
import sys

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
F64 = torch.float64


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


GG = load("gen_grad_goldens", os.path.join(ROOT, "scripts", "gen-grad-goldens.py"))
CAT = load("gen_catalogue_goldens", os.path.join(ROOT, "scripts", "gen-catalogue-goldens.py"))
N = 3

# (model file, loss, case suffix, reduction, ignore_index, weighted, params)
CASES = [
    ("mlp_o13.onnx", "poly1", "eps1", "mean", None, False, {"epsilon": 1.0}),
    ("mlp_o13.onnx", "poly1", "weighted_ignore_eps2", "mean", -100, True, {"epsilon": 2.0}),
    ("segnet_o13.onnx", "dice", "mean", "mean", None, False, {}),
    ("segnet_o13.onnx", "dice", "weighted_ignore_smooth", "mean", 255, True, {"smooth": 1.0}),
    ("segnet_o13.onnx", "tversky", "mean", "mean", None, False, {"alpha": 0.5, "tversky_beta": 0.5, "gamma": 1.0}),
    ("segnet_o13.onnx", "tversky", "focal_ignore", "sum", 255, False, {"alpha": 0.3, "tversky_beta": 0.7, "gamma": 0.75}),
    ("segnet_o13.onnx", "generalized_dice", "mean", "mean", None, False, {}),
    ("segnet_o13.onnx", "generalized_dice", "baked_weights_ignore", "mean", 255, True, {}),
    ("multilabel_o13.onnx", "asl", "sum", "sum", None, False, {"gamma_pos": 1.0, "gamma_neg": 4.0, "clip": 0.05}),
    ("multilabel_o13.onnx", "asl", "sum_detached", "sum", None, False, {"gamma_pos": 1.0, "gamma_neg": 4.0, "clip": 0.05, "detach_focusing": True}),
    ("multilabel_o13.onnx", "asl", "mean_weighted_gammas", "mean", None, True, {"gamma_pos": 0.5, "gamma_neg": 2.0, "clip": 0.1}),
    ("mlp_o13.onnx", "seesaw", "mean", "mean", None, False, {"seesaw_p": 0.8, "seesaw_q": 2.0}),
    ("mlp_o13.onnx", "seesaw", "sum_ignore", "sum", -100, False, {"seesaw_p": 0.5, "seesaw_q": 1.5}),
    ("segnet_o13.onnx", "lovasz_softmax", "mean", "mean", None, False, {}),
    ("segnet_o13.onnx", "lovasz_softmax", "weighted_ignore", "mean", 255, True, {}),
    ("segnet_o13.onnx", "lovasz_softmax", "sum", "sum", None, False, {}),
]


def reference_loss(loss, x, y, t, counts, w, ii, reduction, p):
    """The loss as gen-catalogue-goldens.py computes it, on logits x in
    (N, C, ...) layout (float64, requiring grad through the module)."""
    if loss == "poly1":
        return CAT.poly1(x, y, w, p["epsilon"], ii, reduction)
    if loss == "dice":
        return CAT.dice(x, y, None, w, p.get("smooth", 0.0), ii, reduction, False)
    if loss == "tversky":
        return CAT.tversky(x, y, None, w, p.get("smooth", 0.0), p["alpha"], p["tversky_beta"], p["gamma"], ii, reduction, False)
    if loss == "generalized_dice":
        return CAT.generalized_dice(x, y, None, w, ii, reduction, False)
    if loss == "asl":
        valid = torch.ones(t.shape[:1] + t.shape[2:], dtype=torch.bool)
        return CAT.asl(x, t, valid, w, p["gamma_pos"], p["gamma_neg"], p["clip"], p.get("detach_focusing", False), reduction)
    if loss == "seesaw":
        return CAT.seesaw(x, y, counts, p["seesaw_p"], p["seesaw_q"], ii, reduction)
    if loss == "lovasz_softmax":
        return CAT.lovasz_softmax(x, y, w, ii, reduction)
    raise ValueError(loss)


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "testdata", "goldens", "catalogue_grads.json.gz")
    torch.set_default_dtype(F64)
    cases = []
    for k, (fname, loss, suffix, reduction, ii, weighted, params) in enumerate(CASES):
        factory, logits_fn, inputs, C, spatial = GG.MODELS[fname]
        rel = os.path.join("testdata", "models", fname)
        module = GG.module_for(fname, factory, os.path.join(ROOT, rel))
        rng = np.random.default_rng(6000 + k)
        g = torch.Generator().manual_seed(6000 + k)
        xs = [torch.randn([N] + shape, generator=g, dtype=F64).to(torch.float32).to(F64) for _, shape in inputs]
        counts = [int(v) for v in rng.integers(5, 2000, size=C)]
        w = CAT.inverse_weights(counts) if weighted else None
        multi_hot = loss == "asl"
        y = t = None
        if multi_hot:
            t = torch.tensor((rng.random((N, C)) < 0.4).astype(np.float64), dtype=F64)
            labels = t
        else:
            y = torch.tensor(rng.integers(0, C, size=[N] + spatial), dtype=torch.int64)
            if ii is not None:
                drop = torch.tensor(rng.random([N] + spatial) < 0.3)
                drop.view(-1)[0] = True
                drop.view(-1)[1] = False
                y = torch.where(drop, torch.full_like(y, ii), y)
            labels = y
        x = logits_fn(module, *xs)
        lossv = reference_loss(loss, x, y, t, counts, w, ii, reduction, params)
        names = [n for n, _ in module.named_parameters()]
        pdict = dict(module.named_parameters())
        grads = dict(zip(names, torch.autograd.grad(lossv, [pdict[n] for n in names])))
        grads = GG.onnx_grads(os.path.join(ROOT, rel), module, grads)
        for n, gr in grads.items():
            if not torch.isfinite(gr).all():
                raise SystemExit("%s/%s: torch's gradient of %s is not finite" % (loss, suffix, n))
        case = {
            "name": "%s/float32/%s_%s" % (rel, loss, suffix), "loss": loss, "counts": counts, "classes": None,
            "zero_counts": "error", "weighting": "inverse" if weighted else "none", "normalize": True,
            "beta": 0.9999, "gamma": params.get("gamma", 2.0), "alpha": params.get("alpha", 0.25),
            "reduction": reduction, "ignore_index": ii, "label_smoothing": 0.0,
            "targets": "multi-hot" if multi_hot else "index",
            "labels_dtype": "float32" if multi_hot else "int64",
            "tau": 0.0, "max_margin": 0.0, "scale": 0.0,
            "epsilon": params.get("epsilon", 0.0), "smooth": params.get("smooth", 0.0),
            "tversky_beta": params.get("tversky_beta", 0.0),
            "gamma_pos": params.get("gamma_pos", 0.0), "gamma_neg": params.get("gamma_neg", 0.0),
            "clip": params.get("clip", 0.0), "detach_focusing": params.get("detach_focusing", False),
            "background_label": None,
            "seesaw_p": params.get("seesaw_p", 0.0), "seesaw_q": params.get("seesaw_q", 0.0),
            "weights": w,
            "model": rel, "dtype": "float32",
            "inputs": {name: GG.tensor(v) for (name, _), v in zip(inputs, xs)},
            "labels_input": "labels", "labels": GG.tensor(labels), "loss_value": float(lossv),
            "grads": {n: GG.tensor(gr, 12) for n, gr in grads.items()},
            "logits_peak": float(x.detach().abs().max()),
        }
        cases.append(case)
    text = "{\n\"cases\": [\n" + ",\n".join(json.dumps(c, sort_keys=True, allow_nan=False) for c in cases)
    text += "\n],\n\"generator\": %s,\n\"torch\": %s\n}\n" % (json.dumps("scripts/gen-catalogue-grad-goldens.py"), json.dumps(torch.__version__))
    json.loads(text)
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as f:
        f.write(text.encode())
    print("wrote %d cases to %s" % (len(cases), path), file=sys.stderr)


if __name__ == "__main__":
    main()
