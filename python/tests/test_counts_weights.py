"""onnxloss.counts against numpy.bincount, onnxloss.weights against the CLI's
--json and against the weighting formulas computed in numpy."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import run_cli, sh

RNG = np.random.default_rng(20261201)


def bincount(labels: np.ndarray, minlength: int, ignore=None) -> list[int]:
    flat = labels.ravel()
    if ignore is not None:
        flat = flat[flat != ignore]
    return np.bincount(flat, minlength=minlength).tolist()


def test_numpy_arrays_of_any_shape_and_int_dtype(onnxloss) -> None:
    for dtype in (np.int64, np.int32, np.uint8, np.int16):
        labels = RNG.integers(0, 7, size=(9, 4, 5)).astype(dtype)
        assert onnxloss.counts(labels) == bincount(labels.astype(np.int64), 7)
    # A non-contiguous view counts what it shows.
    base = RNG.integers(0, 4, size=(30, 6))
    assert onnxloss.counts(base[::3, 1::2]) == bincount(base[::3, 1::2], 4)


def test_torch_tensors(onnxloss) -> None:
    labels = torch.from_numpy(RNG.integers(0, 6, size=(64, 3)))
    assert onnxloss.counts(labels) == bincount(labels.numpy(), 6)
    assert onnxloss.counts(labels.to(torch.int32).t()) == bincount(labels.numpy(), 6)
    with_grad_graph = torch.tensor([0.0, 1.0, 1.0, 2.0], requires_grad=True) * 1  # detached by counts
    assert onnxloss.counts(with_grad_graph.long()) == [1, 2, 1]


def test_lists_ignore_index_num_classes_and_names(onnxloss) -> None:
    labels = RNG.integers(0, 5, size=200)
    labels[RNG.random(200) < 0.2] = -100
    got = onnxloss.counts(labels.tolist(), num_classes=8, ignore_index=-100)
    assert got == bincount(labels, 8, ignore=-100) and len(got) == 8 and got.classes is None
    named = onnxloss.counts([0, 2, 2, 1], classes=["cat", "dog, big", "fox"])
    assert named == [1, 1, 2] and named.classes == ["cat", "dog, big", "fox"]
    doc = named.document
    assert (doc["counts"], doc["classes"]) == ([1, 1, 2], ["cat", "dog, big", "fox"])
    # In-memory labels leave no temporary path in the document: the same
    # labels give the same document, so inject's output stays reproducible.
    assert onnxloss.counts([0, 2, 2, 1], classes=["cat", "dog, big", "fox"]).document == doc


def test_segmentation_mask_with_ignored_pixels(onnxloss) -> None:
    mask = RNG.integers(0, 21, size=(2, 64, 48)).astype(np.uint8)
    mask[:, :4, :] = 255  # a void border, as in Pascal VOC masks
    assert onnxloss.counts(mask, num_classes=21, ignore_index=255) == bincount(mask.astype(np.int64), 21, ignore=255)


def test_multi_hot(onnxloss) -> None:
    targets = (RNG.random((50, 6)) < 0.3).astype(np.uint8)
    assert onnxloss.counts(targets, multi_hot=True) == targets.sum(axis=0).tolist()
    assert onnxloss.counts(targets.tolist(), multi_hot=True) == targets.sum(axis=0).tolist()


def test_paths_and_globs_go_to_the_cli_unchanged(onnxloss, cli: Path, tmp_path: Path) -> None:
    a = RNG.integers(0, 4, size=100)
    b = RNG.integers(0, 4, size=(10, 10))
    np.save(tmp_path / "a.npy", a)
    np.save(tmp_path / "b.npy", b)
    (tmp_path / "c.txt").write_text("".join(f"{x}\n" for x in a))
    assert onnxloss.counts(tmp_path / "a.npy") == bincount(a, 4)
    assert onnxloss.counts(str(tmp_path / "c.txt")) == bincount(a, 4)
    # Several files and globs are the CLI's to read: the API gives the same
    # result as `onnxloss counts` on the same arguments, or the same error.
    for sources in ([tmp_path / "a.npy", tmp_path / "b.npy"], [str(tmp_path / "*.npy")]):
        proc = run_cli(cli, "counts", *sources, check=False)
        if proc.returncode == 0:
            want = json.loads(proc.stdout)
            got = onnxloss.counts(sources)
            assert got.document == want
            assert got == (want["counts"] if isinstance(want, dict) else want) == bincount(np.concatenate([a, b.ravel()]), 4)
        else:
            with pytest.raises(onnxloss.Error) as e:
                onnxloss.counts(sources)
            assert (e.value.returncode, e.value.message) == (proc.returncode, proc.stderr.decode().strip())


def test_counts_errors(onnxloss, cli: Path, tmp_path: Path) -> None:
    np.save(tmp_path / "big.npy", np.array([0, 1, 9]))
    proc = run_cli(cli, "counts", "--num-classes", "3", tmp_path / "big.npy", check=False)
    with pytest.raises(onnxloss.Error) as e:
        onnxloss.counts(tmp_path / "big.npy", num_classes=3)
    assert (e.value.returncode, e.value.message) == (2, proc.stderr.decode().strip())
    with pytest.raises(onnxloss.Error) as e:
        onnxloss.counts(np.array([0.5, 1.0]))  # float labels that are not integers
    assert e.value.returncode == 2
    with pytest.raises(TypeError):
        onnxloss.counts(object())


def test_counts_of_numpy_does_not_import_torch(system_venv: Path) -> None:
    code = "import sys, numpy, onnxloss\nprint(list(onnxloss.counts(numpy.array([1, 0, 1]))), 'torch' in sys.modules)"
    assert sh([system_venv / "bin" / "python", "-c", code]).stdout.strip() == "[1, 2] False"


COUNTS = [500.0, 120.0, 7.0, 40.0, 3.0]


def formula(weighting: str, n: np.ndarray, beta: float) -> np.ndarray:
    """DESIGN.md's table, in numpy float64: raw weights, then scaled to sum to C."""
    raw = {
        "none": np.ones_like(n),
        "inverse": 1.0 / n,
        "sqrt_inverse": 1.0 / np.sqrt(n),
        "effective": (1.0 - beta) / (1.0 - np.power(beta, n)),
    }[weighting]
    return raw * len(n) / raw.sum()


