"""onnxloss for Python: the onnxloss binary in a wheel, and an API for export scripts.

Each function runs one command of the bundled static binary (``inject``,
``weights``, ``counts``, ``verify``, ``step``) on files it writes to a temporary
directory, so results are the CLI's, byte for byte. Importing this package
imports neither onnx, numpy nor torch; a function imports them only to read
or write what it was given.

    import onnxloss
    counts = onnxloss.counts(train_labels)              # numpy, torch, list or file
    model = onnxloss.inject("model.onnx", "cb_focal", counts, ignore_index=-100)
    assert onnxloss.verify(model).ok
"""

from importlib.metadata import PackageNotFoundError, version as _version

from ._api import Check, Counts, Report, Step, counts, inject, step, verify, weights
from ._run import Error, binary, flags, run

try:
    __version__ = _version("onnxloss")
except PackageNotFoundError:  # imported from a source tree, not installed
    __version__ = "unknown"

__all__ = [
    "Check",
    "Counts",
    "Error",
    "Report",
    "Step",
    "__version__",
    "binary",
    "counts",
    "flags",
    "inject",
    "run",
    "step",
    "verify",
    "weights",
]
