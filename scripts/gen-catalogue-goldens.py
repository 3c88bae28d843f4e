#!/usr/bin/env python3
"""Regenerate testdata/goldens/catalogue.json: golden values of the losses
added to the catalogue after the first nine (poly1, dice, ...), computed in
float64 by their reference implementations themselves where those install:

  dice   segmentation_models_pytorch 0.5.0 DiceLoss(mode="multiclass",
         from_logits=True, smooth, ignore_index) ("multilabel" for multi-hot
         targets), segmentation_models_pytorch/losses/dice.py. Its
         aggregate_loss hook (the mean over classes) is overridden to return
         the per-class vector, so the weighted mean, the sum and "none" are
         computed from smp's own per-class losses; mean without weights is
         smp's DiceLoss unchanged, and the script checks that the hook gives
         the same mean.
  lovasz_softmax  segmentation_models_pytorch 0.5.0 LovaszLoss(mode=
         "multiclass", per_image=False, ignore_index),
         segmentation_models_pytorch/losses/lovasz.py (see lovasz_softmax).
  poly1  Leng et al. 2022, "PolyLoss", eq. 2 and the paper's code listing
         (poly1 = CE + epsilon * (1 - pt)), no package ships it: written
         here with torch.nn.functional.cross_entropy(weight, ignore_index,
         reduction="none") for CE, class weights weighting the whole
         position and the mean dividing by their sum, as cross_entropy does.

Run with the venv the test command builds (scripts/install-refs.sh installs
scripts/venv-requirements.txt into .venv over Debian's torch 1.13):

    .venv/bin/python scripts/gen-catalogue-goldens.py [OUT]

Deterministic (fixed seeds, sorted keys). Logits are drawn at random, rounded
to float32 and the expected values computed in float64 from the rounded
values. Case format: that of scripts/gen-goldens.py (name, loss, opset,
counts, weighting, normalize, beta, reduction, ignore_index, targets,
logits_dtype, labels_dtype, class_axis, logits, labels, weights, expected),
plus epsilon (poly1) and smooth (dice). Class weights, when weighting is
"inverse", are 1/n normalized to sum to C, computed here.
"""

import json
import sys

import numpy as np
import torch
import torch.nn.functional as F
import segmentation_models_pytorch as smp
import timm
import monai
from monai.losses import GeneralizedDiceLoss
from timm.loss import AsymmetricLossMultiLabel
from segmentation_models_pytorch.losses import DiceLoss, TverskyLoss, LovaszLoss
from segmentation_models_pytorch.losses import lovasz as smp_lovasz

F64 = torch.float64
assert smp.__version__ == "0.5.0", smp.__version__
assert timm.__version__ == "1.0.15", timm.__version__
assert monai.__version__ == "1.4.0", monai.__version__


def inverse_weights(counts):
    w = [1.0 / n for n in counts]
    s = sum(w)
    return [v * len(w) / s for v in w]


def draw(rng, shape, scale=3.0):
    x = rng.standard_normal(shape) * scale
    return torch.tensor(x.astype(np.float32).astype(np.float64), dtype=F64)


def to_axis1(x, class_axis):
    """Logits in (N, C, ...) layout for the references."""
    return x if class_axis in (None, 1) else x.movedim(class_axis, 1)


# ---- poly1 -----------------------------------------------------------------

def poly1(x, y, w, eps, ignore_index, reduction):
    """Leng et al. 2022 eq. 2: CE + eps * (1 - p_y), per position, weighted
    by w_y as F.cross_entropy weights; mean = sum / sum of w_y over V."""
    C = x.shape[1]
    ii = -100 if ignore_index is None else ignore_index
    wt = None if w is None else torch.tensor(w, dtype=F64)
    ce = F.cross_entropy(x, y, weight=wt, ignore_index=ii, reduction="none")
    valid = y != ii
    ys = torch.where(valid, y, torch.zeros_like(y))
    pt = F.softmax(x, dim=1).gather(1, ys.unsqueeze(1)).squeeze(1)
    wy = torch.ones_like(pt) if wt is None else wt[ys]
    l = (ce + eps * wy * (1 - pt)) * valid
    if reduction == "none":
        return l
    if reduction == "sum":
        return l.sum()
    if reduction == "foreground":  # per sample sum / max(1, |V_sample|), mean over samples
        per = l.reshape(l.shape[0], -1).sum(1)
        fg = valid.reshape(l.shape[0], -1).sum(1).clamp_min(1)
        return (per / fg).mean()
    den = (wy * valid).sum()
    return l.sum() / den if den != 0 else l.sum() * 0


# ---- dice ------------------------------------------------------------------

class PerClassDice(DiceLoss):
    """smp's DiceLoss with its aggregate_loss hook returning the per-class
    losses instead of their mean."""

    def aggregate_loss(self, loss):
        return loss


