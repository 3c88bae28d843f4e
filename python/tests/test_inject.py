"""onnxloss.inject against the CLI: the same bytes for every loss and every
form of input, the same errors; the results checked by onnx.checker."""

from __future__ import annotations

import json
import re
from pathlib import Path

import onnx
import pytest

from conftest import MODELS, run_cli

MLP = MODELS / "mlp_o13.onnx"
COUNTS = [500, 120, 7, 40, 3]

# The catalogue when this was written; losses added to the CLI later are
# found in its help and checked too (test_losses_added_since).
LOSSES = [
    "weighted_ce", "focal", "sigmoid_focal", "cb_softmax", "cb_sigmoid", "cb_focal",
    "logit_adjusted", "balanced_softmax", "ldam",
]


def cli_losses(cli: Path) -> list[str]:
    """The losses `onnxloss inject --help` lists on its --loss line ("the loss: a, b, c")."""
    text = run_cli(cli, "inject", "--help").stdout.decode()
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("--loss "))
    items = [t.split()[0] for t in line.split(":", 1)[1].split(",") if t.split()]
    names = [t for t in items if re.fullmatch(r"[a-z][a-z0-9_]*", t)]
    assert len(names) == len(items) and names, line
    return names


@pytest.fixture(scope="module")
def counts_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("counts") / "counts.json"
    path.write_text(json.dumps(COUNTS))
    return path


def check_loss(onnxloss, cli: Path, counts_file: Path, tmp_path: Path, loss: str) -> None:
    run_cli(cli, "inject", "--loss", loss, "--counts", counts_file, "-o", tmp_path / "cli.onnx", MLP)
    want = (tmp_path / "cli.onnx").read_bytes()

    assert onnxloss.inject(MLP.read_bytes(), loss, COUNTS) == want  # bytes in, bytes out
    from_path = onnxloss.inject(str(MLP), loss, counts_file)  # a path in: a ModelProto (onnx is installed)
    assert isinstance(from_path, onnx.ModelProto)
    assert from_path == onnx.load_model_from_string(want)
    from_proto = onnxloss.inject(onnx.load(str(MLP)), loss, COUNTS)  # ModelProto in and out
    assert isinstance(from_proto, onnx.ModelProto)
    assert from_proto.SerializeToString() == onnx.load_model_from_string(want).SerializeToString()
    # output= writes the CLI's bytes there too.
    onnxloss.inject(MLP, loss, COUNTS, output=tmp_path / "api.onnx")
    assert (tmp_path / "api.onnx").read_bytes() == want
    onnx.checker.check_model(from_path, full_check=True)
    assert [o.name for o in from_path.graph.output][0] == "loss"


@pytest.mark.parametrize("loss", LOSSES)
def test_inject_equals_cli_for_every_loss(onnxloss, cli: Path, counts_file: Path, tmp_path: Path, loss: str) -> None:
    assert loss in cli_losses(cli)
    check_loss(onnxloss, cli, counts_file, tmp_path, loss)


def test_losses_added_since(onnxloss, cli: Path, counts_file: Path, tmp_path: Path) -> None:
    for loss in sorted(set(cli_losses(cli)) - set(LOSSES)):
        (tmp_path / loss).mkdir()
        check_loss(onnxloss, cli, counts_file, tmp_path / loss, loss)


OPTION_CASES = [
    # (Python options, the CLI flags they stand for)
    (dict(ignore_index=-100, reduction="sum"), ["--ignore-index", "-100", "--reduction", "sum"]),
    (dict(gamma=1.5, weighting="sqrt_inverse"), ["--gamma", "1.5", "--weighting", "sqrt_inverse"]),
    (dict(label_smoothing=0.1, labels_dtype="int32", loss_name="train_loss"),
     ["--label-smoothing", "0.1", "--labels-dtype", "int32", "--loss-name", "train_loss"]),
    # --beta applies to the effective weighting only (another weighting with --beta is an error).
    (dict(weighting="effective", beta=0.99, normalize="none", no_stream=True),
     ["--weighting", "effective", "--beta", "0.99", "--normalize", "none", "--no-stream"]),
]


@pytest.mark.parametrize("options,cli_flags", OPTION_CASES)
def test_options_are_the_cli_flags(onnxloss, cli: Path, counts_file: Path, tmp_path: Path, options, cli_flags) -> None:
    loss = "focal" if "gamma" in options else "weighted_ce"
    run_cli(cli, "inject", "--loss", loss, "--counts", counts_file, *cli_flags, "-o", tmp_path / "cli.onnx", MLP)
    got = onnxloss.inject(MLP.read_bytes(), loss, COUNTS, **options)
    assert got == (tmp_path / "cli.onnx").read_bytes()
    default = onnxloss.inject(MLP.read_bytes(), loss, COUNTS)
    assert got != default, "the options changed nothing: the test cannot tell they were passed"


def test_class_axis_option(onnxloss, cli: Path, counts_file: Path, tmp_path: Path) -> None:
    """class_axis= is --class-axis, when the CLI has that flag (its own issue adds it)."""
    if "--class-axis" not in run_cli(cli, "inject", "--help").stdout.decode():
        with pytest.raises(onnxloss.Error) as e:
            onnxloss.inject(MLP.read_bytes(), "cb_focal", COUNTS, class_axis=1)
        assert e.value.returncode == 2 and "class-axis" in e.value.message
        return
    run_cli(cli, "inject", "--loss", "cb_focal", "--counts", counts_file, "--class-axis", "1", "-o", tmp_path / "cli.onnx", MLP)
    got = onnxloss.inject(MLP.read_bytes(), "cb_focal", COUNTS, class_axis=1)
    assert got == (tmp_path / "cli.onnx").read_bytes()