@pytest.mark.parametrize("weighting,beta", [("none", None), ("inverse", None), ("sqrt_inverse", None),
                                            ("effective", 0.9999), ("effective", 0.99)])
def test_weights_equal_cli_json_and_the_formula(onnxloss, cli: Path, tmp_path: Path, weighting: str, beta) -> None:
    (tmp_path / "c.json").write_text(json.dumps(COUNTS))
    flags = ["--weighting", weighting] + (["--beta", str(beta)] if beta is not None else [])
    doc = json.loads(run_cli(cli, "weights", "--counts", tmp_path / "c.json", "--json", *flags).stdout)
    got = onnxloss.weights(COUNTS, weighting, beta=beta)
    assert got == [c["weight"] for c in doc["classes"]]  # exactly: the same float64s
    # 1e-12 relative: float64 evaluation of the same formula in another order.
    np.testing.assert_allclose(got, formula(weighting, np.array(COUNTS), beta or 0.9999), rtol=1e-12)


def test_weights_options_and_errors(onnxloss, cli: Path, tmp_path: Path) -> None:
    raw = onnxloss.weights(np.array(COUNTS), "inverse", normalize="none")
    np.testing.assert_allclose(raw, 1.0 / np.array(COUNTS), rtol=1e-15)
    skipped = onnxloss.weights([10, 0, 30], "inverse", zero_counts="skip")
    np.testing.assert_allclose(skipped, [1.5, 0.0, 0.5], rtol=1e-12)  # 1/10, 1/30 scaled to sum 2
    (tmp_path / "z.json").write_text("[10, 0, 30]")
    proc = run_cli(cli, "weights", "--counts", tmp_path / "z.json", "--weighting", "inverse", check=False)
    with pytest.raises(onnxloss.Error) as e:
        onnxloss.weights(tmp_path / "z.json", "inverse")
    assert (e.value.returncode, e.value.message) == (2, proc.stderr.decode().strip())
    with pytest.raises(onnxloss.Error) as e:
        onnxloss.weights(COUNTS, "effective", beta=1.0)
    assert e.value.returncode == 2 and "beta" in e.value.message.lower()