def dice(x, y, t, w, smooth, ignore_index, reduction, multi_hot):
    mode = "multilabel" if multi_hot else "multiclass"
    target = t if multi_hot else y
    per_class = PerClassDice(mode, from_logits=True, smooth=smooth, ignore_index=ignore_index)(x, target)
    mean = DiceLoss(mode, from_logits=True, smooth=smooth, ignore_index=ignore_index)(x, target)
    assert torch.allclose(per_class.mean(), mean, rtol=1e-15, atol=0), (per_class.mean(), mean)
    wt = torch.ones(x.shape[1], dtype=F64) if w is None else torch.tensor(w, dtype=F64)
    l = per_class * wt
    if reduction == "none":
        return l
    if reduction == "sum":
        return l.sum()
    if w is None:
        return mean
    return l.sum() / wt.sum()


# ---- tversky ---------------------------------------------------------------

class PerClassTversky(TverskyLoss):
    """smp's TverskyLoss with aggregate_loss returning the per-class losses
    (before its mean and the power gamma)."""

    def aggregate_loss(self, loss):
        return loss


def tversky(x, y, t, w, smooth, alpha, beta, gamma, ignore_index, reduction, multi_hot):
    mode = "multilabel" if multi_hot else "multiclass"
    target = t if multi_hot else y
    kw = dict(from_logits=True, smooth=smooth, ignore_index=ignore_index, alpha=alpha, beta=beta)
    per_class = PerClassTversky(mode, gamma=gamma, **kw)(x, target)
    whole = TverskyLoss(mode, gamma=gamma, **kw)(x, target)
    assert torch.allclose(per_class.mean() ** gamma, whole, rtol=1e-15, atol=0), (per_class, whole)
    wt = torch.ones(x.shape[1], dtype=F64) if w is None else torch.tensor(w, dtype=F64)
    l = per_class * wt
    if reduction == "none":  # per class w_c * l_c**gamma (smp has no per-class output)
        return per_class ** gamma * wt
    if reduction == "sum":
        return l.sum() ** gamma
    if w is None:
        return whole
    return (l.sum() / wt.sum()) ** gamma


# ---- asl -------------------------------------------------------------------

def asl(x, t, valid, w, gamma_pos, gamma_neg, clip, detach, reduction):
    """timm's AsymmetricLossMultiLabel returns -sum over every element; it is
    a sum of independent per-element terms, so each element's loss is timm's
    loss of that element alone. x, t: (N, C, ...); valid: (N, ...) bool."""
    crit = AsymmetricLossMultiLabel(gamma_neg=gamma_neg, gamma_pos=gamma_pos, clip=clip, eps=1e-8,
                                    disable_torch_grad_focal_loss=detach)
    flat_x, flat_t = x.reshape(-1), t.reshape(-1)
    per = torch.stack([crit(flat_x[i:i + 1], flat_t[i:i + 1]) for i in range(flat_x.numel())]).reshape(x.shape)
    whole = crit(x, t)
    assert torch.allclose(per.sum(), whole, rtol=1e-13, atol=1e-300), (per.sum(), whole)
    C = x.shape[1]
    wt = torch.ones(C, dtype=F64) if w is None else torch.tensor(w, dtype=F64)
    shape = [1, C] + [1] * (x.dim() - 2)
    l = per * wt.reshape(shape) * valid.unsqueeze(1)
    if reduction == "none":
        return l
    if reduction == "sum":
        return l.sum()
    if reduction == "foreground":
        raise ValueError("not generated")
    n = valid.sum() * C
    return l.sum() / n if n > 0 else l.sum() * 0


# ---- seesaw ----------------------------------------------------------------

def seesaw_ce_loss(cls_score, labels, cum_samples, num_classes, p, q, eps):
    """mmdetection 3.x, mmdet/models/losses/seesaw_loss.py, seesaw_ce_loss,
    copied with label_weights/weight_reduce_loss left out (reduction
    "none"; the reductions are applied by the caller). mmdetection needs
    mmcv/mmengine and does not install on torch 1.13 here, hence the copy."""
    assert cls_score.size(-1) == num_classes
    assert len(cum_samples) == num_classes
    onehot_labels = F.one_hot(labels, num_classes)
    seesaw_weights = cls_score.new_ones(onehot_labels.size())
    # mitigation factor
    if p > 0:
        sample_ratio_matrix = cum_samples[None, :].clamp(min=1) / cum_samples[:, None].clamp(min=1)
        index = (sample_ratio_matrix < 1.0).float()
        sample_weights = sample_ratio_matrix.pow(p) * index + (1 - index)
        mitigation_factor = sample_weights[labels.long(), :]
        seesaw_weights = seesaw_weights * mitigation_factor
    # compensation factor
    if q > 0:
        scores = F.softmax(cls_score.detach(), dim=1)
        self_scores = scores[torch.arange(0, len(scores)).to(scores.device).long(), labels.long()]
        score_matrix = scores / self_scores[:, None].clamp(min=eps)
        index = (score_matrix > 1.0).float()
        compensation_factor = score_matrix.pow(q) * index + (1 - index)
        seesaw_weights = seesaw_weights * compensation_factor
    cls_score = cls_score + (seesaw_weights.log() * (1 - onehot_labels))
    loss = F.cross_entropy(cls_score, labels, weight=None, reduction="none")
    return loss


