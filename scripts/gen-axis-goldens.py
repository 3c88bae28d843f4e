#!/usr/bin/python3
"""Regenerate testdata/goldens/axis.json: PyTorch golden losses for logits whose
class axis is not 1, and for dense detection.

Run with Debian's Python (torch 1.13.1, torchvision 0.14.1):

    /usr/bin/python3 scripts/gen-axis-goldens.py

Nothing here uses the Go code. Three kinds of cases:

- "host" cases: class-last logits (N, T, C) fed straight to the loss (the Go test
  builds the same Identity host model as for losses.json), in float32, float16,
  bfloat16 and float64, int32 and int64 labels, at every opset 11-23, each loss of
  the catalogue. The expected values are scripts/gen-goldens.py's compute() (its
  torch references: F.cross_entropy, torchvision.ops.sigmoid_focal_loss, ...)
  applied to the logits with the class axis moved to 1, which is what a PyTorch
  user writes for class-last logits (logits.movedim(-1, 1) or permute(0, 2, 1)).
- "model" cases: the real exported models testdata/models/token_cls_o17.onnx
  ((N, T, C) logits, T dynamic) and det_head_o13.onnx ((N, A, C), A dynamic), at
  two sequence lengths / feature-map sizes each. The torch module (rebuilt with the
  export's seed by testdata/models/gen_axis_models.py) computes the logits from the
  recorded inputs in float32 as the graph does, the loss is computed in float64
  from them: every loss x reduction (mean, sum, none) x ignore_index (none, -100),
  multi-hot targets for the sigmoid losses.
- "detection" cases on det_head_o13.onnx: random matched_idxs containing -1
  (background) and -2 (between thresholds) per image; the labels input is
  targets["labels"][matched_idxs] where matched_idxs >= 0, else matched_idxs. The
  expected value of sigmoid_focal --background-label -1 --ignore-index -2
  --reduction foreground is torchvision's own
  RetinaNetClassificationHead.compute_loss. With class weights, and for cb_sigmoid
  and cb_focal, it is compute_loss's loop with the per-element loss replaced
  (compute_loss_like; checked to equal torchvision's compute_loss when the
  element loss is sigmoid_focal_loss): weighted by w_c per column, and for
  cb_* foreground rows by w_y, background rows by w_c.

Case fields are those of losses.json plus class_axis (null: inject chooses),
background_label, model (a file of testdata/models, "" for host cases) and
input_set (the key of "input_sets": model inputs, recorded torch logits).
"""

import importlib.util
import json
import os
import sys

import torch
import torch.nn.functional as F
from torchvision.ops import sigmoid_focal_loss

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


G = load("gen_goldens", os.path.join(ROOT, "scripts", "gen-goldens.py"))
M = load("gen_axis_models", os.path.join(ROOT, "testdata", "models", "gen_axis_models.py"))
F64 = torch.float64
LOSSES = ["weighted_ce", "focal", "sigmoid_focal", "cb_softmax", "cb_sigmoid", "cb_focal",
          "logit_adjusted", "balanced_softmax", "ldam"]
SIGMOID = ("sigmoid_focal", "cb_sigmoid", "cb_focal")
REDS = ["mean", "sum", "none"]


def base_case(name, loss, C, **kw):
    counts = kw.pop("counts", None) or G.longtail(C, 1000, 0.02)
    c = {
        "name": name, "loss": loss, "counts": counts, "classes": None, "zero_counts": "error",
        "weighting": kw.pop("weighting", G.DEFAULT_WEIGHTING[loss]), "normalize": True, "beta": 0.9999,
        "gamma": kw.pop("gamma", 2.0), "alpha": 0.25, "reduction": kw.pop("reduction", "mean"),
        "ignore_index": kw.pop("ignore_index", None), "label_smoothing": kw.pop("label_smoothing", 0.0),
        "targets": kw.pop("targets", "index"), "logits_dtype": kw.pop("logits_dtype", "float32"),
        "labels_dtype": kw.pop("labels_dtype", "int64"), "opset": kw.pop("opset", 17),
        "class_axis": kw.pop("class_axis", None), "background_label": kw.pop("background_label", None),
        "model": kw.pop("model", ""), "input_set": kw.pop("input_set", ""),
    }
    if c["targets"] == "multi-hot":
        c["labels_dtype"] = "float32"
    if loss == "logit_adjusted":
        c["tau"] = 1.0
    if loss == "ldam":
        c["max_margin"], c["scale"] = 0.5, 30.0
    assert not kw, kw
    return c


