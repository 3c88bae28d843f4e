#!/usr/bin/python3
"""Regenerate testdata/goldens/grads.json.gz: PyTorch autograd gradients of the
onnxloss losses with respect to the parameters of the models in
testdata/models, for the gradient (step model) tests.

Run with Debian's Python (torch 1.13.1, torchvision 0.14.1, onnx 1.12):

    /usr/bin/python3 scripts/gen-grad-goldens.py

For every model the torch module is rebuilt from testdata/models/gen_models.py
and its parameters are loaded from the .onnx file's initializers, so it is the
same module. A seeded batch is drawn; the loss is the torch reference of
scripts/gen-goldens.py (F.cross_entropy, torchvision's sigmoid_focal_loss, the
paper formulas, the authors' LDAM), computed in float64 on the float64 copy of
the module and batch; the expected gradients are torch.autograd.grad of that
loss with respect to the module's parameters, keyed by initializer name.

Also written: float64 exports of the MLP and the CNN
(testdata/goldens/grad_models/*_f64.onnx), whose gradients are compared at
1e-9.

The Go test (stepmodel/golden_test.go) injects each case's loss with the same
flags, builds the `--optimizer none` step model, runs it in ONNX Runtime and
compares its <p>_grad outputs with these.
"""

import gzip
import importlib.util
import json
import os
import sys

import numpy as np
import onnx
import onnx.numpy_helper
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
F64 = torch.float64


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


G = load("gen_goldens", os.path.join(ROOT, "scripts", "gen-goldens.py"))
M = load("gen_models", os.path.join(ROOT, "testdata", "models", "gen_models.py"))
A = load("gen_axis_models", os.path.join(ROOT, "testdata", "models", "gen_axis_models.py"))

# model file -> (module factory, logits function, inputs, C, spatial label
# shape, labels input name). Inputs are (name, shape without N).
MODELS = {
    "mlp_o13.onnx": (lambda: M.MLP(16, 32, 5), lambda m, x: m(x), [("x", [16])], 5, []),
    "mlp_o11.onnx": (lambda: M.MLP(6, 16, 4), lambda m, x: m(x), [("x", [6])], 4, []),
    "multilabel_o13.onnx": (lambda: M.MLP(12, 24, 6), lambda m, x: m(x), [("x", [12])], 6, []),
    "cnn_o17.onnx": (lambda: M.SmallCNN(10), lambda m, x: m(x), [("image", [1, 12, 12])], 10, []),
    "segnet_o13.onnx": (M.SegNet, lambda m, x: m(x), [("image", [3, 5, 6])], 4, [5, 6]),
    # inject attaches to the Softmax's input: the logits are the MLP's output
    "softmax_o13.onnx": (M.SoftmaxClassifier, lambda m, x: m.mlp(x), [("x", [8])], 3, []),
    "train_mlp_ce_o13.onnx": (M.TrainCE, lambda m, x: m.logits(x), [("x", [16])], 5, []),
    "train_cnn_ce_o17.onnx": (M.TrainCNNCE, lambda m, x: m.logits(x), [("image", [1, 12, 12])], 10, []),
    # exported in training mode: BatchNorm with batch statistics; the test
    # sets the Dropout ratio to 0 in its copy (torch: p = 0), since the two
    # cannot draw the same random mask
    "train_mlp_dropout_o13.onnx": (M.DropoutMLP, lambda m, x: m.logits(x), [("x", [16])], 5, []),
}
# The real architectures of testdata/models/gen_axis_models.py: file ->
# (module name, inputs, the logits' class axis). Their batches come from
# gen_axis_models.example_inputs; the loss sees the logits with the class
# axis moved to 1, as inject computes it.
AXIS_MODELS = {
    "token_cls_o17.onnx": ("token_cls", ["ids"], 2),
    "det_head_o13.onnx": ("det_head", ["p3", "p4"], 2),
    "seq_conv1d_o13.onnx": ("seq_conv1d", ["x"], 1),
    # the same network with L fixed to 6 = C: inject needs --class-axis
    "seq_conv1d_static_o13.onnx": ("seq_conv1d", ["x"], 1),
    "segnet_nhwc_o13.onnx": ("segnet_nhwc", ["image"], 3),
    "vit_tiny_o17.onnx": ("vit_tiny", ["image"], 1),
}
AXIS_LOSSES = ["weighted_ce_ignore_smooth", "focal_gamma_half", "cb_focal", "sigmoid_focal", "balanced_softmax", "ldam_ignore_smooth"]
F64_VARIANTS = {"mlp_o13.onnx": ("mlp_o13_f64.onnx", 13), "cnn_o17.onnx": ("cnn_o17_f64.onnx", 17)}