def seesaw(x, y, counts, p, q, ignore_index, reduction):
    """x: (N, C, ...) float64, y: (N, ...). Positions are flattened to rows
    (mmdetection's (num_samples, C) layout), ignored rows dropped."""
    C = x.shape[1]
    rows = x.movedim(1, -1).reshape(-1, C)
    labels = y.reshape(-1)
    valid = torch.ones_like(labels, dtype=torch.bool) if ignore_index is None else labels != ignore_index
    per = torch.zeros(labels.shape, dtype=F64)
    if valid.any():
        per[valid] = seesaw_ce_loss(rows[valid], labels[valid], torch.tensor(counts, dtype=F64), C, p, q, 1e-2)
    per = per.reshape(y.shape)
    if reduction == "none":
        return per
    if reduction == "sum":
        return per.sum()
    n = valid.sum()
    return per.sum() / n if n > 0 else per.sum() * 0


# ---- generalized_dice ------------------------------------------------------

def generalized_dice(x, y, t, w, ignore_index, reduction, multi_hot):
    """MONAI 1.4.0 GeneralizedDiceLoss(w_type="square"), monai/losses/dice.py.
    MONAI casts the target sums to float32 before computing the weights
    (w_func(ground_o.float())); the sums are integers or multiples of 1/8,
    exact in float32, so wrapping w_func to compute 1/G^2 in float64 runs
    MONAI's own code in float64 throughout (checked against the unwrapped
    loss to 1e-6). Baked class weights (--weighting): w_func returns w_c.
    Ignored positions: MONAI has none; the probabilities and targets of
    ignored positions are zeroed and passed with softmax=False,
    to_onehot_y=False, which is what MONAI computes after its softmax and
    one-hot."""
    C = x.shape[1]
    if x.dim() == 2:  # MONAI wants BNH[WD]: (N, C) logits are (N, C, 1)
        x, y = x.unsqueeze(-1), y.unsqueeze(-1)
        t = None if t is None else t.unsqueeze(-1)
    mode = dict(sigmoid=True) if multi_hot else dict(softmax=True)
    target = t if multi_hot else y.unsqueeze(1)
    kw = dict(mode, to_onehot_y=not multi_hot, w_type="square", reduction=reduction)
    if ignore_index is not None and not multi_hot:
        valid = (y != ignore_index).unsqueeze(1).to(F64)
        probs = F.softmax(x, 1) * valid
        ys = torch.where(y == ignore_index, torch.zeros_like(y), y)
        onehot = F.one_hot(ys, C).movedim(-1, 1).to(F64) * valid
        x, target = probs, onehot
        kw.update(softmax=False, to_onehot_y=False)
    crit = GeneralizedDiceLoss(**kw)
    plain = crit(x, target)
    if w is None:
        crit.w_func = lambda grnd: torch.reciprocal(grnd.double() * grnd.double())
    else:
        wt = torch.tensor(w, dtype=F64)
        crit.w_func = lambda grnd: wt.expand(grnd.shape).clone()
    out = crit(x, target)
    if w is None:
        assert torch.allclose(out, plain, rtol=1e-6, atol=1e-7), (out, plain)
    return out.reshape(-1) if reduction == "none" else out


# ---- lovasz_softmax --------------------------------------------------------

_smp_lovasz_grad = smp_lovasz._lovasz_grad


def _lovasz_grad_f64(gt_sorted):
    """smp 0.5.0's _lovasz_grad (lovasz.py lines 22-33) line for line, with
    its two .float() casts made to the labels' own dtype: as shipped it
    computes the Jaccard gradient in float32 and torch.dot then refuses the
    float64 errors ("expected both vectors to have same dtype")."""
    p = len(gt_sorted)
    gts = gt_sorted.sum()
    intersection = gts - gt_sorted.cumsum(0)
    union = gts + (1 - gt_sorted).cumsum(0)
    jaccard = 1.0 - intersection / union
    if p > 1:
        jaccard[1:p] = jaccard[1:p] - jaccard[0:-1]
    return jaccard


