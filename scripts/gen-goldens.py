#!/usr/bin/python3
"""Regenerate testdata/goldens/losses.json: golden values of every loss of the
onnxloss catalogue, computed in float64 by PyTorch.

Run with Debian's Python, which has torch 1.13.1 and torchvision 0.14.1
(apt-get install -y python3-torch python3-torchvision):

    /usr/bin/python3 scripts/gen-goldens.py

The output is deterministic (fixed seeds, sorted keys). Nothing here uses the
Go code: class weights are computed from the counts in Python (the effective
number of samples in exact decimal arithmetic), weighted_ce is
torch.nn.functional.cross_entropy, sigmoid_focal is
torchvision.ops.sigmoid_focal_loss, and focal / cb_softmax / cb_sigmoid /
cb_focal are torch re-implementations written from the papers (Lin et al.
2017 eq. 5 in softmax form; Cui et al. 2019 and their reference code).
logit_adjusted (Menon et al. 2021, eq. 10: CE(x + tau*log(prior))) and
balanced_softmax (Ren et al. 2020: CE(x + log n), as their
balanced_softmax_loss) are F.cross_entropy of shifted logits; ldam is the
authors' LDAMLoss (Cao et al. 2019, github.com/kaidic/LDAM-DRW, copied below
with .cuda() removed and float64 margins), generalised to ignore_index, N-D
logits and the other reductions, and checked against the verbatim class on
every case the class itself can run (2-D, no ignore_index, mean).

Logits are drawn at random with fixed seeds, rounded to the case's
logits_dtype, and the expected values are computed in float64 from the
rounded values, so a consumer can feed them in that dtype exactly.

Case format (one object per case, in "cases"):
  name, loss, opset, counts, classes (null or names), zero_counts
  ("error"|"skip"), weighting, normalize, beta, gamma, alpha, reduction,
  ignore_index (null|int), label_smoothing, targets ("index"|"multi-hot"),
  logits_dtype, labels_dtype, logits {shape, data}, labels {shape, data},
  weights (null when weighting is "none": no class weights), expected
  {shape, data} ([] and one value for mean/sum), note (optional);
  the count-derived losses also have tau (logit_adjusted), max_margin and
  scale (ldam). With zero_counts "skip" a class of count 0 is left out of
  them: offset -inf (or margin 0), its positions count as ignored.
"labels" holds what is fed to the graph's labels input: integer class ids
(index targets, labels_dtype int64|int32) or, for targets "multi-hot", the
float targets of the logits' shape (labels_dtype float32).
"""

import json
import math
import os
import sys
from decimal import Decimal, getcontext

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision.ops import sigmoid_focal_loss

F64 = torch.float64
DTYPES = {
    "float64": torch.float64,
    "float32": torch.float32,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
}
OPSETS = [11, 13, 17, 18, 21]
DEFAULT_WEIGHTING = {
    "weighted_ce": "inverse",
    "focal": "inverse",
    "sigmoid_focal": "none",
    "cb_softmax": "effective",
    "cb_sigmoid": "effective",
    "cb_focal": "effective",
    "logit_adjusted": "none",
    "balanced_softmax": "none",
    "ldam": "none",
}
ADJUSTED = ("logit_adjusted", "balanced_softmax", "ldam")

getcontext().prec = 80


# ---------------------------------------------------------------- weights


def effective_weight(n, beta):
    """(1 - beta) / (1 - beta**n) in exact-ish decimal arithmetic."""
    if beta == 0:
        return 1.0
    b = Decimal(beta)  # the exact binary value of beta
    nd = Decimal(n) if float(n).is_integer() else Decimal(float(n))
    if nd == nd.to_integral_value():
        bn = b ** int(nd)
    else:
        bn = (nd * b.ln()).exp()
    return float((1 - b) / (1 - bn))


def class_weights(counts, weighting, beta, normalize, zero_counts):
    """Class weights from counts, per the DESIGN table; None for 'none'."""
    if weighting == "none":
        return None
    raw = []
    for n in counts:
        if n == 0:
            assert zero_counts == "skip", "zero count needs zero_counts skip"
            raw.append(None)
        elif weighting == "inverse":
            raw.append(1.0 / n)
        elif weighting == "sqrt_inverse":
            raw.append(1.0 / math.sqrt(n))
        elif weighting == "effective":
            raw.append(effective_weight(n, beta))
        else:
            raise ValueError(weighting)
    kept = [w for w in raw if w is not None]
    if normalize:
        s = math.fsum(kept)
        raw = [None if w is None else w * len(kept) / s for w in raw]
    return [0.0 if w is None else w for w in raw]


