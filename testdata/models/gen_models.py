#!/usr/bin/python3
"""Regenerate the small real test models in testdata/models/.

Run with Debian's Python, which has PyTorch 1.13 and onnx 1.12:

    /usr/bin/python3 testdata/models/gen_models.py

Writes, next to this script:
  *.onnx         the models (torch.onnx.export, default constant folding)
  expected.json  seeded random inputs and the outputs torch computed for them

Every model is built under its own torch.manual_seed, so the weights are random
(never all-zero) but reproducible; the inputs in expected.json come from their own
seeded generators. Then every file is checked with onnx.checker (full_check=True)
and a summary (size, opset, inputs, outputs, op types) is printed.
"""

import collections
import io
import json
import os
import sys

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))

# Fixed class weights of train_mlp_ce_o13.onnx (baked into the graph as an initializer).
CE_CLASS_WEIGHTS = [1.0, 2.0, 0.5, 3.0, 1.5]


# ---------------------------------------------------------------------------
# Modules


class MLP(nn.Module):
    def __init__(self, d_in, hidden, n_out):
        super().__init__()
        self.fc1 = nn.Linear(d_in, hidden)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(hidden, n_out)

    def forward(self, x):
        return self.fc2(self.relu(self.fc1(x)))


class SmallCNN(nn.Module):
    """Conv(1->4, 3x3) - ReLU - MaxPool(2) - Flatten - Linear, on [N,1,12,12]."""

    def __init__(self, n_out=10):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, kernel_size=3)
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(4 * 5 * 5, n_out)

    def forward(self, image):
        return self.fc(self.flatten(self.pool(self.relu(self.conv(image)))))


class SegNet(nn.Module):
    """Conv(3->8, 3x3, pad 1) - ReLU - Conv(8->4, 1x1): [N,3,H,W] -> [N,4,H,W]."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, kernel_size=3, padding=1)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(8, 4, kernel_size=1)

    def forward(self, image):
        return self.conv2(self.relu(self.conv1(image)))


class SoftmaxClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.mlp = MLP(8, 16, 3)

    def forward(self, x):
        return torch.softmax(self.mlp(x), dim=1)


class TrainCE(nn.Module):
    """mlp(x) followed by F.cross_entropy with fixed class weights."""

    def __init__(self):
        super().__init__()
        self.mlp = MLP(16, 32, 5)
        self.register_buffer("class_weight", torch.tensor(CE_CLASS_WEIGHTS))

    def forward(self, x, target):
        return F.cross_entropy(self.mlp(x), target, weight=self.class_weight, ignore_index=-100)

    def logits(self, x):
        return self.mlp(x)


class TrainCNNCE(nn.Module):
    def __init__(self):
        super().__init__()
        self.cnn = SmallCNN(10)
        self.loss = nn.CrossEntropyLoss()

    def forward(self, image, target):
        return self.loss(self.cnn(image), target)

    def logits(self, image):
        return self.cnn(image)


class DropoutMLP(nn.Module):
    """Linear - BatchNorm1d - ReLU - Dropout(0.2) - Linear, then cross entropy."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 32)
        self.bn = nn.BatchNorm1d(32)
        self.relu = nn.ReLU()
        self.drop = nn.Dropout(0.2)
        self.fc2 = nn.Linear(32, 5)

    def logits(self, x):
        return self.fc2(self.drop(self.relu(self.bn(self.fc1(x)))))

    def forward(self, x, target):
        return F.cross_entropy(self.logits(x), target)


# ---------------------------------------------------------------------------
# Helpers