def lovasz_softmax(x, y, w, ignore_index, reduction):
    """smp 0.5.0 LovaszLoss(mode="multiclass", per_image=False,
    ignore_index), segmentation_models_pytorch/losses/lovasz.py. The
    per-class losses are smp's own _lovasz_softmax_flat with classes=[c]
    for each class present in the non-ignored target (what its default
    classes="present" averages); the script checks that their mean is
    LovaszLoss's value. Class weights: sum_c w_c l_c / sum_c w_c over the
    present classes; sum and none as for dice (absent classes 0). An
    all-ignored batch: smp returns an empty tensor (probas * 0.0 of shape
    (0, C)); onnxloss gives 0, the value whose gradient smp intends (0)."""
    C = x.shape[1]
    crit = LovaszLoss("multiclass", per_image=False, ignore_index=ignore_index)
    # smp unchanged, in float32 (its own type): the float64 values below
    # must agree to float32 rounding.
    plain32 = crit(x.float(), y)
    smp_lovasz._lovasz_grad = _lovasz_grad_f64
    try:
        return _lovasz_softmax_f64(crit, x, y, w, ignore_index, reduction, plain32)
    finally:
        smp_lovasz._lovasz_grad = _smp_lovasz_grad


def _lovasz_softmax_f64(crit, x, y, w, ignore_index, reduction, plain32):
    C = x.shape[1]
    plain = crit(x, y)
    if plain.numel() > 0:
        assert torch.allclose(plain, plain32.double(), rtol=1e-5, atol=1e-6), (plain, plain32)
    probas, labels = smp_lovasz._flatten_probas(x.softmax(dim=1), y, ignore_index)
    wt = torch.ones(C, dtype=F64) if w is None else torch.tensor(w, dtype=F64)
    per_class = torch.zeros(C, dtype=F64)
    present = torch.zeros(C, dtype=F64)
    for c in range(C):
        if labels.numel() > 0 and (labels == c).any():
            per_class[c] = smp_lovasz._lovasz_softmax_flat(probas, labels, classes=[c])
            present[c] = 1
    if labels.numel() == 0:
        assert plain.numel() == 0, plain
    else:
        assert torch.allclose(per_class.sum() / present.sum(), plain, rtol=1e-14, atol=0), (per_class, plain)
    l = per_class * wt
    if reduction == "none":
        return l
    if reduction == "sum":
        return l.sum()
    den = (wt * present).sum()
    return l.sum() / (den if den > 0 else 1.0)


# ---- cases -----------------------------------------------------------------

def labels_for(rng, pos_shape, C, classes=None, ignore_index=None, ignore_frac=0.0):
    choices = list(range(C)) if classes is None else classes
    y = rng.choice(choices, size=pos_shape)
    if ignore_index is not None and ignore_frac > 0:
        y = np.where(rng.random(pos_shape) < ignore_frac, ignore_index, y)
    return torch.tensor(y, dtype=torch.int64)


def make_case(rng, loss, name, shape, opset, class_axis=None, reduction="mean", ignore_index=None,
              ignore_frac=0.0, weighted=False, multi_hot=False, classes=None, scale=3.0, **params):
    axis = 1 if class_axis is None else class_axis % len(shape)
    C = shape[axis]
    pos_shape = tuple(d for i, d in enumerate(shape) if i != axis)
    x = draw(rng, shape, scale)
    counts = [int(v) for v in rng.integers(5, 2000, size=C)]
    w = inverse_weights(counts) if weighted else None
    x1 = to_axis1(x, class_axis)
    y = t = None
    if params.get("background_label") is not None:
        classes = list(range(C)) + [params["background_label"]]
    if multi_hot:
        t = torch.tensor((rng.random(shape) < 0.4).astype(np.float64), dtype=F64)
        if params.get("soft_targets"):
            # multiples of 1/8: exact in float32, the type the targets are fed in
            t = torch.tensor(np.round(rng.random(shape) * 8) / 8, dtype=F64)
        t1 = to_axis1(t, class_axis)
    else:
        y = labels_for(rng, pos_shape, C, classes, ignore_index, ignore_frac)
    if loss == "poly1":
        expected = poly1(x1, y, w, params["epsilon"], ignore_index, reduction)
    elif loss == "dice":
        expected = dice(x1, y, t1 if multi_hot else None, w, params.get("smooth", 0.0), ignore_index, reduction, multi_hot)
    elif loss == "asl":
        if multi_hot:
            tt, valid = t1, torch.ones(t1.shape[:1] + t1.shape[2:], dtype=torch.bool)
        else:
            ii = ignore_index if ignore_index is not None else -10**9
            valid = y != ii
            bg = params.get("background_label")
            ys = torch.where(valid & (y != (bg if bg is not None else -10**9)), y, torch.full_like(y, C))
            tt = F.one_hot(ys, C + 1)[..., :C].movedim(-1, 1).to(F64)
        expected = asl(x1, tt, valid, w, params["gamma_pos"], params["gamma_neg"], params["clip"],
                       params.get("detach_focusing", False), reduction)
        if class_axis not in (None, 1) and reduction == "none":
            expected = expected.movedim(1, class_axis)
    elif loss == "seesaw":
        if params.get("zero_count") is not None:
            counts[params["zero_count"]] = 0
        if params.get("counts") is not None:
            counts[:] = params["counts"]
        expected = seesaw(x1, y, counts, params["seesaw_p"], params["seesaw_q"], ignore_index, reduction)
    elif loss == "generalized_dice":
        expected = generalized_dice(x1, y, t1 if multi_hot else None, w, ignore_index, reduction, multi_hot)
    elif loss == "lovasz_softmax":
        expected = lovasz_softmax(x1, y, w, ignore_index, reduction)
    elif loss == "tversky":
        expected = tversky(x1, y, t1 if multi_hot else None, w, params.get("smooth", 0.0), params["alpha"],
                           params["tversky_beta"], params["gamma"], ignore_index, reduction, multi_hot)
    else:
        raise ValueError(loss)
    case = {
        "name": name, "loss": loss, "opset": opset, "counts": counts, "classes": None,
        "zero_counts": "skip" if params.get("zero_count") is not None else "error", "weighting": "inverse" if weighted else "none", "normalize": True,
        "beta": 0.9999, "gamma": params.get("gamma", 2.0), "alpha": params.get("alpha", 0.25), "reduction": reduction, "ignore_index": ignore_index,
        "label_smoothing": 0.0, "targets": "multi-hot" if multi_hot else "index",
        "logits_dtype": "float32", "labels_dtype": "float32" if multi_hot else "int64",
        "class_axis": class_axis,
        "logits": {"shape": list(shape), "data": x.flatten().tolist()},
        "labels": {"shape": list(t.shape), "data": t.flatten().tolist()} if multi_hot
        else {"shape": list(pos_shape), "data": [float(v) for v in y.flatten().tolist()]},
        "weights": w,
        "expected": {"shape": list(expected.shape), "data": expected.flatten().tolist()},
        "epsilon": params.get("epsilon", 0.0), "smooth": params.get("smooth", 0.0),
        "tversky_beta": params.get("tversky_beta", 0.0),
        "gamma_pos": params.get("gamma_pos", 0.0), "gamma_neg": params.get("gamma_neg", 0.0),
        "clip": params.get("clip", 0.0), "detach_focusing": params.get("detach_focusing", False),
        "background_label": params.get("background_label"),
        "seesaw_p": params.get("seesaw_p", 0.0), "seesaw_q": params.get("seesaw_q", 0.0),
    }
    return case