# ---------------------------------------------------------------- losses


def softplus(x):
    """Stable softplus: max(x, 0) + log1p(exp(-|x|))."""
    return torch.clamp(x, min=0) + torch.log1p(torch.exp(-x.abs()))


def class_view(w, ndim):
    """Weights of shape (C,) viewed to broadcast along axis 1 of an ndim tensor."""
    return w.view([1, -1] + [1] * (ndim - 2))


def one_hot_axis1(y, C):
    return F.one_hot(y, C).movedim(-1, 1).to(F64)


def reduce_positions(l, valid, reduction, count):
    """l: per-position (or per-element) loss, already 0 outside V."""
    if reduction == "none":
        return l
    if reduction == "sum":
        return l.sum()
    if count == 0:
        return torch.zeros((), dtype=F64)  # documented: 0, not NaN
    return l.sum() / count


def compute(case, x, y, t, w):
    """Expected loss for one case in float64. Returns (tensor, note)."""
    loss = case["loss"]
    red = case["reduction"]
    gamma, alpha = case["gamma"], case["alpha"]
    ii = case["ignore_index"]
    C = x.shape[1]
    note = None
    wt = None if w is None else torch.tensor(w, dtype=F64)

    if case["targets"] == "multi-hot":
        valid = torch.ones(x.shape[:1] + x.shape[2:], dtype=torch.bool)
        t1 = t
        wy = None
    else:
        valid = (y != ii) if ii is not None else torch.ones_like(y, dtype=torch.bool)
        y_safe = torch.where(valid, y, torch.zeros_like(y))
        t1 = one_hot_axis1(y_safe, C)
        w_or_1 = wt if wt is not None else torch.ones(C, dtype=F64)
        wy = w_or_1[y_safe]
    nvalid = int(valid.sum())

    if loss == "weighted_ce":
        out = F.cross_entropy(
            x, y, weight=wt,
            ignore_index=ii if ii is not None else -100,
            reduction=red, label_smoothing=case["label_smoothing"])
        if red == "mean" and torch.isnan(out):
            note = ("torch returns nan here (0/0: every position ignored); "
                    "onnxloss documents and returns 0 instead")
            out = torch.zeros((), dtype=F64)
        return out, note

    if loss in ("focal", "cb_softmax"):
        logp = F.log_softmax(x, dim=1)
        lp = logp.gather(1, y_safe.unsqueeze(1)).squeeze(1)
        if loss == "focal":
            # Lin et al. eq. 5, softmax form, alpha_t = w_y; 1 - p as -expm1(log p)
            l = -wy * (-torch.expm1(lp)) ** gamma * lp
        else:
            # Cui et al.: softmax CE weighted by the class-balanced weight of y
            l = -wy * lp
        l = torch.where(valid, l, torch.zeros_like(l))
        return reduce_positions(l, valid, red, nvalid), note

    if loss in ("cb_sigmoid", "cb_focal"):
        bce = F.binary_cross_entropy_with_logits(x, t1, reduction="none")
        if loss == "cb_focal":
            # Cui et al. reference: exp(-gamma*labels*logits - gamma*log1p(exp(-logits))),
            # with log1p(exp(-x)) in its stable softplus(-x) form
            bce = torch.exp(-gamma * (t1 * x + softplus(-x))) * bce
        if case["targets"] == "multi-hot":
            if wt is not None:
                bce = bce * class_view(wt, x.dim())
            l = bce.sum(1)
        else:
            l = wy * bce.sum(1)
        l = torch.where(valid, l, torch.zeros_like(l))
        return reduce_positions(l, valid, red, nvalid), note

    if loss in ADJUSTED:
        return adjusted_loss(case, x, y, wt), note

    if loss == "sigmoid_focal":
        if wt is None and ii is None:
            return sigmoid_focal_loss(x, t1, alpha=alpha, gamma=gamma, reduction=red), note
        l = sigmoid_focal_loss(x, t1, alpha=alpha, gamma=gamma, reduction="none")
        if wt is not None:
            l = l * class_view(wt, x.dim())
        l = torch.where(valid.unsqueeze(1), l, torch.zeros_like(l))
        return reduce_positions(l, valid, red, nvalid * C), note

    raise ValueError(loss)


