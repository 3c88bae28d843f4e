"""Running the bundled binary: where it is, how options become flags, errors."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Iterable, Mapping, Optional, Sequence

__all__ = ["Error", "binary", "flags", "run"]


class Error(Exception):
    """The onnxloss binary refused the request.

    Attributes:
        message: the line the command line tool printed (``onnxloss: ...``),
            exactly as it printed it.
        returncode: the CLI's exit code: 2 for bad usage or input (the usual
            case), 3 for an internal error; ``None`` when the binary could not
            be run at all.
        stderr: everything the CLI wrote to stderr.
        command: the command that ran, binary first.
    """

    def __init__(
        self,
        message: str,
        returncode: Optional[int],
        stderr: str = "",
        command: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.returncode = returncode
        self.stderr = stderr
        self.command = list(command)

    def __str__(self) -> str:
        return self.message


def binary() -> str:
    """The path of the onnxloss executable this package runs.

    It is the binary inside the installed wheel, or the file named by the
    ``ONNXLOSS_BINARY`` environment variable when that is set (to try a
    development build with the same Python code).
    """
    override = os.environ.get("ONNXLOSS_BINARY")
    if override:
        return override
    name = "onnxloss.exe" if os.name == "nt" else "onnxloss"
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_bin", name)
    if not os.path.isfile(path):
        raise Error(
            f"onnxloss: no binary at {path}: install a wheel built by scripts/build-wheel.sh, "
            "or set ONNXLOSS_BINARY to an onnxloss executable",
            None,
        )
    return path


def _scalar(value: object) -> str:
    if isinstance(value, float):
        return repr(value)  # shortest form that parses back to the same float
    if isinstance(value, os.PathLike):
        return str(os.fspath(value))
    return str(value)


def flags(options: Mapping[str, object]) -> list[str]:
    """Turns Python keyword options into CLI flags, with no list of known flags.

    ``ignore_index=-100`` becomes ``--ignore-index=-100`` (underscores become
    dashes, a trailing underscore as in ``lambda_`` is dropped); ``True`` gives
    the bare flag and ``False`` gives ``--flag=false``; a list or tuple is
    joined with commas (``betas=(0.9, 0.999)`` is ``--betas=0.9,0.999``; a
    repeatable flag such as ``--train`` splits it into its items); ``None``
    leaves the flag out. Which flags exist and
    what values they take is the CLI's business: an unknown one is an
    :class:`Error` with the CLI's message.
    """
    out: list[str] = []
    for name, value in options.items():
        if value is None:
            continue
        flag = "--" + name.rstrip("_").replace("_", "-")
        if isinstance(value, bool):
            out.append(flag if value else flag + "=false")
        elif isinstance(value, (list, tuple)):
            out.append(flag + "=" + ",".join(_scalar(v) for v in value))
        else:
            out.append(f"{flag}={_scalar(value)}")
    return out


def _message(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith("onnxloss:"):
            return line
    return lines[-1] if lines else "onnxloss: failed with no message"


def run(
    args: Iterable[str], ok_codes: Sequence[int] = (0,), echo_stderr: bool = True, cwd: Optional[str] = None
) -> "subprocess.CompletedProcess[bytes]":
    """Runs ``onnxloss ARGS...`` and returns the finished process (bytes stdout).

    An exit code outside ``ok_codes`` raises :class:`Error` with the CLI's
    line. Otherwise what the CLI said on stderr (inject's summary: the class
    axis it took, the weights) is written to ``sys.stderr``, unless
    ``echo_stderr`` is false.
    """
    command = [binary(), *args]
    try:
        child = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd
        )
    except OSError as exc:
        raise Error(f"onnxloss: cannot run {command[0]}: {exc.strerror}", None, command=command) from exc
    try:
        out, err = child.communicate()
    except BaseException:
        # Interrupted (KeyboardInterrupt, a timeout in the caller): SIGTERM
        # lets the CLI remove its temporary output file; kill if it hangs.
        child.terminate()
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        raise
    proc = subprocess.CompletedProcess(command, child.returncode, out, err)
    stderr = proc.stderr.decode("utf-8", errors="replace")
    if proc.returncode not in ok_codes:
        raise Error(_message(stderr), proc.returncode, stderr, command)
    if echo_stderr and stderr:
        sys.stderr.write(stderr)
    return proc