def poly1_cases(rng):
    out = []
    spec = [
        ("mean/C5", (8, 5), 11, {}),
        ("sum/C5", (8, 5), 12, {"reduction": "sum"}),
        ("none/C5", (8, 5), 13, {"reduction": "none"}),
        ("mean/weighted", (10, 4), 14, {"weighted": True}),
        ("sum/weighted", (10, 4), 15, {"weighted": True, "reduction": "sum"}),
        ("mean/ignore", (12, 3), 16, {"ignore_index": -100, "ignore_frac": 0.3}),
        ("mean/weighted/ignore", (12, 6), 17, {"weighted": True, "ignore_index": 255, "ignore_frac": 0.25}),
        ("none/ignore", (9, 3), 18, {"reduction": "none", "ignore_index": -1, "ignore_frac": 0.3}),
        ("mean/NCHW", (2, 4, 3, 5), 13, {}),
        ("mean/NCHW/weighted/ignore", (2, 4, 3, 3), 19, {"weighted": True, "ignore_index": 255, "ignore_frac": 0.2}),
        ("none/NCL", (2, 3, 6), 20, {"reduction": "none", "class_axis": 1}),
        ("mean/class-last", (2, 7, 5), 21, {"class_axis": -1}),
        ("sum/class-last/weighted/ignore", (3, 4, 6), 22, {"class_axis": -1, "weighted": True, "reduction": "sum", "ignore_index": -100, "ignore_frac": 0.3}),
        ("foreground/NCHW/ignore", (3, 4, 2, 3), 23, {"reduction": "foreground", "ignore_index": 255, "ignore_frac": 0.3}),
        ("mean/all-ignored", (5, 3), 17, {"ignore_index": 7, "ignore_frac": 1.01}),
        ("mean/large-logits", (6, 4), 13, {"scale": 30.0}),
    ]
    for i, (name, shape, opset, kw) in enumerate(spec):
        eps = [1.0, 2.0, -1.0, 0.5][i % 4]
        out.append(make_case(rng, "poly1", f"poly1/{name}/eps{eps:g}", shape, opset, epsilon=eps, **kw))
    return out


