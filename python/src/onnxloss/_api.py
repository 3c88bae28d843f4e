"""The Python API: each function writes its inputs to files, runs one onnxloss
command on them and reads the result back. Nothing here computes a loss, a
weight or a count: that is the binary's job, so Python and CLI agree exactly.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union, overload

from ._run import Error, flags, run

if TYPE_CHECKING:  # onnx, numpy and torch are never imported unless given
    import onnx

__all__ = ["Check", "Counts", "Report", "Step", "counts", "inject", "step", "verify", "weights"]

PathLike = Union[str, "os.PathLike[str]"]
"""A file system path."""

ModelLike = Union["onnx.ModelProto", bytes, PathLike]
"""An ONNX model: an ``onnx.ModelProto``, its serialized bytes, or a path."""

CountsLike = Union["Counts", Sequence[float], Mapping[str, Any], PathLike, Any]
"""Per-class counts: a list (or 1-D array) of numbers, a dict in one of the
counts file's forms (``{"counts": [...], "classes": [...]}``, ``{"0": n0, ...}``),
a :class:`Counts` from :func:`counts`, or the path of a counts JSON file."""


def _is_path(x: object) -> bool:
    return isinstance(x, (str, os.PathLike))


def _cli_path(path: PathLike) -> str:
    p = os.fspath(path)
    # A relative name starting with "-" would read as a flag.
    return os.path.join(".", p) if p.startswith("-") else p


def _is_model_proto(x: object) -> bool:
    return type(x).__name__ == "ModelProto" and hasattr(x, "SerializeToString")


def _model_file(model: ModelLike, tmp: str) -> str:
    if _is_path(model):
        return _cli_path(model)  # type: ignore[arg-type]
    if isinstance(model, (bytes, bytearray, memoryview)):
        data = bytes(model)
    elif _is_model_proto(model):
        data = model.SerializeToString()  # type: ignore[union-attr]
    else:
        raise TypeError(f"model must be an onnx.ModelProto, bytes or a path, not {type(model).__name__}")
    path = os.path.join(tmp, "model.onnx")
    with open(path, "wb") as f:
        f.write(data)
    return path


def _counts_file(value: CountsLike, tmp: str) -> str:
    if isinstance(value, (str, os.PathLike)):
        return _cli_path(value)
    if isinstance(value, Counts):
        document: Any = value.document
    elif isinstance(value, Mapping):
        document = dict(value)
    elif hasattr(value, "tolist"):  # a numpy array or torch tensor of counts
        document = value.tolist()
    elif isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        document = list(value)
    else:
        raise TypeError(f"counts must be a list of numbers, a dict, Counts or a path, not {type(value).__name__}")
    path = os.path.join(tmp, "counts.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(document, f)
    return path


def _want_proto() -> bool:
    try:
        import onnx  # noqa: F401
    except ImportError:
        return False
    return True


@overload
def inject(model: bytes, loss: str, counts: Optional[CountsLike] = ..., *, output: Optional[PathLike] = ..., **options: Any) -> bytes: ...
@overload
def inject(model: PathLike, loss: str, counts: Optional[CountsLike] = ..., *, output: Optional[PathLike] = ..., **options: Any) -> "Union[onnx.ModelProto, bytes]": ...
@overload
def inject(model: "onnx.ModelProto", loss: str, counts: Optional[CountsLike] = ..., *, output: Optional[PathLike] = ..., **options: Any) -> "onnx.ModelProto": ...


def inject(
    model: ModelLike,
    loss: str,
    counts: Optional[CountsLike] = None,
    *,
    output: Optional[PathLike] = None,
    **options: Any,
) -> "Union[onnx.ModelProto, bytes]":
    """Appends a class-imbalance loss to a model: ``onnxloss inject``.

    Args:
        model: an ``onnx.ModelProto``, the model's bytes, or a path.
        loss: the loss (``"weighted_ce"``, ``"focal"``, ``"cb_focal"``, ...:
            ``onnxloss inject --help`` lists them).
        counts: per-class sample counts (see ``CountsLike``); ``None`` passes
            no ``--counts``.
        output: also write the model there (``--output``). Pass it for a
            model with external data, so the CLI writes the data locations
            relative to where the model will live.
        **options: any other ``inject`` flag, by its Python name:
            ``ignore_index=-100``, ``class_axis=-1``, ``reduction="sum"``,
            ``gamma=1.5``, ``replace=True``, ... (``name_with_underscores`` is
            ``--name-with-underscores``; see :func:`onnxloss.flags`).

    Returns:
        The model with the loss as its first output: an ``onnx.ModelProto``
        for a ModelProto, bytes for bytes, and for a path a ModelProto when
        onnx is installed, else bytes. The bytes are exactly the CLI's output.

    Raises:
        Error: the CLI rejected the model, counts or options (exit code 2,
            its one-line message).
    """
    with tempfile.TemporaryDirectory(prefix="onnxloss-") as tmp:
        args = ["inject", f"--loss={loss}"]
        if counts is not None:
            args.append("--counts=" + _counts_file(counts, tmp))
        out = os.fspath(output) if output is not None else os.path.join(tmp, "out.onnx")
        args.append("--output=" + out)
        args += flags(options)
        args.append(_model_file(model, tmp))
        run(args)
        with open(out, "rb") as f:
            data = f.read()
    return _like(model, data)


def _like(model: ModelLike, data: bytes) -> Any:
    """A result model in the form the input came in (see inject's Returns)."""
    if isinstance(model, (bytes, bytearray, memoryview)):
        return data
    if _is_model_proto(model) or _want_proto():
        import onnx

        return onnx.load_model_from_string(data)
    return data


def weights(
    counts: CountsLike,
    weighting: Optional[str] = None,
    *,
    beta: Optional[float] = None,
    normalize: Optional[str] = None,
    zero_counts: Optional[str] = None,
    **options: Any,
) -> List[float]:
    """The class weights a weighting scheme gives for counts: ``onnxloss weights --json``.

    Args:
        counts: per-class counts (see ``CountsLike``).
        weighting: ``"none"``, ``"inverse"``, ``"sqrt_inverse"``,
            ``"effective"``, ... (default: the CLI's).
        beta: β of the effective number of samples, in [0, 1).
        normalize: ``"sum"`` (weights sum to C) or ``"none"``.
        zero_counts: ``"error"`` or ``"skip"`` (a class with count 0 gets weight 0).
        **options: any other ``weights`` flag, by its Python name.

    Returns:
        One weight per class, the float64 values the CLI prints.
    """
    with tempfile.TemporaryDirectory(prefix="onnxloss-") as tmp:
        args = ["weights", "--counts=" + _counts_file(counts, tmp), "--json"]
        args += flags(dict(weighting=weighting, beta=beta, normalize=normalize, zero_counts=zero_counts, **options))
        proc = run(args)
    report = json.loads(proc.stdout)
    return [float(c["weight"]) for c in report["classes"]]


class Counts(List[int]):
    """Per-class counts as :func:`counts` returns them: a list, one count per class.

    Attributes:
        classes: the class names, when the CLI was given them (else ``None``).
        document: the counts JSON exactly as the CLI wrote it; :func:`inject`
            and :func:`weights` pass it on unchanged, names and all.
    """

    def __init__(self, values: Sequence[int], classes: Optional[Sequence[str]] = None, document: Any = None) -> None:
        super().__init__(values)
        self.classes: Optional[List[str]] = list(classes) if classes is not None else None
        self.document: Any = document if document is not None else list(values)

    def __repr__(self) -> str:
        if self.classes is None:
            return f"Counts({list(self)!r})"
        return f"Counts({list(self)!r}, classes={self.classes!r})"


def _is_torch_tensor(x: object) -> bool:
    return type(x).__module__.split(".")[0] == "torch" and hasattr(x, "detach")


def _is_numpy_array(x: object) -> bool:
    return type(x).__module__.split(".")[0] == "numpy" and hasattr(x, "dtype")


def _save_npy(array: Any, tmp: str, name: str) -> str:
    import numpy as np

    np.save(os.path.join(tmp, name), np.ascontiguousarray(array))
    return name


def _label_sources(labels: Any, tmp: str) -> List[str]:
    """The CLI's LABELS arguments. Labels given in memory are written into tmp
    under a name saying what they were, relative to tmp (the CLI runs there),
    so the counts document's source is the same on every run."""
    if _is_path(labels):
        return [_cli_path(labels)]
    if _is_torch_tensor(labels):
        return [_save_npy(labels.detach().cpu().numpy(), tmp, "torch_tensor.npy")]
    if _is_numpy_array(labels):
        return [_save_npy(labels, tmp, "numpy_array.npy")]
    if isinstance(labels, (list, tuple, range)):
        items = list(labels)
        if items and all(_is_path(x) for x in items):
            return [_cli_path(x) for x in items]
        if any(isinstance(x, (list, tuple)) for x in items):  # nested: (N, C) multi-hot or N-D labels
            import numpy as np

            return [_save_npy(np.asarray(items), tmp, "python_list.npy")]
        with open(os.path.join(tmp, "python_list.txt"), "w", encoding="utf-8") as f:
            f.writelines(f"{x}\n" for x in items)  # the CLI's text format: one label per line
        return ["python_list.txt"]
    raise TypeError(
        f"labels must be a numpy array, a torch tensor, a list of labels, or a path (or list of paths), not {type(labels).__name__}"
    )


def counts(
    labels: Any,
    num_classes: Optional[int] = None,
    ignore_index: Optional[int] = None,
    *,
    classes: Optional[Sequence[str]] = None,
    **options: Any,
) -> Counts:
    """Counts the samples of each class: ``onnxloss counts``.

    Args:
        labels: integer labels of any shape as a numpy array, a torch tensor
            (torch is only touched when given one) or a list; or the CLI's
            sources: a path (text, CSV, .npy, ...), a glob, or a list of them.
        num_classes: C: classes without samples count 0, a label >= C is an error.
        ignore_index: a label value to skip (e.g. -100 or 255).
        classes: class names; the result carries them (``Counts.classes``).
        **options: any other ``counts`` flag, by its Python name
            (``multi_hot=True``, ``column="label"``, ``format="csv"``, ...).

    Returns:
        A :class:`Counts`: a list with one count per class.
    """
    with tempfile.TemporaryDirectory(prefix="onnxloss-") as tmp:
        args = ["counts"]  # the counts JSON comes on stdout
        if classes is not None:
            names = os.path.join(tmp, "classes.txt")  # a file: names may contain commas
            with open(names, "w", encoding="utf-8") as f:
                f.writelines(f"{name}\n" for name in classes)
            args.append("--classes-file=" + names)
        args += flags(dict(num_classes=num_classes, ignore_index=ignore_index, **options))
        sources = _label_sources(labels, tmp)
        in_memory = not (_is_path(labels) or (isinstance(labels, (list, tuple)) and labels and all(_is_path(x) for x in labels)))
        proc = run(args + sources, cwd=tmp if in_memory else None)
    document = json.loads(proc.stdout)
    if isinstance(document, list):
        return Counts(document, None, document)
    return Counts(document["counts"], document.get("classes"), document)


def _float(x: Any) -> Optional[float]:
    return None if x is None else float(x)  # "NaN", "Infinity" come as strings


@dataclass(frozen=True)
class Check:
    """One comparison of ``onnxloss verify``: one output, one case.

    ``ok`` is the report's ``pass``; the errors are float64, NaN or infinite
    where the CLI says so.
    """

    name: str
    output: str
    ok: bool
    elements: Optional[int] = None
    max_abs_err: Optional[float] = None
    max_rel_err: Optional[float] = None
    worst_index: Optional[int] = None
    worst_got: Optional[float] = None
    worst_want: Optional[float] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "Check":
        """Builds a Check from one entry of the report's ``checks``."""
        return cls(
            name=str(d.get("name", "")),
            output=str(d.get("output", "")),
            ok=bool(d.get("pass")),
            elements=d.get("elements"),
            max_abs_err=_float(d.get("max_abs_err")),
            max_rel_err=_float(d.get("max_rel_err")),
            worst_index=d.get("worst_index"),
            worst_got=_float(d.get("worst_got")),
            worst_want=_float(d.get("worst_want")),
            raw=dict(d),
        )


@dataclass(frozen=True)
class Report:
    """The report of ``onnxloss verify --json``.

    Attributes:
        ok: every check passed (the report's ``pass``; the CLI's exit code 0).
        model: the model file the CLI read.
        mode: what was checked: ``"synthetic"`` (random logits through the
            loss subgraph) or the whole model on given inputs.
        rtol, atol: the tolerances used.
        checks: one :class:`Check` per output and case.
        raw: the whole JSON document, fields this class does not name included.
    """

    ok: bool
    model: str
    mode: str
    rtol: Optional[float]
    atol: Optional[float]
    checks: Tuple[Check, ...]
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "Report":
        """Builds a Report from the CLI's JSON document."""
        tol = d.get("tolerance") or {}
        return cls(
            ok=bool(d.get("pass")),
            model=str(d.get("model", "")),
            mode=str(d.get("mode", "")),
            rtol=_float(tol.get("rtol")),
            atol=_float(tol.get("atol")),
            checks=tuple(Check.from_json(c) for c in d.get("checks") or ()),
            raw=dict(d),
        )


def _tensor_file(value: Any, tmp: str, name: str) -> str:
    if _is_path(value):
        return _cli_path(value)
    if isinstance(value, Mapping):
        import numpy as np

        arrays = {k: (v.detach().cpu().numpy() if _is_torch_tensor(v) else np.asarray(v)) for k, v in value.items()}
        path = os.path.join(tmp, name + ".npz")
        np.savez(path, **arrays)
        return path
    raise TypeError(f"{name} must be a path or a dict of arrays, not {type(value).__name__}")


def verify(
    model: ModelLike,
    inputs: Optional[Union[PathLike, Mapping[str, Any]]] = None,
    expect: Optional[Union[PathLike, Mapping[str, Any]]] = None,
    rtol: Optional[float] = None,
    atol: Optional[float] = None,
    **options: Any,
) -> Report:
    """Checks a model's numbers with the pure-Go evaluator: ``onnxloss verify --json``.

    Args:
        model: an ``onnx.ModelProto``, the model's bytes, or a path.
        inputs: run the whole model on these: a tensor file (.npz, .npy, .pb,
            .json) or a dict of name -> array (numpy, torch or nested lists).
        expect: compare with the outputs another runtime produced (needs
            ``inputs``): a tensor file or a dict of name -> array.
        rtol, atol: tolerances (default: the CLI's).
        **options: any other ``verify`` flag (``seed=7``, ...).

    Returns:
        The :class:`Report`; ``report.ok`` is false on a mismatch (the CLI's
        exit code 1), which is not an exception.

    Raises:
        Error: bad model, inputs or options (exit code 2).
    """
    with tempfile.TemporaryDirectory(prefix="onnxloss-") as tmp:
        args = ["verify", "--json"]
        if inputs is not None:
            args.append("--inputs=" + _tensor_file(inputs, tmp, "inputs"))
        if expect is not None:
            args.append("--expect=" + _tensor_file(expect, tmp, "expect"))
        args += flags(dict(rtol=rtol, atol=atol, **options))
        args.append(_model_file(model, tmp))
        proc = run(args, ok_codes=(0, 1))
    return Report.from_json(json.loads(proc.stdout))


class Step(NamedTuple):
    """What :func:`step` returns.

    Attributes:
        model: the training-step model (for ``optimizer="none"``: the loss
            and one ``<p>_grad`` output per trainable parameter).
        init: the init model holding the optimizer's starting state (no
            inputs, one output per state input), or ``None`` for ``"none"``.
    """

    model: Any
    init: Any


def step(
    model: ModelLike,
    optimizer: str,
    *,
    output: Optional[PathLike] = None,
    init: Optional[PathLike] = None,
    **options: Any,
) -> Step:
    """Builds a training-step model from a model whose first output is a scalar loss: ``onnxloss step``.

    Args:
        model: an ``onnx.ModelProto``, the model's bytes, or a path (e.g.
            what :func:`inject` returned).
        optimizer: ``"none"`` (gradients only), ``"sgd"`` or ``"adamw"``.
        output: also write the step model there (``--output``).
        init: also write the init model there (``--init``); with ``output``
            and no ``init`` it goes where the CLI puts it by default (the
            output's name with ``.init`` before ``.onnx``).
        **options: any other ``step`` flag: ``lr=0.01``, ``momentum=0.9``,
            ``weight_decay=0.01``, ``betas=(0.9, 0.999)``, ``eps=1e-8``,
            ``train=["fc2.*"]``, ``freeze=[...]``.

    Returns:
        A :class:`Step`; its models come in the form :func:`inject` returns.

    Raises:
        Error: the CLI rejected the model or options (exit code 2).
    """
    with tempfile.TemporaryDirectory(prefix="onnxloss-") as tmp:
        out = os.fspath(output) if output is not None else os.path.join(tmp, "step.onnx")
        args = ["step", f"--optimizer={optimizer}", "--output=" + out]
        init_path: Optional[str] = None
        if optimizer != "none":  # only an optimizer has a starting state
            if init is not None:
                init_path = os.fspath(init)
            elif output is not None:
                init_path = (out[: -len(".onnx")] if out.endswith(".onnx") else out) + ".init.onnx"
            else:
                init_path = os.path.join(tmp, "step.init.onnx")
            args.append("--init=" + init_path)
        args += flags(options)
        args.append(_model_file(model, tmp))
        run(args)
        with open(out, "rb") as f:
            data = f.read()
        init_data = None
        if init_path is not None:
            with open(init_path, "rb") as f:
                init_data = f.read()
    return Step(_like(model, data), None if init_data is None else _like(model, init_data))