class LDAMLoss(nn.Module):
    """The authors' LDAMLoss (github.com/kaidic/LDAM-DRW, losses.py), verbatim
    but for the device: torch.cuda.FloatTensor -> float64 CPU tensors, and the
    uint8 index as bool (torch.where needs a bool condition)."""

    def __init__(self, cls_num_list, max_m=0.5, weight=None, s=30):
        super(LDAMLoss, self).__init__()
        m_list = 1.0 / np.sqrt(np.sqrt(cls_num_list))
        m_list = m_list * (max_m / np.max(m_list))
        m_list = torch.tensor(m_list, dtype=F64)
        self.m_list = m_list
        assert s > 0
        self.s = s
        self.weight = weight

    def forward(self, x, target):
        index = torch.zeros_like(x, dtype=torch.bool)
        index.scatter_(1, target.data.view(-1, 1), 1)
        index_float = index.type(F64)
        batch_m = torch.matmul(self.m_list[None, :], index_float.transpose(0, 1))
        batch_m = batch_m.view((-1, 1))
        x_m = x - batch_m
        output = torch.where(index, x_m, x)
        return F.cross_entropy(self.s * output, target, weight=self.weight)


def ldam_margins(counts, max_m):
    """The authors' margins; a class of count 0 (zero_counts skip) gets 0 and
    takes no part in the maximum."""
    n = np.array(counts, dtype=np.float64)
    m = np.zeros_like(n)
    nz = n > 0
    m[nz] = 1.0 / np.sqrt(np.sqrt(n[nz]))
    m = m * (max_m / np.max(m))
    return torch.tensor(m, dtype=F64)


def adjusted_loss(case, x, y, wt):
    """logit_adjusted, balanced_softmax and ldam (index labels)."""
    loss, red = case["loss"], case["reduction"]
    C = x.shape[1]
    n = torch.tensor(case["counts"], dtype=F64)
    skip = n == 0
    if skip.any():
        assert case["zero_counts"] == "skip"
    ii = case["ignore_index"] if case["ignore_index"] is not None else -100
    # positions labelled with a skipped class count as ignored
    y_safe = torch.where(y == ii, torch.zeros_like(y), y)
    y_eff = torch.where((y != ii) & skip[y_safe], torch.full_like(y, ii), y)
    if loss == "logit_adjusted":
        # Menon et al. 2021, eq. (10): logits + tau * log(prior), prior = n / sum(n)
        prior = n / n.sum()
        off = torch.where(skip, torch.full_like(n, -math.inf), case["tau"] * torch.log(prior))
        z = x + class_view(off, x.dim())
    elif loss == "balanced_softmax":
        # Ren et al. 2020: logits + log(sample_per_class) (log 0 = -inf for skipped classes)
        z = x + class_view(torch.log(n), x.dim())
    else:
        s, max_m = case["scale"], case["max_margin"]
        plain = x.dim() == 2 and case["ignore_index"] is None and not skip.any()
        if plain and red == "mean":
            out = LDAMLoss(case["counts"], max_m=max_m, weight=wt, s=s)(x, y)
            return out
        m_list = ldam_margins(case["counts"], max_m)
        ys = torch.where(y_eff == ii, torch.zeros_like(y_eff), y_eff)
        index = one_hot_axis1(ys, C).bool()
        batch_m = (class_view(m_list, x.dim()) * index).sum(1, keepdim=True)
        output = torch.where(index, x - batch_m, x)
        z = s * output
        if plain:  # same margins and output as the verbatim class
            ref = LDAMLoss(case["counts"], max_m=max_m, weight=wt, s=s)(x, y)
            got = F.cross_entropy(z, y, weight=wt)
            assert torch.allclose(ref, got, rtol=1e-14, atol=0), (case["name"], ref, got)
    out = F.cross_entropy(z, y_eff, weight=wt, ignore_index=ii, reduction=red)
    if red == "mean" and torch.isnan(out):
        out = torch.zeros((), dtype=F64)  # all ignored: 0, as for weighted_ce
    return out


# ---------------------------------------------------------------- cases


def longtail(C, nmax, imbalance):
    """Counts falling geometrically from nmax to nmax*imbalance."""
    if C == 1:
        return [nmax]
    return [max(1, int(round(nmax * imbalance ** (c / (C - 1))))) for c in range(C)]


CASES = []


def case(name, loss, **kw):
    CASES.append(dict(name=name, loss=loss, **kw))