def test_counts_forms(onnxloss, cli: Path, tmp_path: Path) -> None:
    """Counts as a dict with names, an onnxloss.Counts (names kept) and a numpy array."""
    import numpy as np

    names = ["cat", "dog", "fox", "owl", "yak"]
    doc = {"counts": COUNTS, "classes": names}
    (tmp_path / "named.json").write_text(json.dumps(doc))
    run_cli(cli, "inject", "--loss", "cb_focal", "--counts", tmp_path / "named.json", "-o", tmp_path / "cli.onnx", MLP)
    want = (tmp_path / "cli.onnx").read_bytes()
    assert onnxloss.inject(MLP.read_bytes(), "cb_focal", doc) == want
    assert onnxloss.inject(MLP.read_bytes(), "cb_focal", onnxloss.Counts(COUNTS, names, doc)) == want
    (tmp_path / "plain.json").write_text(json.dumps(COUNTS))
    run_cli(cli, "inject", "--loss", "cb_focal", "--counts", tmp_path / "plain.json", "-o", tmp_path / "plain.onnx", MLP)
    plain = onnxloss.inject(MLP.read_bytes(), "cb_focal", np.array(COUNTS))
    assert plain == (tmp_path / "plain.onnx").read_bytes()
    assert plain != want  # the names reach the metadata only from the dict forms


def _cli_error(cli: Path, *args: object) -> tuple[int, str]:
    proc = run_cli(cli, *args, check=False)
    lines = proc.stderr.decode().strip().splitlines()
    assert len(lines) == 1, lines
    return proc.returncode, lines[0]


def test_errors_are_the_cli_line_and_exit_code(onnxloss, cli: Path, tmp_path: Path) -> None:
    bad_counts = tmp_path / "c3.json"
    bad_counts.write_text("[500, 120, 7]")
    out = tmp_path / "out.onnx"
    cases = [
        (("--loss", "cb_focal", "--counts", bad_counts), dict(loss="cb_focal", counts=bad_counts)),
        (("--loss", "no_such_loss", "--counts", bad_counts), dict(loss="no_such_loss", counts=bad_counts)),
        (("--loss", "cb_focal", "--counts", bad_counts, "--gamma=-1"), dict(loss="cb_focal", counts=bad_counts, gamma=-1.0)),
    ]
    for cli_args, api_args in cases:
        code, line = _cli_error(cli, "inject", *cli_args, "-o", out, MLP)
        with pytest.raises(onnxloss.Error) as e:
            onnxloss.inject(MLP, output=out, **api_args)
        assert (e.value.returncode, e.value.message) == (code, line) and code == 2
        assert str(e.value) == line
        assert not out.exists()

    # An unknown option is the CLI's unknown flag.
    with pytest.raises(onnxloss.Error) as e:
        onnxloss.inject(MLP, "cb_focal", COUNTS, ignore_indx=3)
    assert e.value.returncode == 2 and "-ignore-indx" in e.value.message

    # Not a model, and a second loss without replace=.
    with pytest.raises(onnxloss.Error) as e:
        onnxloss.inject(b"not a model", "cb_focal", COUNTS)
    assert e.value.returncode == 2 and e.value.message.startswith("onnxloss: ")
    once = onnxloss.inject(MLP.read_bytes(), "cb_focal", COUNTS)
    with pytest.raises(onnxloss.Error) as e:
        onnxloss.inject(once, "cb_focal", COUNTS)
    assert e.value.returncode == 2 and "--replace" in e.value.message
    twice = onnxloss.inject(once, "focal", COUNTS, replace=True)
    assert twice == onnxloss.inject(MLP.read_bytes(), "focal", COUNTS)

    with pytest.raises(TypeError):
        onnxloss.inject(12, "cb_focal", COUNTS)  # type: ignore[call-overload]


def test_summary_reaches_stderr(onnxloss, capsys: pytest.CaptureFixture[str]) -> None:
    onnxloss.inject(MLP.read_bytes(), "cb_focal", COUNTS)
    assert "attached cb_focal to logits" in capsys.readouterr().err


def test_flags_mapping(onnxloss) -> None:
    assert onnxloss.flags(dict(ignore_index=-100, replace=True, keep_loss=False, lambda_=0.5, train=["a*", "b"], seed=None)) == [
        "--ignore-index=-100", "--replace", "--keep-loss=false", "--lambda=0.5", "--train=a*,b",
    ]
    assert onnxloss.flags(dict(rtol=1e-05, beta=0.1 + 0.2, betas=(0.9, 0.999))) == [
        "--rtol=1e-05", "--beta=0.30000000000000004", "--betas=0.9,0.999",
    ]


def test_interrupt_terminates_the_cli(onnxloss, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A KeyboardInterrupt while the binary runs stops it (SIGTERM) and leaves no file."""
    import subprocess

    started: list[subprocess.Popen] = []
    real_popen = subprocess.Popen

    def popen(*args, **kw):
        child = real_popen(*args, **kw)
        started.append(child)
        return child

    def communicate(self, *a, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(subprocess, "Popen", popen)
    monkeypatch.setattr(real_popen, "communicate", communicate)
    with pytest.raises(KeyboardInterrupt):
        onnxloss.inject(MLP, "cb_focal", COUNTS, output=tmp_path / "out.onnx")
    assert started and started[0].returncode is not None  # stopped and reaped, not left running
    # Either it was stopped before writing, or it had finished: never a temporary file.
    assert sorted(p.name for p in tmp_path.iterdir()) in ([], ["out.onnx"])
