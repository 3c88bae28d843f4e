#!/usr/bin/python3
"""Exports the real architectures the evaluator is checked on (issue 19).

Random initialisation with fixed seeds; BatchNorm statistics recalibrated on
a seeded batch (train-mode forward passes with a cumulative average), so the
activations have realistic scales; small inputs. Each model is written at
opsets 13 and 17 as CACHE/NAME_opsetK.onnx with CACHE/NAME_input.npy, the
seeded input it is verified on. Existing files are kept (delete the cache to
regenerate). Needs Debian's torch 1.13 / torchvision 0.14.

usage: export.py CACHE_DIR [NAME ...]   (no names: all of them)
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torchvision

OPSETS = (13, 17)


class SegOut(nn.Module):
    """Returns the 'out' entry of a torchvision segmentation model."""

    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, x):
        return self.m(x)["out"]


class TextClassifier(nn.Module):
    """Token embedding + positional embedding, two post-norm transformer
    encoder layers, mean pooling and a linear head."""

    def __init__(self, vocab=1000, seq=32, d=64, heads=4, ff=128, layers=2, classes=6):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(torch.randn(1, seq, d) * 0.02)
        layer = nn.TransformerEncoderLayer(d, heads, ff, dropout=0.0, batch_first=True, activation="gelu")
        self.enc = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(d, classes)

    def forward(self, tokens):
        h = self.tok(tokens) + self.pos
        h = self.enc(h)
        return self.head(h.mean(dim=1))


def image(shape):
    return lambda g: torch.randn(*shape, generator=g)


# name: (constructor, input maker)
MODELS = {
    "resnet18": (lambda: torchvision.models.resnet18(num_classes=10), image((2, 3, 64, 64))),
    "mobilenet_v3_small": (lambda: torchvision.models.mobilenet_v3_small(num_classes=10), image((2, 3, 64, 64))),
    "efficientnet_b0": (lambda: torchvision.models.efficientnet_b0(num_classes=10), image((2, 3, 64, 64))),
    "densenet121": (lambda: torchvision.models.densenet121(num_classes=10), image((2, 3, 64, 64))),
    "convnext_tiny": (lambda: torchvision.models.convnext_tiny(num_classes=10), image((2, 3, 64, 64))),
    "vit_small": (
        lambda: torchvision.models.VisionTransformer(
            image_size=32, patch_size=8, num_layers=4, num_heads=4, hidden_dim=64, mlp_dim=128, num_classes=10
        ),
        image((2, 3, 32, 32)),
    ),
    "swin_t": (lambda: torchvision.models.swin_t(num_classes=10), image((1, 3, 64, 64))),
    "lraspp_mobilenet_v3_large": (
        lambda: SegOut(torchvision.models.segmentation.lraspp_mobilenet_v3_large(num_classes=5, weights_backbone=None)),
        image((1, 3, 64, 64)),
    ),
    "deeplabv3_mobilenet_v3_large": (
        lambda: SegOut(
            torchvision.models.segmentation.deeplabv3_mobilenet_v3_large(num_classes=5, weights_backbone=None, aux_loss=False)
        ),
        image((1, 3, 64, 64)),
    ),
    "text_classifier": (TextClassifier, lambda g: torch.randint(0, 1000, (2, 32), generator=g)),
}


def recalibrate(model, make_input, seed):
    """Re-estimates BatchNorm running statistics on seeded batches."""
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the batches below
    model.train()
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for _ in range(4):
            x = make_input(g)
            if x.dtype.is_floating_point:
                x = torch.cat([x, torch.randn(x.shape, generator=g)])  # >1 sample per BN channel
            model(x)
    model.eval()


def export(name, cache):
    ctor, make_input = MODELS[name]
    paths = [os.path.join(cache, f"{name}_opset{k}.onnx") for k in OPSETS]
    in_path = os.path.join(cache, f"{name}_input.npy")
    if all(os.path.exists(p) for p in paths) and os.path.exists(in_path):
        return
    seed = sum(map(ord, name))
    torch.manual_seed(seed)
    model = ctor()
    # torchvision zero-initialises the ViT head: give it random weights so
    # the logits are not all zero.
    for mod in model.modules():
        if isinstance(mod, torchvision.models.vision_transformer.VisionTransformer):
            for p in mod.heads.parameters():
                nn.init.normal_(p, std=0.1)
    recalibrate(model, make_input, seed)
    model.eval()
    x = make_input(torch.Generator().manual_seed(seed))
    np.save(in_path, x.numpy())
    for k, p in zip(OPSETS, paths):
        tmp = p + ".tmp"
        torch.onnx.export(model, (x,), tmp, opset_version=k, input_names=["input"], output_names=["logits"],
                          do_constant_folding=True, dynamic_axes={})
        os.replace(tmp, p)
    print(f"exported {name}", file=sys.stderr)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cache = sys.argv[1]
    os.makedirs(cache, exist_ok=True)
    names = sys.argv[2:] or list(MODELS)
    for n in names:
        if n not in MODELS:
            sys.exit(f"unknown model {n!r}; known: {', '.join(MODELS)}")
    torch.set_num_threads(1)
    for n in names:
        export(n, cache)


if __name__ == "__main__":
    main()