def make(spec, index):
    """Turn a case spec into the JSON object."""
    loss = spec["loss"]
    C = spec.get("C", 3)
    N = spec.get("N", 6)
    spatial = list(spec.get("spatial", []))
    shape = [N, C] + spatial
    pos_shape = [N] + spatial
    seed = 1000 + index
    g = torch.Generator().manual_seed(seed)
    counts = spec.get("counts") or longtail(C, spec.get("nmax", 1000), spec.get("imbalance", 0.02))
    assert len(counts) == C
    weighting = spec.get("weighting", DEFAULT_WEIGHTING[loss])
    c = {
        "name": spec["name"],
        "loss": loss,
        "counts": counts,
        "classes": spec.get("classes"),
        "zero_counts": spec.get("zero_counts", "error"),
        "weighting": weighting,
        "normalize": spec.get("normalize", True),
        "beta": spec.get("beta", 0.9999),
        "gamma": spec.get("gamma", 2.0),
        "alpha": spec.get("alpha", 0.25),
        "reduction": spec.get("reduction", "mean"),
        "ignore_index": spec.get("ignore_index"),
        "label_smoothing": spec.get("label_smoothing", 0.0),
        "targets": spec.get("targets", "index"),
        "logits_dtype": spec.get("logits_dtype", "float32"),
    }
    if c["targets"] == "multi-hot":
        c["labels_dtype"] = "float32"
    else:
        c["labels_dtype"] = spec.get("labels_dtype", "int64")
    if loss == "logit_adjusted":
        c["tau"] = spec.get("tau", 1.0)
    if loss == "ldam":
        c["max_margin"] = spec.get("max_margin", 0.5)
        c["scale"] = spec.get("s", 30.0)
    opsets = OPSETS if c["logits_dtype"] != "bfloat16" else OPSETS[1:]
    c["opset"] = spec.get("opset", opsets[index % len(opsets)])
    if c["logits_dtype"] == "bfloat16":
        assert c["opset"] >= 13, "bfloat16 Cast needs opset >= 13"

    # logits: N(0, scale^2), or an extreme pattern, rounded to the dtype
    scale = spec.get("scale", 2.0)
    kind = spec.get("logits", "normal")
    x = torch.randn(shape, generator=g, dtype=F64) * scale
    if kind.startswith("extreme"):
        mag = float(kind.split(":")[1])
        sign = torch.where(torch.rand(shape, generator=g, dtype=F64) < 0.5, -1.0, 1.0)
        pick = torch.rand(shape, generator=g, dtype=F64) < 0.6
        x = torch.where(pick, sign * mag, x)
    elif kind.startswith("equal"):
        x = torch.full(shape, float(kind.split(":")[1]), dtype=F64)
    elif kind == "cosine":  # normalised-feature logits in [-1, 1], as LDAM's NormedLinear
        x = torch.rand(shape, generator=g, dtype=F64) * 2 - 1
    x = x.to(DTYPES[c["logits_dtype"]]).to(F64)
    assert x.abs().max() > 0

    y = t = None
    if c["targets"] == "multi-hot":
        if spec.get("soft"):
            t = torch.rand(shape, generator=g, dtype=F64).to(torch.float32).to(F64)
        else:
            t = (torch.rand(shape, generator=g, dtype=F64) < 0.3).to(F64)
        c["labels"] = {"shape": shape, "data": t.flatten().tolist()}
    else:
        y = torch.randint(0, C, pos_shape, generator=g, dtype=torch.int64)
        ii = c["ignore_index"]
        frac = spec.get("ignore_frac", 0.0)
        if frac >= 1:
            y = torch.full(pos_shape, ii, dtype=torch.int64)
        elif frac > 0:
            m = torch.rand(pos_shape, generator=g, dtype=F64) < frac
            m.view(-1)[0] = True  # at least one ignored
            m.view(-1)[-1] = False  # at least one kept
            y = torch.where(m, torch.full_like(y, ii), y)
        if spec.get("avoid_zero_weight"):
            # never label a class of weight 0 (weighted_ce's mean would be 0/0)
            zero = [k for k, n in enumerate(counts) if n == 0]
            for z in zero:
                y = torch.where(y == z, torch.full_like(y, (z + 1) % C), y)
        c["labels"] = {"shape": pos_shape, "data": y.flatten().tolist()}

    w = class_weights(counts, weighting, c["beta"], c["normalize"], c["zero_counts"])
    c["weights"] = w
    c["logits"] = {"shape": shape, "data": x.flatten().tolist()}
    out, note = compute(c, x, y, t, w)
    out = out.to(F64)
    assert torch.isfinite(out).all(), (c["name"], out)
    c["expected"] = {"shape": list(out.shape), "data": out.flatten().tolist()}
    if note:
        c["note"] = note
    return c


