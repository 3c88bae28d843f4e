#!/usr/bin/python3
"""Export the real architectures onnxloss's class-axis tests run on.

Run with Debian's Python, which has torch 1.13, torchvision 0.14 and onnx 1.12:

    /usr/bin/python3 testdata/models/gen_axis_models.py            # the small, committed models
    /usr/bin/python3 testdata/models/gen_axis_models.py --large DIR # the large ones, at test time

Small models (each a few KB to a few hundred KB, committed beside this script):
  token_cls_o17.onnx      Embedding + TransformerEncoder + Linear: ids (N, T) -> logits (N, T, 7)
  det_head_o13.onnx       torchvision RetinaNetClassificationHead on two feature maps:
                          (N, 8, H1, W1), (N, 8, H2, W2) -> cls_logits (N, A, 5), A = 3*(H1*W1 + H2*W2)
  seq_conv1d_o13.onnx     Conv1d sequence labeller: (N, 4, L) -> logits (N, 6, L)
  seq_conv1d_static_o13.onnx  the same with L fixed to 6 = C: (N, 6, 6), whose class axis
                          cannot be told from the shape (inject must ask for --class-axis)
  segnet_nhwc_o13.onnx    a segmenter whose logits are channels-last: (N, 3, H, W) -> (N, H, W, 4)
  vit_tiny_o17.onnx       torchvision VisionTransformer (image 32, patch 8, 2 layers, hidden 32): (N, 10)
Large models (--large DIR; 6-45 MB, so generated when a test needs them, never committed):
  deeplabv3_mbv3_o13.onnx  torchvision deeplabv3_mobilenet_v3_large(num_classes=5, aux_loss=True):
                          image (N, 3, H, W) -> out (N, 5, H, W), aux (N, 5, H, W)
  mobilenet_v3_small_o13.onnx  torchvision mobilenet_v3_small(num_classes=10): (N, 10)

Every model is built under its own torch.manual_seed (random init, never all-zero);
BatchNorm statistics are recalibrated on a seeded batch (cumulative average over
train-mode forwards), so eval-mode logits are not near-constant. The TransformerEncoder
is exported with grad enabled (still in eval mode): torch 1.13's fast path, taken under
no_grad, cannot be exported. Each file is checked with onnx.checker (full_check=True).

Also writes axis_expected.json (or DIR/axis_expected.json): per model the seeded inputs,
the torch outputs, the true class axis and what inject's automatic choice must give
(that axis, or "ask" where it must ask for --class-axis),
seeded labels and torch losses on the true layout: F.cross_entropy of the logits with the
class axis moved to 1 (what a torch user writes for class-last logits: movedim/permute),
mean and sum, and torchvision.ops.sigmoid_focal_loss (mean) of their one-hot targets; for
the DeepLabV3 model also torchvision's segmentation-reference criterion (cross_entropy with
ignore_index=255 on "out" and "aux", losses["out"] + 0.5 * losses["aux"]).
"""

import json
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision.models.detection.retinanet import RetinaNetClassificationHead
from torchvision.ops import sigmoid_focal_loss

HERE = os.path.dirname(os.path.abspath(__file__))
F64 = torch.float64

TOKEN_VOCAB, TOKEN_C = 40, 7
DET_C, DET_ANCHORS, DET_CH = 5, 3, 8


class TokenClassifier(nn.Module):
    """What a Hugging Face token-classification export looks like: (N, T) ids -> (N, T, C)."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(TOKEN_VOCAB, 16)
        layer = nn.TransformerEncoderLayer(d_model=16, nhead=2, dim_feedforward=32, dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
        self.head = nn.Linear(16, TOKEN_C)

    def forward(self, ids):
        return self.head(self.encoder(self.emb(ids)))


class DetectionHead(nn.Module):
    """torchvision's RetinaNet classification head over two feature levels."""

    def __init__(self):
        super().__init__()
        self.head = RetinaNetClassificationHead(DET_CH, DET_ANCHORS, DET_C)
        # torchvision initializes the convs with std 0.01, which makes every
        # logit about the prior's -4.6; the default Conv2d init (seeded) gives
        # logits that vary, while the prior bias keeps them mostly negative.
        for m in self.head.conv.modules():
            if isinstance(m, nn.Conv2d):
                m.reset_parameters()
        nn.init.normal_(self.head.cls_logits.weight, std=2.0)

    def forward(self, p3, p4):
        return self.head([p3, p4])


