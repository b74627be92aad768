"""``python -m nntheory``: the same as the ``nntheory`` command."""

from nntheory.cli import console_main

console_main()