LOSSES = ["weighted_ce", "focal", "sigmoid_focal", "cb_softmax", "cb_sigmoid", "cb_focal"]
REDS = ["mean", "sum", "none"]

# A: every loss x every reduction, defaults
for i, loss in enumerate(LOSSES):
    for j, red in enumerate(REDS):
        C = [2, 3, 5, 10][(i + j) % 4]
        case(f"{loss}/{red}/C{C}", loss, C=C, reduction=red, N=7)

# B: ignore_index
for red in REDS:
    case(f"weighted_ce/ignore-100/{red}", "weighted_ce", C=5, ignore_index=-100, ignore_frac=0.3, reduction=red, N=10)
case("focal/ignore255/NCHW/mean", "focal", C=3, spatial=[3, 4], N=2, ignore_index=255, ignore_frac=0.25)
case("cb_softmax/ignore-valid-class-0/sum", "cb_softmax", C=4, ignore_index=0, reduction="sum", N=12,
     counts=[900, 300, 60, 9])
case("cb_sigmoid/ignore-1/mean", "cb_sigmoid", C=3, ignore_index=-1, ignore_frac=0.4, N=10)
case("cb_focal/ignore255/none", "cb_focal", C=5, ignore_index=255, ignore_frac=0.3, reduction="none", N=8)
case("sigmoid_focal/ignore-100/mean", "sigmoid_focal", C=4, ignore_index=-100, ignore_frac=0.3, N=9)
case("sigmoid_focal/ignore-100/none/weighted", "sigmoid_focal", C=3, ignore_index=-100, ignore_frac=0.3,
     reduction="none", weighting="inverse", N=6)
case("weighted_ce/all-ignored/mean", "weighted_ce", C=3, ignore_index=-100, ignore_frac=1.0, N=4)
case("weighted_ce/all-ignored/sum", "weighted_ce", C=3, ignore_index=-100, ignore_frac=1.0, reduction="sum", N=4)
case("focal/all-ignored/mean", "focal", C=3, ignore_index=255, ignore_frac=1.0, N=4)
case("cb_focal/all-ignored/mean", "cb_focal", C=5, ignore_index=-1, ignore_frac=1.0, N=3)
case("sigmoid_focal/all-ignored/mean", "sigmoid_focal", C=2, ignore_index=-100, ignore_frac=1.0, N=3)
case("cb_softmax/all-ignored/none/NCL", "cb_softmax", C=3, ignore_index=255, ignore_frac=1.0, reduction="none",
     N=2, spatial=[4])
case("weighted_ce/all-ignored-smoothed/mean", "weighted_ce", C=3, ignore_index=-100, ignore_frac=1.0,
     label_smoothing=0.1, N=4)

# C: label smoothing
case("weighted_ce/ls0.1/weighted/mean", "weighted_ce", C=5, label_smoothing=0.1, N=10)
case("weighted_ce/ls0.1/unweighted/mean", "weighted_ce", C=5, label_smoothing=0.1, weighting="none", N=10)
case("weighted_ce/ls0.3/weighted/sum", "weighted_ce", C=3, label_smoothing=0.3, reduction="sum", N=8)
case("weighted_ce/ls0.3/unweighted/none", "weighted_ce", C=3, label_smoothing=0.3, reduction="none",
     weighting="none", N=8)
case("weighted_ce/ls0.1/ignore/weighted/mean", "weighted_ce", C=10, label_smoothing=0.1, ignore_index=-100,
     ignore_frac=0.3, N=12)
case("weighted_ce/ls0.3/ignore/unweighted/mean/NCHW", "weighted_ce", C=3, label_smoothing=0.3,
     ignore_index=255, ignore_frac=0.2, weighting="none", N=2, spatial=[3, 3])
case("weighted_ce/ls0.1/weighted/none/NCL", "weighted_ce", C=5, label_smoothing=0.1, reduction="none",
     N=2, spatial=[5], weighting="sqrt_inverse")

# D: N-D logits
for i, loss in enumerate(LOSSES):
    case(f"{loss}/NCHW/{REDS[i % 3]}", loss, C=[3, 5][i % 2], N=2, spatial=[3, 4], reduction=REDS[i % 3])
    case(f"{loss}/NCL/{REDS[(i + 1) % 3]}", loss, C=[2, 4][i % 2], N=3, spatial=[5], reduction=REDS[(i + 1) % 3])