def draw_labels(c, shape_last, g):
    """Labels (or multi-hot targets) for class-last logits of shape_last."""
    C = shape_last[-1]
    if c["targets"] == "multi-hot":
        t = (torch.rand(shape_last, generator=g, dtype=F64) < 0.3).to(F64)
        c["labels"] = {"shape": list(shape_last), "data": t.flatten().tolist()}
        return None, t
    pos = shape_last[:-1]
    y = torch.randint(0, C, pos, generator=g)
    if c["ignore_index"] is not None:
        m = torch.rand(pos, generator=g) < 0.25
        m.view(-1)[0], m.view(-1)[-1] = True, False
        y = torch.where(m, torch.full_like(y, c["ignore_index"]), y)
    c["labels"] = {"shape": list(pos), "data": y.flatten().tolist()}
    return y, None


def expected_class_last(c, x_last, y, t):
    """gen-goldens' compute() on the logits with the class axis moved to 1."""
    w = G.class_weights(c["counts"], c["weighting"], c["beta"], c["normalize"], c["zero_counts"])
    c["weights"] = w
    x1 = x_last.movedim(-1, 1)
    t1 = None if t is None else t.movedim(-1, 1)
    out, note = G.compute(c, x1, y, t1, w)
    out = out.to(F64)
    if c["reduction"] == "none" and c["loss"] == "sigmoid_focal":
        out = out.movedim(1, -1)  # per element, in the logits' layout
    assert torch.isfinite(out).all(), (c["name"], out)
    c["expected"] = {"shape": list(out.shape), "data": out.flatten().tolist()}
    if note:
        c["note"] = note
    return c


# ------------------------------------------------------------- detection


def element_loss(kind, x, t, w, fg_label):
    """Per-element loss of one image's anchors (A, C): torchvision's
    sigmoid_focal_loss, or the Class-Balanced sigmoid/focal forms."""
    if kind == "sigmoid_focal":
        l = sigmoid_focal_loss(x, t, reduction="none")
        return l if w is None else l * w[None, :]
    bce = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    if kind == "cb_focal":
        bce = torch.exp(-2.0 * (t * x + G.softplus(-x))) * bce
    if w is None:
        return bce
    # foreground rows: w_y on every column; background rows: w_c per column
    row_w = torch.where((fg_label >= 0)[:, None], w[fg_label.clamp(min=0)][:, None], w[None, :])
    return bce * row_w


def compute_loss_like(kind, w, targets, cls_logits, matched_idxs):
    """torchvision 0.14 RetinaNetClassificationHead.compute_loss, line for
    line, with the per-element loss (and class weights) pluggable."""
    losses = []
    for targets_per_image, cls_logits_per_image, matched_idxs_per_image in zip(targets, cls_logits, matched_idxs):
        foreground_idxs_per_image = matched_idxs_per_image >= 0
        num_foreground = foreground_idxs_per_image.sum()
        gt_classes_target = torch.zeros_like(cls_logits_per_image)
        gt_classes_target[
            foreground_idxs_per_image,
            targets_per_image["labels"][matched_idxs_per_image[foreground_idxs_per_image]],
        ] = 1.0
        fg_label = torch.where(foreground_idxs_per_image,
                               targets_per_image["labels"][matched_idxs_per_image.clamp(min=0)],
                               torch.full_like(matched_idxs_per_image, -1))
        valid_idxs_per_image = matched_idxs_per_image != -2  # BETWEEN_THRESHOLDS
        l = element_loss(kind, cls_logits_per_image, gt_classes_target, w, fg_label)
        losses.append(l[valid_idxs_per_image].sum() / max(1, num_foreground))
    return sum(losses) / len(targets)


