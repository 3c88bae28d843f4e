"""The ``onnxloss`` console script: runs the bundled binary with the same arguments."""

from __future__ import annotations

import os
import subprocess
import sys

from ._run import Error, binary


def main() -> None:
    """Replaces this process with the binary (POSIX) so exit codes and signals
    pass through unchanged; on Windows, runs it and exits with its code."""
    try:
        exe = binary()
    except Error as exc:
        print(exc.message, file=sys.stderr)
        sys.exit(2)
    argv = ["onnxloss", *sys.argv[1:]]
    if os.name == "nt":
        sys.exit(subprocess.call([exe, *argv[1:]]))
    os.execv(exe, argv)


if __name__ == "__main__":
    main()