# name -> loss flags (the rest from gen-goldens.py's defaults)
LOSSES = [
    ("weighted_ce", dict(loss="weighted_ce")),
    ("weighted_ce_ignore_smooth", dict(loss="weighted_ce", ignore_index=-100, label_smoothing=0.1)),
    ("focal", dict(loss="focal")),
    ("focal_gamma_half", dict(loss="focal", gamma=0.5, ignore_index=3)),
    ("cb_focal", dict(loss="cb_focal", gamma=1.5)),
    ("sigmoid_focal", dict(loss="sigmoid_focal")),
    ("balanced_softmax", dict(loss="balanced_softmax", ignore_index=-100)),
    ("ldam", dict(loss="ldam")),
    ("ldam_ignore_smooth", dict(loss="ldam", ignore_index=-1)),
]
# logits pushed to about +-1e4 (the input scaled), on the MLP
EXTREME = ["weighted_ce", "focal", "focal_gamma_half", "cb_focal", "sigmoid_focal"]
N = 6


def loss_case(name, flags, C, seed):
    loss = flags["loss"]
    g = torch.Generator().manual_seed(seed)
    counts = G.longtail(C, 1000, 0.02)
    c = {
        "name": name, "loss": loss, "counts": counts, "classes": None, "zero_counts": "error",
        "weighting": G.DEFAULT_WEIGHTING[loss], "normalize": True, "beta": 0.9999,
        "gamma": flags.get("gamma", 2.0), "alpha": 0.25, "reduction": "mean",
        "ignore_index": flags.get("ignore_index"), "label_smoothing": flags.get("label_smoothing", 0.0),
        "targets": "index", "labels_dtype": "int64", "tau": 0.0, "max_margin": 0.0, "scale": 0.0,
    }
    if loss == "ldam":
        c["max_margin"], c["scale"] = 0.5, 30.0
    return c, g


def torch_grads(module, logits_fn, xs, y, case):
    w = G.class_weights(case["counts"], case["weighting"], case["beta"], case["normalize"], case["zero_counts"])
    params = dict(module.named_parameters())
    x = logits_fn(module, *xs)
    if case["loss"] == "ldam" and case["label_smoothing"]:
        raise ValueError("ldam has no label smoothing")
    if case["loss"] == "focal" and 0 < case["gamma"] < 1 and case.get("guard"):
        loss = guarded_focal(case, x, y, w)
    else:
        loss, _ = G.compute(case, x, y, None, w)
    names = list(params)
    grads = torch.autograd.grad(loss, [params[n] for n in names])
    return float(loss), {n: gr for n, gr in zip(names, grads)}


def guarded_focal(case, x, y, w):
    """Focal loss with the base of (1 - p)^gamma clamped at 1e-30, as
    onnxloss's graph computes it for gamma < 1 (lossops powBase): where
    p = 1 in float64, torch's pow backward is gamma * 0^(gamma-1) = inf and
    the chain rule makes it NaN; with the clamp the gradient there is 0."""
    ii = case["ignore_index"]
    valid = (y != ii) if ii is not None else torch.ones_like(y, dtype=torch.bool)
    y_safe = torch.where(valid, y, torch.zeros_like(y))
    wy = torch.tensor(w, dtype=F64)[y_safe]
    lp = torch.log_softmax(x, dim=1).gather(1, y_safe.unsqueeze(1)).squeeze(1)
    q = (-torch.expm1(lp)).clamp_min(1e-30)
    l = torch.where(valid, -wy * q ** case["gamma"] * lp, torch.zeros_like(lp))
    return l.sum() / int(valid.sum())


def onnx_grads(path, module, grads):
    """The expected gradient of every float initializer of the ONNX file
    that holds module parameters. torch.onnx.export keeps a parameter under
    its own name, or stores it transposed under another name (MatMul
    weights), and keeps one initializer for parameters of equal values (the
    copied layers of a TransformerEncoder, the zero biases of a ViT), which
    the graph then uses in each of their places: its gradient is the sum of
    theirs. Each parameter maps to the initializer of its name, else to the
    one initializer holding its value (or its transpose); an ambiguous or
    missing match stops the script."""
    inits = {}
    for init in onnx.load(path).graph.initializer:
        if init.data_type in (onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE):
            inits[init.name] = torch.from_numpy(onnx.numpy_helper.to_array(init).copy()).to(F64)
    out = {}
    for n, p in module.named_parameters():
        p = p.detach()
        if n in inits:
            match = [(n, False)]
        else:
            match = [(k, False) for k, v in inits.items() if v.shape == p.shape and torch.equal(v, p)]
            if p.dim() == 2:
                match += [(k, True) for k, v in inits.items() if v.shape == p.t().shape and torch.equal(v, p.t())]
            if len({k for k, _ in match}) > 1 or len(match) > 1 and p.dim() == 2 and not torch.equal(p, p.t()):
                raise SystemExit("%s: parameter %s matches several initializers %s" % (path, n, match))
        if not match:
            raise SystemExit("%s: parameter %s is in no initializer" % (path, n))
        k, transposed = match[0]
        gv = grads[n].t() if transposed else grads[n]
        out[k] = gv.clone() if k not in out else out[k] + gv
    return out