# E: multi-hot targets
for i, loss in enumerate(["sigmoid_focal", "cb_sigmoid", "cb_focal"]):
    case(f"{loss}/multi-hot/mean", loss, C=5, targets="multi-hot", N=8)
    case(f"{loss}/multi-hot/none", loss, C=3, targets="multi-hot", reduction="none", N=5)
    case(f"{loss}/multi-hot/sum/NCHW", loss, C=4, targets="multi-hot", reduction="sum", N=2, spatial=[2, 3])
case("sigmoid_focal/multi-hot/weighted/mean", "sigmoid_focal", C=5, targets="multi-hot", weighting="inverse", N=6)
case("sigmoid_focal/multi-hot/soft/mean", "sigmoid_focal", C=4, targets="multi-hot", soft=True, N=6)
case("cb_focal/multi-hot/soft/none", "cb_focal", C=4, targets="multi-hot", soft=True, reduction="none", N=4)
case("cb_sigmoid/multi-hot/unweighted/mean", "cb_sigmoid", C=3, targets="multi-hot", weighting="none", N=6)

# F: weighting schemes, normalize on and off
for k, loss in enumerate(["weighted_ce", "focal", "cb_softmax"]):
    for j, wname in enumerate(["none", "inverse", "sqrt_inverse", "effective"]):
        for norm in ([True, False] if (j + k) % 2 == 0 else [False, True])[: 1 + (k == 0)]:
            case(f"{loss}/w-{wname}/norm-{str(norm).lower()}", loss, C=5, weighting=wname, normalize=norm,
                 beta=0.99, N=10, reduction=["mean", "sum"][j % 2])
case("cb_sigmoid/w-sqrt_inverse/norm-false/sum", "cb_sigmoid", C=4, weighting="sqrt_inverse", normalize=False,
     reduction="sum")
case("sigmoid_focal/w-effective/norm-true/mean", "sigmoid_focal", C=4, weighting="effective", beta=0.999)
case("weighted_ce/zero-count-skip/mean", "weighted_ce", C=4, counts=[500, 0, 40, 7], zero_counts="skip",
     avoid_zero_weight=True, N=10)
case("cb_focal/zero-count-skip/sum", "cb_focal", C=4, counts=[0, 800, 40, 7], zero_counts="skip",
     reduction="sum", N=10)
case("focal/named-classes/mean", "focal", C=3, counts=[500, 120, 7], classes=["cat", "dog", "eel"])

# G: beta, gamma, alpha sweeps
for beta in [0.0, 0.9, 0.99, 0.9999]:
    case(f"cb_focal/beta{beta}", "cb_focal", C=5, beta=beta, counts=[5000, 800, 120, 15, 2])
case("cb_softmax/beta0.9/norm-false/sum", "cb_softmax", C=3, beta=0.9, normalize=False, reduction="sum",
     counts=[3, 2, 1])
for gamma in [0.0, 0.5, 2.0, 5.0]:
    case(f"focal/gamma{gamma}", "focal", C=5, gamma=gamma, N=8, reduction="sum")
for gamma in [0.0, 0.5, 5.0]:
    case(f"cb_focal/gamma{gamma}", "cb_focal", C=3, gamma=gamma, N=8)
    case(f"sigmoid_focal/gamma{gamma}", "sigmoid_focal", C=3, gamma=gamma, N=8, reduction="sum")
for alpha in [0.25, 0.5, -1.0]:
    case(f"sigmoid_focal/alpha{alpha}", "sigmoid_focal", C=5, alpha=alpha, N=6)
case("sigmoid_focal/alpha-1/gamma0/multi-hot", "sigmoid_focal", C=3, alpha=-1.0, gamma=0.0, targets="multi-hot")

# H: many classes
case("weighted_ce/C100/mean", "weighted_ce", C=100, N=6, nmax=100000, imbalance=0.001)
case("cb_focal/C100/mean", "cb_focal", C=100, N=5, nmax=100000, imbalance=0.001)
case("sigmoid_focal/C100/sum", "sigmoid_focal", C=100, N=4, reduction="sum")
case("focal/C100/none", "focal", C=100, N=4, reduction="none", nmax=50000, imbalance=0.0005)

