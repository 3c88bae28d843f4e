"""An export script as a user writes it: a torch module exported with
torch.onnx.export, counts from its training labels, inject, then the loss run
in ONNX Runtime (Python) equals PyTorch's; verify agrees with ONNX Runtime."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
import torch.nn.functional as F
import torchvision

from conftest import run_cli

C = 6
TRAIN_COUNTS = [400, 150, 60, 25, 10, 4]  # long-tailed
IGNORE = -100


class Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = torch.nn.Linear(10, 16)
        self.fc2 = torch.nn.Linear(16, C)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(x)))


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory):
    torch.manual_seed(7)
    net = Net().eval()
    path = tmp_path_factory.mktemp("export") / "net.onnx"
    torch.onnx.export(
        net, torch.randn(2, 10), str(path), input_names=["x"], output_names=["logits"],
        dynamic_axes={"x": {0: "N"}, "logits": {0: "N"}}, opset_version=13,
    )
    return net, path


@pytest.fixture(scope="module")
def batch():
    g = torch.Generator().manual_seed(11)
    x = torch.randn(48, 10, generator=g)
    y = torch.randint(0, C, (48,), generator=g)
    y[torch.rand(48, generator=g) < 0.2] = IGNORE  # some positions ignored
    return x, y


def train_labels() -> torch.Tensor:
    g = torch.Generator().manual_seed(3)
    labels = torch.repeat_interleave(torch.arange(C), torch.tensor(TRAIN_COUNTS))
    return labels[torch.randperm(len(labels), generator=g)]


def run_ort(model: onnx.ModelProto, x: torch.Tensor, y: torch.Tensor) -> dict:
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    outs = sess.run(None, {"x": x.numpy(), "labels": y.numpy()})
    return dict(zip(names, outs))


def normalized(raw: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(raw * len(raw) / raw.sum())


# ORT computes in float32, the references in float64: a loss of order 1 from
# 48 rows of two small matmuls carries ~1e-6 relative float32 rounding, so
# rtol 1e-5 passes a correct graph and fails any wrong weight, mean or axis.
RTOL, ATOL = 1e-5, 1e-6


def test_weighted_ce_in_onnxruntime_equals_torch_cross_entropy(onnxloss, exported, batch) -> None:
    net, path = exported
    x, y = batch
    counts = onnxloss.counts(train_labels())
    assert counts == TRAIN_COUNTS

    model = onnxloss.inject(path, "weighted_ce", counts, ignore_index=IGNORE)
    onnx.checker.check_model(model, full_check=True)
    assert [o.name for o in model.graph.output] == ["loss", "logits"]
    got = run_ort(model, x, y)

    # Inverse-frequency weights from DESIGN.md's table, computed here in numpy.
    w = normalized(1.0 / np.array(TRAIN_COUNTS, dtype=np.float64))
    with torch.no_grad():
        logits = net.double()(x.double())
        want = F.cross_entropy(logits, y, weight=w, ignore_index=IGNORE)
    np.testing.assert_allclose(got["logits"], logits.numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(got["loss"], want.item(), rtol=RTOL, atol=ATOL)
    net.float()


def test_cb_focal_in_onnxruntime_equals_torchvision(onnxloss, exported, batch) -> None:
    net, path = exported
    x, y = batch
    counts = onnxloss.counts(train_labels().numpy())
    model = onnxloss.inject(onnx.load(str(path)), "cb_focal", counts, ignore_index=IGNORE, gamma=1.5, beta=0.999)
    got = run_ort(model, x, y)

    # Cui et al.: w_y · Σ_c focal-BCE(x_c, onehot_c), γ = 1.5, no α, mean over
    # the positions not ignored; weights from the effective number of samples.
    n = np.array(TRAIN_COUNTS, dtype=np.float64)
    w = normalized((1 - 0.999) / (1 - np.power(0.999, n)))
    keep = y != IGNORE
    with torch.no_grad():
        logits = net.double()(x.double())[keep]
        target = F.one_hot(y[keep], C).double()
        per_class = torchvision.ops.sigmoid_focal_loss(logits, target, alpha=-1, gamma=1.5, reduction="none")
        want = (w[y[keep]] * per_class.sum(dim=1)).sum() / keep.sum()
    net.float()
    np.testing.assert_allclose(got["loss"], want.item(), rtol=RTOL, atol=ATOL)


def test_verify_agrees_with_onnxruntime(onnxloss, exported, batch, cli: Path, tmp_path: Path) -> None:
    _, path = exported
    x, y = batch
    model = onnxloss.inject(path, "cb_focal", onnxloss.counts(train_labels()), ignore_index=IGNORE)

    synthetic = onnxloss.verify(model, rtol=1e-5, atol=1e-6)
    assert synthetic.ok and synthetic.mode == "synthetic" and (synthetic.rtol, synthetic.atol) == (1e-5, 1e-6)
    assert synthetic.checks and all(c.ok and c.output == "loss" for c in synthetic.checks)

    ort_out = run_ort(model, x, y)
    inputs = {"x": x, "labels": y}  # torch tensors: the API writes them to .npz
    report = onnxloss.verify(model, inputs=inputs, expect=ort_out)
    assert report.ok, report
    assert {c.output for c in report.checks} >= {"loss", "logits"}

    # A wrong loss from "another runtime" is a mismatch (exit 1): a report, not an exception.
    wrong = dict(ort_out, loss=ort_out["loss"] * np.float32(1.01))
    bad = onnxloss.verify(model, inputs=inputs, expect=wrong)
    assert not bad.ok
    assert [c.output for c in bad.checks if not c.ok] == ["loss"]
    assert bad.raw["pass"] is False

    # The report is the CLI's --json, field for field.
    onnx.save(model, str(tmp_path / "m.onnx"))
    np.savez(tmp_path / "in.npz", x=x.numpy(), labels=y.numpy())
    np.savez(tmp_path / "want.npz", **wrong)
    proc = run_cli(cli, "verify", "--json", "--inputs", tmp_path / "in.npz", "--expect", tmp_path / "want.npz",
                   tmp_path / "m.onnx", check=False)
    assert proc.returncode == 1
    from_files = onnxloss.verify(tmp_path / "m.onnx", inputs=tmp_path / "in.npz", expect=tmp_path / "want.npz")
    assert from_files.raw == __import__("json").loads(proc.stdout)

    # Bad input (an input file without the labels) is an Error, exit 2, the CLI's line.
    np.savez(tmp_path / "no_labels.npz", x=x.numpy())
    proc = run_cli(cli, "verify", "--inputs", tmp_path / "no_labels.npz", tmp_path / "m.onnx", check=False)
    with pytest.raises(onnxloss.Error) as e:
        onnxloss.verify(tmp_path / "m.onnx", inputs=tmp_path / "no_labels.npz")
    assert (e.value.returncode, e.value.message) == (2, proc.stderr.decode().strip().splitlines()[-1])