def detection_cases(head, x_last, set_key, g, idx):
    """Random matched_idxs (-1, -2, gt indices) and the loss torchvision computes."""
    N, A, C = x_last.shape
    targets, matched, labels = [], [], []
    for i in range(N):
        num_gt = int(torch.randint(1, 5, (1,), generator=g))
        gt_labels = torch.randint(0, C, (num_gt,), generator=g)
        r = torch.rand(A, generator=g)
        m = torch.randint(0, num_gt, (A,), generator=g)
        m = torch.where(r < 0.55, torch.full_like(m, -1), m)  # background
        m = torch.where((r >= 0.55) & (r < 0.7), torch.full_like(m, -2), m)  # between thresholds
        if i == N - 1:
            m[:] = torch.where(m >= 0, torch.full_like(m, -1), m)  # an image without foreground
        targets.append({"labels": gt_labels})
        matched.append(m)
        labels.append(torch.where(m >= 0, gt_labels[m.clamp(min=0)], m))
    y = torch.stack(labels)
    cases = []
    # torchvision's own compute_loss is the reference of the unweighted sigmoid_focal case.
    tv = head.compute_loss(targets, {"cls_logits": x_last}, matched)
    mine = compute_loss_like("sigmoid_focal", None, targets, x_last, matched)
    assert torch.allclose(tv, mine, rtol=1e-13, atol=0), (tv, mine)
    for kind, weighting in [("sigmoid_focal", "none"), ("sigmoid_focal", "inverse"), ("cb_sigmoid", "none"),
                            ("cb_sigmoid", "effective"), ("cb_focal", "none"), ("cb_focal", "effective")]:
        c = base_case(f"detection/{set_key}/{kind}/{weighting}", kind, C, weighting=weighting, reduction="foreground",
                      ignore_index=-2, background_label=-1, class_axis=-1, model="det_head_o13.onnx",
                      input_set=set_key, opset=13)
        w = G.class_weights(c["counts"], weighting, c["beta"], c["normalize"], c["zero_counts"])
        c["weights"] = w
        wt = None if w is None else torch.tensor(w, dtype=F64)
        if kind == "cb_focal" and w is None:
            # unweighted cb_focal is sigmoid focal without the alpha term
            out = sum(sigmoid_focal_loss(x_last[i][matched[i] != -2],
                                         F.one_hot(labels[i].clamp(min=0), C).to(F64)[matched[i] != -2]
                                         * (matched[i][matched[i] != -2] >= 0)[:, None],
                                         alpha=-1, reduction="sum") / max(1, int((matched[i] >= 0).sum()))
                      for i in range(N)) / N
            assert torch.allclose(out, compute_loss_like(kind, None, targets, x_last, matched), rtol=1e-12)
        elif kind == "sigmoid_focal" and w is None:
            out = tv
        else:
            out = compute_loss_like(kind, wt, targets, x_last, matched)
        c["labels"] = {"shape": list(y.shape), "data": y.flatten().tolist()}
        c["expected"] = {"shape": [], "data": [float(out)]}
        c["note"] = "torchvision RetinaNetClassificationHead.compute_loss" if kind == "sigmoid_focal" and w is None else \
            "compute_loss's loop with the element loss replaced (see the script)"
        cases.append(c)
    return cases


# ------------------------------------------------------------- main