def tensor(t, digits=None):
    """A tensor as JSON; digits rounds the values to that many significant
    digits (gradients: 12, far below every tolerance, and a third smaller)."""
    t = t.detach().to(F64)
    data = [float(v) for v in t.reshape(-1).tolist()]
    if digits:
        data = [float("%.*g" % (digits, v)) for v in data]
    return {"shape": list(t.shape), "data": data}


def module_for(fname, factory, path):
    torch.manual_seed(0)
    m = factory()
    init = {i.name: torch.from_numpy(onnx.numpy_helper.to_array(i).copy()) for i in onnx.load(path).graph.initializer}
    sd = m.state_dict()
    for k in sd:
        if k in init:
            sd[k] = init[k].to(sd[k].dtype)
        elif not k.endswith("num_batches_tracked"):
            raise SystemExit("%s: %s is not an initializer of the ONNX file" % (fname, k))
    m.load_state_dict(sd)
    m = m.double()
    if fname == "train_mlp_dropout_o13.onnx":
        m.train()
        m.drop.p = 0.0
    else:
        m.eval()
    return m


def export_f64(fname, factory, out, opset, inputs):
    path = os.path.join(ROOT, "testdata", "models", fname)
    m = module_for(fname, factory, path)
    args = tuple(torch.zeros([2] + shape, dtype=F64) for _, shape in inputs)
    names = [n for n, _ in inputs]
    dyn = {n: {0: "N"} for n in names}
    dyn["logits"] = {0: "N"}
    torch.onnx.export(m, args, out, input_names=names, output_names=["logits"], dynamic_axes=dyn,
                      opset_version=opset, do_constant_folding=True)
    mp = onnx.load(out)
    onnx.checker.check_model(mp, full_check=True)