# I: dtypes and int32 labels
case("weighted_ce/float16/mean", "weighted_ce", C=5, logits_dtype="float16")
case("focal/float16/NCHW/none", "focal", C=3, logits_dtype="float16", N=2, spatial=[2, 2], reduction="none")
case("cb_sigmoid/float16/sum", "cb_sigmoid", C=4, logits_dtype="float16", reduction="sum")
case("sigmoid_focal/float16/multi-hot/mean", "sigmoid_focal", C=3, logits_dtype="float16", targets="multi-hot")
case("cb_softmax/bfloat16/mean", "cb_softmax", C=5, logits_dtype="bfloat16")
case("cb_focal/bfloat16/none", "cb_focal", C=3, logits_dtype="bfloat16", reduction="none")
case("weighted_ce/float64/int32/mean", "weighted_ce", C=10, logits_dtype="float64", labels_dtype="int32", N=12)
case("focal/float64/int32/ignore/sum", "focal", C=5, logits_dtype="float64", labels_dtype="int32",
     ignore_index=-100, ignore_frac=0.3, reduction="sum", N=10)
case("cb_focal/int32/NCHW/mean", "cb_focal", C=3, labels_dtype="int32", N=2, spatial=[3, 3])
case("sigmoid_focal/int32/none", "sigmoid_focal", C=3, labels_dtype="int32", reduction="none", N=4)
case("cb_softmax/float64/mean", "cb_softmax", C=10, logits_dtype="float64", N=12)

# J: extreme inputs
for i, loss in enumerate(LOSSES):
    case(f"{loss}/extreme1e4/{REDS[i % 3]}", loss, C=[3, 5][i % 2], logits="extreme:1e4", N=8,
         logits_dtype=["float64", "float32"][i % 2], reduction=REDS[i % 3])
for loss in ["weighted_ce", "cb_focal", "sigmoid_focal", "focal"]:
    case(f"{loss}/extreme88/mean", loss, C=4, logits="extreme:88", N=8)
case("cb_sigmoid/extreme1e4/multi-hot/sum", "cb_sigmoid", C=4, logits="extreme:1e4", targets="multi-hot",
     reduction="sum", logits_dtype="float64")
for loss in ["weighted_ce", "focal", "cb_focal"]:
    case(f"{loss}/all-equal-logits/mean", loss, C=5, logits="equal:1.5", N=6)
case("cb_softmax/counts1e9/mean", "cb_softmax", C=4, counts=[1000000000, 2000000, 5000, 3], beta=0.9999)
case("cb_focal/counts1e9/norm-false/sum", "cb_focal", C=3, counts=[1000000000, 100000, 1], beta=0.9999,
     normalize=False, reduction="sum")
case("weighted_ce/counts1e9/inverse/mean", "weighted_ce", C=3, counts=[1000000000, 31000, 2])
case("cb_softmax/beta-near-1/small-counts", "cb_softmax", C=3, counts=[3, 2, 1], beta=0.9999)


# K: the count-derived losses (logit_adjusted, balanced_softmax, ldam)
ADJ = list(ADJUSTED)
for i, loss in enumerate(ADJ):
    for j, red in enumerate(REDS):
        C = [3, 5, 10][(i + j) % 3]
        extra = {"logits": "cosine"} if loss == "ldam" else {}
        case(f"{loss}/{red}/C{C}", loss, C=C, reduction=red, N=8, **extra)
case("logit_adjusted/ignore-100/mean", "logit_adjusted", C=5, ignore_index=-100, ignore_frac=0.3, N=10)
case("balanced_softmax/ignore255/NCHW/sum", "balanced_softmax", C=4, ignore_index=255, ignore_frac=0.25,
     reduction="sum", N=2, spatial=[3, 4])
case("ldam/ignore-100/effective/mean", "ldam", C=5, ignore_index=-100, ignore_frac=0.3, weighting="effective",
     logits="cosine", N=10)
case("ldam/ignore-1/none", "ldam", C=3, ignore_index=-1, ignore_frac=0.3, reduction="none", logits="cosine", N=8)
case("logit_adjusted/NCHW/none", "logit_adjusted", C=3, N=2, spatial=[2, 3], reduction="none")
case("balanced_softmax/NCL/mean", "balanced_softmax", C=5, N=3, spatial=[4])
case("ldam/NCHW/mean", "ldam", C=4, N=2, spatial=[3, 3], logits="cosine")
case("ldam/NCL/inverse/sum", "ldam", C=3, N=3, spatial=[5], weighting="inverse", reduction="sum", logits="cosine")
for tau in [0.0, 0.5, 2.0, -1.0]:
    case(f"logit_adjusted/tau{tau}", "logit_adjusted", C=5, tau=tau, N=8, counts=[5000, 800, 120, 15, 2])
for max_m, s in [(0.1, 30.0), (1.0, 30.0), (0.5, 10.0), (0.3, 64.0), (0.5, 1.0)]:
    case(f"ldam/m{max_m}/s{s}", "ldam", C=5, max_margin=max_m, s=s, N=8, counts=[5000, 800, 120, 15, 2],
         logits="cosine" if s > 10 else "normal")
