# ONNX Runtime running an opset-13 `onnxloss step --optimizer none` model of
# conv -> relu -> MaxPool(3, stride 2, pad 1, overlapping windows) -> linear
# vs torch autograd in float64 on the same seeded module and batch: checks
# the opset 11-15 MaxPool gradient (disjoint window classes + ScatterElements).
#   cd DIR; /usr/bin/python3 scripts/check-maxpool-o13.py export
#   onnxloss inject --loss weighted_ce --weighting none --counts counts.json -o mp.train.onnx mp_o13.onnx
#   onnxloss step --optimizer none -o mp.step.onnx mp.train.onnx
#   .venv/bin/python scripts/check-maxpool-o13.py check    (prints PASS/FAIL, rel. err < 1e-5: float32 model)
import torch, json, numpy as np, sys
torch.manual_seed(0)
class M(torch.nn.Module):
    def __init__(s):
        super().__init__(); s.c = torch.nn.Conv2d(3, 4, 3, padding=1); s.p = torch.nn.MaxPool2d(3, 2, 1); s.f = torch.nn.Linear(4*5*5, 5)
    def forward(s, x): return s.f(torch.flatten(s.p(torch.relu(s.c(x))), 1))
m = M().double()
if sys.argv[1] == "export":
    torch.onnx.export(m.float(), torch.zeros(2, 3, 9, 9), "mp_o13.onnx", input_names=["x"], output_names=["logits"], opset_version=13, dynamic_axes={"x": {0: "N"}, "logits": {0: "N"}})
    json.dump({"counts": [10]*5}, open("counts.json", "w"))
else:
    import onnxruntime as ort
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 3, 9, 9)).astype(np.float32); y = rng.integers(0, 5, 6)
    loss = torch.nn.functional.cross_entropy(m(torch.from_numpy(x).double()), torch.from_numpy(y))
    loss.backward()
    s = ort.InferenceSession("mp.step.onnx", providers=["CPUExecutionProvider"])
    outs = dict(zip([o.name for o in s.get_outputs()], s.run(None, {"x": x, "labels": y})))
    print("loss ort %.7f torch %.7f" % (outs["loss"], loss.item()))
    names = {"c.weight": m.c.weight, "c.bias": m.c.bias, "f.weight": m.f.weight, "f.bias": m.f.bias}
    worst = 0
    for k, p in names.items():
        g = outs[k + "_grad"]; t = p.grad.numpy()
        e = np.abs(g - t).max() / np.abs(t).max(); worst = max(worst, e)
        print(k, "max err / max|g| = %.2e" % e)
    print("PASS" if worst < 1e-5 else "FAIL"); sys.exit(0 if worst < 1e-5 else 1)
