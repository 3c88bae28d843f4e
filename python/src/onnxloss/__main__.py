"""``python -m onnxloss ...`` is the ``onnxloss`` command."""

from ._cli import main

main()