def dice_cases(rng):
    out = []
    spec = [
        ("mean/NCHW", (2, 4, 5, 5), 11, {}),
        ("mean/NCHW/smooth", (2, 4, 5, 5), 12, {"smooth": 1.0}),
        ("sum/NCHW", (2, 3, 4, 4), 13, {"reduction": "sum"}),
        ("none/NCHW", (2, 3, 4, 4), 14, {"reduction": "none"}),
        ("mean/weighted", (2, 5, 4, 4), 15, {"weighted": True}),
        ("sum/weighted", (2, 5, 3, 3), 16, {"weighted": True, "reduction": "sum"}),
        ("none/weighted", (2, 5, 3, 3), 17, {"weighted": True, "reduction": "none"}),
        ("mean/ignore", (2, 4, 5, 5), 18, {"ignore_index": 255, "ignore_frac": 0.3}),
        ("mean/weighted/ignore/smooth", (2, 4, 4, 4), 19, {"weighted": True, "ignore_index": -100, "ignore_frac": 0.3, "smooth": 0.5}),
        ("mean/absent-classes", (2, 6, 4, 4), 20, {"classes": [0, 2, 3]}),
        ("mean/2d", (16, 4), 21, {}),
        ("mean/NCL", (3, 4, 7), 22, {"class_axis": 1}),
        ("mean/class-last", (2, 4, 4, 3), 23, {"class_axis": -1}),
        ("none/class-last/ignore", (2, 9, 5), 13, {"class_axis": -1, "reduction": "none", "ignore_index": -1, "ignore_frac": 0.2}),
        ("mean/multi-hot", (2, 3, 4, 4), 13, {"multi_hot": True}),
        ("sum/multi-hot/soft/weighted", (2, 3, 4, 4), 17, {"multi_hot": True, "soft_targets": True, "weighted": True, "reduction": "sum"}),
        ("mean/multi-hot/class-last/smooth", (3, 6, 4), 18, {"multi_hot": True, "class_axis": -1, "smooth": 1.0}),
        ("mean/all-ignored", (2, 3, 3, 3), 13, {"ignore_index": 255, "ignore_frac": 1.01}),
        ("mean/large-logits", (2, 4, 3, 3), 13, {"scale": 30.0}),
    ]
    for name, shape, opset, kw in spec:
        out.append(make_case(rng, "dice", f"dice/{name}", shape, opset, **kw))
    return out


def tversky_cases(rng):
    out = []
    spec = [
        ("mean/NCHW", (2, 4, 5, 5), 11, {}),
        ("mean/NCHW/focal", (2, 4, 5, 5), 12, {"gamma": 0.75}),
        ("mean/fn-heavy", (2, 3, 4, 4), 13, {"alpha": 0.3, "tversky_beta": 0.7}),
        ("sum/focal", (2, 3, 4, 4), 14, {"reduction": "sum", "gamma": 4 / 3}),
        ("none/NCHW", (2, 5, 3, 3), 15, {"reduction": "none", "alpha": 0.7, "tversky_beta": 0.3}),
        ("mean/weighted/focal", (2, 5, 4, 4), 16, {"weighted": True, "gamma": 2.0}),
        ("sum/weighted", (2, 5, 3, 3), 17, {"weighted": True, "reduction": "sum"}),
        ("none/weighted", (2, 4, 3, 3), 18, {"weighted": True, "reduction": "none"}),
        ("mean/ignore/smooth", (2, 4, 5, 5), 19, {"ignore_index": 255, "ignore_frac": 0.3, "smooth": 1.0}),
        ("mean/weighted/ignore/focal", (2, 4, 4, 4), 20, {"weighted": True, "ignore_index": -100, "ignore_frac": 0.3, "gamma": 0.75}),
        ("mean/absent-classes", (2, 6, 4, 4), 21, {"classes": [1, 2, 4], "alpha": 0.4, "tversky_beta": 0.6}),
        ("mean/2d", (16, 4), 22, {}),
        ("mean/class-last/focal", (2, 4, 4, 3), 23, {"class_axis": -1, "gamma": 4 / 3}),
        ("none/class-last/ignore/focal", (2, 9, 5), 13, {"class_axis": -1, "reduction": "none", "ignore_index": -1, "ignore_frac": 0.2, "gamma": 0.75}),
        ("mean/multi-hot", (2, 3, 4, 4), 13, {"multi_hot": True, "alpha": 0.3, "tversky_beta": 0.7}),
        ("sum/multi-hot/soft/weighted/focal", (2, 3, 4, 4), 17, {"multi_hot": True, "soft_targets": True, "weighted": True, "reduction": "sum", "gamma": 0.75}),
        ("mean/all-ignored/focal", (2, 3, 3, 3), 13, {"ignore_index": 255, "ignore_frac": 1.01, "gamma": 0.75}),
        ("mean/large-logits", (2, 4, 3, 3), 13, {"scale": 30.0, "gamma": 2.0}),
    ]
    for name, shape, opset, kw in spec:
        kw.setdefault("alpha", 0.5)
        kw.setdefault("tversky_beta", 0.5)
        kw.setdefault("gamma", 1.0)
        out.append(make_case(rng, "tversky", f"tversky/{name}", shape, opset, **kw))
    return out