def randomize_bn(bn, seed):
    """Give a BatchNorm non-trivial affine parameters and running statistics."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        bn.weight.copy_(1.0 + 0.2 * torch.randn(bn.num_features, generator=g))
        bn.bias.copy_(0.1 * torch.randn(bn.num_features, generator=g))
        bn.running_mean.copy_(0.1 * torch.randn(bn.num_features, generator=g))
        bn.running_var.copy_(1.0 + 0.5 * torch.rand(bn.num_features, generator=g))


def f32_list(t):
    """Flat list of float32 values, each printed with the shortest repr that
    round-trips through float32 (parse the JSON number as float32 to get it back)."""
    a = t.detach().cpu().numpy().astype(np.float32).ravel()
    return [float(repr(np.float32(v))) for v in a]


def tensor_json(t):
    if t.dtype in (torch.int64, torch.int32):
        return {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape),
                "data": [int(v) for v in t.reshape(-1).tolist()]}
    return {"dtype": "float32", "shape": list(t.shape), "data": f32_list(t)}


def randn(seed, *shape):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g)


def randint(seed, high, *shape):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, high, shape, generator=g, dtype=torch.int64)


def export(model, args, fname, input_names, output_names, dynamic_axes, opset, **kw):
    buf = io.BytesIO()
    torch.onnx.export(
        model, args, buf,
        input_names=input_names, output_names=output_names,
        dynamic_axes=dynamic_axes, opset_version=opset, **kw)
    data = buf.getvalue()
    with open(os.path.join(HERE, fname), "wb") as f:
        f.write(data)
    return data


def check_weights_nonzero(model, name):
    for pname, p in model.named_parameters():
        if not torch.any(p != 0):
            raise SystemExit(f"{name}: parameter {pname} is all zero")


# ---------------------------------------------------------------------------
# The models


def main():
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    expected = collections.OrderedDict()
    expected["_about"] = (
        "Generated by gen_models.py with torch %s, onnx %s. Per model: inputs fed to "
        "the ONNX graph and the outputs torch computed for them (float32, row-major 'data' "
        "with 'shape'; read each number as float32 to get the exact value). 'outputs' are "
        "keyed by graph output name; 'extra' holds intermediate values (e.g. the logits "
        "feeding a loss) under descriptive keys. 'mode' says which forward torch ran."
        % (torch.__version__, onnx.__version__))
    files = []

    def record(fname, mode, inputs, outputs, extra=None, note=None):
        e = collections.OrderedDict()
        e["mode"] = mode
        if note:
            e["note"] = note
        e["inputs"] = collections.OrderedDict((k, tensor_json(v)) for k, v in inputs.items())
        e["outputs"] = collections.OrderedDict((k, tensor_json(v)) for k, v in outputs.items())
        if extra:
            e["extra"] = collections.OrderedDict((k, tensor_json(v)) for k, v in extra.items())
        expected[fname] = e

    # 1. mlp_o13
    torch.manual_seed(1)
    m = MLP(16, 32, 5).eval()
    check_weights_nonzero(m, "mlp_o13")
    x = randn(101, 2, 16)
    export(m, (x,), "mlp_o13.onnx", ["x"], ["logits"], {"x": {0: "N"}, "logits": {0: "N"}}, 13)
    x = randn(1001, 3, 16)
    with torch.no_grad():
        record("mlp_o13.onnx", "eval", {"x": x}, {"logits": m(x)})
    files.append("mlp_o13.onnx")

    # 2. cnn_o17
    torch.manual_seed(2)
    m = SmallCNN(10).eval()
    check_weights_nonzero(m, "cnn_o17")
    x = randn(102, 2, 1, 12, 12)
    export(m, (x,), "cnn_o17.onnx", ["image"], ["logits"],
           {"image": {0: "N"}, "logits": {0: "N"}}, 17)
    x = randn(1002, 3, 1, 12, 12)
    with torch.no_grad():
        record("cnn_o17.onnx", "eval", {"image": x}, {"logits": m(x)})
    files.append("cnn_o17.onnx")

    # 3. segnet_o13 (dynamic N, H, W)
    torch.manual_seed(3)
    m = SegNet().eval()
    check_weights_nonzero(m, "segnet_o13")
    x = randn(103, 2, 3, 8, 8)
    export(m, (x,), "segnet_o13.onnx", ["image"], ["logits"],
           {"image": {0: "N", 2: "H", 3: "W"}, "logits": {0: "N", 2: "H", 3: "W"}}, 13)
    x = randn(1003, 2, 3, 5, 6)  # H, W differ from the export size on purpose
    with torch.no_grad():
        record("segnet_o13.onnx", "eval", {"image": x}, {"logits": m(x)},
               note="H=5, W=6 here (export used 8x8): exercises the dynamic H/W axes")
    files.append("segnet_o13.onnx")

    # 4. softmax_o13
    torch.manual_seed(4)
    m = SoftmaxClassifier().eval()
    check_weights_nonzero(m, "softmax_o13")
    x = randn(104, 2, 8)
    export(m, (x,), "softmax_o13.onnx", ["x"], ["probs"], {"x": {0: "N"}, "probs": {0: "N"}}, 13)
    x = randn(1004, 3, 8)
    with torch.no_grad():
        record("softmax_o13.onnx", "eval", {"x": x}, {"probs": m(x)},
               extra={"softmax_input_logits": m.mlp(x)})
    files.append("softmax_o13.onnx")

    # 5. mlp_o11
    torch.manual_seed(5)
    m = MLP(6, 16, 4).eval()
    check_weights_nonzero(m, "mlp_o11")
    x = randn(105, 2, 6)
    export(m, (x,), "mlp_o11.onnx", ["x"], ["logits"], {"x": {0: "N"}, "logits": {0: "N"}}, 11)
    x = randn(1005, 3, 6)
    with torch.no_grad():
        record("mlp_o11.onnx", "eval", {"x": x}, {"logits": m(x)})
    files.append("mlp_o11.onnx")

    # 6. multilabel_o13
    torch.manual_seed(6)
    m = MLP(12, 24, 6).eval()
    check_weights_nonzero(m, "multilabel_o13")
    x = randn(106, 2, 12)
    export(m, (x,), "multilabel_o13.onnx", ["x"], ["logits"],
           {"x": {0: "N"}, "logits": {0: "N"}}, 13)
    x = randn(1006, 3, 12)
    g = torch.Generator().manual_seed(2006)
    multi_hot = (torch.rand(3, 6, generator=g) < 0.4).float()
    with torch.no_grad():
        lg = m(x)
        record("multilabel_o13.onnx", "eval", {"x": x}, {"logits": lg},
               extra={"multi_hot_targets": multi_hot,
                      "bce_with_logits_mean": F.binary_cross_entropy_with_logits(lg, multi_hot)},
               note="extra.multi_hot_targets is not a graph input: a seeded multi-hot target "
                    "and torch's BCEWithLogits(mean) of it, for sigmoid-loss checks")
    files.append("multilabel_o13.onnx")

    # 7a. train_mlp_ce_o13: forward + weighted CE with ignore_index=-100
    torch.manual_seed(7)
    m = TrainCE().eval()
    check_weights_nonzero(m, "train_mlp_ce_o13")
    x = randn(107, 2, 16)
    t = randint(207, 5, 2)
    export(m, (x, t), "train_mlp_ce_o13.onnx", ["x", "target"], ["loss"],
           {"x": {0: "N"}, "target": {0: "N"}}, 13)
    x = randn(1007, 4, 16)
    t = randint(2007, 5, 4)
    t[2] = -100  # one ignored position
    with torch.no_grad():
        record("train_mlp_ce_o13.onnx", "eval", {"x": x, "target": t}, {"loss": m(x, t)},
               extra={"logits": m.logits(x),
                      "class_weights": torch.tensor(CE_CLASS_WEIGHTS),
                      "loss_sum": F.cross_entropy(m.logits(x), t, weight=m.class_weight,
                                                  ignore_index=-100, reduction="sum"),
                      "loss_none": F.cross_entropy(m.logits(x), t, weight=m.class_weight,
                                                   ignore_index=-100, reduction="none")},
               note="target[2] = -100 (ignored); mean divides by the sum of the weights "
                    "of the non-ignored targets")
    files.append("train_mlp_ce_o13.onnx")

    # 7b. train_cnn_ce_o17
    torch.manual_seed(8)
    m = TrainCNNCE().eval()
    check_weights_nonzero(m, "train_cnn_ce_o17")
    x = randn(108, 2, 1, 12, 12)
    t = randint(208, 10, 2)
    export(m, (x, t), "train_cnn_ce_o17.onnx", ["image", "target"], ["loss"],
           {"image": {0: "N"}, "target": {0: "N"}}, 17)
    x = randn(1008, 3, 1, 12, 12)
    t = randint(2008, 10, 3)
    with torch.no_grad():
        record("train_cnn_ce_o17.onnx", "eval", {"image": x, "target": t}, {"loss": m(x, t)},
               extra={"logits": m.logits(x)})
    files.append("train_cnn_ce_o17.onnx")

    # 7c. train_mlp_dropout_o13: exported in TRAINING mode
    torch.manual_seed(9)
    m = DropoutMLP()
    randomize_bn(m.bn, 309)
    check_weights_nonzero(m, "train_mlp_dropout_o13")
    x = randn(109, 4, 16)
    t = randint(209, 5, 4)
    pre_export_state = {k: v.clone() for k, v in m.state_dict().items()}
    export(m, (x, t), "train_mlp_dropout_o13.onnx", ["x", "target"], ["loss"],
           {"x": {0: "N"}, "target": {0: "N"}}, 13,
           training=torch.onnx.TrainingMode.TRAINING)
    # Exporting in training mode traces one train-mode forward, which updates the BN
    # running statistics in the module; the graph's initializers hold the updated values
    # (not those set by randomize_bn). Check that, and use exactly that state below.
    exported_state = {k: v.clone() for k, v in m.state_dict().items()}
    graph_inits = {i.name: torch.from_numpy(onnx.numpy_helper.to_array(i).copy())
                   for i in onnx.load(os.path.join(HERE, "train_mlp_dropout_o13.onnx"))
                   .graph.initializer}
    for k, v in graph_inits.items():
        if not torch.equal(v, exported_state[k]):
            raise SystemExit("train_mlp_dropout_o13: initializer %s differs from the module" % k)
    assert not torch.equal(pre_export_state["bn.running_mean"], exported_state["bn.running_mean"])
    x = randn(1009, 3, 16)
    t = randint(2009, 5, 3)
    with torch.no_grad():
        # (a) what the graph computes, minus Dropout's randomness: BatchNorm with batch
        # statistics (training mode), Dropout as identity.
        m.train()
        drop_p = m.drop.p
        m.drop.p = 0.0
        lg_train = m.logits(x)
        loss_train = F.cross_entropy(lg_train, t)
        m.drop.p = drop_p
        m.load_state_dict(exported_state)  # undo the running-stat update of that pass
        # (b) inference mode: running statistics, no dropout.
        m.eval()
        lg_eval = m.logits(x)
        loss_eval = F.cross_entropy(lg_eval, t)
    record("train_mlp_dropout_o13.onnx",
           "train_bn_batch_stats_dropout_identity",
           {"x": x, "target": t}, {"loss": loss_train},
           extra={"logits": lg_train,
                  "eval_mode_logits": lg_eval,
                  "eval_mode_loss": loss_eval},
           note="The graph is in training form: BatchNormalization uses batch statistics and "
                "Dropout(ratio 0.2, training_mode=true) draws a random mask, which torch and "
                "ONNX cannot reproduce alike. 'outputs' are torch in train mode with dropout "
                "p=0 (batch-statistic BN, Dropout as identity): an evaluator matches them when "
                "it evaluates Dropout as identity (ratio 0 / training_mode false). "
                "extra.eval_mode_* are torch in eval mode (running statistics, no dropout), "
                "which this graph does NOT compute.")
    files.append("train_mlp_dropout_o13.onnx")

    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")

    # -----------------------------------------------------------------------
    # Check and summarize
    ok = True
    print("%-28s %8s %5s  %s" % ("file", "bytes", "opset", "inputs -> outputs; ops"))
    for fname in files:
        path = os.path.join(HERE, fname)
        size = os.path.getsize(path)
        model = onnx.load(path)
        try:
            onnx.checker.check_model(model, full_check=True)
            status = "ok"
        except Exception as ex:  # noqa: BLE001
            status = "CHECK FAILED: %s" % ex
            ok = False
        if size >= 1 << 20:
            status += " TOO BIG"
            ok = False
        opset = [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")][0]

        def vi(v):
            t = v.type.tensor_type
            dims = [d.dim_param or str(d.dim_value) for d in t.shape.dim]
            return "%s:%s[%s]" % (v.name, onnx.TensorProto.DataType.Name(t.elem_type).lower(),
                                  ",".join(dims))

        inits = {i.name for i in model.graph.initializer}
        ins = [vi(v) for v in model.graph.input if v.name not in inits]
        outs = [vi(v) for v in model.graph.output]
        ops = sorted({n.op_type for n in model.graph.node})
        print("%-28s %8d %5d  %s -> %s; %s; %s" % (fname, size, opset, " ".join(ins),
                                                   " ".join(outs), " ".join(ops), status))
    print("expected.json %d bytes" % os.path.getsize(os.path.join(HERE, "expected.json")))
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