class SeqConv1d(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv1d(4, 8, 3, padding=1)
        self.c2 = nn.Conv1d(8, 6, 1)

    def forward(self, x):
        return self.c2(F.relu(self.c1(x)))


class SegNetNHWC(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.c2 = nn.Conv2d(8, 4, 1)

    def forward(self, image):
        return self.c2(F.relu(self.c1(image))).permute(0, 2, 3, 1)


class Pair(nn.Module):
    """Returns a segmentation model's {"out", "aux"} dict as two outputs."""

    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, image):
        d = self.m(image)
        return d["out"], d["aux"]


def build(name):
    """The torch module of a model, deterministic: same seed, same weights."""
    torch.manual_seed({"token_cls": 11, "det_head": 12, "seq_conv1d": 13, "segnet_nhwc": 14, "vit_tiny": 15,
                       "deeplabv3_mbv3": 16, "mobilenet_v3_small": 17}[name])
    if name == "token_cls":
        m = TokenClassifier()
    elif name == "det_head":
        m = DetectionHead()
    elif name == "seq_conv1d":
        m = SeqConv1d()
    elif name == "segnet_nhwc":
        m = SegNetNHWC()
    elif name == "vit_tiny":
        m = torchvision.models.vision_transformer.VisionTransformer(
            image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=32, mlp_dim=64, num_classes=10)
        # torchvision zero-initializes the classification head: seeded normal
        # weights instead, so the logits depend on the image.
        nn.init.normal_(m.heads.head.weight, std=0.5)
    elif name == "deeplabv3_mbv3":
        m = Pair(torchvision.models.segmentation.deeplabv3_mobilenet_v3_large(
            weights=None, weights_backbone=None, num_classes=5, aux_loss=True))
    elif name == "mobilenet_v3_small":
        m = torchvision.models.mobilenet_v3_small(weights=None, num_classes=10)
        # torchvision draws the classifier's Linear weights with std 0.01,
        # which leaves the logits of a random network near-constant.
        for lin in m.classifier.modules():
            if isinstance(lin, nn.Linear):
                lin.reset_parameters()
        nn.init.normal_(m.classifier[-1].weight, std=0.3)
    else:
        raise ValueError(name)
    recalibrate_bn(m, name)
    return m.eval()


def recalibrate_bn(m, name):
    """Running statistics = the cumulative average over a seeded batch's
    train-mode forwards (Dropout off), so eval-mode activations are
    normalized like real data and the logits are not near-constant."""
    bns = [b for b in m.modules() if isinstance(b, nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return
    for b in bns:
        b.reset_running_stats()
        b.momentum = None
    m.train()
    for mod in m.modules():
        if isinstance(mod, nn.Dropout):
            mod.p = 0.0
    g = torch.Generator().manual_seed(99)
    with torch.no_grad():
        for _ in range(4):
            m(*example_inputs(name, g, 4))


def example_inputs(name, g, n=2, size=None):
    """Seeded inputs of a model; size picks the dynamic dims (T, H, W, ...)."""
    if name == "token_cls":
        T = size or 5
        return (torch.randint(0, TOKEN_VOCAB, (n, T), generator=g),)
    if name == "det_head":
        (h1, w1), (h2, w2) = size or ((4, 4), (2, 2))
        return (torch.randn(n, DET_CH, h1, w1, generator=g), torch.randn(n, DET_CH, h2, w2, generator=g))
    if name in ("seq_conv1d", "seq_conv1d_static"):
        return (torch.randn(n, 4, size or 6, generator=g),)
    if name == "segnet_nhwc":
        h, w = size or (5, 6)
        return (torch.randn(n, 3, h, w, generator=g),)
    if name in ("vit_tiny",):
        return (torch.randn(n, 3, 32, 32, generator=g),)
    if name == "deeplabv3_mbv3":
        h, w = size or (48, 64)
        return (torch.randn(n, 3, h, w, generator=g),)
    if name == "mobilenet_v3_small":
        return (torch.randn(n, 3, 64, 64, generator=g),)
    raise ValueError(name)


# file: module name, input names, output names, dynamic axes, opset, and per
# output (the true class axis, what inject's automatic rule must do: that axis
# or "ask" for --class-axis). torch declares the detection head's output as
# (N, A, <symbolic>): its last dim comes out of Shape/Reshape ops, so nothing
# in the file says which axis has the classes.
MODELS = {
    "token_cls_o17.onnx": ("token_cls", ["ids"], ["logits"], {"ids": {0: "N", 1: "T"}, "logits": {0: "N", 1: "T"}}, 17, [(2, 2)]),
    "det_head_o13.onnx": ("det_head", ["p3", "p4"], ["cls_logits"],
                          {"p3": {0: "N", 2: "H3", 3: "W3"}, "p4": {0: "N", 2: "H4", 3: "W4"}, "cls_logits": {0: "N", 1: "A"}}, 13, [(2, "ask")]),
    "seq_conv1d_o13.onnx": ("seq_conv1d", ["x"], ["logits"], {"x": {0: "N", 2: "L"}, "logits": {0: "N", 2: "L"}}, 13, [(1, 1)]),
    "seq_conv1d_static_o13.onnx": ("seq_conv1d", ["x"], ["logits"], {"x": {0: "N"}, "logits": {0: "N"}}, 13, [(1, "ask")]),
    "segnet_nhwc_o13.onnx": ("segnet_nhwc", ["image"], ["logits"],
                             {"image": {0: "N", 2: "H", 3: "W"}, "logits": {0: "N", 1: "H", 2: "W"}}, 13, [(3, 3)]),
    "vit_tiny_o17.onnx": ("vit_tiny", ["image"], ["logits"], {"image": {0: "N"}, "logits": {0: "N"}}, 17, [(1, 1)]),
}
LARGE = {
    "deeplabv3_mbv3_o13.onnx": ("deeplabv3_mbv3", ["image"], ["out", "aux"],
                                {"image": {0: "N", 2: "H", 3: "W"}, "out": {0: "N", 2: "H", 3: "W"}, "aux": {0: "N", 2: "H", 3: "W"}}, 13, [(1, 1), (1, 1)]),
    "mobilenet_v3_small_o13.onnx": ("mobilenet_v3_small", ["image"], ["logits"], {"image": {0: "N"}, "logits": {0: "N"}}, 13, [(1, 1)]),
}


def export(m, args, path, inputs, outputs, dyn, opset):
    # Grad enabled on purpose (see the module doc); eval mode.
    with torch.enable_grad():
        torch.onnx.export(m, args, path, input_names=inputs, output_names=outputs, dynamic_axes=dyn,
                          opset_version=opset, do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path), full_check=True)


def tensor_json(t):
    t = t.detach()
    if t.dtype in (torch.int64, torch.int32):
        return {"dtype": "int64", "shape": list(t.shape), "data": [int(v) for v in t.reshape(-1).tolist()]}
    return {"dtype": "float32", "shape": list(t.shape),
            "data": [float(np.float32(v)) for v in t.to(torch.float32).reshape(-1).tolist()]}


def reference_losses(logits, axis, g):
    """Seeded labels and torch's losses with the class axis moved to 1."""
    x = logits.detach().to(F64).movedim(axis, 1)
    C = x.shape[1]
    pos = x.shape[:1] + x.shape[2:]
    y = torch.randint(0, C, pos, generator=g)
    t = F.one_hot(y, C).movedim(-1, 1).to(F64)
    return {
        "labels": tensor_json(y),
        "ce_mean": float(F.cross_entropy(x, y)),
        "ce_sum": float(F.cross_entropy(x, y, reduction="sum")),
        "sigmoid_focal_mean": float(sigmoid_focal_loss(x, t, reduction="mean")),
        "C": C,
    }


def main():
    large = None
    if len(sys.argv) == 3 and sys.argv[1] == "--large":
        large = sys.argv[2]
    elif len(sys.argv) != 1:
        sys.exit("usage: gen_axis_models.py [--large DIR]")
    outdir = large or HERE
    table = LARGE if large else MODELS
    record = {"_about": "written by testdata/models/gen_axis_models.py; see its doc string"}
    for fname, (name, inputs, outputs, dyn, opset, axes) in table.items():
        m = build(name)
        g = torch.Generator().manual_seed(1234)
        key = "seq_conv1d_static" if "static" in fname else name
        args = example_inputs(key, g, 2)
        path = os.path.join(outdir, fname)
        export(m, args, path, inputs, outputs, dyn, opset)
        # Record at other dynamic sizes than the export's, where there are any.
        sizes = {"token_cls": 9, "det_head": ((3, 5), (2, 3)), "seq_conv1d": 7, "segnet_nhwc": (4, 3),
                 "deeplabv3_mbv3": (40, 56)}
        gi = torch.Generator().manual_seed(4321)
        rec_inputs = example_inputs(key, gi, 3, None if "static" in fname else sizes.get(name))
        with torch.no_grad():
            outs = m(*rec_inputs)
        if not isinstance(outs, tuple):
            outs = (outs,)
        gl = torch.Generator().manual_seed(5678)
        entry = {"inputs": {n: tensor_json(v) for n, v in zip(inputs, rec_inputs)},
                 "outputs": {n: tensor_json(v) for n, v in zip(outputs, outs)}, "class_axis": {}, "auto_axis": {}, "losses": {}}
        for n, v, (a, auto) in zip(outputs, outs, axes):
            entry["class_axis"][n], entry["auto_axis"][n] = a, auto
            entry["losses"][n] = reference_losses(v, a, gl)
            std = float(v.std())
            assert std > 0.1, (fname, n, "near-constant logits", std)
        if name == "deeplabv3_mbv3":
            # torchvision references/segmentation/train.py criterion, verbatim
            # but for the dict: cross_entropy(ignore_index=255) per output,
            # losses["out"] + 0.5 * losses["aux"].
            out, aux = (o.detach().to(F64) for o in outs)
            target = torch.randint(0, 5, out.shape[:1] + out.shape[2:], generator=gl)
            target[torch.rand(target.shape, generator=gl) < 0.2] = 255
            losses = {}
            for k, x in {"out": out, "aux": aux}.items():
                losses[k] = nn.functional.cross_entropy(x, target, ignore_index=255)
            entry["aux_recipe"] = {"target": tensor_json(target), "loss_out": float(losses["out"]),
                                   "loss_aux": float(losses["aux"]), "loss": float(losses["out"] + 0.5 * losses["aux"])}
        record[fname] = entry
        print(f"{fname}: {os.path.getsize(path)} bytes, opset {opset}, outputs "
              + ", ".join(f"{n} {list(v.shape)} (std {float(v.std()):.3g})" for n, v in zip(outputs, outs)))
    with open(os.path.join(outdir, "axis_expected.json"), "w") as f:
        json.dump(record, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