def asl_cases(rng):
    out = []
    spec = [
        ("sum/multi-hot", (8, 5), 11, {"multi_hot": True, "reduction": "sum"}),
        ("mean/multi-hot", (8, 5), 12, {"multi_hot": True}),
        ("none/multi-hot", (6, 4), 13, {"multi_hot": True, "reduction": "none"}),
        ("sum/multi-hot/soft", (6, 4), 14, {"multi_hot": True, "soft_targets": True, "reduction": "sum"}),
        ("sum/multi-hot/weighted", (8, 5), 15, {"multi_hot": True, "weighted": True, "reduction": "sum"}),
        ("mean/multi-hot/no-clip", (8, 5), 16, {"multi_hot": True, "clip": 0.0}),
        ("sum/multi-hot/gammas", (8, 5), 17, {"multi_hot": True, "reduction": "sum", "gamma_pos": 0.0, "gamma_neg": 2.0, "clip": 0.1}),
        ("sum/multi-hot/sub-one-gammas", (8, 5), 18, {"multi_hot": True, "reduction": "sum", "gamma_pos": 0.5, "gamma_neg": 0.75}),
        ("sum/multi-hot/detached", (8, 5), 19, {"multi_hot": True, "reduction": "sum", "detach_focusing": True}),
        ("mean/multi-hot/class-last", (2, 6, 4), 20, {"multi_hot": True, "class_axis": -1}),
        ("none/multi-hot/class-last", (2, 3, 4), 21, {"multi_hot": True, "class_axis": -1, "reduction": "none"}),
        ("mean/multi-hot/NCHW", (2, 3, 3, 3), 22, {"multi_hot": True}),
        ("sum/index", (10, 4), 23, {"reduction": "sum"}),
        ("mean/index/ignore/weighted", (10, 4), 13, {"ignore_index": -100, "ignore_frac": 0.3, "weighted": True}),
        ("none/index/NCL/ignore", (2, 3, 5), 17, {"reduction": "none", "ignore_index": 255, "ignore_frac": 0.3}),
        ("sum/index/background", (12, 4), 13, {"reduction": "sum", "background_label": -1}),
        ("mean/index/all-ignored", (4, 3), 13, {"ignore_index": 7, "ignore_frac": 1.01}),
        ("sum/multi-hot/large-logits", (6, 4), 13, {"multi_hot": True, "reduction": "sum", "scale": 30.0}),
    ]
    for name, shape, opset, kw in spec:
        kw.setdefault("gamma_pos", 1.0)
        kw.setdefault("gamma_neg", 4.0)
        kw.setdefault("clip", 0.05)
        out.append(make_case(rng, "asl", f"asl/{name}", shape, opset, **kw))
    return out


def seesaw_cases(rng):
    out = []
    spec = [
        ("mean/C5", (10, 5), 11, {}),
        ("sum/C5", (10, 5), 12, {"reduction": "sum"}),
        ("none/C5", (10, 5), 13, {"reduction": "none"}),
        ("mean/long-tail", (16, 6), 14, {"counts": [5000, 1200, 300, 40, 8, 1]}),
        ("mean/mitigation-only", (12, 5), 15, {"seesaw_q": 0.0}),
        ("mean/compensation-only", (12, 5), 16, {"seesaw_p": 0.0}),
        ("mean/p-q", (12, 5), 17, {"seesaw_p": 0.5, "seesaw_q": 1.5}),
        ("mean/ignore", (12, 4), 18, {"ignore_index": -100, "ignore_frac": 0.3}),
        ("none/ignore", (9, 4), 19, {"reduction": "none", "ignore_index": 255, "ignore_frac": 0.3}),
        ("mean/NCHW", (2, 4, 3, 3), 20, {}),
        ("sum/NCL/ignore", (2, 3, 6), 21, {"reduction": "sum", "class_axis": 1, "ignore_index": -1, "ignore_frac": 0.2}),
        ("mean/class-last", (2, 7, 5), 22, {"class_axis": -1}),
        ("none/class-last", (2, 4, 3), 23, {"class_axis": -1, "reduction": "none"}),
        ("mean/zero-count", (12, 5), 13, {"zero_count": 3}),
        ("mean/all-ignored", (5, 3), 13, {"ignore_index": 7, "ignore_frac": 1.01}),
        ("mean/large-logits", (8, 4), 13, {"scale": 30.0}),
    ]
    for name, shape, opset, kw in spec:
        kw.setdefault("seesaw_p", 0.8)
        kw.setdefault("seesaw_q", 2.0)
        out.append(make_case(rng, "seesaw", f"seesaw/{name}", shape, opset, **kw))
    return out