case("ldam/drw-effective/mean", "ldam", C=10, weighting="effective", beta=0.9999, logits="cosine", N=12,
     nmax=5000, imbalance=0.01)
case("ldam/sqrt_inverse/norm-false/mean", "ldam", C=5, weighting="sqrt_inverse", normalize=False,
     logits="cosine", N=8)
case("logit_adjusted/float64/mean", "logit_adjusted", C=5, logits_dtype="float64", N=8)
case("balanced_softmax/float16/none", "balanced_softmax", C=3, logits_dtype="float16", reduction="none")
case("ldam/float64/int32/sum", "ldam", C=5, logits_dtype="float64", labels_dtype="int32", reduction="sum",
     logits="cosine")
case("ldam/bfloat16/mean", "ldam", C=3, logits_dtype="bfloat16", logits="cosine", N=8)
case("balanced_softmax/int32/mean", "balanced_softmax", C=4, labels_dtype="int32")
case("logit_adjusted/all-ignored/mean", "logit_adjusted", C=3, ignore_index=-100, ignore_frac=1.0, N=4)
case("ldam/all-ignored/effective/mean", "ldam", C=3, ignore_index=255, ignore_frac=1.0, weighting="effective", N=4)
case("balanced_softmax/zero-count-skip/mean", "balanced_softmax", C=4, counts=[500, 0, 40, 7],
     zero_counts="skip", avoid_zero_weight=True, N=10)
case("logit_adjusted/zero-count-skip-labelled/mean", "logit_adjusted", C=4, counts=[0, 800, 40, 7],
     zero_counts="skip", N=12)
case("balanced_softmax/zero-count-skip-labelled/ignore/none", "balanced_softmax", C=3, counts=[300, 20, 0],
     zero_counts="skip", ignore_index=-100, ignore_frac=0.3, reduction="none", N=10)
case("ldam/zero-count-skip/effective/mean", "ldam", C=4, counts=[900, 0, 60, 9], zero_counts="skip",
     weighting="effective", logits="cosine", N=12)
case("ldam/zero-count-skip/unweighted/sum", "ldam", C=4, counts=[900, 60, 9, 0], zero_counts="skip",
     reduction="sum", logits="cosine", N=12)
case("logit_adjusted/C100/mean", "logit_adjusted", C=100, N=6, nmax=100000, imbalance=0.001)
case("balanced_softmax/C100/sum", "balanced_softmax", C=100, N=5, reduction="sum", nmax=100000, imbalance=0.001)
case("ldam/C100/mean", "ldam", C=100, N=6, nmax=100000, imbalance=0.001, logits="cosine")
case("logit_adjusted/extreme1e4/float64/sum", "logit_adjusted", C=4, logits="extreme:1e4", logits_dtype="float64",
     reduction="sum", N=8)
case("balanced_softmax/extreme88/mean", "balanced_softmax", C=4, logits="extreme:88", N=8)
case("ldam/extreme88/s1/mean", "ldam", C=4, logits="extreme:88", s=1.0, N=8)
case("balanced_softmax/counts1e9/mean", "balanced_softmax", C=4, counts=[1000000000, 2000000, 5000, 3])


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    # An optional argument writes elsewhere (the Go tests regenerate into a
    # temporary file and compare with the committed goldens).
    out_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "testdata", "goldens", "losses.json")
    torch.manual_seed(0)
    names = set()
    cases = []
    for i, spec in enumerate(CASES):
        assert spec["name"] not in names, spec["name"]
        names.add(spec["name"])
        cases.append(make(spec, i))
    doc = {
        "generator": "scripts/gen-goldens.py",
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "cases": cases,
    }
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    # One case per line: sorted keys, stable across runs, reviewable diffs.
    lines = ["{"]
    meta = [k for k in sorted(doc) if k != "cases"]
    lines.append('"cases": [')
    lines.append(",\n".join(json.dumps(c, sort_keys=True, allow_nan=False) for c in cases))
    lines.append("],")
    lines.append(",\n".join(f"{json.dumps(k)}: {json.dumps(doc[k])}" for k in meta))
    lines.append("}")
    with open(out_path, "w") as f:
        f.write("\n".join(lines) + "\n")
    json.load(open(out_path))  # sanity: valid JSON
    print(f"wrote {len(cases)} cases to {os.path.relpath(out_path, root)}", file=sys.stderr)


if __name__ == "__main__":
    main()