def main():
    cases, sets = [], {}
    # host cases: class-last logits, each dtype, label dtype and opset 11..23
    g = torch.Generator().manual_seed(2024)
    dtypes = ["float32", "float16", "bfloat16", "float64"]
    k = 0
    for loss in LOSSES:
        for red in REDS:
            for ii in (None, -100):
                dt = dtypes[k % 4]
                opset = 11 + k % 13
                if dt == "bfloat16" and opset < 13:
                    opset += 2
                k += 1
                C = 5
                shape = (3, 4, C)
                x = (torch.randn(shape, generator=g, dtype=F64) * 2).to(G.DTYPES[dt]).to(F64)
                c = base_case(f"host/{loss}/{red}/ii{ii}/{dt}/o{opset}", loss, C, reduction=red, ignore_index=ii,
                              logits_dtype=dt, labels_dtype="int32" if k % 3 == 0 else "int64", opset=opset,
                              class_axis=-1 if k % 2 == 0 else 2)
                y, t = draw_labels(c, shape, g)
                c["logits"] = {"shape": list(shape), "data": x.flatten().tolist()}
                cases.append(expected_class_last(c, x, y, t))
    for loss in SIGMOID:
        for red in REDS:
            C = 4
            shape = (2, 3, C)
            x = torch.randn(shape, generator=g, dtype=F64) * 2
            c = base_case(f"host/{loss}/{red}/multi-hot", loss, C, reduction=red, targets="multi-hot", class_axis=-1, opset=13)
            y, t = draw_labels(c, shape, g)
            c["logits"] = {"shape": list(shape), "data": x.flatten().tolist()}
            cases.append(expected_class_last(c, x, y, t))
    c = base_case("host/weighted_ce/smoothing", "weighted_ce", 5, label_smoothing=0.1, ignore_index=-100, class_axis=-1)
    x = torch.randn((2, 6, 5), generator=g, dtype=F64).to(torch.float32).to(F64)
    y, t = draw_labels(c, (2, 6, 5), g)
    c["logits"] = {"shape": [2, 6, 5], "data": x.flatten().tolist()}
    cases.append(expected_class_last(c, x, y, t))

    # model cases: the real token classifier and detection head, two sizes each
    token, det = M.build("token_cls"), M.build("det_head")
    gi = torch.Generator().manual_seed(77)
    for name, mod, fname, sizes in [("token", token, "token_cls_o17.onnx", [5, 9]),
                                    ("det", det, "det_head_o13.onnx", [((4, 4), (2, 2)), ((3, 5), (2, 3))])]:
        input_names = M.MODELS[fname][1]
        for si, size in enumerate(sizes):
            args = M.example_inputs("token_cls" if name == "token" else "det_head", gi, 2, size)
            with torch.enable_grad():  # the path the export traced
                x32 = mod(*args).detach()
            x = x32.to(F64)
            key = f"{name}{si}"
            sets[key] = {"model": fname, "inputs": {n: M.tensor_json(a) for n, a in zip(input_names, args)},
                         "logits": {"shape": list(x.shape), "data": x.flatten().tolist()}}
            C = x.shape[-1]
            # the token classifier's class axis is found by inject; the
            # detection head's last dim is symbolic in the file, so it is given
            axis = None if name == "token" else -1
            opset = 17 if name == "token" else 13
            for loss in LOSSES:
                for red in REDS:
                    for ii in (None, -100):
                        c = base_case(f"model/{key}/{loss}/{red}/ii{ii}", loss, C, reduction=red, ignore_index=ii,
                                      class_axis=axis, model=fname, input_set=key, opset=opset)
                        y, t = draw_labels(c, tuple(x.shape), gi)
                        cases.append(expected_class_last(c, x, y, t))
                if loss in SIGMOID:
                    for red in REDS:
                        c = base_case(f"model/{key}/{loss}/{red}/multi-hot", loss, C, reduction=red, targets="multi-hot",
                                      class_axis=axis, model=fname, input_set=key, opset=opset)
                        y, t = draw_labels(c, tuple(x.shape), gi)
                        cases.append(expected_class_last(c, x, y, t))
            if name == "det":
                cases += detection_cases(det.head, x, key, gi, si)
                # --reduction foreground without a background label, for the
                # other losses: torch's per-anchor losses (reduction none),
                # per image summed and divided by max(1, its non-ignored
                # anchors), then averaged over the images.
                for loss in LOSSES:
                    if loss in SIGMOID:
                        continue
                    c = base_case(f"foreground/{key}/{loss}", loss, C, reduction="none", ignore_index=-100,
                                  class_axis=axis, model=fname, input_set=key, opset=opset)
                    y, t = draw_labels(c, tuple(x.shape), gi)
                    expected_class_last(c, x, y, t)
                    per = torch.tensor(c["expected"]["data"], dtype=F64).view(c["expected"]["shape"])
                    fg = (y != -100).sum(1).to(F64)
                    out = (per.sum(1) / torch.clamp(fg, min=1)).mean()
                    c["reduction"] = "foreground"
                    c["expected"] = {"shape": [], "data": [float(out)]}
                    cases.append(c)
    for c in cases:
        c.setdefault("logits", None)
    out = {"about": __doc__.strip().splitlines()[0], "input_sets": sets, "cases": cases}
    path = os.path.join(ROOT, "testdata", "goldens", "axis.json")
    with open(path, "w") as f:
        json.dump(out, f, sort_keys=True, separators=(",", ":"))
        f.write("\n")
    print(f"{len(cases)} cases, {len(sets)} input sets -> {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