def generalized_dice_cases(rng):
    out = []
    spec = [
        ("mean/NCHW", (3, 4, 5, 5), 11, {}),
        ("sum/NCHW", (3, 4, 4, 4), 12, {"reduction": "sum"}),
        ("none/NCHW", (3, 4, 4, 4), 13, {"reduction": "none"}),
        ("mean/absent-classes", (3, 6, 4, 4), 14, {"classes": [0, 2, 3]}),
        ("mean/baked-weights", (3, 5, 4, 4), 15, {"weighted": True}),
        ("sum/baked-weights", (2, 5, 3, 3), 16, {"weighted": True, "reduction": "sum"}),
        ("none/baked-weights/ignore", (2, 4, 4, 4), 17, {"weighted": True, "reduction": "none", "ignore_index": 255, "ignore_frac": 0.3}),
        ("mean/ignore", (3, 4, 5, 5), 18, {"ignore_index": -100, "ignore_frac": 0.3}),
        ("mean/NCL", (4, 3, 9), 19, {"class_axis": 1}),
        ("mean/NCDHW", (2, 3, 3, 3, 3), 20, {}),
        ("mean/class-last", (3, 5, 5, 4), 21, {"class_axis": -1}),
        ("none/class-last/ignore", (3, 9, 5), 22, {"class_axis": -1, "reduction": "none", "ignore_index": -1, "ignore_frac": 0.2}),
        ("mean/2d", (16, 4), 23, {}),
        ("mean/multi-hot", (3, 3, 4, 4), 13, {"multi_hot": True}),
        ("sum/multi-hot/soft", (3, 3, 4, 4), 17, {"multi_hot": True, "soft_targets": True, "reduction": "sum"}),
        ("mean/multi-hot/class-last/weighted", (3, 6, 4), 18, {"multi_hot": True, "class_axis": -1, "weighted": True}),
        ("mean/all-ignored", (2, 3, 3, 3), 13, {"ignore_index": 255, "ignore_frac": 1.01}),
        ("mean/large-logits", (2, 4, 3, 3), 13, {"scale": 30.0}),
    ]
    for name, shape, opset, kw in spec:
        out.append(make_case(rng, "generalized_dice", f"generalized_dice/{name}", shape, opset, **kw))
    return out


def lovasz_softmax_cases(rng):
    out = []
    spec = [
        ("mean/NCHW", (2, 4, 5, 5), 11, {}),
        ("mean/NCHW/opset12", (2, 3, 4, 4), 12, {}),
        ("sum/NCHW", (2, 3, 4, 4), 13, {"reduction": "sum"}),
        ("none/NCHW", (2, 4, 4, 4), 14, {"reduction": "none"}),
        ("mean/weighted", (2, 5, 4, 4), 15, {"weighted": True}),
        ("sum/weighted", (2, 5, 3, 3), 16, {"weighted": True, "reduction": "sum"}),
        ("none/weighted", (2, 5, 3, 3), 17, {"weighted": True, "reduction": "none"}),
        ("mean/ignore", (2, 4, 5, 5), 18, {"ignore_index": 255, "ignore_frac": 0.3}),
        ("mean/weighted/ignore", (2, 4, 4, 4), 19, {"weighted": True, "ignore_index": -100, "ignore_frac": 0.3}),
        ("mean/absent-classes", (2, 6, 4, 4), 20, {"classes": [0, 2, 3]}),
        ("mean/weighted/absent-classes", (2, 6, 3, 3), 21, {"classes": [1, 4, 5], "weighted": True}),
        ("mean/2d", (16, 4), 22, {}),
        # no rank-3 (N, C, L) case: smp's _flatten_probas reads any 3-D
        # input as binary (N, H, W) sigmoid output
        ("mean/NCDHW", (2, 3, 3, 3, 3), 23, {}),
        ("mean/class-last", (2, 4, 4, 3), 17, {"class_axis": -1}),
        ("none/class-last/ignore", (2, 3, 4, 5), 13, {"class_axis": -1, "reduction": "none", "ignore_index": -1, "ignore_frac": 0.2}),
        ("mean/all-ignored", (2, 3, 3, 3), 13, {"ignore_index": 255, "ignore_frac": 1.01}),
        ("mean/large-logits", (2, 4, 3, 3), 13, {"scale": 30.0}),
    ]
    for name, shape, opset, kw in spec:
        out.append(make_case(rng, "lovasz_softmax", f"lovasz_softmax/{name}", shape, opset, **kw))
    return out


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "testdata/goldens/catalogue.json"
    torch.set_default_dtype(F64)
    cases = []
    cases += poly1_cases(np.random.default_rng(1501))
    cases += dice_cases(np.random.default_rng(1502))
    cases += tversky_cases(np.random.default_rng(1503))
    cases += asl_cases(np.random.default_rng(1504))
    cases += seesaw_cases(np.random.default_rng(1505))
    cases += generalized_dice_cases(np.random.default_rng(1506))
    cases += lovasz_softmax_cases(np.random.default_rng(1507))
    with open(out, "w") as f:
        f.write('{\n"cases": [\n')
        f.write(",\n".join(json.dumps(c, sort_keys=True) for c in cases))
        f.write("\n]\n}\n")


if __name__ == "__main__":
    main()
