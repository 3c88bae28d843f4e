#!/usr/bin/env python3
"""One training step, ONNX Runtime running an onnxloss step model vs PyTorch.

Used by scripts/bench-train.sh, which runs every measurement in its own process
under /usr/bin/time -v (peak RSS). Modes:

  export DIR                   write DIR/resnet18.onnx (torchvision, seeded, eval mode)
                               and DIR/cnn.onnx (testdata's CNN), with counts files
  ort STEP INIT N THREADS K    AdamW step model in onnxruntime: K timed steps after 3 warm-up
  torch MODEL N THREADS K      the same module: zero_grad, forward, F.cross_entropy,
                               backward, torch.optim.AdamW.step(): K timed steps after 3 warm-up

Prints one JSON line: {"median_ms", "min_ms", "steps", "loss"}.
"""
import json
import os
import sys
import time

import numpy as np

SHAPES = {"cnn": (1, 12, 12), "resnet18": (3, 128, 128)}
CLASSES = {"cnn": 10, "resnet18": 1000}


def batch(model, n, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, *SHAPES[model]), dtype=np.float32)
    y = rng.integers(0, CLASSES[model], size=n).astype(np.int64)
    return x, y


def report(times, loss):
    ms = sorted(t * 1e3 for t in times)
    print(json.dumps({"median_ms": ms[len(ms) // 2], "min_ms": ms[0], "steps": len(ms), "loss": loss}))


def build_torch(model):
    import torch
    import torchvision
    if model == "resnet18":
        torch.manual_seed(0)
        return torchvision.models.resnet18(weights=None).eval()
    import importlib.util
    spec = importlib.util.spec_from_file_location("gen_models", os.path.join(os.path.dirname(__file__), "..", "testdata", "models", "gen_models.py"))
    gm = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gm)
    import onnx
    import onnx.numpy_helper
    m = gm.SmallCNN(10)
    init = onnx.load(os.path.join(os.path.dirname(__file__), "..", "testdata", "models", "cnn_o17.onnx")).graph.initializer
    m.load_state_dict({t.name: torch.from_numpy(onnx.numpy_helper.to_array(t).copy()) for t in init})
    return m.eval()


def main():
    mode = sys.argv[1]
    if mode == "export":
        import torch
        out = sys.argv[2]
        m = build_torch("resnet18")
        path = os.path.join(out, "resnet18.onnx")
        torch.onnx.export(m, torch.zeros(1, *SHAPES["resnet18"]), path, input_names=["x"],
                          output_names=["logits"], dynamic_axes={"x": {0: "N"}, "logits": {0: "N"}}, opset_version=13)
        # onnxloss's strided-Conv gradient needs static spatial dims of the
        # intermediate values: ONNX's shape inference records them.
        import onnx
        onnx.save(onnx.shape_inference.infer_shapes(onnx.load(path)), path)
        for name, c in CLASSES.items():
            with open(os.path.join(out, f"counts_{name}.json"), "w") as f:
                json.dump([100] * c, f)
        return
    if mode == "ort":
        import onnxruntime as ort
        step, init, n, threads, k = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
        model = "resnet18" if "resnet18" in os.path.basename(step) else "cnn"
        opts = ort.SessionOptions()
        opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
        isess = ort.InferenceSession(init, opts, providers=["CPUExecutionProvider"])
        state = dict(zip([o.name for o in isess.get_outputs()], isess.run(None, {})))
        del isess
        sess = ort.InferenceSession(step, opts, providers=["CPUExecutionProvider"])
        inputs = [i.name for i in sess.get_inputs()]
        outputs = [o.name for o in sess.get_outputs()]
        x, y = batch(model, n)
        data = {inputs[0]: x, "labels": y}
        times, loss = [], None
        for i in range(3 + k):
            t0 = time.perf_counter()
            res = dict(zip(outputs, sess.run(outputs, {nm: data[nm] if nm in data else state[nm] for nm in inputs})))
            for s in state:
                if s != "lr":
                    state[s] = res[s + "_next"]
            dt = time.perf_counter() - t0
            loss = float(res[outputs[0]])
            if i >= 3:
                times.append(dt)
        report(times, loss)
        return
    if mode == "torch":
        import torch
        import torch.nn.functional as F
        model, n, threads, k = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
        torch.set_num_threads(threads)
        m = build_torch(model)
        opt = torch.optim.AdamW(m.parameters(), lr=1e-3)
        x, y = (torch.from_numpy(a) for a in batch(model, n))
        times, loss = [], None
        for i in range(3 + k):
            t0 = time.perf_counter()
            opt.zero_grad()
            l = F.cross_entropy(m(x), y)
            l.backward()
            opt.step()
            dt = time.perf_counter() - t0
            loss = float(l)
            if i >= 3:
                times.append(dt)
        report(times, loss)
        return
    raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