def main():
    # An optional argument writes the JSON elsewhere, with the float64
    # models in grad_models/ beside it (the Go test regenerates into a
    # temporary directory and compares with the committed goldens).
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "testdata", "goldens", "grads.json.gz")
    out_dir = os.path.dirname(os.path.abspath(path))
    model_dir = os.path.join(out_dir, "grad_models")
    os.makedirs(model_dir, exist_ok=True)
    cases = []
    seed = 5000
    jobs = [(f, os.path.join("testdata", "models", f), "float32") for f in MODELS]
    for f, (out, opset) in F64_VARIANTS.items():
        export_f64(f, MODELS[f][0], os.path.join(model_dir, out), opset, MODELS[f][2])
        # the cases name the committed copy
        jobs.append((f, os.path.join("testdata", "goldens", "grad_models", out), "float64"))
    for fname, rel, dtype in jobs:
        factory, logits_fn, inputs, C, spatial = MODELS[fname]
        module = module_for(fname, factory, os.path.join(ROOT, "testdata", "models", fname))
        variants = [(ln, fl, None) for ln, fl in LOSSES]
        if fname == "mlp_o13.onnx":
            variants += [(ln + "_extreme", fl, 1e4) for ln, fl in LOSSES if ln in EXTREME]
        for lname, flags, extreme in variants:
            seed += 1
            case, g = loss_case("%s/%s/%s" % (rel, dtype, lname), flags, C, seed)
            if extreme is not None and lname == "focal_gamma_half_extreme":
                # torch's unguarded formula is NaN here (see guarded_focal)
                case["guard"] = True
            xs = []
            for _, shape in inputs:
                x = torch.randn([N] + shape, generator=g, dtype=F64).to(torch.float32).to(F64)
                xs.append(x)
            if extreme is not None:
                with torch.no_grad():
                    peak = logits_fn(module, *xs).abs().max().item()
                xs = [(x * (extreme / peak)).to(torch.float32).to(F64) for x in xs]
            y = torch.randint(0, C, [N] + spatial, generator=g)
            if case["ignore_index"] is not None:
                drop = torch.rand([N] + spatial, generator=g) < 0.3
                drop.view(-1)[0] = True
                drop.view(-1)[1] = False
                y = torch.where(drop, torch.full_like(y, case["ignore_index"]), y)
                if y.view(-1)[1] == case["ignore_index"]:  # a valid class (focal's 3) drawn there
                    y.view(-1)[1] = (case["ignore_index"] + 1) % C
            loss, grads = torch_grads(module, logits_fn, xs, y, case)
            grads = onnx_grads(os.path.join(ROOT, rel), module, grads)
            for n, gr in grads.items():
                if not torch.isfinite(gr).all():
                    raise SystemExit("%s: torch's gradient of %s is not finite" % (case["name"], n))
            case.update({
                "model": rel, "dtype": dtype,
                "inputs": {name: tensor(x) for (name, _), x in zip(inputs, xs)},
                "labels_input": "target" if fname.startswith("train_") else "labels",
                "labels": tensor(y), "loss_value": loss,
                "grads": {n: tensor(gr, 12) for n, gr in grads.items()},
                "logits_peak": float(logits_fn(module, *xs).abs().max()),
            })
            cases.append(case)
    for fname, (mname, inputs, axis) in AXIS_MODELS.items():
        module = A.build(mname).double()
        init = {i.name: torch.from_numpy(onnx.numpy_helper.to_array(i).copy()) for i in onnx.load(os.path.join(ROOT, "testdata", "models", fname)).graph.initializer}
        for n, p in module.named_parameters():
            if n in init and not torch.equal(init[n].to(F64), p.detach()):
                raise SystemExit("%s: %s differs from the ONNX file" % (fname, n))
        for lname, flags in [(ln, fl) for ln, fl in LOSSES if ln in AXIS_LOSSES]:
            seed += 1
            g = torch.Generator().manual_seed(seed)
            xs = [x.to(F64) if x.is_floating_point() else x for x in A.example_inputs(mname, g, 4)]
            xs = [x.to(torch.float32).to(F64) if x.is_floating_point() else x for x in xs]
            with torch.no_grad():
                C = module(*xs).shape[axis]
            case, g = loss_case("%s/%s/%s" % ("testdata/models/" + fname, "float32", lname), flags, C, seed)
            case["class_axis"] = axis
            logits_fn = lambda m, *a: m(*a).movedim(axis, 1)
            pos = list(logits_fn(module, *xs).shape)
            pos = pos[:1] + pos[2:]
            y = torch.randint(0, C, pos, generator=g)
            if case["ignore_index"] is not None:
                drop = torch.rand(pos, generator=g) < 0.3
                drop.view(-1)[0] = True
                drop.view(-1)[1] = False
                y = torch.where(drop, torch.full_like(y, case["ignore_index"]), y)
                if y.view(-1)[1] == case["ignore_index"]:  # a valid class (focal's 3) drawn there
                    y.view(-1)[1] = (case["ignore_index"] + 1) % C
            loss, grads = torch_grads(module, logits_fn, xs, y, case)
            grads = onnx_grads(os.path.join(ROOT, "testdata", "models", fname), module, grads)
            for n, gr in grads.items():
                if not torch.isfinite(gr).all():
                    raise SystemExit("%s: torch's gradient of %s is not finite" % (case["name"], n))
            case.update({
                "model": "testdata/models/" + fname, "dtype": "float32",
                "inputs": {name: tensor(x) for name, x in zip(inputs, xs)},
                "int_inputs": [name for name, x in zip(inputs, xs) if not x.is_floating_point()],
                "labels_input": "labels",
                "labels": tensor(y), "loss_value": loss,
                "grads": {n: tensor(gr, 12) for n, gr in grads.items()},
                "logits_peak": float(logits_fn(module, *xs).abs().max()),
            })
            cases.append(case)
    doc = {"generator": "scripts/gen-grad-goldens.py", "torch": torch.__version__, "cases": cases}
    text = "{\n\"cases\": [\n" + ",\n".join(json.dumps(c, sort_keys=True, allow_nan=False) for c in cases)
    text += "\n],\n\"generator\": %s,\n\"torch\": %s\n}\n" % (json.dumps(doc["generator"]), json.dumps(doc["torch"]))
    json.loads(text)
    # gzip with mtime 0: the same cases give the same bytes
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as f:
        f.write(text.encode())
    print("wrote %d cases to %s" % (len(cases), path), file=sys.stderr)


if __name__ == "__main__":
    main()
